"""Arrow columns for promoted input fields (``--columns``) in Parquet output.

A column's type is fixed before the first row group is written and never
changes, so every row group — and every file written with the same inputs —
has the same schema.  The type is the input's own Arrow type when the field
comes from a Parquet file whose schema was read up front; otherwise it is
inferred from the values of the first batch of records.

Conversion is strict on purpose: a value of another kind (a string in a number
column, an object in a list column) or one that would change on the way
(2.5 into an integer column, an object with a key the struct type lacks) is an
error naming the field and the record, never a silently altered value.
Lossless widening (int32 values into an int64 column, a string into a
dictionary-encoded string column) is fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from segtool.types import InputError

# What pyarrow raises when values do not fit a type (its own errors subclass these).
_CONVERSION_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError)


class Conflict(Exception):
    """The values cannot be stored in the column's type without changing them."""


def kind_of(kind: pa.DataType) -> str:
    """The broad family of an Arrow type; values only convert within one family."""
    t = pa.types
    if t.is_dictionary(kind):
        return kind_of(kind.value_type)
    checks = (
        (t.is_null, "null"), (t.is_boolean, "boolean"), (t.is_integer, "number"),
        (t.is_floating, "number"), (t.is_decimal, "number"), (t.is_temporal, "temporal"),
        (t.is_struct, "struct"), (t.is_map, "map"),
    )
    for check, family in checks:
        if check(kind):
            return family
    if t.is_string(kind) or t.is_large_string(kind) or str(kind) == "string_view":
        return "string"
    if (t.is_binary(kind) or t.is_large_binary(kind) or t.is_fixed_size_binary(kind)
            or str(kind) == "binary_view"):
        return "binary"
    if t.is_list(kind) or t.is_large_list(kind) or t.is_fixed_size_list(kind) or (
            str(kind).startswith(("list_view", "large_list_view"))):
        return "list"
    return str(kind)


def _unwrap(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def compatible(found: pa.DataType, target: pa.DataType) -> bool:
    """Whether values inferred as ``found`` may be cast to ``target`` (same family, all the way
    down, and no struct field that ``target`` would drop)."""
    found, target = _unwrap(found), _unwrap(target)
    family = kind_of(found)
    if family == "null":
        return True
    if family != kind_of(target):
        return False
    if family == "list":
        return compatible(found.value_type, target.value_type)
    if family == "struct":
        names = {target.field(i).name: target.field(i).type for i in range(target.num_fields)}
        return all(found.field(i).name in names
                   and compatible(found.field(i).type, names[found.field(i).name])
                   for i in range(found.num_fields))
    return True


def to_array(values: Sequence[Any], target: pa.DataType) -> pa.Array:
    """``values`` as an array of ``target``, or :class:`Conflict`."""
    try:
        found: pa.Array | None = pa.array(values)
    except _CONVERSION_ERRORS:
        found = None  # mixed kinds, or Arrow-only Python forms (a map's (key, value) pairs)
    if found is not None:
        if found.type == target:
            return found
        if not compatible(found.type, target):
            raise Conflict
        try:
            return found.cast(target, safe=True)
        except pa.ArrowInvalid:  # a value that would change: 2.5 → 2, an overflow
            raise Conflict from None
        except _CONVERSION_ERRORS:
            pass  # no cast between these types: convert the Python values directly
    try:
        return pa.array(values, type=target)
    except _CONVERSION_ERRORS:
        raise Conflict from None


def _value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fail(name: str, value: Any, record: dict[str, Any], target: pa.DataType | None,
          origin: str) -> InputError:
    where = f"document {record.get('doc_id')} ({record.get('source')})"
    if target is None:
        return InputError(f"column '{name}' holds {_value(value)}, whose Arrow type cannot be "
                          f"inferred — {where} — promote it from a plain .parquet input (its "
                          "schema gives the type) or leave it in meta (drop it from --columns)")
    hint = "give the field one type in every record, or leave it in meta (drop it from --columns)"
    if pa.types.is_null(target):
        hint = ("no record before this one had a value, so the column has no type; put a record "
                "with a value first, or leave the field in meta (drop it from --columns)")
    return InputError(f"column '{name}' is {target} ({origin}) but holds {_value(value)} — "
                      f"{where} — {hint}")


def column(name: str, rows: Sequence[dict[str, Any]], target: pa.DataType, origin: str
           ) -> pa.Array:
    """The column of ``rows`` for field ``name``; InputError (exit 1) naming the first misfit."""
    values = [row.get(name) for row in rows]
    try:
        return to_array(values, target)
    except Conflict:
        pass
    for row, value in zip(rows, values, strict=True):
        try:
            to_array([value], target)
        except Conflict:
            raise _fail(name, value, row, target, origin) from None
    raise _fail(name, values[0], rows[0], target, origin)  # only the batch as a whole fails


def infer(name: str, rows: Sequence[dict[str, Any]]) -> pa.DataType:
    """The type of field ``name`` from the first batch (``null`` if no row has a value)."""
    values = [row.get(name) for row in rows]
    try:
        return pa.array(values).type
    except _CONVERSION_ERRORS:
        pass
    for row, value in zip(rows, values, strict=True):  # name the first value of another kind
        if value is None:
            continue
        try:
            first = pa.array([value]).type
        except _CONVERSION_ERRORS:
            raise _fail(name, value, row, None, "") from None
        column(name, rows, first, "the type of its first value")
        return first
    raise _fail(name, values[0], rows[0], None, "")
