"""Shared machinery for sentence splitters: building tiling spans safely.

Every splitter reduces to "where does each sentence end?".  Building spans from
sorted end positions here, in one place, is what makes the tiling invariant hold
by construction: whitespace after a sentence is pulled into that sentence, the
first span starts at 0 and the last ends at ``len(text)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from segtool.component import Component
from segtool.types import Span


def spans_from_ends(text: str, ends: Iterable[int]) -> list[Span]:
    """Tile ``text`` with spans that end at the given boundaries.

    Each boundary is moved forward over following whitespace (the whitespace
    belongs to the preceding sentence); duplicates and out-of-range values are
    ignored.  Leading whitespace of the document joins the first sentence.
    A whitespace-only or empty text yields one span or none.
    """
    n = len(text)
    if n == 0:
        return []
    spans: list[Span] = []
    start = 0
    for end in sorted(set(ends)):
        if end <= start:
            continue
        if end >= n:
            break
        while end < n and text[end].isspace():
            end += 1
        if end >= n:
            break
        # ``start`` follows whitespace already skipped, so only a document's leading
        # whitespace can form a span of nothing but whitespace: keep it with the next
        if text[start].isspace() and text[start:end].isspace():
            continue
        spans.append(Span(start, end))
        start = end
    spans.append(Span(start, n))
    return spans


class BaseSplitter(Component):
    """Convenience base: implement ``split`` for one text, get ``split_batch``.

    Model-based splitters override ``split_batch`` to batch across documents.
    """

    kind = "splitter"

    def split(self, text: str) -> list[Span]:
        raise NotImplementedError

    def split_batch(self, texts: Sequence[str]) -> list[list[Span]]:
        return [self.split(t) for t in texts]
