"""Reading chunk files — segtool's own and other tools' — for ``score`` and ``check``.

A chunk file is JSONL or Parquet with one chunk per row.  ``segtool chunk``
writes ``id, doc_id, index, start, end, text, n_tokens, ctx_start, …, meta``;
other tools often write less: ``doc_id`` plus ``start``/``end``, or ``doc_id``
plus only ``text``.  All of these become :class:`ChunkRow`, streamed one at a
time so a file of millions of chunks never has to fit in memory, each row
remembering its ``file:line`` so every complaint can point at it.

Chunks that carry only their text are placed in their source document with
:func:`locate_chunks` (or :class:`ChunkLocator` when streaming): in file order,
each one after the previous one, so offsets are recovered without guessing
across the whole document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from segtool.types import BadInput, Document, InputError, UsageError

__all__ = [
    "ChunkLocator",
    "ChunkRow",
    "DocResolver",
    "chunk_file_format",
    "load_documents",
    "locate_chunks",
    "looks_like_chunks",
    "read_chunk_rows",
    "resolve_doc_id",
]

CHUNK_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                 ".parquet": "parquet", ".pq": "parquet"}
_COMPRESSION = (".gz", ".bz2", ".xz", ".zst", ".zstd")
# Columns read from Parquet; anything else a file has stays unread (cheaper, and
# promoted columns of any type cannot break the reader).
_PARQUET_COLUMNS = ("id", "doc_id", "index", "start", "end", "text", "n_tokens", "ctx_start", "meta")
_PREVIEW = 40


@dataclass(slots=True)
class ChunkRow:
    """One chunk as a file states it; nothing here is verified against a document.

    ``line`` is the JSONL line number or the Parquet row number + 1, so
    ``f"{path}:{line}"`` points an editor (or a person) at the row.  ``text`` is
    ``""`` with ``has_text`` False when the file gives only offsets; ``start`` and
    ``end`` are both set or both None.  ``ctx_start`` is segtool's overlap
    context start (None when absent).
    """

    path: str
    line: int
    doc_id: str
    index: int | None
    id: str | None
    start: int | None
    end: int | None
    text: str
    n_tokens: int | None
    meta: dict[str, Any] = field(default_factory=dict)
    ctx_start: int | None = None
    has_text: bool = True

    @property
    def where(self) -> str:
        """``path:line``, as every message about this row names it."""
        return f"{self.path}:{self.line}"

    def preview(self) -> str:
        """The first characters of the text, quoted, for messages."""
        text = self.text if len(self.text) <= _PREVIEW else self.text[:_PREVIEW] + "…"
        return json.dumps(text, ensure_ascii=False)


# A callback that receives rows the reader could not understand: (path, line, reason).
# With one, bad rows are reported and skipped (a linter wants them all); without
# one, the first bad row raises.
OnBad = Callable[[str, int, str], None]


def chunk_file_format(path: str) -> str | None:
    """``jsonl`` or ``parquet`` by extension (after a compression suffix), else None."""
    stem, ext = os.path.splitext(os.path.basename(path))
    if ext.lower() in _COMPRESSION:
        ext = os.path.splitext(stem)[1]
    return CHUNK_FORMATS.get(ext.lower())


def _int_or_none(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"'{key}' is {type(value).__name__} {value!r}, not an integer")
    return value


def row_from_mapping(path: str, line: int, rec: Any) -> ChunkRow:
    """Validate one parsed record into a ChunkRow; ValueError says what is wrong."""
    if not isinstance(rec, Mapping):
        raise ValueError(f"a row must be an object, not {type(rec).__name__}")
    doc_id = rec.get("doc_id")
    if doc_id is None or isinstance(doc_id, (dict, list, bool)):
        raise ValueError("no 'doc_id'" if doc_id is None else "'doc_id' must be a string")
    start, end = _int_or_none(rec, "start"), _int_or_none(rec, "end")
    if (start is None) != (end is None):
        raise ValueError("'start' and 'end' must be given together")
    text = rec.get("text")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"'text' is {type(text).__name__}, not a string")
    if text is None and start is None:
        raise ValueError("needs 'text' or 'start' and 'end'")
    meta = _meta_of(rec.get("meta"))  # Parquet stores meta as JSON text
    cid = rec.get("id")
    return ChunkRow(
        path=path, line=line, doc_id=str(doc_id), index=_int_or_none(rec, "index"),
        id=None if cid is None else str(cid), start=start, end=end,
        text=text if text is not None else "", n_tokens=_int_or_none(rec, "n_tokens"),
        meta=meta, ctx_start=_int_or_none(rec, "ctx_start"), has_text=text is not None)


def _bad(path: str, line: int, reason: str, on_bad: OnBad | None) -> None:
    if on_bad is None:
        raise InputError(f"bad chunk row ({reason}) — {path}:{line} — expected doc_id plus "
                         "start/end and/or text")
    on_bad(path, line, reason)


def _jsonl_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with their 1-based numbers, decompressed on the fly, in bounded memory."""
    from segtool.readers.options import ReadFailure
    from segtool.readers.sources import iter_bytes

    lineno = 0
    rest = b""
    try:
        for block in iter_bytes(path):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for raw in lines:
                lineno += 1
                if raw.strip():
                    yield lineno, raw
    except ReadFailure as exc:
        raise InputError(f"{exc} — {path}") from None
    if rest.strip():
        yield lineno + 1, rest


