"""Hypothesis strategies for arbitrary text that real corpora contain."""

from __future__ import annotations

from hypothesis import strategies as st

# No lone surrogates: they cannot come out of a UTF-8 decoder, so no reader produces them.
_chars = st.characters(blacklist_categories=("Cs",))
_pieces = st.sampled_from([
    "Hello world. ", "Dr. Smith went to Washington. ", "It cost $3.50! ", "Really?\r\n",
    "\n\n", "\r\n\r\n", "   ", "\t", "日本語の文です。", "これは二つ目！", "👩‍👩‍👧 family. ",
    "e\u0301\u0301 combining. ", "U.S.C. § 1983 applies. ", "“Quoted.” Next. ", "a" * 300,
    "नमस्ते। ", "مرحبا؟ ", "...", "1. First item\n2. Second item\n", "",
])

texts = st.one_of(
    st.text(_chars, max_size=400),
    st.lists(_pieces, max_size=40).map("".join),
    st.lists(st.one_of(_pieces, st.text(_chars, max_size=30)), max_size=30).map("".join),
)
