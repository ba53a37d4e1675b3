"""Where a run's records (and its ``--errors-file``) go, checked before any input is read.

Three kinds of destination, told apart by what the path *is*, not by its name:

* a regular file (or a new name): written to a temp file beside it and renamed
  on success (:mod:`segtool.writers.atomic`), so a failed run changes nothing;
* a character device, a FIFO, or a descriptor path (``/dev/stdout``,
  ``/dev/fd/N`` as made by the shell's ``>(...)``): written in place, because
  renaming over them would replace ``/dev/null`` or a pipe with a plain file;
* stdout, when no ``-o`` is given.

Everything that can be known in advance is checked in :func:`check_target`
(a directory, a missing directory, a read-only file, a block device) so that a
typo fails with exit 2 in a second, not after an hour of chunking.  Failures
that only writing reveals (disk full, ``/dev/full``, a closed stdout) become a
one-line :class:`OutputError` (exit 1) through :class:`GuardedWriter`.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from segtool.types import UsageError
from segtool.writers.atomic import OutputError, atomic_path, write_failed

STDOUT = "stdout"
_FD_PATH = re.compile(r"/(?:dev|proc/self)/fd/(\d+)")
_STD_PATHS = {"/dev/stdout": 1, "/dev/stderr": 2}

# Output formats the file name can imply, and compressed names segtool cannot honour.
FORMAT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")

Identity = tuple[int, int]  # (st_dev, st_ino): the same file under any name or hard link


@dataclass(frozen=True)
class Target:
    """One checked destination.

    ``path`` is None for the process's stdout; ``fd`` is set for descriptor
    paths; ``direct`` marks destinations written in place (no temp file);
    ``identity`` is the (device, inode) of what is written to, when that is
    something that exists (for the "output is also an input" check).
    """

    option: str
    label: str
    path: str | None = None
    fd: int | None = None
    direct: bool = False
    identity: Identity | None = None
    shared: bool = True  # False for regular files and pipes: two writers would mix or clobber
    real: str | None = None  # resolved path of a regular-file target (existing or new)

    def describe(self) -> str:
        """How messages name it: ``-o out.jsonl``, ``--errors-file e.jsonl`` or ``stdout``."""
        return self.label if self.option == self.label else f"{self.option} {self.label}"


def _identity(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino)


def _fd_target(option: str, label: str, fd: int, path: str | None) -> Target:
    try:
        st = os.fstat(fd)
    except OSError:
        what = "stdout" if fd == 1 else f"file descriptor {fd}"
        raise OutputError(f"cannot write {label}: {what} is closed — give the command a "
                          "stdout (or pass -o FILE)") from None
    mode = st.st_mode
    return Target(option, label, path=path, fd=fd if path is not None else None, direct=True,
                  identity=_identity(st),
                  shared=stat.S_ISCHR(mode))


def stdout_target() -> Target:
    """The process's stdout, refused at once when the shell closed it (``>&-``)."""
    stream = sys.stdout
    if stream is None:  # Python sets sys.stdout to None when fd 1 was closed at start
        raise OutputError("cannot write stdout: it is closed — give the command a stdout "
                          "(or pass -o FILE)")
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return Target("stdout", STDOUT)  # an in-memory stream (tests, embedding): nothing to check
    return _fd_target("stdout", STDOUT, fd, None)


def check_target(raw: str, option: str) -> Target:
    """Check an output path before any input is read; UsageError (exit 2) if it cannot work."""
    if raw == "":
        raise UsageError(f"empty output file name — {option} '' — give a file name"
                         + (" or leave -o out to write to stdout" if option == "-o" else ""))
    norm = os.path.normpath(raw)
    fd_match = _FD_PATH.fullmatch(norm)
    if norm in _STD_PATHS or fd_match:
        fd = _STD_PATHS[norm] if norm in _STD_PATHS else int(fd_match.group(1))  # type: ignore[union-attr]
        return _fd_target(option, raw, fd, raw)
    where = f"cannot write {raw}"
    try:
        st = os.stat(raw)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise UsageError(f"{where}: a parent of it is not a directory — fix the path") from None
    except OSError as exc:
        raise UsageError(f"{where}: {exc.strerror or exc} — choose another output location"
                         ) from None
    if st is None:
        if raw.endswith(os.sep):
            raise UsageError(f"{where}: no such directory — give a file name")
        real = os.path.realpath(raw)
        directory = os.path.dirname(real) or "."
        if not os.path.isdir(directory):
            raise UsageError(f"{where}: directory {os.path.dirname(raw) or '.'} does not exist "
                             "— create it first")
        _check_directory(where, directory)
        return Target(option, raw, path=raw, real=real, shared=False)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise UsageError(f"{where}: it is a directory — give a file name ({option} DIR/out.jsonl)")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Target(option, raw, path=raw, direct=True, identity=_identity(st),
                      shared=stat.S_ISCHR(mode))
    if not stat.S_ISREG(mode):
        raise UsageError(f"{where}: not a regular file, character device or FIFO — choose a "
                         "file name")
    if not os.access(raw, os.W_OK):
        raise UsageError(f"{where}: permission denied (mode {stat.S_IMODE(mode):04o}) — make it "
                         "writable or choose another file")
    real = os.path.realpath(raw)
    _check_directory(where, os.path.dirname(real) or ".")
    return Target(option, raw, path=raw, identity=_identity(st), shared=False, real=real)


