"""Write-then-rename, so a failed or interrupted run never leaves a partial file.

click's ``atomic=True`` replaces the target even after an exception, and a
plain ``open(path, "w")`` truncates it before the first record: both break
``make``, which trusts any file newer than its inputs.  Here the temp file lives
in the target directory (same filesystem, so ``os.replace`` is atomic) and is
removed on any exception, including KeyboardInterrupt and the exception the CLI
raises for SIGTERM/SIGHUP.

Only regular files are replaced this way.  A symlink is followed (the file it
points to is replaced, the link stays), an existing file keeps its permission
bits, and anything that is not a regular file is refused here: renaming over a
device node or a FIFO would silently turn it into an ordinary file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from segtool.types import SegtoolError, UsageError


class OutputError(SegtoolError):
    """Writing the output failed part-way (disk full, closed stdout): an I/O error, exit 1."""

    exit_code = 1


def write_failed(exc: OSError, where: str, *, atomic: bool = False) -> OutputError:
    """The one-line report for an ``OSError`` raised while writing ``where``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if atomic:
        return OutputError(f"cannot write {where}: {reason} — {where} is left as it was; free "
                           "space or choose another location, then rerun")
    return OutputError(f"cannot write {where}: {reason} — the output is incomplete; fix the "
                       "destination or choose another one, then rerun")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success."""
    given = Path(target)
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(
            f"cannot write {given}: directory {directory} does not exist — create it first"
        )
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise UsageError(f"cannot write {given}: {exc.strerror or exc} — choose another "
                         "output location") from None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise UsageError(f"cannot write {given}: not a regular file — choose a file name "
                         "(devices and FIFOs are written directly, not replaced)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(
            f"cannot write {given}: {exc.strerror or exc} — choose a writable -o location"
        ) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            if old is None:
                # mkstemp creates 0600 files; give a new output the usual umask-derived mode
                os.chmod(tmp_path, 0o666 & ~_umask())
            else:
                # replacing a file must not change who may read it (a 0444 file stays 0444)
                if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(OSError):  # only root may give files away
                        os.chown(tmp_path, old.st_uid, old.st_gid)
                os.chmod(tmp_path, stat.S_IMODE(old.st_mode))
            os.replace(tmp_path, target)
        except OSError as exc:
            raise write_failed(exc, str(given), atomic=True) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
