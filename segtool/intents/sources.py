"""Where each document's intents come from, and where generated ones are kept.

Three kinds of source, one per run (:func:`make_source`):

* ``--intents FILE``: plain text, one question per line, asked of *every*
  document; or JSON Lines, ``{"doc_id": ..., "intents": [...]}`` per document.
  The format is recognised from the first non-blank line (a JSON object means
  JSON Lines).  The file is read once, when the chunker is built, and its
  SHA-256 is part of the configuration identity, so editing it changes the
  record ids — a stale chunk file can never pass for a fresh one.
* ``--intents-field NAME``: a field of the input record (JSONL or Parquet
  input), a list of strings or one string with a question per line.
* generation (``--intents-endpoint`` or the local ``--lm``), through
  :func:`segtool.intents.generate.make_generator`.

A document the source has nothing for (no line in the JSONL file, no field in
the record) is bad input, like an unreadable record: ``--on-error`` decides
whether the run stops (exit 1) or skips it.  An *empty* list is a valid answer
("no questions"): the chunker then only balances chunk sizes.

``--save-intents FILE`` (:class:`IntentSaver`) keeps the intents every
document was chunked with, in the JSON Lines form ``--intents`` reads back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from segtool.intents.options import IntentSourceOptions
from segtool.types import BadInput, Document, SegtoolError, UsageError, document_location

IntentList = list[str]


class IntentSource(Protocol):
    """What the chunker asks of a source."""

    identity: str  # part of the configuration identity: which intents documents get
    generated: bool  # near-duplicates are removed only from generated intents
    fields: tuple[str, ...]  # record fields the source reads (worker processes need them)

    def lookup(self, docs: Sequence[Document]) -> list[IntentList | BadInput]: ...


# --------------------------------------------------------------------------- --intents FILE


@dataclass
class FileIntents:
    """Intents read from ``--intents FILE``: one list for all documents, or one per id."""

    path: str
    identity: str
    common: IntentList | None = None
    by_doc: dict[str, IntentList] = field(default_factory=dict)
    generated: bool = False
    fields: tuple[str, ...] = ()

    def lookup(self, docs: Sequence[Document]) -> list[IntentList | BadInput]:
        if self.common is not None:
            return [list(self.common) for _ in docs]
        out: list[IntentList | BadInput] = []
        for doc in docs:
            found = self.by_doc.get(doc.id)
            if found is None:
                out.append(BadInput(
                    doc.source, document_location(doc),
                    f"no intents for document '{doc.id}' in --intents {self.path}",
                    hint='add a line {"doc_id": "' + doc.id + '", "intents": [...]} '
                         "(an empty list is allowed) or use a plain-text intents file"))
            else:
                out.append(list(found))
        return out


def read_intents_file(path: str) -> FileIntents:
    """Read and check ``--intents FILE``; every problem is a one-line exit-2 error."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"--intents {path}: cannot read it: {exc.strerror or exc} — "
                         "check the path") from None
    identity = "file:sha256:" + hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--intents {path}: not UTF-8 (byte {exc.start}) — save the file as "
                         "UTF-8") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise UsageError(f"--intents {path}: the file holds no intent — write one question per "
                         "line, or JSON Lines {\"doc_id\": ..., \"intents\": [...]}")
    if _json_object(first) is None:
        return FileIntents(path, identity, common=[ln.strip() for ln in lines if ln.strip()])
    by_doc: dict[str, IntentList] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"--intents {path}:{number}"
        obj = _json_object(line)
        if obj is None:
            raise UsageError(f"{where}: not a JSON object (the file's first line is JSON, so "
                             "every line must be) — fix the line or make the file plain text")
        doc_id = obj.get("doc_id")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
            raise UsageError(f"{where}: no \"doc_id\" string — each line needs "
                             "{\"doc_id\": ..., \"intents\": [...]}")
        intents = as_intent_list(obj.get("intents"))
        if intents is None:
            raise UsageError(f"{where}: \"intents\" must be a list of strings (or one string, "
                             "a question per line)")
        key = str(doc_id)
        if key in by_doc:
            raise UsageError(f"{where}: document '{key}' is listed twice — merge its lines")
        by_doc[key] = intents
    return FileIntents(path, identity, by_doc=by_doc)


def _json_object(line: str) -> dict[str, Any] | None:
    stripped = line.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def as_intent_list(value: Any) -> IntentList | None:
    """A list of strings as given, or a string split into lines; None for anything else."""
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


# --------------------------------------------------------------------------- --intents-field


