"""Write-then-rename, so a failed or interrupted run never leaves a partial file.

click's ``atomic=True`` replaces the target even after an exception, and a
plain ``open(path, "w")`` truncates it before the first record: both break
``make``, which trusts any file newer than its inputs.  Here the temp file lives
in the target directory (same filesystem, so ``os.replace`` is atomic) and is
removed on any exception, including KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from segtool.types import UsageError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success."""
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(
            f"cannot write {target}: directory {directory} does not exist — create it first"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(
            f"cannot write {target}: {exc.strerror or exc} — choose a writable -o location"
        ) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the output the usual umask-derived mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
