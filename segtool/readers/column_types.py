"""The Arrow types of promoted fields (``--columns``) in the Parquet inputs, read up front.

Parquet output fixes its schema before the first row is written; taking the
types from the inputs' own schemas (footers only, no data read) is what keeps
a Parquet corpus's column types — timestamps stay timestamps, int32 stays
int32 — instead of re-inferring them from Python values.

Only plain Parquet files named on the command line (or found in a directory)
are looked at: stdin and compressed files would have to be spooled twice, so
their columns are typed like JSONL ones, from the first batch of records.  A
file that cannot be read is skipped here; its reader reports it in its turn.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import Any

from segtool.readers.documents import format_for
from segtool.readers.options import ReadOptions
from segtool.readers.sources import STDIN, compression_of
from segtool.types import InputError


def _plain_file(path: str) -> bool:
    if path == STDIN or compression_of(path) is not None:
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def parquet_column_types(paths: Sequence[str], names: Sequence[str], options: ReadOptions
                         ) -> dict[str, Any]:
    """``{field: pyarrow type}`` for each of ``names`` some Parquet input declares.

    Files that disagree are reconciled when one type widens into the other
    (int32 and int64 → int64); otherwise it is an input error (exit 1) naming
    both files, since one column cannot hold both.
    """
    if not names:
        return {}
    import pyarrow as pa
    import pyarrow.parquet as pq

    found: dict[str, tuple[Any, str]] = {}
    for path in paths:
        if format_for(path, options) != "parquet" or not _plain_file(path):
            continue
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowException, OSError):
            continue
        for name in names:
            if name not in schema.names:
                continue
            kind = schema.field(name).type
            if name not in found:
                found[name] = (kind, path)
                continue
            seen, first = found[name]
            if seen == kind:
                continue
            try:
                merged = pa.unify_schemas([pa.schema([(name, seen)]), pa.schema([(name, kind)])],
                                          promote_options="permissive").field(name).type
            except (pa.ArrowException, TypeError, ValueError):
                raise InputError(f"column '{name}' is {seen} in {first} but {kind} in {path} — "
                                 f"--columns {name} — give it one type in every input, or leave "
                                 "it in meta") from None
            found[name] = (merged, first)
    return {name: kind for name, (kind, _) in found.items()}
