"""Typed records: what the Python API returns, one object per sentence or chunk.

The CLI streams plain JSON objects; Python callers get frozen dataclasses
instead, so an editor completes ``rec.start`` and a type checker catches
``rec.strat``.  Both forms carry exactly the same data: :meth:`to_dict` gives
the object the CLI writes, with the same keys in the same order, and
:meth:`to_json` the very line it writes, so switching between the API and the
CLI never changes a byte.

Code written when the API returned dicts keeps working for reading:
``rec["text"]``, ``rec.get("meta")``, ``rec.items()``, ``"meta" in rec`` and
``dict(rec)`` all work.  Records are immutable, though; build a changed copy with
:func:`dataclasses.replace` or work on :meth:`to_dict`.

Standard library only, so the types can be imported (for annotations, say)
without loading any part of the pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["ChunkRecord", "SentenceRecord", "from_dict"]

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _RecordBase:
    """Read-only mapping-style access and the CLI's JSON form, shared by both kinds."""

    __slots__ = ()
    KEYS: ClassVar[tuple[str, ...]]

    def __getitem__(self, key: str) -> Any:
        if key in self.KEYS:
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self.KEYS

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.KEYS else default

    def __iter__(self) -> Iterator[str]:
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)

    def keys(self) -> tuple[str, ...]:
        """The field names in output order (also what makes ``dict(record)`` work)."""
        return self.KEYS

    def values(self) -> list[Any]:
        return [getattr(self, key) for key in self.KEYS]

    def items(self) -> list[tuple[str, Any]]:
        return [(key, getattr(self, key)) for key in self.KEYS]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object the CLI writes for this record: same keys, same order.

        ``meta`` is copied (one level), so changing the result leaves the record alone.
        """
        out = {key: getattr(self, key) for key in self.KEYS}
        if "meta" in out:
            out["meta"] = dict(out["meta"])
        return out

    def to_json(self) -> str:
        """The line the CLI writes for this record (compact, UTF-8 characters unescaped)."""
        return _encode(self.to_dict())


@dataclass(frozen=True, slots=True)
class SentenceRecord(_RecordBase):
    """One sentence: ``text`` is ``document_text[start:end]`` (Python string indices).

    ``id`` is stable: the same document id, span and configuration always give
    the same id.  ``index`` numbers the document's sentences from 0.
    """

    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    source: str

    KEYS: ClassVar[tuple[str, ...]] = ("id", "doc_id", "index", "start", "end", "text", "source")


@dataclass(frozen=True, slots=True)
class ChunkRecord(_RecordBase):
    """One chunk: ``text`` is ``document_text[start:end]``; chunks tile their document.

    ``n_tokens`` is the chunk's size in the chunker's tokenizer; ``ctx_start``
    (or ``None``) is where preceding overlap context begins, before ``start``;
    ``sent_start``/``sent_end`` is the half-open range of sentence indices the
    chunk covers; ``meta`` holds the document's metadata plus anything the
    chunker adds (``meta["headings"]``: the heading path, for Markdown and HTML).
    ``context`` is the heading path as text, only with ``heading_context=True``
    (it is never part of ``text``).
    """

    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    n_tokens: int
    ctx_start: int | None
    sent_start: int
    sent_end: int
    source: str
    meta: dict[str, Any] = field(default_factory=dict, hash=False)
    context: str | None = None

    KEYS: ClassVar[tuple[str, ...]] = ("id", "doc_id", "index", "start", "end", "text", "n_tokens",
                                       "ctx_start", "sent_start", "sent_end", "source", "meta")

    def to_dict(self) -> dict[str, Any]:
        out = _RecordBase.to_dict(self)
        if self.context is not None:  # only runs with heading context have the field
            out["context"] = self.context
        return out


def from_dict(record: Mapping[str, Any]) -> ChunkRecord | SentenceRecord:
    """The typed record for a CLI output object (a parsed JSON line, a Parquet row).

    A chunk is recognised by its ``n_tokens`` key.  A missing key raises
    ``KeyError`` naming it; keys that are not record fields are refused as
    ``TypeError`` (they would otherwise be lost without a word).
    """
    kind: type[ChunkRecord] | type[SentenceRecord] = (
        ChunkRecord if "n_tokens" in record else SentenceRecord)
    optional = ("context",) if kind is ChunkRecord else ()
    # Parquet's typed "headings" column repeats meta["headings"]
    derived = ("headings",) if kind is ChunkRecord else ()
    extra = [key for key in record if key not in kind.KEYS and key not in optional + derived]
    if extra:
        raise TypeError(f"not a {kind.__name__} field: {', '.join(map(repr, extra))}")
    missing = [key for key in kind.KEYS if key not in record]
    if missing:
        raise KeyError(f"{kind.__name__} needs {', '.join(map(repr, missing))}")
    values = {key: value for key, value in record.items() if key not in derived}
    if kind is ChunkRecord and isinstance(values["meta"], str):  # Parquet stores meta as JSON
        values["meta"] = json.loads(values["meta"])
    return kind(**values)

