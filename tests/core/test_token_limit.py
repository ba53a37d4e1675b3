"""The hard limit as users measure it: each chunk's text, encoded on its own.

For every tokenizer family (two tiktoken encodings, a byte-level BPE and a
WordPiece Hugging Face tokenizer from local files, characters, words) and for
every size-limited chunker that is cheap to run (window, semantic with the
model2vec embedder, and the shared last step of the LM chunkers), on text full
of what breaks sums of per-sentence counts — astral characters, CJK, combining
marks, characters that are several tokens, sentence joins that BPE merges — a
chunk's ``n_tokens`` is exactly its own encoding's length and never above
``--max-tokens``, except for a single character that alone needs more.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.exact_counts import ALL, check_exact, encoder, spec_for
from core.strategies import texts as plain_texts
from segtool.chunkers.metachunk import chunks_from_sentence_breaks
from segtool.chunkers.units import batch_units
from segtool.chunkers.window import WindowChunker
from segtool.models.tokens import get_tokenizer
from segtool.sentences.rules import RulesSplitter

_HARD = st.sampled_from([
    "𝔘", "𝔘𝔘𝔘", "🦛", "👩\u200d👩\u200d👧", "Ω", "ΩaΩ", "é ΩaΩ", "e\u0301\u0301", "\u0301",
    "x\u20dd", "ﷺ", "𒀱", "日本語の文です。", "中文句子。", "한국어 문장. ", "returned she.  ",
    "“And I make allowances,\nCaptain Brown.”\n\n", "  ", "\n", ". ", "?! ", "word ", "a" * 40,
    "!!!!!!!!", "https://example.com/a?b=c.d ", "\t", "\r\n",
])
texts = st.one_of(
    plain_texts,
    st.lists(st.one_of(_HARD, st.text(max_size=12)), max_size=60).map("".join),
)
_SPLITTER = RulesSplitter()


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=60)
@given(text=texts, max_tokens=st.integers(min_value=1, max_value=48))
def test_window_chunks_encode_alone_to_n_tokens_within_the_limit(name, text, max_tokens):
    chunker = WindowChunker(max_tokens=max_tokens, tokenizer=spec_for(name))
    (chunks,) = chunker.chunk_batch([text], [_SPLITTER.split(text)])
    check_exact(text, chunks, max_tokens, encoder(name))


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "hf-smollm2", "words"])
@settings(max_examples=40)
@given(text=texts, max_tokens=st.integers(min_value=1, max_value=48),
       breaks=st.lists(st.integers(min_value=0, max_value=80), max_size=12),
       merge=st.one_of(st.none(), st.integers(min_value=1, max_value=48)))
def test_lm_chunkers_last_step_is_exact(name, text, max_tokens, breaks, merge):
    """margin and perplexity differ only in their breaks; whatever they are, the last step holds."""
    tokenizer = get_tokenizer(spec_for(name))
    spans = _SPLITTER.split(text)
    (units,) = batch_units([text], [spans], tokenizer, max_tokens)
    chunks = chunks_from_sentence_breaks(
        units, breaks, max_tokens=max_tokens, merge_to_tokens=min(merge or 0, max_tokens) or None,
        text=text, tokenizer=tokenizer)
    check_exact(text, chunks, max_tokens, encoder(name))


@pytest.fixture(scope="module")
def model2vec_ready() -> None:
    import importlib.util

    from segtool.models.embedders import distilled_model_dir, is_distilled_model

    if importlib.util.find_spec("model2vec") is None:
        pytest.skip("model2vec is not installed — pip install 'segtool[semantic]'")
    if not is_distilled_model(distilled_model_dir()):
        pytest.skip(f"the distilled model2vec model is not built in {distilled_model_dir()} — "
                    "run python scripts/distill_model2vec.py")


@pytest.mark.parametrize("name", ["cl100k_base", "hf-smollm2", "hf-minilm", "chars"])
@settings(max_examples=30)
@given(text=texts, max_tokens=st.integers(min_value=1, max_value=48), data=st.data())
def test_semantic_chunks_encode_alone_to_n_tokens_within_the_limit(
        model2vec_ready, name, text, max_tokens, data):
    from segtool.chunkers.semantic import SemanticChunker

    min_tokens = data.draw(st.integers(min_value=0, max_value=max_tokens))
    breakpoint = data.draw(st.sampled_from(["percentile", "gradient"]))
    chunker = SemanticChunker(embedder="model2vec", max_tokens=max_tokens, min_tokens=min_tokens,
                              breakpoint=breakpoint, tokenizer=spec_for(name))
    (chunks,) = chunker.chunk_batch([text], [_SPLITTER.split(text)])
    check_exact(text, chunks, max_tokens, encoder(name))


def test_sentence_joins_that_merge_are_counted_on_the_joined_text():
    """The benchmark's 514-token chunk: sums of sentence counts are no upper bound."""
    enc = encoder("cl100k_base")
    a, b = "“I make no doubt of it,” returned she.  ", "“And I make allowances,\nCaptain Brown.”\n\n"
    assert enc(a + b) != enc(a) + enc(b)  # what the old sum-based size got wrong
    text = (a + b) * 40
    for max_tokens in range(20, 60):
        (chunks,) = WindowChunker(max_tokens=max_tokens).chunk_batch([text], [_SPLITTER.split(text)])
        check_exact(text, chunks, max_tokens, enc)


@pytest.mark.parametrize(("text", "max_tokens", "expected"), [
    ("é ΩaΩ", 2, [("é ", 2), ("Ω", 2), ("a", 1), ("Ω", 2)]),  # "Ωa" is 3 cl100k tokens
    ("𝔘𝔘", 2, [("𝔘", 3), ("𝔘", 3)]),  # one 𝔘 alone is 3 tokens: the documented exception
])
def test_multi_token_characters(text, max_tokens, expected):
    (chunks,) = WindowChunker(max_tokens=max_tokens).chunk_batch([text], [_SPLITTER.split(text)])
    assert [(text[c.start : c.end], c.n_tokens) for c in chunks] == expected


def test_cli_warns_once_per_character_over_the_limit():
    proc = subprocess.run(["segtool", "chunk", "--max-tokens", "2", "-q"], input="ab 𝔘𝔘 cd",
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["text"], r["n_tokens"]) for r in records] == [
        ("ab ", 2), ("𝔘", 3), ("𝔘", 3), (" cd", 1)]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, proc.stderr
    for line, offset in zip(warnings, (3, 4), strict=True):
        assert "needs 3 tokens, over --max-tokens 2" in line
        assert f"document -, offset {offset}" in line
