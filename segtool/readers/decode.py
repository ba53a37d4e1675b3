"""Bytes → text: UTF-8 only, with exact byte positions when it goes wrong.

Why a hand-rolled layer over ``codecs``: a user with a broken file needs the
*byte* offset (what ``xxd``/``dd`` understand) and the line, and a binary file
fed by mistake must be named as such instead of producing a wall of U+FFFD.
Offsets count bytes of the decompressed stream, BOM included.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

from segtool.readers.options import ReadFailure

BOM = codecs.BOM_UTF8
UTF8_HINT = "re-encode as UTF-8 or pass --encoding-errors replace"
BINARY_HINT = "pass only text inputs (or the right --input-format)"
_UTF16_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
               (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
# What a binary file fed by mistake most often is; used to make the hint precise.
_KNOWN_BINARIES = (
    (b"\x1f\x8b", "gzip data: give the file a .gz suffix"),
    (b"\x28\xb5\x2f\xfd", "zstd data: give the file a .zst suffix"),
    (b"\xfd7zXZ\x00", "xz data: give the file a .xz suffix"),
    (b"BZh", "bzip2 data: give the file a .bz2 suffix"),
    (b"PAR1", "a Parquet file: pass --input-format parquet"),
    (b"PK\x03\x04", "a ZIP archive (docx/xlsx/epub?): extract its text first"),
    (b"%PDF", "a PDF: extract its text first"),
)
HEAD_BYTES = 8


def check_start(head: bytes) -> None:
    """Reject UTF-16/32 text up front: its NUL bytes would otherwise read as 'binary'."""
    for bom, name in _UTF16_BOMS:
        if head.startswith(bom):
            raise ReadFailure(
                f"{name} text (byte order mark at byte 0)",
                location="byte 0",
                hint=f"re-encode as UTF-8 (iconv -f {name} -t UTF-8)",
            )


def binary_failure(head: bytes, at: int) -> ReadFailure:
    """The failure for a NUL byte at stream offset ``at``; ``head`` sharpens the hint."""
    hint = BINARY_HINT
    for magic, what in _KNOWN_BINARIES:
        if head.startswith(magic):
            hint = f"this looks like {what}"
            break
    return ReadFailure(f"binary file (NUL byte at byte {at})", location=f"byte {at}", hint=hint)


def _utf8_failure(exc: UnicodeDecodeError, at: int, line: int) -> ReadFailure:
    bad = exc.object[exc.start : exc.end]
    return ReadFailure(
        f"invalid UTF-8 ({exc.reason}: {bytes(bad).hex(' ')})",
        location=f"line {line}, byte {at}",
        hint=UTF8_HINT,
    )


class Utf8Decoder:
    """Incremental UTF-8 decoder for a whole stream (txt, md, html).

    Fed chunks of any size: multi-byte sequences split across chunks are held
    back by the incremental decoder, a leading BOM is dropped, NUL bytes mean
    "binary file", and with ``errors="strict"`` invalid bytes raise a
    ``ReadFailure`` with the absolute byte offset and line.
    """

    def __init__(self, errors: str = "strict") -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors)
        self.position = 0  # stream bytes consumed (BOM included)
        self._newlines = 0
        self._head: bytes | None = b""  # held until BOM detection is settled
        self.start = b""  # first bytes of the stream, for hints

    def feed(self, data: bytes, final: bool = False) -> str:
        if self._head is not None:
            data = self._head + data
            if len(data) < HEAD_BYTES and not final:
                self._head = data
                return ""
            self._head = None
            self.start = data[:HEAD_BYTES]
            check_start(data)
            if data.startswith(BOM):
                data = data[len(BOM) :]
                self.position = len(BOM)
        base = self.position
        nul = data.find(b"\x00")
        if nul >= 0:
            raise binary_failure(self.start, base + nul)
        pending = len(self._decoder.getstate()[0])
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # exc.start is relative to (bytes held back from the last call + data).
            at = base - pending + exc.start
            line = 1 + self._newlines + data[: max(0, exc.start - pending)].count(b"\n")
            raise _utf8_failure(exc, at, line) from exc
        self._newlines += data.count(b"\n")
        self.position += len(data)
        return text


def decode_line(raw: bytes, errors: str, offset: int, line: int) -> str:
    """Decode one JSONL line starting at stream byte ``offset``."""
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise _utf8_failure(exc, offset + exc.start, line) from exc


def _first_chunk_settled(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-chunk so the first chunk has at least ``HEAD_BYTES`` (unless the stream is shorter).

    Pipes may deliver a first read of a byte or two; the BOM and UTF-16 checks
    need the first few bytes together.
    """
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    if head:
        yield head
    yield from it


def iter_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """Split a byte stream into ``(line_number, byte_offset, line)`` without the ``\\n``.

    Splitting bytes (not text) lets each line be decoded on its own, so one bad
    line is one bad record and the next line still reads.  A line longer than a
    chunk is gathered as a list of parts and joined once, so a giant line costs
    linear, not quadratic, time (and twice its size in memory while joined).  A
    leading BOM is dropped (offsets still count it); a NUL byte anywhere raises
    ``ReadFailure`` ("binary file").
    """
    parts: list[bytes] = []
    line = 1
    line_start = 0
    pos = 0  # stream offset of the current chunk
    head = b""
    for index, chunk in enumerate(_first_chunk_settled(chunks)):
        if index == 0:
            head = chunk[:HEAD_BYTES]
            check_start(head)
            if chunk.startswith(BOM):
                chunk = chunk[len(BOM) :]
                pos = line_start = len(BOM)
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise binary_failure(head, pos + nul)
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            # The line goes straight into the yielded tuple: a local would keep a
            # giant line alive here while the caller decodes and parses it.
            if parts:
                parts.append(chunk[start:end])
                yield line, line_start, _drain(parts)
            else:
                yield line, line_start, chunk[start:end]
            line += 1
            start = end + 1
            line_start = pos + start
        if start < len(chunk):
            parts.append(chunk[start:])
        pos += len(chunk)
    if parts:
        yield line, line_start, _drain(parts)


def _drain(parts: list[bytes]) -> bytes:
    """The parts joined; the list is emptied so only the joined copy stays alive."""
    data = b"".join(parts)
    parts.clear()
    return data
