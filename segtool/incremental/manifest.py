"""The record of what an output directory holds: one entry per input file.

An entry says which input (its path as given and its content hash) was
turned into which shard (its name and content hash) under which
configuration, and the counts of that run.  A re-run compares the present
with it to decide what to skip.

Two files, both hidden so that pointing segtool at the output directory
later never reads them as input:

* ``.segtool-manifest.json`` — the whole state, rewritten atomically
  (temp file + rename) when a run ends, successfully or not;
* ``.segtool-journal.jsonl`` — one line appended per finished shard while a
  run goes on.  Rewriting the whole manifest after every shard would cost
  time quadratic in the number of inputs; an appended line costs one
  ``write``, and a process killed with SIGKILL cannot leave half of one
  behind (the kernel completes a ``write`` it has started).  The next run
  replays the journal over the manifest, so every shard finished before the
  kill counts as done.  A torn line (a machine crash) is ignored: that input
  is simply redone.

Both are plain data: loading never runs code, and a manifest that cannot be
read is reported and treated as empty (everything is redone), never trusted
in part.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from segtool.writers.atomic import atomic_path

MANIFEST = ".segtool-manifest.json"
JOURNAL = ".segtool-journal.jsonl"
SCHEMA = 1
_HASH_BLOCK = 1 << 20


def file_hash(path: str | os.PathLike[str]) -> str:
    """Content hash of a file (BLAKE2b, 128 bits), read in 1 MiB blocks.

    BLAKE2b is in the standard library and hashes at about 1 GB/s, so even a
    large corpus costs little next to chunking it; it is only computed when a
    file's size or modification time changed, or right after writing a shard.
    """
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return "blake2b:" + digest.hexdigest()


@dataclass
class Entry:
    """One input file and the shard made from it."""

    source: str  # the input's path as it was given (it is in every record's source field)
    size: int
    mtime_ns: int
    hash: str
    quick: str  # the configuration as given (names, option values, versions)
    config: str  # the configuration identity of the built components (see segtool.identity)
    shard: str  # the shard's path relative to the output directory
    shard_size: int
    shard_mtime_ns: int
    shard_hash: str
    documents: int = 0
    empty: int = 0
    skipped: int = 0
    records: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Entry | None:
        """The entry stored in ``data``, or None if it is not a well-formed one."""
        if not isinstance(data, dict):
            return None
        names = {f.name: f.type for f in fields(cls)}
        if set(data) != set(names):
            return None
        for key, value in data.items():
            want = int if names[key] == "int" else str
            if type(value) is not want:
                return None
        return cls(**data)


class Manifest:
    """Entries by input name (the input's path relative to its root: the shard's name
    without the format suffix)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.entries: dict[str, Entry] = {}
        self.problem: str | None = None  # why the stored state could not be used, if it could not

    @property
    def path(self) -> Path:
        return self.directory / MANIFEST

    @property
    def journal(self) -> Path:
        return self.directory / JOURNAL

    def load(self) -> Manifest:
        """Read the manifest and replay the journal a killed run may have left."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raw = None
        except OSError as exc:
            self.problem = f"cannot read {self.path}: {exc.strerror or exc}"
            raw = None
        if raw is not None:
            self._parse(raw)
        for line in self._journal_lines():
            self._apply(line)
        return self

    def _parse(self, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            self.problem = f"{self.path} is not valid JSON"
            return
        if not isinstance(data, dict) or data.get("schema") != SCHEMA \
                or not isinstance(data.get("inputs"), dict):
            self.problem = f"{self.path} is not a segtool manifest of this version"
            return
        for name, value in data["inputs"].items():
            entry = Entry.from_json(value)
            if entry is not None:
                self.entries[name] = entry

    def _journal_lines(self) -> Iterator[Any]:
        try:
            with open(self.journal, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            return  # unreadable journal: the inputs it covered are redone
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                continue  # a line torn by a crash

    def _apply(self, item: Any) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("input"), str):
            return
        name = item["input"]
        if item.get("removed") is True:
            self.entries.pop(name, None)
            return
        entry = Entry.from_json(item.get("entry"))
        if entry is not None:
            self.entries[name] = entry

    # -- changes --------------------------------------------------------------
    def record(self, name: str, entry: Entry) -> None:
        """Note a finished shard, durably at once (one appended journal line)."""
        self.entries[name] = entry
        append_journal(self.journal, {"input": name, "entry": entry.to_json()})

    def forget(self, name: str) -> None:
        self.entries.pop(name, None)
        append_journal(self.journal, {"input": name, "removed": True})

    def save(self) -> None:
        """Write the whole state atomically and drop the journal it now contains."""
        data = {"schema": SCHEMA,
                "inputs": {name: self.entries[name].to_json() for name in sorted(self.entries)}}
        text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        with atomic_path(self.path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()


def append_journal(journal: Path, item: dict[str, Any]) -> None:
    """Append one line with a single ``write`` on an ``O_APPEND`` descriptor.

    Worker processes append to the same journal; with ``O_APPEND`` each
    line lands whole after the others, never interleaved.
    """
    data = (json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
