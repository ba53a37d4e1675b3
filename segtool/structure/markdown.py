"""The leaf blocks of a Markdown text, by line: markdown-it-pyrs, markdown-it-py as a fallback.

:func:`markdown_leaves` returns ``(first_line, kind, heading_level, title)`` for
every leaf block (a paragraph, heading, code block, table …, with paragraphs in
list items and block quotes already renamed ``"list_item"`` / ``"quote"``) and
marks in ``covered`` every line some block or container spans; the caller
(:func:`segtool.structure.blocks.parse_blocks`) turns lines into character
offsets and fills the gaps.

The parser is markdown-it.rs through markdown-it-pyrs (CommonMark block rules,
GitHub tables, YAML front matter; no inline rules): about ten times faster
than markdown-it-py, which was half the cost of a ``--structure auto`` run.
Its source map is in UTF-8 *bytes*; only line numbers are needed, and line
breaks are ASCII, so a byte offset becomes a line by bisecting the byte offsets
of the line starts (the character offsets themselves for an ASCII text).

Four things keep hostile input from crashing or stalling the process:

* A Python ``str`` may hold lone surrogates (JSON ``"\\ud800"``), which have
  no UTF-8 form: they are replaced by U+FFFD (one character for one, so
  every character offset stays exact) before parsing.
* markdown-it.rs recurses once per nesting level of block quotes and lists and
  has no nesting limit: ``">" * 100_000`` overflows the stack (a segfault, not
  an exception).  Every nesting level opened on a line needs one character of
  that line's container prefix (a ``>``, a list marker, or two columns of
  indentation — a tab is at most two levels), so a text none of whose lines
  starts with :data:`MAX_PREFIX` such characters nests at most twice that deep.
  A text that has such a line is parsed with markdown-it-py instead (pure
  Python, ``maxNesting`` 100: deeper content is left out of its tokens, and the
  lines become plain paragraphs), as every text was before.
* markdown-it.rs tries a link reference definition at every line of a paragraph
  that starts with ``[`` and scans to the paragraph's end each time: ``"[a]:\\n" *
  100_000`` takes minutes.  :func:`too_slow` bounds that work (the sum over runs
  of non-blank lines of the squared count of lines starting with ``[``) and sends
  a text beyond :data:`MAX_BRACKET_WORK` to markdown-it-py as well.
* NUL is replaced by U+FFFD too, as CommonMark asks (markdown-it-py did the same; markdown-it.rs
  does not, and a NUL would then, for one, end a link reference definition).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from functools import cache
from itertools import accumulate, count
from operator import add
from typing import Any

_BLOCK_RULES = ["blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph",
                "reference", "html_block", "table", "front_matter"]
_LEAF = {"paragraph": "paragraph", "heading": "heading", "lheading": "heading", "fence": "code",
         "code_block": "code", "html_block": "html", "hr": "thematic_break", "table": "table",
         "front_matter": "front_matter"}
_CONTAINER = {"list_item": "list_item", "blockquote": "quote"}
LINE_BREAK = re.compile(r"\r\n?|\n")  # what ends a line, for blocks and parsers alike
_LINE_BREAK_BYTES = re.compile(rb"\r\n?|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")

MAX_PREFIX = 100  # container-prefix characters on one line that send a text to the fallback
_PREFIX_CHARS = b" \t>-+*0123456789.)"
# Every byte of a possible container prefix → "a", anything else → "b": a run of MAX_PREFIX
# "a"s is the cheap (C speed) necessary condition, checked exactly by _DEEP_LINE.
_PREFIX_TABLE = bytes(ord("a") if i in _PREFIX_CHARS else ord("b") for i in range(256))
_DEEP_LINE = re.compile(
    r"(?:^|(?<=\r))(?:[ \t>]|[-+*](?=[ \t\r\n]|\Z)|\d{1,9}[.)](?=[ \t\r\n]|\Z))"
    rf"{{{MAX_PREFIX}}}", re.MULTILINE)


def line_starts(text: str | bytes) -> list[int]:
    """Offset of the start of every line (``\\r\\n``, ``\\r`` and ``\\n`` end a line) of a
    ``str`` (characters) or of its UTF-8 ``bytes`` (bytes): line ``k`` is the same line in both."""
    if isinstance(text, bytes):
        if b"\r" in text:
            return [0, *(m.end() for m in _LINE_BREAK_BYTES.finditer(text))]
        parts: list[Any] = text.split(b"\n")
    else:
        if "\r" in text:
            return [0, *(m.end() for m in LINE_BREAK.finditer(text))]
        parts = text.split("\n")
    # line k + 1 starts after the first k + 1 lines and their k + 1 line breaks (C speed)
    return [0, *map(add, accumulate(map(len, parts[:-1])), count(1))]


@cache
def _rs_parser() -> Any:
    """markdown-it.rs with the block rules, or ``None`` where markdown-it-pyrs is not
    installed (it has wheels for CPython 3.11 and 3.12 only; elsewhere segtool does not
    require it, and markdown-it-py parses every text)."""
    try:
        from markdown_it_pyrs import MarkdownIt
    except ImportError:
        return None
    return MarkdownIt("zero").enable_many(_BLOCK_RULES)


def utf8_safe(text: str) -> tuple[str, bytes]:
    """``text`` with NUL and lone surrogates replaced by U+FFFD (one character for one), and
    its UTF-8 bytes."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        return text, text.encode("utf-8")
    except UnicodeEncodeError:
        safe = _SURROGATE.sub("\ufffd", text)
        return safe, safe.encode("utf-8")