def _check_directory(where: str, directory: str) -> None:
    # The temp file is created there and renamed over the target.
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: directory {directory} is not writable (the output is "
                         "written to a temp file there, then renamed) — choose a writable location")


def check_format(target: Target, requested: str | None) -> str:
    """The output format: ``--format`` if given, else implied by the file name, else JSONL.

    A name that says one format while ``--format`` says another, or a compressed
    name (segtool does not compress its output), is refused: either would write
    a file whose content contradicts its name.
    """
    name = (target.path or "").lower()
    if not target.direct and name.endswith(_COMPRESSED_SUFFIXES):
        raise UsageError(f"cannot write {target.label}: compressed output is not supported — "
                         "write .jsonl or .parquet (Parquet is compressed), or pipe stdout "
                         "through a compressor")
    implied = None if target.direct else FORMAT_SUFFIXES.get(os.path.splitext(name)[1])
    if requested is not None and implied is not None and requested != implied:
        raise UsageError(f"{target.option} {target.label} names a {implied} file but --format "
                         f"is {requested} — drop --format or rename the file")
    return requested or implied or "jsonl"


def _regular_inputs(inputs: Sequence[str]) -> dict[Identity, str]:
    found: dict[Identity, str] = {}
    for path in inputs:
        try:
            if path == "-":
                st = os.fstat(sys.stdin.fileno())
            else:
                st = os.stat(path)
        except (AttributeError, OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            found.setdefault(_identity(st), "stdin" if path == "-" else path)
    return found


def check_distinct(targets: Sequence[Target], inputs: Sequence[str]) -> None:
    """Refuse an output that is one of the inputs or the same file as the other output.

    Compared by device and inode (so ``./a.txt``, a hard link or a symlink are
    caught) and, for files that do not exist yet, by resolved path.  Devices
    such as ``/dev/null`` or a terminal may take both outputs.
    """
    by_input = _regular_inputs(inputs)
    seen: dict[Any, Target] = {}
    for target in targets:
        if target.identity is not None and target.identity in by_input:
            raise UsageError(f"{target.describe()} is also an input "
                             f"({by_input[target.identity]}) — writing it would destroy the "
                             "input; choose another output file")
        if target.shared:
            continue
        keys = [k for k in (target.identity, target.real) if k is not None]
        for key in keys:
            if key in seen:
                other = seen[key]
                raise UsageError(f"{target.describe()} is the same file as "
                                 f"{other.describe()} — give them different files")
        for key in keys:
            seen[key] = target


class GuardedWriter:
    """A binary stream whose write failures become one-line :class:`OutputError`\\s.

    Only writes to the output are converted, so an ``OSError`` elsewhere (a
    model file, a temp spool) is never misreported as an output problem.  A
    closed pipe (``BrokenPipeError``) passes through: the CLI treats a reader
    that went away (``| head``) as a normal end.
    """

    def __init__(self, raw: IO[bytes], label: str, *, atomic: bool = False) -> None:
        self._raw = raw
        self._label = label
        self._atomic = atomic

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._raw, method)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_failed(exc, self._label, atomic=self._atomic) from None

    def write(self, data: Any) -> int:
        return int(self._call("write", data))

    def flush(self) -> None:
        self._call("flush")

    def close(self) -> None:
        self._call("close")

    def tell(self) -> int:
        return int(self._raw.tell())

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def isatty(self) -> bool:
        try:
            return bool(self._raw.isatty())
        except (AttributeError, OSError, ValueError):
            return False


@contextlib.contextmanager
def open_target(target: Target) -> Iterator[GuardedWriter]:
    """Open a checked destination for writing; commit it (rename, flush) on success."""
    if target.path is None:  # stdout: flushed, never closed
        out = GuardedWriter(sys.stdout.buffer, STDOUT)
        yield out
        out.flush()
        return
    if target.direct:
        try:
            raw: IO[bytes] = (os.fdopen(os.dup(target.fd), "wb") if target.fd is not None
                              else open(target.path, "wb"))  # closed below
        except OSError as exc:
            raise UsageError(f"cannot write {target.label}: {exc.strerror or exc} — choose "
                             "another output") from None
        with _closed_after(raw, GuardedWriter(raw, target.label)) as out:
            yield out
        return
    with atomic_path(target.path) as tmp:
        raw = open(tmp, "wb")  # closed below, before the rename
        with _closed_after(raw, GuardedWriter(raw, target.label, atomic=True)) as out:
            yield out


@contextlib.contextmanager
def _closed_after(raw: IO[bytes], out: GuardedWriter) -> Iterator[GuardedWriter]:
    """Close ``out`` (flushing, reporting write errors) on success; on failure just ``raw``."""
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):
            raw.close()
        raise
    out.close()
