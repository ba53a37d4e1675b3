"""Block spans of a document: headings, paragraphs, list items, code, tables, quotes.

A :class:`Block` is a half-open character span ``[start, end)`` of a
document's text (local offsets, like :class:`segtool.types.Span`).  The blocks
of a document **tile it exactly**: the first starts at 0, each starts where the
previous one ends, the last ends at ``len(text)``.  Whitespace between two
blocks (blank lines) belongs to the *preceding* block; blank lines at the very
start of a document form a block of kind ``"blank"`` (the only place that kind
occurs, apart from a text that is all whitespace).  In Markdown every block
starts at the start of its first line (a list item with its marker and
indentation), so "a heading starts a chunk" reads ``chunk.start == block.start``.

``level`` is 1–6 for a section heading, else 0; ``headings`` holds the titles
of the enclosing sections, outermost first (for a heading: its parents only);
``title`` is a heading's plain-text title (markup removed), else ``""``.

How a chunker gets a document's blocks
--------------------------------------
:class:`segtool.types.Document` has two optional fields:

* ``markup``: ``"md"``, ``"html"``, ``"text"`` or ``""`` (unknown: no structure).
  Readers set it from the input format (``.md`` → ``"md"``, ``.txt`` and
  JSONL/Parquet text → ``"text"``, ``.html`` → ``"html"``).
* ``blocks``: the blocks, when the reader already knows them (HTML: the
  extractor records them while it writes the text) — or ``None``, and then they
  are parsed lazily from ``text`` and ``markup`` (Markdown is parsed where the
  document is computed, i.e. in the worker process with ``--jobs``, not in the
  reader).

Call :func:`document_blocks` — never ``parse_blocks`` on ``doc.text`` directly —
so both cases work.  With ``--structure auto`` the pipeline hands chunkers
*section documents*: each section becomes its own :class:`Document` whose
``blocks`` are already set (offsets relative to the section's text), so
``document_blocks`` is cheap there.  A chunker that does its own structural
chunking sets the class attribute ``handles_structure = True``: it then gets
whole documents (blocks attached, sentence spans already cut at block
boundaries, code and table lines as sentence units) and must itself keep the
heading rules; the pipeline still adds ``meta.headings``.  A chunker defining
``chunk_documents`` gets whole documents too unless it sets
``handles_structure = False`` (see ``segtool.structure.apply.whole_documents``).

Markdown is parsed with markdown-it.rs through markdown-it-pyrs (CommonMark block
rules plus GitHub tables and YAML front matter; markdown-it-py for hostile texts,
see :mod:`segtool.structure.markdown`); the line each leaf block starts on is
turned into a character offset here, counting ``\\r\\n``, ``\\r`` and ``\\n`` as
line breaks exactly as the parser does.  Nested content is flattened to its leaves: a
paragraph inside a list item is a ``"list_item"`` block, inside a block quote a
``"quote"`` block; a code block or table inside either stays ``"code"`` /
``"table"``.  Only headings outside lists and quotes open sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from segtool.structure.markdown import LINE_BREAK, line_starts, markdown_leaves

KINDS = ("heading", "paragraph", "list_item", "code", "table", "quote", "front_matter",
         "thematic_break", "html", "reference", "blank")
# Blocks whose lines are the units: never split inside a line, cut only between lines.
LINE_KINDS = frozenset({"code", "table", "front_matter", "reference"})
FORMATS = ("md", "html", "text")

_PARAGRAPH_BREAK = re.compile(r"(?:\r\n?|\n)(?:[^\S\r\n]*(?:\r\n?|\n))+")  # a line break first: fast scan
_REFERENCE = re.compile(r" {0,3}\[[^\]]+\]:")


@dataclass(frozen=True, slots=True)
class Block:
    """One structural block of a document's text (local offsets, see the module doc)."""

    start: int
    end: int
    kind: str
    level: int = 0  # heading level 1–6 for a section heading, else 0
    headings: tuple[str, ...] = ()  # enclosing section titles, outermost first (a heading: parents)
    title: str = ""  # a heading's title (plain text, markup removed), else ""

    def shifted(self, delta: int) -> Block:
        """The same block with offsets moved by ``delta`` (section documents, parts)."""
        return Block(self.start + delta, self.end + delta, self.kind, self.level,
                     self.headings, self.title)


class OpenSections:
    """The sections open at the current block, for readers that see blocks in order.

    ``path(level, title)`` returns the titles enclosing a block; a heading
    (``level`` ≥ 1) first closes every open section of its level or deeper and
    then opens its own, so it is not part of its own path.
    """

    def __init__(self) -> None:
        self._open: list[tuple[int, str]] = []

    def path(self, level: int, title: str) -> tuple[str, ...]:
        if level:
            while self._open and self._open[-1][0] >= level:
                self._open.pop()
            enclosing = tuple(t for _, t in self._open)
            self._open.append((level, title))
            return enclosing
        return tuple(t for _, t in self._open)