def too_deep(data: bytes, text: str) -> bool:
    """Could ``text`` (``data`` its UTF-8 bytes) nest block quotes / lists deeper than
    ``2 * MAX_PREFIX`` levels?  (Some line starts with ``MAX_PREFIX`` container-prefix
    characters.)"""
    if b"a" * MAX_PREFIX not in data.translate(_PREFIX_TABLE):
        return False
    return _DEEP_LINE.search(text) is not None


MAX_BRACKET_WORK = 2_000 ** 2  # about 0.2 s of markdown-it.rs reference scans
# A line whose first character after indentation and quote markers is "[" (after a list
# marker it opens a list item of its own, whose scan stops at the item's end), and a blank line.
_BRACKET_LINE = re.compile(r"(?:^|(?<=\r))[ \t>]*\[", re.MULTILINE)
_BLANK_LINE = re.compile(r"(?:\r\n?|\n)[ \t]*(?=[\r\n])")


def too_slow(text: str) -> bool:
    """Would markdown-it.rs spend more than ``MAX_BRACKET_WORK`` steps on reference scans?"""
    if text.count("[") ** 2 <= MAX_BRACKET_WORK:
        return False
    blanks = [m.start() for m in _BLANK_LINE.finditer(text)]
    work = run = 0
    k = 0  # blank lines before the current bracket line
    for match in _BRACKET_LINE.finditer(text):
        pos = match.start()
        if k < len(blanks) and blanks[k] < pos:
            k = bisect.bisect_left(blanks, pos, k)
            work += run * run
            run = 0
        run += 1
    return work + run * run > MAX_BRACKET_WORK


def markdown_leaves(text: str, starts: list[int], covered: bytearray
                    ) -> list[tuple[int, str, int, str]]:
    """``(first_line, kind, heading_level, title)`` of each leaf block, in order; marks the
    lines each block or container spans in ``covered`` (one byte per line).

    ``starts`` holds the character offset of each line start (``\\r\\n``, ``\\r`` and
    ``\\n`` end a line), plus ``len(text)`` when the text does not end with a line break.
    """
    safe, data = (text, b"") if text.isascii() and "\x00" not in text else utf8_safe(text)
    parser = _rs_parser()
    if parser is None or too_deep(data or text.encode("ascii"), safe) or too_slow(safe):
        return list(_py_leaves(safe, covered))
    n_lines = len(covered)
    if data:
        byte_starts = line_starts(data)
    else:
        byte_starts = starts  # ASCII: a byte offset is a character offset
    return _rs_leaves(parser.tree(safe), byte_starts, n_lines, covered)


