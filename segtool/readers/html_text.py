"""Visible text from HTML with the standard library's parser (no extra dependency).

The goal is text a sentence splitter can work on, not a rendering: scripts,
styles and templates are dropped, block elements become line or paragraph
breaks (paragraph-like blocks get a blank line so paragraph splitters see
them), runs of HTML whitespace collapse to one space, and ``<pre>`` keeps its
layout.  The ``<title>`` is not visible page text, so it goes to ``meta``.
The parser is fed incrementally, so the raw HTML is never held in memory whole.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

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

    # -- structure
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self._skip += 1
            self._in_title = tag == "title" and self.title is None
            return
        self._structure(tag)
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
                    self._trailing_newlines += missing
            elif self._space or lead_space:
                self._out.append(" ")
        self._out.append(data)
        kept = data.rstrip("\n")
        ending = len(data) - len(kept)
        self._trailing_newlines = ending if kept else self._trailing_newlines + ending
        self._started = True
        self._pending_breaks = 0

    def text(self) -> str:
        return "".join(self._out)


def html_to_text(html: str) -> str:
    """Convenience for whole strings (tests, the Python API)."""
    parser = HtmlTextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()
