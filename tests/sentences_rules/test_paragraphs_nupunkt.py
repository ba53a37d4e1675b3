"""The paragraph splitter and the nupunkt wrapper on hand-checked inputs."""

from __future__ import annotations

import gc
import time

import nupunkt
import pytest

from segtool import registry
from segtool.sentences.nupunkt_splitter import NupunktSplitter
from segtool.sentences.paragraphs import ParagraphSplitter


def pieces(splitter, text: str) -> list[str]:
    return [text[s.start:s.end] for s in splitter.split(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One.\n\nTwo.", ["One.\n\n", "Two."]),
        ("One.\r\n\r\nTwo.\r\n", ["One.\r\n\r\n", "Two.\r\n"]),
        ("a\n \t\nb\n\n\n\nc", ["a\n \t\n", "b\n\n\n\n", "c"]),
        ("line one\nline two", ["line one\nline two"]),
        ("\n\nlead", ["\n\nlead"]),
        ("x\u2029y", ["x\u2029", "y"]),
        ("x\u2028\u2028y", ["x\u2028\u2028", "y"]),
        ("   ", ["   "]),
        ("", []),
    ],
)
def test_paragraphs(text: str, expected: list[str]) -> None:
    assert pieces(ParagraphSplitter(), text) == expected


def best_time(fn, arg, repeats: int = 3) -> float:
    """Best CPU time of ``repeats`` calls with the garbage collector off (as ``timeit``)."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.process_time()
            fn(arg)
            best = min(best, time.process_time() - started)
    finally:
        if enabled:
            gc.enable()
    return best


def test_paragraphs_long_blank_run_is_linear() -> None:
    """A run of blank lines is one break, found in time linear in its length.

    A pattern that re-scans the rest of the run from every line break (tried
    while writing this test) took 0.65 s at 25,000 newlines and 9.3 s at 100,000;
    the real one takes well under a millisecond for both, hence the small
    allowance for timer noise.
    """
    splitter = ParagraphSplitter()
    times = []
    for n in (25_000, 100_000):
        text = "a" + "\n" * n + "b"
        assert pieces(splitter, text) == ["a" + "\n" * n, "b"]
        times.append(best_time(splitter.split, text))
    small, big = times
    assert big < 12 * small + 0.002, (
        f"{small * 1e3:.2f} ms for 25,000 newlines, {big * 1e3:.2f} ms for 100,000 "
        f"({big / max(small, 1e-9):.1f}×; linear ≈ 4×, quadratic ≈ 16×)"
    )


def test_nupunkt_wrapper_keeps_library_boundaries() -> None:
    text = "Dr. Smith went to Washington. He met Mr. Jones at 5 p.m. on Friday.  Then he left."
    ours = NupunktSplitter().split(text)
    assert "".join(text[s.start:s.end] for s in ours) == text
    # nupunkt's own ends, with whitespace moved into the preceding sentence
    lib_ends = [end for _, end in nupunkt.sent_spans(text)]
    expected = []
    for end in lib_ends:
        while end < len(text) and text[end].isspace():
            end += 1
        expected.append(end)
    assert [s.end for s in ours] == sorted(set(expected))
    assert len(ours) >= 2


def test_nupunkt_registered_and_installed() -> None:
    splitter = registry.create("splitters", "nupunkt", {})
    assert isinstance(splitter, NupunktSplitter)
    with pytest.raises(TypeError, match="splitter 'nupunkt' takes no option 'lang'"):
        registry.create("splitters", "nupunkt", {"lang": "en"})
    assert registry.missing_requirements(NupunktSplitter) == []
    assert splitter.split("") == []