def _rs_leaves(root: Any, byte_starts: list[int], n_lines: int, covered: bytearray
               ) -> list[tuple[int, str, int, str]]:
    """Walk the markdown-it.rs tree without recursion (a deep tree must not cost stack)."""
    out: list[tuple[int, str, int, str]] = []
    stack: list[tuple[Any, str]] = [(child, "") for child in reversed(root.children)]
    right = bisect.bisect_right
    while stack:
        node, container = stack.pop()
        name = node.name
        srcmap = node.srcmap
        if srcmap is None or name == "definition":
            continue  # a link reference definition: the caller finds it among uncovered lines
        lo = right(byte_starts, srcmap[0], 0, n_lines) - 1
        hi = right(byte_starts, max(srcmap[0], srcmap[1] - 1), 0, n_lines)
        covered[lo:hi] = b"\x01" * (hi - lo)
        inner = _CONTAINER.get(name)
        if inner is not None:
            stack.extend((child, inner) for child in reversed(node.children))
            continue
        kind = _LEAF.get(name)
        if kind is None:
            if name == "text" and container == "list_item":  # a tight list's hidden paragraph
                out.append((lo, "list_item", 0, ""))
            elif name in ("bullet_list", "ordered_list"):
                stack.extend((child, container) for child in reversed(node.children))
            continue
        if container and kind in ("paragraph", "heading"):
            out.append((lo, container, 0, ""))  # a heading in a list item is no section heading
        elif kind == "heading":
            content = "".join(c.meta.get("content", "") for c in node.children)
            out.append((lo, kind, int(node.meta["level"]), heading_title(content)))
        else:
            out.append((lo, kind, 0, ""))
    return out


# ------------------------------------------------------------------ markdown-it-py


@cache
def _py_parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    md = MarkdownIt("commonmark", {"maxNesting": 100}).enable("table").use(front_matter_plugin)
    md.disable("inline")
    return md


@cache
def _inline_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def heading_title(source: str) -> str:
    """A heading's plain-text title: inline markup removed, links reduced to their text."""
    if not any(c in source for c in "*_`[<!\\&"):
        return " ".join(source.split())
    try:
        tokens = _inline_parser().parseInline(source)
    except Exception:  # never let a title break a run
        return " ".join(source.split())
    parts: list[str] = []
    for tok in tokens:
        for child in tok.children or ():
            if child.type in ("text", "code_inline", "html_inline"):
                parts.append(child.content if child.type != "html_inline" else "")
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
    return " ".join("".join(parts).split())


_PY_LEAF = {"paragraph_open": "paragraph", "heading_open": "heading", "fence": "code",
            "code_block": "code", "html_block": "html", "hr": "thematic_break",
            "table_open": "table", "front_matter": "front_matter"}


def _py_leaves(text: str, covered: bytearray) -> Iterator[tuple[int, str, int, str]]:
    """The fallback: the same leaves from markdown-it-py's token line maps."""
    tokens = _py_parser().parse(text)
    for tok in tokens:
        if tok.map is not None and tok.nesting >= 0:
            lo, hi = tok.map
            covered[lo:hi] = b"\x01" * max(0, min(hi, len(covered)) - lo)
    containers: list[str] = []  # open list items / block quotes
    skip_table = False
    for i, tok in enumerate(tokens):
        kind_open = tok.type
        if skip_table:
            if kind_open == "table_close":
                skip_table = False
            continue
        if kind_open in ("list_item_open", "blockquote_open"):
            containers.append("list_item" if kind_open == "list_item_open" else "quote")
            continue
        if kind_open in ("list_item_close", "blockquote_close"):
            if containers:
                containers.pop()
            continue
        kind = _PY_LEAF.get(kind_open)
        if kind is None or tok.map is None:
            continue
        if kind == "table":
            skip_table = True
        level, title = 0, ""
        if kind in ("paragraph", "heading") and containers:
            kind = containers[-1]
        elif kind == "heading":
            level = int(tok.tag[1])
            inline = tokens[i + 1] if i + 1 < len(tokens) else None
            title = heading_title(inline.content if inline is not None else "")
        yield tok.map[0], kind, level, title


__all__ = ["LINE_BREAK", "MAX_BRACKET_WORK", "MAX_PREFIX", "heading_title", "line_starts", "markdown_leaves",
           "too_deep", "too_slow", "utf8_safe"]
