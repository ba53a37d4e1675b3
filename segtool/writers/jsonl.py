"""JSON Lines output: one record per line, stable key order, UTF-8.

Promoted ``--columns`` are top-level keys after the fixed ones, in the order
given.  Their values may come straight from a Parquet input (timestamps,
decimals, bytes), so they are made JSON-compatible the way ``meta`` is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any, ClassVar

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class JsonlWriter:
    """Streams records to a binary file object; the caller owns opening/atomicity."""

    name: ClassVar[str] = "jsonl"
    summary: ClassVar[str] = "JSON Lines, one record per line (default; stdout without -o)"
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, kind: str = "chunks", columns: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.columns = tuple(columns)

    def write(self, records: Iterable[dict[str, Any]], out: IO[bytes], *, flush_each: bool = False
              ) -> int:
        n = 0
        buf: list[str] = []
        columns = self.columns
        if columns:
            from segtool.readers.records import jsonable
        for rec in records:
            if columns:
                rec = {**rec, **{name: jsonable(rec.get(name)) for name in columns}}
            buf.append(_dumps(rec))
            n += 1
            if flush_each or len(buf) >= 256:
                out.write(("\n".join(buf) + "\n").encode("utf-8"))
                buf.clear()
                if flush_each:
                    out.flush()
        if buf:
            out.write(("\n".join(buf) + "\n").encode("utf-8"))
        return n