def _jsonl_rows(path: str, on_bad: OnBad | None) -> Iterator[ChunkRow]:
    for lineno, raw in _jsonl_lines(path):
        try:
            rec = json.loads(raw)
        except ValueError as exc:
            reason = f"invalid JSON: {str(exc).split(':')[0]}"
            if isinstance(exc, UnicodeDecodeError):
                reason = "invalid UTF-8"
            _bad(path, lineno, reason, on_bad)
            continue
        try:
            yield row_from_mapping(path, lineno, rec)
        except ValueError as exc:
            _bad(path, lineno, str(exc), on_bad)


def _meta_of(value: Any) -> dict[str, Any]:
    """``meta`` from a Parquet cell (JSON text, segtool's schema) or an already parsed value."""
    if value is None or value == "{}" or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("'meta' is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError("'meta' must be an object")
    return value


def _typed_columns(schema: Any, names: Sequence[str]) -> bool:
    """Whether the Parquet columns have the types of segtool's schema (so rows need no checks)."""
    import pyarrow as pa

    for name in names:
        kind = schema.field(name).type
        if name in ("index", "start", "end", "n_tokens", "ctx_start"):
            ok = pa.types.is_integer(kind) or pa.types.is_null(kind)
        elif name in ("text", "id", "doc_id"):
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        else:  # meta
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
        if not ok:
            return False
    return True


def _fast_rows(path: str, first_line: int, cols: dict[str, list[Any]], n: int,
               on_bad: OnBad | None) -> Iterator[ChunkRow]:
    """Rows of one batch whose column types are already right: only presence is checked.

    Column-wise conversion and no per-row dict is what keeps Parquet reading
    well ahead of the checks themselves.
    """
    none = [None] * n
    doc_ids = cols.get("doc_id", none)
    texts, starts, ends = cols.get("text", none), cols.get("start", none), cols.get("end", none)
    ids, indexes, counts = cols.get("id", none), cols.get("index", none), cols.get("n_tokens", none)
    ctxs, metas = cols.get("ctx_start", none), cols.get("meta", none)
    for i in range(n):
        line = first_line + i
        doc_id, start, end, text = doc_ids[i], starts[i], ends[i], texts[i]
        reason = None
        if doc_id is None:
            reason = "no 'doc_id'"
        elif (start is None) != (end is None):
            reason = "'start' and 'end' must be given together"
        elif text is None and start is None:
            reason = "needs 'text' or 'start' and 'end'"
        else:
            try:
                meta = _meta_of(metas[i])
            except ValueError as exc:
                reason = str(exc)
        if reason is not None:
            _bad(path, line, reason, on_bad)
            continue
        yield ChunkRow(path, line, doc_id, indexes[i], ids[i], start, end,
                       text if text is not None else "", counts[i], meta, ctxs[i], text is not None)


def _parquet_rows(path: str, on_bad: OnBad | None) -> Iterator[ChunkRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from segtool.readers.sources import seekable

    with seekable(path) as source:
        try:
            pf = pq.ParquetFile(source)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]}) — {path} "
                             "— re-create the file") from None
        columns = [c for c in _PARQUET_COLUMNS if c in pf.schema_arrow.names]
        typed = _typed_columns(pf.schema_arrow, columns)
        line = 0
        try:
            for batch in pf.iter_batches(batch_size=8192, columns=columns):
                if typed:
                    cols = {name: batch.column(name).to_pylist() for name in columns}
                    yield from _fast_rows(path, line + 1, cols, batch.num_rows, on_bad)
                    line += batch.num_rows
                    continue
                for rec in batch.to_pylist():
                    line += 1
                    try:
                        yield row_from_mapping(path, line, rec)
                    except ValueError as exc:
                        _bad(path, line, str(exc), on_bad)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"corrupt Parquet data after row {line} ({str(exc).splitlines()[0]}) "
                             f"— {path} — re-create the file") from None


