"""The run-level structure options (``--structure``, ``--section-level`` …).

They belong to the run, not to a component: every splitter and chunker is
made to respect the same structure by the pipeline.  Plain data (it travels to
worker processes inside the run's selection) and standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segtool.types import UsageError

MODES = ("auto", "off", "md", "text")
DEFAULT_SECTION_LEVEL = 6  # without --merge-sections: every heading starts a chunk


@dataclass(frozen=True)
class StructureOptions:
    """What the user asked for; the defaults are ``--structure auto`` with nothing else.

    ``structure``: ``auto`` reads each document's structure from its format
    (Markdown, HTML, plain-text paragraphs; texts of unknown format have none),
    ``md``/``text`` read every document's text as Markdown / plain text (JSONL
    and Parquet records, the Python API's strings), ``off`` ignores structure.

    ``section_level``: headings of level ≤ N are section boundaries no chunk
    crosses.  Without ``merge_sections`` deeper headings are not boundaries
    (they stay glued to the text under them); ``None`` means 6, every heading.
    With ``merge_sections`` every heading starts a section, and adjacent whole
    sections that fit the chunker's limit together are merged — never across a
    heading of level ≤ N (``None`` means 0: merge across any heading).
    """

    structure: str = "auto"
    section_level: int | None = None
    merge_sections: bool = False
    heading_context: bool = False

    def __post_init__(self) -> None:
        if self.structure not in MODES:
            raise UsageError(f"--structure {self.structure!r}: use auto, off, md or text")
        if self.section_level is not None and not 0 <= self.section_level <= 6:
            raise UsageError(f"--section-level {self.section_level}: use a heading level "
                             "from 0 to 6")

    @property
    def on(self) -> bool:
        return self.structure != "off"

    def markup_for(self, markup: str, has_blocks: bool) -> str:
        """The markup a document is read as: its own (auto), or the forced one (md, text) —
        except where the reader already recorded blocks (HTML), which are kept."""
        if self.structure in ("md", "text") and not has_blocks:
            return self.structure
        return markup

    def boundary_level(self) -> int:
        """Headings of level ≤ this start a new section document."""
        if self.merge_sections:
            return DEFAULT_SECTION_LEVEL
        return DEFAULT_SECTION_LEVEL if self.section_level is None else self.section_level

    def merge_barrier(self) -> int:
        """With --merge-sections: headings of level ≤ this are never merged across."""
        return 0 if self.section_level is None else self.section_level

    def identity(self, chunking: bool) -> dict[str, Any]:
        """The options that change this run's output, left out at their defaults so that a
        default run keeps the record ids it always had (only spans that changed get new ids)."""
        ident: dict[str, Any] = {}
        if self.structure != "auto":
            ident["structure"] = self.structure
        if chunking and self.on:
            if self.section_level is not None:
                ident["section_level"] = self.section_level
            if self.merge_sections:
                ident["merge_sections"] = True
            if self.heading_context:
                ident["heading_context"] = True
        return ident

    def check_chunking(self, chunking: bool) -> None:
        """Chunk-only options on a run without a chunker, or with structure off: exit 2."""
        given = [flag for flag, value in (("--section-level", self.section_level is not None),
                                          ("--merge-sections", self.merge_sections),
                                          ("--heading-context", self.heading_context)) if value]
        if given and not chunking:
            raise UsageError(f"{given[0]} applies to chunking (segtool chunk), not to sentences")
        if given and not self.on:
            raise UsageError(f"{given[0]} needs --structure auto (it is off)")
