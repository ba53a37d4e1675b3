"""Where bytes come from: path expansion, format detection, decompression.

Everything here deals in *bytes*; decoding happens in :mod:`.decode`.  Every
stream is read in bounded chunks, so a multi-gigabyte (or highly compressed)
input never has to fit in memory.  Failures surface as :class:`ReadFailure`
(turned into ``BadInput`` by the readers), never as a bare traceback.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import logging
import lzma
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import BinaryIO, Protocol, cast

from segtool.readers.options import ReadFailure
from segtool.readers.zstd import ZstdCorrupt, zstd_chunks
from segtool.types import InputError

STDIN = "-"
GLOB_CHARS = "*?["
# Notices about inputs that are skipped without being errors (a FIFO met in a
# directory walk).  Not errors, so not BadInput; a library caller decides how to
# show them, the CLI prints them on stderr.
log = logging.getLogger("segtool.readers")

COMPRESSION_SUFFIXES = {
    ".gz": "gzip",
    ".bz2": "bzip2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
}
FORMAT_SUFFIXES = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Leading bytes of compressed streams: stdin has no extension, so it is sniffed.
MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_CHECK_COMMAND = {"gzip": "gzip -t", "bzip2": "bzip2 -t", "xz": "xz -t", "zstd": "zstd -t"}


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


# A progress display wants to know how far through its inputs a run is.  While a
# meter is set (``metered``), every read from an input reports (path, bytes) to it:
# raw bytes as they come from the file, so a compressed input counts compressed
# bytes and reaches its file size when done.  Unset (the default), nothing is wrapped.
ByteMeter = Callable[[str, int], None]
_METER: ContextVar[ByteMeter | None] = ContextVar("segtool_byte_meter", default=None)


@contextmanager
def metered(meter: ByteMeter) -> Iterator[None]:
    """Report bytes read from inputs to ``meter`` while the block runs (in this context)."""
    token = _METER.set(meter)
    try:
        yield
    finally:
        _METER.reset(token)


class _Metered:
    """A raw input stream that reports the size of every read to a meter."""

    def __init__(self, inner: _Readable, path: str, meter: ByteMeter) -> None:
        self._inner = inner
        self._path = path
        self._meter = meter
        self._read1 = getattr(inner, "read1", inner.read)

    def read(self, size: int = -1, /) -> bytes:
        data = self._inner.read(size)
        self._meter(self._path, len(data))
        return data

    def read1(self, size: int = -1, /) -> bytes:
        data: bytes = self._read1(size)
        self._meter(self._path, len(data))
        return data


def _maybe_metered(fh: _Readable, path: str) -> _Readable:
    meter = _METER.get()
    return fh if meter is None else _Metered(fh, path, meter)


# ---------------------------------------------------------------- expansion


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _kind_of(mode: int) -> str:
    """What a non-regular file is, in words, for the notice that skips it."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _skip_notice(path: str, what: str) -> None:
    log.warning("skipped %s — %s — name it on the command line to read it", what, path)