def read_chunk_rows(path: str, on_bad: OnBad | None = None) -> Iterator[ChunkRow]:
    """The chunk rows of a JSONL or Parquet file, streamed in file order.

    A row that is not a chunk (invalid JSON, no ``doc_id``, neither ``text`` nor
    ``start``/``end``, a non-integer offset) raises :class:`InputError` naming
    ``file:line`` — or, with ``on_bad``, is reported to it and skipped.  A path
    that does not exist or has another extension raises :class:`UsageError`.
    """
    fmt = chunk_file_format(path)
    if fmt is None:
        raise UsageError(f"not a chunk file — {path} — chunk files are JSONL (.jsonl) or "
                         "Parquet (.parquet)")
    if not os.path.exists(path):
        raise UsageError(f"no such file — {path} — check the path")
    return _parquet_rows(path, on_bad) if fmt == "parquet" else _jsonl_rows(path, on_bad)


def looks_like_chunks(path: str) -> bool:
    """Whether a JSONL/Parquet file holds chunks: its rows have a ``doc_id``.

    Decided from the Parquet schema or the first JSONL object, so a corpus of
    records (``id``, ``text``, …) is told apart from a chunk file cheaply; a
    chunk names the document it belongs to, a corpus record is the document.  An
    unreadable file counts as chunks when its name says JSONL/Parquet and its
    first row cannot be parsed: reading it as chunks reports the exact row.
    """
    fmt = chunk_file_format(path)
    if fmt is None:
        return False
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            names = set(pq.read_schema(path).names)
        else:
            names = set()
            for _, raw in _jsonl_lines(path):
                rec = json.loads(raw)
                names = set(rec) if isinstance(rec, dict) else set()
                break
    except Exception:  # undecidable here: the chunk reader names the problem precisely
        return True
    return "doc_id" in names


# ---------------------------------------------------------------- documents


def load_documents(paths: Sequence[str], options: Any = None) -> dict[str, str]:
    """``{doc_id: text}`` for ``--docs``, read exactly as ``segtool chunk`` reads them.

    The ids are the ones ``segtool chunk`` writes as ``doc_id`` for the same
    inputs (the path as given for text files, ``<path>#<n>`` or ``--id-field``
    for records), parts of a huge file are joined back.  A file that cannot be
    read or decoded raises :class:`InputError`; two documents with one id raise
    :class:`UsageError`.
    """
    from segtool.readers import ReadOptions, read_documents

    docs: dict[str, str] = {}
    parts: dict[str, list[str]] = {}
    for item in read_documents(list(paths), options or ReadOptions()):
        if isinstance(item, BadInput):
            raise InputError(f"--docs: {item.message()}")
        assert isinstance(item, Document)
        if item.part:
            parts.setdefault(item.id, [docs.get(item.id, "")]).append(item.text)
            continue
        if item.id in docs:
            raise UsageError(f"--docs: two documents with the id {item.id!r} — pass each file "
                             "once, or --id-field with unique values")
        docs[item.id] = item.text
    for doc_id, pieces in parts.items():
        docs[doc_id] = "".join(pieces)
    return docs


