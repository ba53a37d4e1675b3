"""Streaming zstd decompression that notices a truncated file.

zstandard's ``stream_reader`` bounds its output per ``read(n)`` (so a highly
compressed file streams in small pieces) but returns a silent EOF when the
input stops inside a frame: a truncated ``.zst`` would read as a shorter
document.  ``decompressobj`` notices truncation but returns *all* output of
each input piece at once (unbounded memory on highly compressible data).

So the stream reader does the decompressing, and :class:`FrameWalker` follows
the compressed bytes on the side, parsing only frame and block headers
(RFC 8878), to tell whether the input ended exactly at a frame boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol, cast

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MASK = 0xFFFFFFF0
SKIPPABLE_MAGIC = 0x184D2A50


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class ZstdCorrupt(Exception):
    """The compressed stream is truncated or not zstd."""


class FrameWalker:
    """Follows zstd frame structure over a byte stream without decompressing.

    States name the header being collected; block contents are skipped by
    count.  :meth:`finish` raises if the stream stopped mid-frame.
    """

    def __init__(self) -> None:
        self._state = "magic"
        self._need = 4
        self._header = bytearray()
        self._skip = 0
        self._checksum = False

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        i = 0
        while i < len(view):
            if self._skip:
                step = min(self._skip, len(view) - i)
                self._skip -= step
                i += step
                continue
            take = view[i : i + self._need - len(self._header)]
            self._header += take
            i += len(take)
            if len(self._header) == self._need:
                self._advance()  # every state needs >= 1 byte, so no empty loop

    def _goto(self, state: str, need: int) -> None:
        self._state, self._need = state, need
        self._header.clear()

    def _advance(self) -> None:
        header = bytes(self._header)
        if self._state == "magic":
            magic = int.from_bytes(header, "little")
            if magic == ZSTD_MAGIC:
                self._goto("descriptor", 1)
            elif magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC:
                self._goto("skippable", 4)
            else:
                raise ZstdCorrupt("unknown frame magic")
        elif self._state == "descriptor":
            flags = header[0]
            fcs_flag, single = flags >> 6, bool(flags & 0x20)
            self._checksum = bool(flags & 0x04)
            did_size = (0, 1, 2, 4)[flags & 0x03]
            fcs_size = (1 if single else 0, 2, 4, 8)[fcs_flag]
            # Window descriptor or a 1-byte content size: never 0 bytes.
            self._goto("header", (0 if single else 1) + did_size + fcs_size)
        elif self._state == "header":
            self._goto("block", 3)
        elif self._state == "block":
            value = int.from_bytes(header, "little")
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:
                raise ZstdCorrupt("reserved block type")
            if not last:
                self._goto("block", 3)
            elif self._checksum:
                self._goto("checksum", 4)
            else:
                self._goto("magic", 4)
            self._skip = 1 if kind == 1 else size
        elif self._state == "checksum":
            self._goto("magic", 4)
        elif self._state == "skippable":
            self._skip = int.from_bytes(header, "little")
            self._goto("magic", 4)

    def finish(self) -> None:
        if self._skip or self._header or self._state != "magic":
            raise ZstdCorrupt("the input ended inside a frame")


class _Watched:
    """Passes reads through to ``inner`` while the walker checks the bytes."""

    def __init__(self, inner: _Readable, walker: FrameWalker) -> None:
        self._inner = inner
        self._walker = walker

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self._walker.feed(data)
        return data


def zstd_chunks(fh: _Readable, chunk_size: int) -> Iterator[bytes]:
    """Decompressed pieces of at most ``chunk_size`` bytes; raises ZstdCorrupt."""
    import zstandard  # only needed for .zst inputs

    walker = FrameWalker()
    watched = _Watched(fh, walker)
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(
            cast(BinaryIO, watched), read_size=1 << 16, read_across_frames=True, closefd=False
        )
        while data := reader.read(chunk_size):
            yield data
        while watched.read(1 << 16):  # trailing bytes the reader did not ask for
            pass
    except zstandard.ZstdError as exc:
        raise ZstdCorrupt(str(exc)) from exc
    walker.finish()
