"""Parquet output with one fixed Arrow schema per record kind.

The schema never depends on the data (``meta`` is a JSON string, ``ctx_start``
is always present and nullable), so files from different runs concatenate and
downstream readers can rely on column types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
])

_ROWS_PER_BATCH = 8192


class ParquetWriter:
    name: ClassVar[str] = "parquet"
    summary: ClassVar[str] = "Apache Parquet with a fixed schema (needs -o FILE)"
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, *, kind: str = "chunks") -> None:
        self.kind = kind
        self.schema = CHUNK_SCHEMA if kind == "chunks" else SENTENCE_SCHEMA

    def _batch(self, rows: list[dict[str, Any]]) -> pa.RecordBatch:
        columns = {name: [r[name] for r in rows] for name in self.schema.names if name != "meta"}
        if "meta" in self.schema.names:
            columns["meta"] = [json.dumps(r["meta"], ensure_ascii=False, sort_keys=True)
                               for r in rows]
        return pa.RecordBatch.from_pydict(columns, schema=self.schema)

    def write(self, records: Iterable[dict[str, Any]], out: IO[bytes], *, flush_each: bool = False
              ) -> int:
        n = 0
        with pq.ParquetWriter(out, self.schema, compression="zstd") as writer:
            rows: list[dict[str, Any]] = []
            for rec in records:
                rows.append(rec)
                n += 1
                if len(rows) >= _ROWS_PER_BATCH:
                    writer.write_batch(self._batch(rows))
                    rows = []
            if rows:
                writer.write_batch(self._batch(rows))
        return n
