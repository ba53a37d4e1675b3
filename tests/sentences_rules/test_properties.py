"""Invariants of rules / nupunkt / paragraphs on arbitrary Unicode text.

Whatever the input (CRLF, emoji, combining marks, CJK, empty, whitespace only,
one giant line), the spans must tile the text, be non-empty and strictly
increasing, keep whitespace with the preceding sentence, and be deterministic.
"""

from __future__ import annotations

import gc
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


def best_time(fn, arg, repeats: int = 3) -> tuple[float, object]:
    """Best CPU time of ``repeats`` calls (garbage collector off, as ``timeit`` does), and the result.

    CPU time of this process, not wall time, so other work on the machine
    matters less; the best of several runs drops one-off stalls.
    """
    best, result = float("inf"), None
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.process_time()
            result = fn(arg)
            best = min(best, time.process_time() - started)
    finally:
        if enabled:
            gc.enable()
    return best, result


# A linear splitter takes ~4× as long on a 4× input, a quadratic one ~16×.
SCALE = 4
MAX_RATIO = 12
SLACK_S = 0.002  # timer resolution and noise on inputs that take a millisecond or two
START_CHARS = 10_000
MIN_SMALL_S = 0.005  # the small input doubles until one call takes this long ...
# ... or reaches this size: somewhere around 0.3-1 M characters the splitters slow down
# once by 2-3× on the development machine (memory effects, not the algorithm), and a
# comparison straddling that step would read as super-linear; 4 × 40 K stays below it.
MAX_SMALL_CHARS = 40_000


@pytest.mark.parametrize("name", list(SPLITTERS))
@pytest.mark.parametrize(
    ("unit", "tail"),
    [
        ("word ", ""),                         # one giant line, no terminator
        ("a", ""),                             # one giant token
        ("Mr. ", ""),                          # abbreviations only
        ("etc. ", ""),                         # ambiguous abbreviations only
        ("1. ", ""),                           # list markers only
        (". ", ""),                            # bare full stops
        ("x" * 50 + "\n", ""),                 # many short wrapped lines
        (" ", "End."),                         # a sea of whitespace
    ],
    ids=["words", "token", "mr", "etc", "enum", "dots", "lines", "spaces"],
)
def test_pathological_inputs_stay_linear(name: str, unit: str, tail: str) -> None:
    """Time grows linearly with the input: 4× the text costs well under 12× the time.

    The small size starts at 10,000 characters and doubles (up to 40,000) until
    one call takes a few milliseconds, so the ratio compares real work where the
    splitter does any.  A quadratic pass would cost seconds at these sizes, far
    beyond the small allowance for timer noise.
    """
    splitter = SPLITTERS[name]

    def make(n_chars: int) -> str:
        return unit * (n_chars // len(unit)) + tail

    n = START_CHARS
    while 2 * n <= MAX_SMALL_CHARS and best_time(splitter.split, make(n), repeats=1)[0] < MIN_SMALL_S:
        n *= 2
    small_text, big_text = make(n), make(SCALE * n)
    small, _ = best_time(splitter.split, small_text)
    big, spans = best_time(splitter.split, big_text)
    check_spans(big_text, spans)
    assert big < MAX_RATIO * small + SLACK_S, (
        f"{name}: {len(small_text)} chars took {small * 1e3:.1f} ms, {len(big_text)} chars "
        f"{big * 1e3:.1f} ms — {big / max(small, 1e-9):.1f}× for {SCALE}× the input "
        f"(linear ≈ {SCALE}×, quadratic ≈ {SCALE * SCALE}×)"
    )
