"""Example plugin: line-based splitting and chunking, registered via entry points."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar

from segtool.component import Component
from segtool.options import Opt
from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import ChunkSpan, Span

_NEWLINE = re.compile(r"\r\n|\r|\n")
_BLANK_END = re.compile(r"(?:\r?\n|\r)[^\S\r\n]*(?:\r?\n|\r)\s*\Z")


class LineSplitter(BaseSplitter):
    """One span per line; the newline (and following blank lines) ends the span."""

    name: ClassVar[str] = "lines"
    summary: ClassVar[str] = "one unit per line (plugin example)"

    def split(self, text: str) -> list[Span]:
        return spans_from_ends(text, (m.end() for m in _NEWLINE.finditer(text)))


@dataclass(frozen=True)
class LineCountOptions:
    """Declared once: segtool derives the CLI flags, ``segtool list`` and API checks."""

    max_tokens: Annotated[int, Opt("Sentence units per chunk (each unit counts as one token).",
                                   ge=1, group="Chunker")] = 20
    blank_line_breaks: Annotated[bool, Opt(
        "Also end a chunk at every blank line (paragraph-sized chunks of at most "
        "--max-tokens lines).", group="Chunker")] = False


class LineCountChunker(Component):
    """At most ``max_tokens`` units per chunk, where a unit counts as one token."""

    name: ClassVar[str] = "lines"
    kind = "chunker"
    summary: ClassVar[str] = "fixed number of units per chunk (plugin example)"
    Options = LineCountOptions

    def setup(self) -> None:
        self.max_units = self.options.max_tokens

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        out = []
        for text, spans in zip(texts, sentences, strict=True):
            chunks: list[ChunkSpan] = []
            first = 0
            for i in range(len(spans)):
                full = i + 1 - first >= self.max_units
                blank = self.options.blank_line_breaks and _BLANK_END.search(
                    text, spans[i].start, spans[i].end) is not None
                if full or blank or i == len(spans) - 1:
                    chunks.append(ChunkSpan(spans[first].start, spans[i].end, i + 1 - first,
                                            first, i + 1))
                    first = i + 1
            out.append(chunks)
        return out