def parse_blocks(text: str, fmt: str) -> list[Block]:
    """The blocks tiling ``text``; ``fmt`` is ``"md"``, ``"html"`` or ``"text"``.

    ``"html"`` here means text already extracted from HTML, whose tags are gone:
    only paragraphs (blank lines) can be found in it — the HTML reader records
    the real blocks while extracting (see :func:`document_blocks`).
    """
    if not text:
        return []
    if fmt == "md":
        return _markdown_blocks(text)
    if fmt in ("text", "html"):
        return paragraph_blocks(text)
    raise ValueError(f"unknown markup {fmt!r}: use one of {', '.join(FORMATS)}")


def document_blocks(doc: Any) -> tuple[Block, ...] | None:
    """The blocks of a :class:`~segtool.types.Document`, or ``None`` if it has no structure.

    Uses ``doc.blocks`` when the reader (or the pipeline) set them, else parses
    ``doc.text`` according to ``doc.markup``; ``None`` for unknown markup.
    """
    blocks = getattr(doc, "blocks", None)
    if blocks is not None:
        return blocks
    markup = getattr(doc, "markup", "")
    if not markup:
        return None
    return tuple(parse_blocks(doc.text, markup))


# ---------------------------------------------------------------- plain text


def paragraph_blocks(text: str) -> list[Block]:
    """Paragraphs separated by blank lines (whitespace-only lines)."""
    if "\n" not in text and "\r" not in text:  # no line break, no blank line: one block
        return [Block(0, len(text), "blank" if text.isspace() or not text else "paragraph")]
    blocks: list[Block] = []
    lead = len(text) - len(text.lstrip())
    if lead == len(text):
        return [Block(0, len(text), "blank")]
    # A leading blank run counts only if it contains a whole line break.
    pos = 0
    if lead and LINE_BREAK.search(text, 0, lead):
        first = _last_line_start(text, lead)
        if first > 0:
            blocks.append(Block(0, first, "blank"))
            pos = first
    for match in _PARAGRAPH_BREAK.finditer(text, pos):
        end = match.end()
        if end >= len(text):
            break
        if end > pos:
            blocks.append(Block(pos, end, "paragraph"))
            pos = end
    blocks.append(Block(pos, len(text), "paragraph"))
    return blocks


def _last_line_start(text: str, limit: int) -> int:
    """The start of the line holding position ``limit`` (after its last line break)."""
    last = 0
    for match in LINE_BREAK.finditer(text, 0, limit):
        last = match.end()
    return last


# ---------------------------------------------------------------- Markdown


def _line_starts(text: str) -> list[int]:
    """Character offset of each line's start, plus ``len(text)`` as a sentinel."""
    starts = line_starts(text)
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def _markdown_blocks(text: str) -> list[Block]:
    starts = _line_starts(text)
    n_lines = len(starts) - 1
    covered = bytearray(n_lines)
    raw: list[tuple[int, str, int, str]] = []  # (first line, kind, level, title)
    last_line = -1
    for first, kind, level, title in markdown_leaves(text, starts, covered):
        if first <= last_line or first >= n_lines:
            continue  # two leaves on one line (e.g. "> - x"): the first one owns it
        raw.append((first, kind, level, title))
        last_line = first
    raw = _with_uncovered(text, starts, covered, raw)
    blocks: list[Block] = []
    pos = 0
    if not raw or raw[0][0] > 0:  # lines before the first block
        first_line = raw[0][0] if raw else n_lines
        end = starts[first_line]
        lead = text[:end]
        blocks.append(Block(0, end, "blank" if lead.isspace() or not lead else "paragraph"))
        pos = end
    sections = OpenSections()
    for k, (first, kind, level, title) in enumerate(raw):
        end = starts[raw[k + 1][0]] if k + 1 < len(raw) else len(text)
        start = starts[first]
        assert start == pos
        blocks.append(Block(start, end, kind, level, sections.path(level, title), title))
        pos = end
    return [b for b in blocks if b.end > b.start]


def _with_uncovered(text: str, starts: list[int], covered: bytearray,
                    raw: list[tuple[int, str, int, str]]) -> list[tuple[int, str, int, str]]:
    """Add a block for each run of lines no token spans that holds text: link reference
    definitions (which the parser consumes without a token) become ``"reference"``
    blocks, cut between lines; anything else a paragraph.  Lines inside a container
    (a quote's ``>`` line, an empty list item) stay with the block before them."""
    extra: list[tuple[int, str, int, str]] = []
    run = False
    last = -1
    line = covered.find(0)
    while line >= 0:  # only the uncovered lines (a covered line ends a run)
        if line > last + 1:
            run = False
        last = line
        if not run and not text[starts[line]:starts[line + 1]].isspace():
            kind = "reference" if _REFERENCE.match(text, starts[line]) else "paragraph"
            extra.append((line, kind, 0, ""))
            run = True
        line = covered.find(0, line + 1)
    if not extra:
        return raw
    return sorted(raw + extra, key=lambda item: item[0])


def check_tiling(text: str, blocks: list[Block] | tuple[Block, ...]) -> None:
    """Raise ``AssertionError`` unless ``blocks`` tile ``text`` (tests and debugging)."""
    pos = 0
    for block in blocks:
        assert block.start == pos and block.end > block.start, (block, pos)
        pos = block.end
    assert pos == len(text), (pos, len(text))


__all__ = ["FORMATS", "KINDS", "LINE_KINDS", "Block", "check_tiling", "document_blocks",
           "paragraph_blocks", "parse_blocks"]