def _readable_kind(path: str) -> bool:
    """Whether a file met in a directory walk or a glob is read: regular files only.

    Opening a FIFO blocks until some process writes to it, so a named pipe
    lying in a corpus directory would hang the whole run; sockets and devices
    are no corpus either.  They are skipped with a notice naming them (read
    one by naming it on the command line).  A path whose type cannot be
    determined (a dangling link, no permission) is kept, so that opening it
    reports the actual error.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True
    if stat.S_ISREG(mode):
        return True
    _skip_notice(path, _kind_of(mode))
    return False


def _walk(directory: str) -> list[str]:
    """All non-hidden regular files below ``directory``, sorted by path components.

    Hidden files and directories (``.git``, ``.DS_Store``) are skipped because
    they are almost never corpus content; sorting by components (not by the
    joined string) keeps a directory's files together in a stable order.

    A directory that cannot be listed (no permission) is not dropped silently:
    it is returned in place of its files, and reading it yields a BadInput
    naming it, so ``--on-error`` decides whether the run stops.  Links to
    directories are not followed (no cycles); they are named in a notice.
    """
    found: list[tuple[list[str], str]] = []
    pending: list[tuple[list[str], str]] = [([], directory)]
    while pending:
        parts, folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            found.append((parts, folder))
            continue
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            path = os.path.join(folder, entry.name)
            rel = [*parts, entry.name]
            try:
                is_dir = entry.is_dir()
                is_link = is_dir and entry.is_symlink()
            except OSError:
                is_dir = is_link = False
            if is_link:
                _skip_notice(path, "a link to a directory (links are not followed)")
            elif is_dir:
                pending.append((rel, path))
            elif _readable_kind(path):
                found.append((rel, path))
    found.sort(key=lambda item: item[0])
    return [path for _, path in found]


def _stat(path: str) -> os.stat_result | None:
    """``os.stat`` or None when the path does not exist (other errors propagate)."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Turn paths, directories, globs and ``-`` into an ordered list of files.

    Existing paths are taken literally even if they contain glob characters, so
    expanding an already expanded list is a no-op (``read_documents`` relies on
    that).  Directories are walked recursively, globs (``**`` allowed) are
    sorted, and a file named twice is read once so ids stay unique.  A path that
    does not exist, a glob that matches nothing or a directory without files
    raises :class:`InputError` at once, before any output is written.

    A path named explicitly is read whatever it is (a FIFO or ``/dev/stdin``
    too); walks and globs keep regular files only.  A path that exists but
    cannot be examined or listed (permissions) stays in the list so that reading
    it reports the error under ``--on-error``.
    """
    result: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = path if path == STDIN else os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            result.append(path)

    for raw in inputs:
        if raw == STDIN:
            add(raw)
            continue
        try:
            info = _stat(raw)
        except OSError:  # e.g. a parent directory without search permission
            add(raw)
            continue
        if info is not None and stat.S_ISDIR(info.st_mode):
            files = _walk(raw)
            if not files:
                raise InputError(
                    f"no files in directory — {raw} — add files (names starting with '.' "
                    "and anything that is not a regular file are skipped)"
                )
            for path in files:
                add(path)
        elif info is not None:
            add(raw)
        elif any(ch in raw for ch in GLOB_CHARS):
            matches = sorted(glob.glob(raw, recursive=True))
            files = []
            for match in matches:
                if os.path.isdir(match):
                    files.extend(_walk(match))
                elif _readable_kind(match):
                    files.append(match)
            if not files:
                raise InputError(
                    f"no files match the pattern — {raw} — check the pattern "
                    "(quote it so the shell passes it unexpanded)"
                )
            for path in files:
                add(path)
        else:
            raise InputError(f"no such file or directory — {raw} — check the path")
    return result


# ---------------------------------------------------------------- detection


def compression_of(path: str) -> str | None:
    """The compression implied by the file name, or None."""
    return COMPRESSION_SUFFIXES.get(os.path.splitext(path)[1].lower())


def detect_format(path: str) -> str | None:
    """Format name from the extension after stripping a compression suffix.

    A name with no extension at all (``README``, ``LICENSE``) is plain text; an
    unknown extension gives None so the caller can report it instead of
    guessing (a stray ``.png`` in a directory must not be read as text).
    """
    name = os.path.basename(path)
    stem, ext = os.path.splitext(name)
    if ext.lower() in COMPRESSION_SUFFIXES:
        stem, ext = os.path.splitext(stem)
    if not ext:
        return "txt"
    return FORMAT_SUFFIXES.get(ext.lower())


def sniff_compression(head: bytes) -> str | None:
    for magic, codec in MAGIC:
        if head.startswith(magic):
            return codec
    return None


# ---------------------------------------------------------------- byte streams


class _Replay:
    """A read-only stream that first returns bytes already peeked from ``inner``.

    Reads use ``read1`` when the inner stream has it, so records from a slow
    pipe are processed as they arrive instead of after a full 1 MiB chunk.
    """

    def __init__(self, head: bytes, inner: _Readable) -> None:
        self._head = head
        self._inner = inner
        self._read = getattr(inner, "read1", inner.read)

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._inner.read(), b""
            else:
                data, self._head = self._head[:size], self._head[size:]
            return data
        chunk: bytes = self._read(size)
        return chunk


def _read_all_of(fh: _Readable, chunk_size: int) -> Iterator[bytes]:
    while data := fh.read(chunk_size):
        yield data


class _Corrupt(Exception):
    """Internal: a decompressor rejected its input."""


def _open_codec(fh: _Readable, codec: str) -> gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile:
    """The standard library's decompressing reader for ``codec`` over ``fh``.

    These readers bound their output per ``read(n)``, so even a decompression
    bomb streams in ``chunk_size`` pieces.
    """
    stream = cast(BinaryIO, fh)  # only read() is used, which _Readable guarantees
    if codec == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if codec == "bzip2":
        return bz2.BZ2File(stream, "rb")
    return lzma.LZMAFile(stream, "rb")


def _decompress(fh: _Readable, codec: str | None, chunk_size: int) -> Iterator[bytes]:
    if codec is None:
        yield from _read_all_of(fh, chunk_size)
    elif codec == "zstd":
        try:
            yield from zstd_chunks(fh, chunk_size)
        except ZstdCorrupt as exc:
            raise _Corrupt(str(exc)) from exc
    else:
        try:
            with _open_codec(fh, codec) as stream:
                yield from _read_all_of(stream, chunk_size)
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            raise _Corrupt(str(exc)) from exc


def iter_bytes(path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Decompressed bytes of ``path`` (``-`` = stdin) in chunks of about ``chunk_size``.

    Files are decompressed according to their suffix; stdin has none, so its
    first bytes are sniffed for a compression magic number.  stdin is read via
    ``sys.stdin.buffer`` (looked up at call time so tests can replace it) and is
    never closed.
    """
    if path == STDIN:
        stdin = _maybe_metered(sys.stdin.buffer, path)
        try:
            head = stdin.read(8)
        except OSError as exc:
            raise ReadFailure(f"read error: {exc.strerror or exc}") from exc
        codec = sniff_compression(head)
        yield from _guarded(_Replay(head, stdin), codec, chunk_size, path)
        return
    try:
        fh = open(path, "rb")  # closed in the finally below: the generator may pause
    except OSError as exc:
        hint = "check its permissions, or leave it out" if isinstance(exc, PermissionError) else ""
        raise ReadFailure(f"cannot open file: {exc.strerror or exc}", hint=hint) from exc
    try:
        yield from _guarded(_maybe_metered(fh, path), compression_of(path), chunk_size, path)
    finally:
        fh.close()


