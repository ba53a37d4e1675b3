"""Example plugin: line-based splitting and chunking, registered via entry points."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import ChunkSpan, Span

_NEWLINE = re.compile(r"\r\n|\r|\n")


class LineSplitter(BaseSplitter):
    """One span per line; the newline (and following blank lines) ends the span."""

    name: ClassVar[str] = "lines"
    summary: ClassVar[str] = "one unit per line (plugin example)"
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        pass

    def split(self, text: str) -> list[Span]:
        return spans_from_ends(text, (m.end() for m in _NEWLINE.finditer(text)))


class LineCountChunker:
    """At most ``max_tokens`` units per chunk, where a unit counts as one token."""

    name: ClassVar[str] = "lines"
    summary: ClassVar[str] = "fixed number of units per chunk (plugin example)"
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, max_tokens: int = 20) -> None:
        if max_tokens < 1:
            raise ValueError("max_tokens must be ≥ 1")
        self.max_units = max_tokens

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        out = []
        for spans in sentences:
            chunks = []
            for i in range(0, len(spans), self.max_units):
                group = spans[i : i + self.max_units]
                chunks.append(ChunkSpan(group[0].start, group[-1].end, len(group), i,
                                        i + len(group)))
            out.append(chunks)
        return out
