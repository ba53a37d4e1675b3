"""The paragraph splitter and the nupunkt wrapper on hand-checked inputs."""

from __future__ import annotations

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


def test_paragraphs_long_blank_run_is_linear() -> None:
    text = "a" + "\n" * 200_000 + "b"
    assert pieces(ParagraphSplitter(), text) == ["a" + "\n" * 200_000, "b"]


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
    splitter = registry.create("splitters", "nupunkt", {"lang": "en"})
    assert isinstance(splitter, NupunktSplitter)
    assert registry.missing_requirements(NupunktSplitter) == []
    assert splitter.split("") == []