class DocResolver:
    """Finds the ``--docs`` key a chunk's ``doc_id`` names, in constant time per id.

    Exact match first; then the same path written differently (``./a.txt``,
    an absolute path); then a unique file name, then a unique stem — chunk
    files are often made in another directory than the one they are checked
    from, and other tools name documents by their file stem.  An ambiguous
    name matches nothing rather than the wrong document.
    """

    def __init__(self, docs: Mapping[str, str]) -> None:
        self.docs = docs
        self._cache: dict[str, str | None] = {}
        self._tables: list[dict[str, str | None]] | None = None

    def _build(self) -> list[dict[str, str | None]]:
        tables: list[dict[str, str | None]] = [{}, {}, {}]
        for key in self.docs:
            for table, name in zip(tables, self._names(key), strict=True):
                table[name] = None if name in table else key  # None: ambiguous
        return tables

    @staticmethod
    def _names(doc_id: str) -> tuple[str, str, str]:
        base = os.path.basename(doc_id)
        return (os.path.normpath(os.path.abspath(doc_id)) if doc_id else doc_id, base,
                os.path.splitext(base)[0])

    def resolve(self, doc_id: str) -> str | None:
        if doc_id in self.docs:
            return doc_id
        if doc_id in self._cache:
            return self._cache[doc_id]
        if self._tables is None:
            self._tables = self._build()
        found: str | None = None
        for table, name in zip(self._tables, self._names(doc_id), strict=True):
            if name in table:
                found = table[name]
                break
        self._cache[doc_id] = found
        return found


_LAST_RESOLVER: list[DocResolver] = []  # the resolver of the last ``docs`` mapping seen


def resolve_doc_id(doc_id: str, docs: Mapping[str, str],
                   aliases: dict[str, str | None] | None = None) -> str | None:
    """:meth:`DocResolver.resolve` for callers holding only the mapping.

    The lookup tables of the last ``docs`` mapping are kept, so resolving every
    chunk of a file against one mapping costs one pass over it, not one per
    chunk.  ``aliases``, if given, also remembers the answers (kept for callers
    of the first version of this function).
    """
    if aliases is not None and doc_id in aliases:
        return aliases[doc_id]
    if not _LAST_RESOLVER or _LAST_RESOLVER[0].docs is not docs:
        _LAST_RESOLVER[:] = [DocResolver(docs)]
    found = _LAST_RESOLVER[0].resolve(doc_id)
    if aliases is not None:
        aliases[doc_id] = found
    return found


# ---------------------------------------------------------------- locating text-only chunks


class ChunkLocator:
    """Places text-only chunks of one document, one after another, in file order.

    Each chunk goes where its text occurs next: right at the previous chunk's
    end if it is there (the usual tiling), else overlapping the previous chunk
    (tools that repeat overlap text), else at the first occurrence further on
    (a gap, e.g. stripped whitespace).  Searches start near the previous chunk,
    so locating a whole document costs about one pass over its text.
    """

    def __init__(self, doc_text: str) -> None:
        self.text = doc_text
        self.prev_start = 0
        self.prev_end = 0

    def place(self, chunk: str) -> tuple[int, int] | None:
        """``(start, end)`` for the next chunk, or None when its text is not found further on."""
        text, n = self.text, len(chunk)
        at = self.prev_end if text.startswith(chunk, self.prev_end) else -1
        if at < 0 and self.prev_end > self.prev_start:
            at = text.find(chunk, self.prev_start + 1, self.prev_end + n - 1)
        if at < 0:
            at = text.find(chunk, self.prev_end)
        if at < 0:
            return None
        self.prev_start, self.prev_end = at, at + n
        return at, at + n


def locate_chunks(rows: Sequence[ChunkRow] | Iterable[ChunkRow], doc_text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each chunk of one document, located by its text in order.

    Raises :class:`InputError` naming the first chunk whose text does not occur
    after the previous chunk — the chunks were made from another version of the
    document, or the tool changed the text (normalised whitespace, say).
    """
    locator = ChunkLocator(doc_text)
    out: list[tuple[int, int]] = []
    for row in rows:
        span = locator.place(row.text)
        if span is None:
            raise InputError(
                f"chunk text not found in document {row.doc_id!r} after offset "
                f"{locator.prev_end} — {row.where} — text {row.preview()}; the chunks come from "
                "another version of the document or the tool changed their text")
        out.append(span)
    return out

