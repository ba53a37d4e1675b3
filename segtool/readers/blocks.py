"""Cutting a huge text stream into blocks that concatenate back to it exactly.

A file larger than ``block_bytes`` becomes several ``Document`` parts so memory
stays O(block).  Where a block ends matters to the splitters downstream: a cut
in mid-sentence leaves two half sentences, so the cut prefers (in order) a
paragraph break, the end of a sentence or a line, any whitespace, and only then
an arbitrary position.  The search looks at the second half of the allowed
block length, and at most its last MiB of characters ("near the block size"),
so every block except the last holds at least half a block and progress is
guaranteed.

Cuts never separate ``\\r`` from ``\\n`` (a CRLF split over two documents would
count as two line breaks) and a hard cut backs off over combining marks so a
base letter keeps its accents.  Multi-byte UTF-8 sequences cannot be split at
all here: blocks are cut in decoded text, and the incremental decoder holds back
incomplete sequences.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator

PARAGRAPH = re.compile(r"\n\s*\n")
SENTENCE = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019\u00bb)\]]*\s+|\n")
WHITESPACE = re.compile(r"\s")
_JOINERS = {"\u200d", "\u200c", "\u034f"}  # zero-width (non-)joiner, grapheme joiner
SEARCH_WINDOW = 1 << 20  # characters before the block limit where a cut is looked for
_NON_ASCII_HEADER = sys.getsizeof("\u00e9") - 2


def char_width(text: str) -> int:
    """Bytes per character of ``text`` in memory (CPython stores 1, 2 or 4), in O(1).

    One emoji makes a whole joined block 4 bytes per character, so a block
    counted only in UTF-8 bytes could take 4x its budget in memory.
    """
    if text.isascii():
        return 1
    width = (sys.getsizeof(text) - _NON_ASCII_HEADER) // (len(text) + 1)
    return width if width in (1, 2, 4) else 4


def _last_match_end(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> int:
    """End of the rightmost match ending in ``(lo, hi]``, or -1.

    Searches windows growing leftwards from ``hi`` so that the common case (a
    break close to the block end) costs a few KiB of scanning, not half a block.
    """
    width = 1 << 14
    while True:
        start = max(lo, hi - width)
        last = -1
        for match in pattern.finditer(text, start, hi):
            last = match.end()
        if last >= 0:
            return last
        if start == lo:
            return -1
        width *= 4


def _keep_together(text: str, cut: int) -> int:
    """Move ``cut`` so it does not fall between ``\\r`` and ``\\n``."""
    if 0 < cut < len(text) and text[cut - 1] == "\r" and text[cut] == "\n":
        return cut + 1
    return cut


def cut_window(start: int, hi: int) -> int:
    """Where the search for a cut ending a block ``[start, hi]`` begins (see :func:`find_cut`)."""
    return max(start + max(1, (hi - start) // 2), hi - SEARCH_WINDOW)


def cut_between(text: str, lo: int, hi: int) -> int:
    """The best cut in ``(lo, hi]`` of ``text`` (``hi < len(text)``; ``hi + 1`` for a CRLF).

    Only ``text[lo - 1 : hi + 1]`` is looked at, so a caller holding a long text
    in pieces can pass just that stretch (with ``lo = 1``) instead of joining it all.
    """
    for pattern in (PARAGRAPH, SENTENCE, WHITESPACE):
        cut = _last_match_end(pattern, text, lo, hi)
        if cut > 0:
            return _keep_together(text, cut)
    cut = hi
    while cut > lo and (unicodedata.combining(text[cut]) or text[cut] in _JOINERS
                        or text[cut - 1] in _JOINERS or "\ufe00" <= text[cut] <= "\ufe0f"):
        cut -= 1
    return _keep_together(text, cut)


def find_cut(text: str, start: int = 0, stop: int | None = None) -> int:
    """Where to end the block ``text[start:cut]``: ``start < cut <= stop``.

    (``stop + 1`` only when a CRLF at the limit is kept together.)

    ``stop`` (default and at most ``len(text) - 1``, so the character after a
    cut is known: needed to keep CRLF and combining sequences together) is the
    longest block allowed; the cut is searched in the second half of
    ``(start, stop]``, at most its last ``SEARCH_WINDOW`` characters (so text
    without any break, such as minified data, costs little to scan).  Needs
    ``stop > start``.
    """
    hi = len(text) - 1 if stop is None else min(stop, len(text) - 1)
    if hi <= start:
        raise ValueError("find_cut needs at least two characters after start")
    return cut_between(text, cut_window(start, hi), hi)


class BlockSplitter:
    """Accumulates decoded text and hands out blocks of at most about ``block_bytes``.

    A block's size is the larger of its UTF-8 input bytes (what the user
    configured and what the file size shows, so a file larger than
    ``block_bytes`` is always split) and the memory its ``str`` takes
    (characters × the widest character's width: one emoji makes a whole block
    4 bytes per character), so memory stays O(block_bytes) whatever the
    script.  Every block but the last holds between half and all of that.

    Memory: the text is kept as the decoded pieces it arrived in.  A cut is
    searched in a copy of only the stretch near the block limit, and the block
    is joined straight from the pieces, so the peak is the pieces plus one
    block (about two blocks), not pieces, a joined buffer and the block sliced
    from it.  A block is yielded without keeping a reference to it: the caller
    decides when it is freed.
    """

    def __init__(self, block_bytes: int) -> None:
        self.block_bytes = max(1, block_bytes)
        self._pieces: list[str] = []
        self._chars = 0
        self._bytes = 0
        self._width = 1

    def _size(self) -> int:
        return max(self._bytes, self._chars * self._width)

    def push(self, text: str, nbytes: int) -> Iterator[str]:
        """Add ``text`` (decoded from ``nbytes`` input bytes); yield any complete blocks."""
        if text:
            self._pieces.append(text)
            self._chars += len(text)
            self._width = max(self._width, char_width(text))
        self._bytes += nbytes
        if self._size() <= self.block_bytes or self._chars < 2:
            return
        # Characters per block, from the buffered bytes-per-character ratio.
        per_char = max(self._bytes / self._chars, self._width)
        per_block = max(1, int(self.block_bytes / per_char))
        while self._chars > per_block and self._chars >= 2:
            hi = min(per_block, self._chars - 1)
            # The stretch searched, plus the character before it (a cut at its
            # start must not split a CRLF).
            lo = cut_window(0, hi) - 1
            cut = lo + cut_between(self._copy(lo, hi + 1), 1, hi - lo)
            yield self._take(cut)
        self._bytes = round(self._chars * per_char)
        self._width = max((char_width(piece) for piece in self._pieces), default=1)

    def _copy(self, start: int, end: int) -> str:
        """Characters ``[start, end)`` of the buffered text, leaving the pieces alone."""
        parts: list[str] = []
        pos = 0
        for piece in self._pieces:
            nxt = pos + len(piece)
            if nxt > start and pos < end:
                parts.append(piece[max(0, start - pos) : end - pos])
            if nxt >= end:
                break
            pos = nxt
        return "".join(parts)

    def _take(self, cut: int) -> str:
        """Remove and return the first ``cut`` buffered characters (joined once)."""
        k = pos = 0
        while pos + len(self._pieces[k]) < cut:
            pos += len(self._pieces[k])
            k += 1
        piece = self._pieces[k]
        head = self._pieces[:k]
        head.append(piece[: cut - pos])
        rest = piece[cut - pos :]
        del piece
        self._pieces[: k + 1] = [rest] if rest else []
        self._chars -= cut
        block = "".join(head)
        head.clear()
        return block

    def finish(self) -> str:
        """The remaining text (the last block; may be empty only for empty input)."""
        rest = "".join(self._pieces)
        self._pieces, self._chars, self._bytes, self._width = [], 0, 0, 1
        return rest
