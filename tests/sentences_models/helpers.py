"""Shared helpers for the model-splitter tests: text strategy and the tiling check."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import strategies as st

from segtool.types import Span

TRAIN_FILE = "en_general_ud.jsonl"
"""The only dev file the tiny SaT is trained on; never used to judge it."""

_chars = st.characters(blacklist_categories=("Cs",))
_pieces = st.sampled_from([
    "Hello world. ", "Dr. Smith went to Washington. ", "It cost $3.50! ", "Really?\r\n",
    "\n\n", "\r\n\r\n", "   ", "\t", "日本語の文です。", "👩‍👩‍👧 family. ", "e\u0301\u0301 ok. ",
    "U.S.C. § 1983 applies. ", "“Quoted.” Next. ", "a" * 200, "नमस्ते। ", "مرحبا؟ ", "...",
    "1. First item\n2. Second item\n", "", " \u2029", "no punctuation at all ",
])
texts = st.one_of(
    st.text(_chars, max_size=200),
    st.lists(_pieces, max_size=25).map("".join),
    st.lists(st.one_of(_pieces, st.text(_chars, max_size=20)), max_size=20).map("".join),
)


def assert_tiles(text: str, spans: Sequence[Span]) -> None:
    """The tiling invariant of docs/architecture.md, with a readable failure."""
    if not text:
        assert spans == []
        return
    assert spans, "a non-empty text must give at least one span"
    assert spans[0].start == 0 and spans[-1].end == len(text)
    for a, b in itertools.pairwise(spans):
        assert a.end == b.start, f"gap or overlap between {a} and {b}"
    for s in spans:
        assert s.start < s.end, f"empty span {s}"
    for s in spans[:-1]:
        assert text[s.start:s.end].strip(), f"whitespace-only span {s} before the last one"
    assert "".join(text[s.start:s.end] for s in spans) == text
