"""nupunkt (ALEA's legal-domain Punkt) as a segtool splitter.

``nupunkt.sent_spans`` already returns contiguous spans, but the tiling
invariant is segtool's to guarantee, not the library's: only its *end* offsets
are kept and the spans are rebuilt with :func:`spans_from_ends`, which also puts
whitespace between sentences into the preceding span and drops empty or
whitespace-only pieces.  The model is loaded once, by nupunkt itself, on first
use (``import nupunkt`` happens lazily so listing components stays cheap).

Long runs without whitespace are defused first.  nupunkt's candidate scan
(``PunktSentenceTokenizer._match_potential_end_contexts``, with the pattern
built by ``_candidate_pattern``) looks ahead from every possible sentence end
over the whole rest of its whitespace-free word (the ``(?P<_nw>\\s*\\S*)``
group), so a word made of many candidates — ``"????…"``, ``"?)?)…"`` — costs
time quadratic in its length: 250 KB of ``?`` took 48 s.  In a whitespace-free
run of ``RUN_CHARS`` or more characters, every ``. ? ! …`` except those in the
last ``KEEP_CHARS`` is replaced by a comma in the copy nupunkt sees, so no
sentence can end inside such a run, only near its end.  The copy has the
same length, so every offset nupunkt returns is an offset of the original.
"""

from __future__ import annotations

import re
from typing import ClassVar

from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import Span

RUN_CHARS = 128
KEEP_CHARS = 32
# (?<!\S) anchors each attempt at a run's first character, so the scan is linear
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{RUN_CHARS},}}")
_ENDERS_TO_COMMAS = str.maketrans(dict.fromkeys(".?!\u2026", ","))


def defuse_long_runs(text: str) -> str:
    """``text`` with sentence-end marks neutralised inside long whitespace-free runs.

    Same length as ``text``, and the very same string when it has no such run.
    """
    parts: list[str] = []
    pos = 0
    for m in _LONG_RUN.finditer(text):
        cut = m.end() - KEEP_CHARS
        parts.append(text[pos : m.start()])
        parts.append(text[m.start() : cut].translate(_ENDERS_TO_COMMAS))
        pos = cut
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


class NupunktSplitter(BaseSplitter):
    """Unsupervised Punkt with a legal-domain model shipped inside the package."""

    name: ClassVar[str] = "nupunkt"
    summary: ClassVar[str] = "Punkt trained on legal text (nupunkt); pure Python, fast, no downloads."
    requires: ClassVar[tuple[str, ...]] = ("nupunkt",)

    def setup(self) -> None:
        import nupunkt

        self._sent_spans = nupunkt.sent_spans

    def fingerprint(self) -> dict[str, str]:
        from importlib.metadata import version

        return {"nupunkt": version("nupunkt")}  # its bundled model ships with the package

    def split(self, text: str) -> list[Span]:
        if not text:
            return []
        return spans_from_ends(text, [end for _, end in self._sent_spans(defuse_long_runs(text))])