def _guarded(fh: _Readable, codec: str | None, chunk_size: int, path: str) -> Iterator[bytes]:
    try:
        yield from _decompress(fh, codec, chunk_size)
    except _Corrupt as exc:
        detail = str(exc).rstrip(".")
        command = _CHECK_COMMAND.get(codec or "", "the decompressor's test mode")
        raise ReadFailure(
            f"truncated or corrupt {codec} stream ({detail})",
            hint=f"re-create or re-download the file ({command} FILE checks it)",
        ) from exc
    except OSError as exc:
        raise ReadFailure(f"read error: {exc.strerror or exc}") from exc


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # opening it reports the error


@contextmanager
def seekable(path: str, chunk_size: int = 1 << 20) -> Iterator[str | BinaryIO]:
    """A seekable view of ``path`` for formats that need random access (Parquet).

    A plain file is used in place.  stdin, FIFOs and compressed files are
    decompressed into an anonymous temporary file: that costs disk, not memory,
    so Parquet from a pipe still reads one row group at a time.
    """
    if path != STDIN and compression_of(path) is None and _is_regular(path):
        yield path
        return
    with tempfile.TemporaryFile(prefix="segtool-") as spool:
        for data in iter_bytes(path, chunk_size):
            spool.write(data)
        spool.seek(0)
        yield spool


__all__ = [
    "STDIN",
    "compression_of",
    "detect_format",
    "expand_inputs",
    "iter_bytes",
    "metered",
    "seekable",
    "sniff_compression",
]