@dataclass
class FieldIntents:
    """Intents carried by each input record in the field ``name``."""

    name: str
    generated: bool = False

    @property
    def identity(self) -> str:
        return f"field:{self.name}"

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.name,)

    def lookup(self, docs: Sequence[Document]) -> list[IntentList | BadInput]:
        out: list[IntentList | BadInput] = []
        for doc in docs:
            meta: Mapping[str, Any] = doc.meta or {}
            if self.name not in meta:
                out.append(BadInput(
                    doc.source, document_location(doc),
                    f"the record has no field '{self.name}' (--intents-field)",
                    hint="add the field to every record or name another one (--keep-fields, "
                         "--drop-fields and --no-meta must leave it in)"))
                continue
            intents = as_intent_list(meta[self.name])
            if intents is None and meta[self.name] is None:
                intents = []
            if intents is None:
                out.append(BadInput(
                    doc.source, document_location(doc),
                    f"field '{self.name}' is a {type(meta[self.name]).__name__}, not intents "
                    "(--intents-field)",
                    hint="use a list of strings or one string with a question per line"))
                continue
            out.append(intents)
        return out


# --------------------------------------------------------------------------- generation


@dataclass
class GeneratedIntents:
    """Intents a language model writes for each document (local LM or an endpoint)."""

    generator: Any
    generated: bool = True
    fields: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        return f"generated:{self.generator.identity}"

    def lookup(self, docs: Sequence[Document]) -> list[IntentList | BadInput]:
        return [list(q) for q in self.generator.generate(docs)]


def make_source(options: IntentSourceOptions, *, device: str, dtype: str, batch_size: int
                ) -> IntentSource:
    """The source the options select; conflicting choices are a usage error."""
    if options.intents is not None and options.intents_field is not None:
        raise UsageError("--intents and --intents-field both given — choose one source of "
                         "intents")
    if options.intents_endpoint is not None and (options.intents is not None
                                                 or options.intents_field is not None):
        raise UsageError("--intents-endpoint generates intents; it cannot be combined with "
                         "--intents or --intents-field — choose one source")
    if options.intents is not None:
        return read_intents_file(options.intents)
    if options.intents_field is not None:
        if not options.intents_field.strip():
            raise UsageError("--intents-field: empty field name — name the record field")
        return FieldIntents(options.intents_field)
    try:
        from segtool.intents.generate import make_generator
    except ImportError:
        raise UsageError(
            "intent generation is not available in this installation — give the intents "
            "with --intents FILE or --intents-field NAME") from None
    return GeneratedIntents(make_generator(options, device=device, dtype=dtype,
                                           batch_size=batch_size))


# --------------------------------------------------------------------------- --save-intents


class IntentSaver:
    """Keeps ``--save-intents FILE`` a complete JSON Lines file at every moment.

    Each batch of documents is merged into the file under an exclusive lock on
    its directory and the new content replaces the old one atomically (a
    temporary file in the same directory, flushed, then renamed).  So worker
    processes (``--jobs N``) can save concurrently, and an interrupted run
    leaves either the previous file or a newer complete one — never half a
    line.  Lines are sorted by document id, so the file does not depend on
    which worker finished first.  A document saved again replaces its earlier
    entry (a later block of a document read in parts adds to it); documents of
    earlier runs that this run does not touch are kept.  Rewriting the file per
    batch costs little next to generating the intents of that batch.
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        parent = self.path.parent
        if not parent.is_dir():
            raise UsageError(f"--save-intents {path}: directory {parent} does not exist — "
                             "create it first")
        if self.path.is_dir():
            raise UsageError(f"--save-intents {path}: is a directory — name a file")
        if self.path.exists():
            self._read()  # refuse to merge into something that is not an intents file

    def save(self, entries: Sequence[tuple[Document, IntentList]]) -> None:
        """Merge ``(document, intents)`` pairs into the file."""
        if not entries:
            return
        with self._locked():
            saved = self._read() if self.path.exists() else {}
            for doc, intents in entries:
                if doc.part > 0 and doc.id in saved:
                    saved[doc.id] = saved[doc.id] + [q for q in intents
                                                     if q not in saved[doc.id]]
                else:
                    saved[doc.id] = list(intents)
            self._replace(saved)

    def _read(self) -> dict[str, IntentList]:
        out: dict[str, IntentList] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SegtoolError(f"--save-intents {self.path}: cannot read the existing file: "
                               f"{exc} — remove it or choose another path", exit_code=2) from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            obj = _json_object(line)
            intents = as_intent_list(obj.get("intents")) if obj else None
            if obj is None or not isinstance(obj.get("doc_id"), str) or intents is None:
                raise UsageError(f"--save-intents {self.path}:{number}: the existing file is "
                                 "not an intents file — remove it or choose another path")
            out[obj["doc_id"]] = intents
        return out

    def _replace(self, saved: Mapping[str, IntentList]) -> None:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                       dir=self.path.parent)
        except OSError as exc:
            raise SegtoolError(f"--save-intents {self.path}: cannot write in its directory: "
                               f"{exc.strerror or exc} — check permissions") from None
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would surprise the user
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                for doc_id in sorted(saved):
                    out.write(json.dumps({"doc_id": doc_id, "intents": saved[doc_id]},
                                         ensure_ascii=False) + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise SegtoolError(f"--save-intents {self.path}: cannot write it: "
                                   f"{exc.strerror or exc} — check space and permissions") from None
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on the file's directory (the file itself is replaced, not edited)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: one process at a time is assumed
            yield
            return
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
