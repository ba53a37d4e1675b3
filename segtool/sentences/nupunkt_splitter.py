"""nupunkt (ALEA's legal-domain Punkt) as a segtool splitter.

``nupunkt.sent_spans`` already returns contiguous spans, but the tiling
invariant is segtool's to guarantee, not the library's: only its *end* offsets
are kept and the spans are rebuilt with :func:`spans_from_ends`, which also puts
whitespace between sentences into the preceding span and drops empty or
whitespace-only pieces.  The model is loaded once, by nupunkt itself, on first
use (``import nupunkt`` happens lazily so listing components stays cheap).
"""

from __future__ import annotations

from typing import ClassVar

from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import Span


class NupunktSplitter(BaseSplitter):
    """Unsupervised Punkt with a legal-domain model shipped inside the package."""

    name: ClassVar[str] = "nupunkt"
    summary: ClassVar[str] = "Punkt trained on legal text (nupunkt); pure Python, fast, no downloads."
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ("nupunkt",)

    def __init__(self) -> None:
        import nupunkt

        self._sent_spans = nupunkt.sent_spans

    def split(self, text: str) -> list[Span]:
        if not text:
            return []
        return spans_from_ends(text, [end for _, end in self._sent_spans(text)])
