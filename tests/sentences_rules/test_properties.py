"""Invariants of rules / nupunkt / paragraphs on arbitrary Unicode text.

Whatever the input (CRLF, emoji, combining marks, CJK, empty, whitespace only,
one giant line), the spans must tile the text, be non-empty and strictly
increasing, keep whitespace with the preceding sentence, and be deterministic.
"""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segtool.sentences.nupunkt_splitter import NupunktSplitter
from segtool.sentences.paragraphs import ParagraphSplitter
from segtool.sentences.rules import RulesSplitter

# every code point but surrogates (category Cs cannot be encoded)
ANY_CHAR = st.characters(exclude_categories=("Cs",))

# pieces that exercise the rules: terminators, abbreviations, quotes, lists,
# line breaks of every kind, emoji, combining marks, CJK and RTL text
FRAGMENTS = [
    "Mr.", "U.S.", "e.g.", "etc.", "No.", "p.", "F.3d", "v.", "Inc.", "J.", "I.", "a.m.",
    "...", "…", ". . .", ".", "!", "?", "?!", "。", "！", "？", "।", "؟", "።", "‼",
    "\"", "“", "”", "'", "’", "«", "»", "„", "(", ")", "[", "]", "[...]", "¿", "¡",
    "1.", "2)", "(iv)", "a)", "•", "⁃", "-", "—", "§", "*12", "[3]", "Art. 5º",
    "\n", "\r\n", "\n\n", "\r\n\r\n", "\t", " ", "  ", "\u00a0", "\u2028", "\u2029", "\x0b",
    "😀", "👩\u200d💻", "e\u0301", "a\u0308\u0323", "漢字", "中文句子", "مرحبا", "שלום",
    "Hello", "world", "The", "the", "Dr", "Smith", "3.14", "1990", "http://x.y/z.html",
]
TEXTS = st.one_of(
    st.text(ANY_CHAR, max_size=200),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, min_size=1, max_size=5)),
        max_size=40,
    ).map(" ".join),
    st.sampled_from(["", " ", "\n", "\r\n\r\n", "\t \u3000 ", "\u2029"]),
)

SPLITTERS = {
    "rules": RulesSplitter(),
    "rules-de": RulesSplitter(lang="de"),
    "nupunkt": NupunktSplitter(),
    "paragraphs": ParagraphSplitter(),
}


def check_spans(text: str, spans) -> None:
    if not text:
        assert spans == []
        return
    assert spans, "a non-empty text has at least one span"
    assert spans[0].start == 0
    assert spans[-1].end == len(text)
    for prev, cur in itertools.pairwise(spans):
        assert prev.end == cur.start, "spans must be contiguous"
    for span in spans:
        assert span.start < span.end, "spans must be non-empty"
    assert "".join(text[s.start:s.end] for s in spans) == text
    # whitespace between sentences belongs to the preceding span
    for span in spans[1:]:
        assert not text[span.start].isspace()


@pytest.mark.parametrize("name", list(SPLITTERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_spans_tile_and_are_deterministic(name: str, text: str) -> None:
    splitter = SPLITTERS[name]
    spans = splitter.split(text)
    check_spans(text, spans)
    assert splitter.split(text) == spans
    assert type(splitter)(**({"lang": "de"} if name == "rules-de" else {})).split(text) == spans
    assert splitter.split_batch([text, text]) == [spans, spans]


@pytest.mark.parametrize("name", list(SPLITTERS))
@pytest.mark.parametrize(
    "text",
    [
        "word " * 40_000,                      # one giant line, no terminator
        "a" * 200_000,                         # one giant token
        "Mr. " * 20_000,                       # abbreviations only
        "etc. " * 20_000,                      # ambiguous abbreviations only
        "1. " * 20_000,                        # list markers only
        ". " * 50_000,                         # bare full stops
        ("x" * 50 + "\n") * 4_000,             # many short wrapped lines
        " " * 100_000 + "End.",                # a sea of whitespace
    ],
    ids=["words", "token", "mr", "etc", "enum", "dots", "lines", "spaces"],
)
def test_pathological_inputs_stay_linear(name: str, text: str) -> None:
    splitter = SPLITTERS[name]
    started = time.process_time()
    spans = splitter.split(text)
    elapsed = time.process_time() - started
    check_spans(text, spans)
    limit = 20.0 if name == "nupunkt" else 3.0
    assert elapsed < limit, f"{name} took {elapsed:.1f}s on a {len(text)}-char input"
