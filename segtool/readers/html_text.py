"""Visible text from HTML with the standard library's parser (no extra dependency).

The goal is text a sentence splitter can work on, not a rendering: scripts,
styles and templates are dropped, block elements become line or paragraph
breaks (paragraph-like blocks get a blank line so paragraph splitters see
them), runs of HTML whitespace collapse to one space, and ``<pre>`` keeps its
layout.  The ``<title>`` is not visible page text, so it goes to ``meta``.
The parser is fed incrementally, so the raw HTML is never held in memory whole.

While it writes the text, the extractor also records where each block starts
in it (headings with their level and title, paragraphs, list items, ``<pre>``,
tables — a whole table is one block whose rows are its lines — and block
quotes): :meth:`HtmlTextExtractor.blocks` gives the structure layer exact spans
of the extracted text, which no later parse of that text could recover.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

SKIP = frozenset({"script", "style", "template", "noscript", "title"})
PARAGRAPH = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "dl",
    "table", "section", "article", "header", "footer", "nav", "aside", "main", "figure",
    "form", "hr", "address", "fieldset", "details",
})
LINE = frozenset({"br", "div", "li", "dt", "dd", "tr", "figcaption", "caption", "summary",
                  "legend", "option"})
CELL = frozenset({"td", "th"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements counted to decide a block's kind (innermost wins, in this order).
_KIND_TAGS = ("pre", "table", "li", "blockquote")


class HtmlTextExtractor(HTMLParser):
    """Feed HTML text with :meth:`feed`; read the result with :meth:`text` after ``close()``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skip = 0
        self._pre = 0
        self._pending_breaks = 0
        self._space = False
        self._started = False
        self._trailing_newlines = 0  # "\n" already at the end of the output
        self._pre_start = False
        self._in_title = False
        self._title: list[str] = []
        self.title: str | None = None
        # structure: where blocks start in the output, and what they are
        self._length = 0  # characters written so far
        self._depth = dict.fromkeys(_KIND_TAGS, 0)
        self._heading = 0  # level of the open heading element
        self._heading_from: int | None = None  # index in _out of the open heading's text
        self._new_block = True
        self._starts: list[tuple[int, str, int]] = []  # (offset, kind, heading level)
        self._titles: dict[int, str] = {}  # block index -> heading title

    # -- structure
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self._skip += 1
            self._in_title = tag == "title" and self.title is None
            return
        self._structure(tag)
        self._block_edge(tag, opening=True)
        if tag == "pre":
            self._pre += 1
            self._pre_start = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SKIP:
            self._structure(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self._skip = max(0, self._skip - 1)
            if tag == "title" and self._in_title:
                self._in_title = False
                self.title = _HTML_SPACE.sub(" ", "".join(self._title)).strip()
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag != "br":
            self._structure(tag)
            self._block_edge(tag, opening=False)

    def _block_edge(self, tag: str, opening: bool) -> None:
        """Track the elements that decide block kinds; a block element's start or end begins
        a new block at the next text, except inside a table or ``<pre>`` (one block each)."""
        if tag in self._depth:
            self._depth[tag] = max(0, self._depth[tag] + (1 if opening else -1))
            if tag in ("table", "pre"):
                self._new_block = True
                return
        if tag in HEADINGS:
            self._end_title()
            self._heading = HEADINGS[tag] if opening else 0
        if (tag in PARAGRAPH or tag in LINE) and tag != "br" and not (
                self._depth["table"] or self._depth["pre"]):
            self._new_block = True

    def _end_title(self) -> None:
        """The open heading's title: its text as written to the output, spaces collapsed."""
        if self._heading_from is not None and self._starts:
            self._titles[len(self._starts) - 1] = _HTML_SPACE.sub(
                " ", "".join(self._out[self._heading_from:])).strip()
        self._heading_from = None

    def _kind(self) -> tuple[str, int]:
        if self._depth["pre"]:
            return "code", 0
        if self._depth["table"]:
            return "table", 0
        if self._heading:
            if self._depth["li"] or self._depth["blockquote"]:
                return ("list_item" if self._depth["li"] else "quote"), 0
            return "heading", self._heading
        if self._depth["li"]:
            return "list_item", 0
        if self._depth["blockquote"]:
            return "quote", 0
        return "paragraph", 0

    def _structure(self, tag: str) -> None:
        if tag == "br":  # <br><br> is the common hand-made paragraph break
            self._pending_breaks = min(2, self._pending_breaks + 1)
            self._space = False
        elif tag in PARAGRAPH:
            self._pending_breaks = 2
            self._space = False
        elif tag in LINE:
            self._pending_breaks = max(self._pending_breaks, 1)
            self._space = False
        elif tag in CELL:
            self._space = True

    # -- text
    def handle_data(self, data: str) -> None:
        if self._skip:
            if self._in_title:
                self._title.append(data)
            return
        if self._pre:
            if self._pre_start and data.startswith("\n"):
                data = data[1:]  # HTML ignores a newline right after <pre>
            self._pre_start = False
            self._emit(data, lead_space=False)
            self._space = False
            return
        data = _HTML_SPACE.sub(" ", data)
        lead = data.startswith(" ")
        trail = data.endswith(" ")
        data = data.strip(" ")
        if not data:
            self._space = self._space or lead or trail
            return
        self._emit(data, lead_space=lead)
        self._space = trail

    def _emit(self, data: str, lead_space: bool) -> None:
        if not data:
            return
        if self._started:
            if self._pending_breaks:
                # <pre> text may already end in newlines: top up, don't stack.
                missing = self._pending_breaks - self._trailing_newlines
                if missing > 0:
                    self._out.append("\n" * missing)
                    self._length += missing
                    self._trailing_newlines += missing
            elif self._space or lead_space:
                self._out.append(" ")
                self._length += 1
        if self._new_block or not self._starts:
            kind, level = self._kind()
            self._starts.append((self._length, kind, level))
            self._new_block = False
        if self._heading and self._heading_from is None:
            self._heading_from = len(self._out)
        self._out.append(data)
        self._length += len(data)
        kept = data.rstrip("\n")
        ending = len(data) - len(kept)
        self._trailing_newlines = ending if kept else self._trailing_newlines + ending
        self._started = True
        self._pending_breaks = 0

    def text(self) -> str:
        return "".join(self._out)

    def blocks(self) -> tuple[Any, ...]:
        """The blocks of :meth:`text`, tiling it (``segtool.structure.blocks.Block``)."""
        from segtool.structure.blocks import Block, OpenSections

        if self._heading:  # an unclosed last heading
            self._end_title()
        out: list[Block] = []
        sections = OpenSections()
        starts = [s for s in self._starts if s[0] < self._length]
        for k, (start, kind, level) in enumerate(starts):
            end = starts[k + 1][0] if k + 1 < len(starts) else self._length
            if end <= start:
                continue
            start = 0 if not out else start
            title = self._titles.get(k, "") if level else ""
            out.append(Block(start, end, kind, level, sections.path(level, title), title))
        return tuple(out)


def html_to_text(html: str) -> str:
    """Convenience for whole strings (tests, the Python API)."""
    parser = HtmlTextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()
