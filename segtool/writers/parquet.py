"""Parquet output with one fixed Arrow schema per record kind.

The schema never depends on the data (``meta`` is a JSON string, ``ctx_start``
is always present and nullable), so files from different runs concatenate and
downstream readers can rely on column types.  Promoted input fields
(``--columns``) are appended after the fixed columns; their types are fixed
once, before the first row group (see :mod:`segtool.writers.columns`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import IO, Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

SENTENCE_SCHEMA = pa.schema([
    ("id", pa.string()), ("doc_id", pa.string()), ("index", pa.int64()),
    ("start", pa.int64()), ("end", pa.int64()), ("text", pa.large_string()),
    ("source", pa.string()),
])

CHUNK_SCHEMA = pa.schema([
    ("id", pa.string()), ("doc_id", pa.string()), ("index", pa.int64()),
    ("start", pa.int64()), ("end", pa.int64()), ("text", pa.large_string()),
    ("n_tokens", pa.int64()), ("ctx_start", pa.int64()),
    ("sent_start", pa.int64()), ("sent_end", pa.int64()),
    ("source", pa.string()), ("meta", pa.string()),
    # the heading path of the chunk (meta.headings), typed; null without document structure
    ("headings", pa.list_(pa.string())),
])

_ROWS_PER_BATCH = 8192


def headings_of(meta: Any) -> list[str] | None:
    """``meta.headings`` when it is a list of strings (the structure layer's), else null."""
    value = meta.get("headings") if isinstance(meta, Mapping) else None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


class ParquetWriter:
    name: ClassVar[str] = "parquet"
    summary: ClassVar[str] = "Apache Parquet with a fixed schema (needs -o FILE)"
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, *, kind: str = "chunks", columns: tuple[str, ...] = (),
                 column_types: Mapping[str, pa.DataType] | None = None) -> None:
        """``column_types``: the Arrow type of each promoted column known in advance (from the
        Parquet inputs' schemas); the others are inferred from the first batch of records."""
        self.kind = kind
        self.base = CHUNK_SCHEMA if kind == "chunks" else SENTENCE_SCHEMA
        self.columns = tuple(columns)
        self.types: dict[str, pa.DataType] = {
            name: column_types[name] for name in self.columns if name in (column_types or {})}
        self.origin = {name: "the Parquet input's type" for name in self.types}

    @property
    def schema(self) -> pa.Schema:
        """The output schema; a promoted column not typed yet shows as ``null``."""
        return pa.schema([*self.base, *((name, self.types.get(name, pa.null()))
                                         for name in self.columns)])

    def _batch(self, rows: list[dict[str, Any]]) -> pa.RecordBatch:
        base = self.base
        columns = {name: [r[name] for r in rows] for name in base.names
                   if name not in ("meta", "headings")}
        if "headings" in base.names:
            columns["headings"] = [headings_of(r.get("meta")) for r in rows]
        if "meta" in base.names:
            columns["meta"] = [json.dumps(r["meta"], ensure_ascii=False, sort_keys=True)
                               for r in rows]
        batch = pa.RecordBatch.from_pydict(columns, schema=base)
        if not self.columns:
            return batch
        from segtool.writers import columns as promoted

        arrays = list(batch.columns)
        for name in self.columns:
            if name not in self.types:  # the first batch fixes the type for good
                self.types[name] = promoted.infer(name, rows)
                self.origin[name] = f"inferred from the first {len(rows):,} records"
            arrays.append(promoted.column(name, rows, self.types[name], self.origin[name]))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def write(self, records: Iterable[dict[str, Any]], out: IO[bytes], *, flush_each: bool = False
              ) -> int:
        n = 0
        writer: pq.ParquetWriter | None = None  # opened once the first batch fixed the schema
        try:
            rows: list[dict[str, Any]] = []
            for rec in records:
                rows.append(rec)
                n += 1
                if len(rows) >= _ROWS_PER_BATCH:
                    writer = self._write(writer, rows, out)
                    rows = []
            if rows or writer is None:
                writer = self._write(writer, rows, out)
        finally:
            if writer is not None:
                writer.close()
        return n

    def _write(self, writer: pq.ParquetWriter | None, rows: list[dict[str, Any]], out: IO[bytes]
               ) -> pq.ParquetWriter:
        batch = self._batch(rows) if rows else None
        if writer is None:
            writer = pq.ParquetWriter(out, self.schema, compression="zstd")
        if batch is not None:
            writer.write_batch(batch)
        return writer
