"""Which input file becomes which shard of an output directory.

A shard's name mirrors its input's path below the root it was named by:
``segtool chunk corpus/ -o out/`` writes ``corpus/a/b.txt`` to
``out/a/b.txt.jsonl`` (``.parquet`` with ``--format parquet``); a file named
directly mirrors its base name, a glob the part of the path after its last
directory without wildcards.  So the output tree looks like the input tree,
and a Makefile can name any shard from its input.

Files inside the output directory are never inputs (``segtool chunk . -o
out/`` must not read its own shards on the second run).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from segtool.readers.sources import GLOB_CHARS, STDIN, expand_inputs
from segtool.types import UsageError

SUFFIXES = {"jsonl": ".jsonl", "parquet": ".parquet"}
# What ``atomic_path`` names its temp files: ``.<target name>.<random>.tmp``.
_TEMP = re.compile(r"^\..+\.(?:jsonl|parquet|json)\.[A-Za-z0-9_]+\.tmp$")


@dataclass(frozen=True)
class Unit:
    """One input file: its path as given, its name below its root, and its shard's name."""

    source: str
    name: str
    shard: str


def _root_of(raw: str) -> str:
    """The directory the names of ``raw``'s files are taken relative to."""
    if os.path.isdir(raw):
        return raw
    if os.path.exists(raw) or not any(ch in raw for ch in GLOB_CHARS):
        return os.path.dirname(raw) or "."
    parts = raw.split(os.sep)
    fixed: list[str] = []
    for part in parts[:-1]:
        if any(ch in part for ch in GLOB_CHARS):
            break
        fixed.append(part)
    if fixed == [""]:
        return os.sep
    return os.sep.join(fixed) or "."


def _inside(path: str, directory: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(directory)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def units(inputs: Sequence[str], out_dir: str, fmt: str) -> list[Unit]:
    """The input files of a run into ``out_dir`` and their shards, in input order.

    Raises ``UsageError`` for stdin (a shard needs a file name) and for two
    inputs that would share a shard name.
    """
    if not inputs or STDIN in inputs:
        raise UsageError("-o DIR/ writes one shard per input file and stdin has no file name — "
                         "give files or directories as inputs, or write stdin's records to "
                         "-o FILE")
    found: list[Unit] = []
    seen: dict[str, str] = {}  # shard name → source
    done: set[str] = set()
    for raw in inputs:
        root = _root_of(raw)
        for path in expand_inputs([raw]):
            key = os.path.normpath(path)
            if key in done or _inside(path, out_dir):
                continue
            done.add(key)
            name = os.path.normpath(os.path.relpath(path, root))
            if name.startswith(os.pardir + os.sep) or os.path.isabs(name):
                name = os.path.basename(path)
            name = name.replace(os.sep, "/")
            if name in seen:
                raise UsageError(f"inputs {seen[name]} and {path} would both be written to "
                                 f"{name}{SUFFIXES[fmt]} in {out_dir} — name their common "
                                 "parent directory as the input instead")
            seen[name] = path
            found.append(Unit(path, name, name + SUFFIXES[fmt]))
    if not found:
        raise UsageError(f"no input files outside the output directory {out_dir} — give "
                         "inputs that are not inside it")
    return found


def prepare_directory(out_dir: str) -> Path:
    """The output directory, created if its parent exists; UsageError if it cannot be used."""
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise UsageError(f"cannot write {out_dir}: it is a file, and a trailing / asks for a "
                         "directory — remove the / to write one file")
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"cannot write {out_dir}: directory {parent} does not exist — "
                             "create it first")
        try:
            path.mkdir()
        except FileExistsError:
            pass
        except OSError as exc:
            raise UsageError(f"cannot create {out_dir}: {exc.strerror or exc} — choose a "
                             "writable location") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {out_dir}: directory is not writable — choose a "
                         "writable location")
    return path


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory itself while a run writes into it.

    Two runs into one directory would each take the other's half-written state
    for its own.  The lock is on the directory's descriptor (no lock file to
    leave behind) and the kernel drops it when the process dies, however.
    """
    import fcntl

    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"{directory} is being written by another segtool run — wait for "
                             "it to finish, or choose another output directory") from None
        yield
    finally:
        os.close(fd)


def remove_leftovers(directory: Path) -> int:
    """Delete temp files a killed run left in ``directory`` (its shards and manifest)."""
    removed = 0
    for folder, subdirs, names in os.walk(directory):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        for name in names:
            if _TEMP.match(name):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))
                    removed += 1
    return removed


def remove_shard(directory: Path, shard: str) -> None:
    """Delete a shard and the folders it leaves empty (never ``directory`` itself)."""
    path = directory / shard
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    parent = path.parent
    top = directory.resolve()
    while parent.resolve() != top and _inside(str(parent), str(directory)):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
