"""What a run into an output directory has to do: skip, redo or remove, per input.

An input is skipped when all of these still hold for its manifest entry:
the same path as given (it is in every record), the same content, the same
configuration, and its shard is there, unchanged.  "Same content" is first
asked of the size and modification time and, only when those moved, of the
content hash — so ``touch`` alone redoes nothing, and an unchanged re-run
reads no input at all.

Two configuration checks, cheap first.  The *quick* key is the configuration
as given (component names, option values, versions) and needs nothing
loaded; the *config* key is the identity of the built components, including
what they loaded (a tokenizer's files, a model's weights), and record ids
derive from it.  When every input passes with the quick key, nothing is
built at all; otherwise the components are built and every entry is judged
by the config key, so an option that does not change the output (a batch
size) does not redo anything.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from segtool.incremental.manifest import Entry, Manifest, file_hash
from segtool.incremental.shards import Unit


@dataclass
class Plan:
    skip: list[Unit] = field(default_factory=list)
    redo: list[Unit] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # manifest entries whose input is not given
    refresh: dict[str, Entry] = field(default_factory=dict)  # skipped, with updated stat/keys


class Hashes:
    """Content hashes computed during one run, so no file is hashed twice."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, int, int], str] = {}

    def of(self, path: str | os.PathLike[str], st: os.stat_result) -> str:
        key = (os.fspath(path), st.st_size, st.st_mtime_ns)
        if key not in self._done:
            self._done[key] = file_hash(path)
        return self._done[key]


def _same_file(path: str | os.PathLike[str], size: int, mtime_ns: int, digest: str,
               hashes: Hashes) -> os.stat_result | None:
    """The file's stat if its content is what the entry says; None if it changed or is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if (st.st_size, st.st_mtime_ns) == (size, mtime_ns):
        return st
    if st.st_size != size:
        return None
    try:
        return st if hashes.of(path, st) == digest else None
    except OSError:
        return None


def make_plan(units: list[Unit], manifest: Manifest, directory: Path, *, quick: str,
              config: str | None, force: bool, on_error: str, hashes: Hashes) -> Plan:
    """Sort ``units`` into skip and redo (``config`` None: judge by the quick key only)."""
    plan = Plan()
    given = {unit.name for unit in units}
    plan.gone = sorted(name for name in manifest.entries if name not in given)
    for unit in units:
        entry = manifest.entries.get(unit.name)
        if force or entry is None or not _reusable(unit, entry, directory, quick, config,
                                                   on_error, hashes, plan):
            plan.redo.append(unit)
        else:
            plan.skip.append(unit)
    return plan


def _reusable(unit: Unit, entry: Entry, directory: Path, quick: str, config: str | None,
              on_error: str, hashes: Hashes, plan: Plan) -> bool:
    if entry.source != unit.source or entry.shard != unit.shard:
        return False
    if entry.skipped and on_error == "stop":  # redo, so the bad document stops the run
        return False
    if (entry.quick if config is None else entry.config) != (quick if config is None else config):
        return False
    source = _same_file(unit.source, entry.size, entry.mtime_ns, entry.hash, hashes)
    if source is None:
        return False
    shard = _same_file(directory / unit.shard, entry.shard_size, entry.shard_mtime_ns,
                       entry.shard_hash, hashes)
    if shard is None:
        return False
    fresh = dataclasses.replace(entry, size=source.st_size, mtime_ns=source.st_mtime_ns,
                                shard_size=shard.st_size, shard_mtime_ns=shard.st_mtime_ns,
                                quick=quick)
    if fresh != entry:
        plan.refresh[unit.name] = fresh
    return True
