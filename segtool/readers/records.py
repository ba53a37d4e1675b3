"""Turning one record (a JSONL object, a Parquet row) into a Document or a BadInput.

Shared by the JSONL and Parquet readers so both report the same problems with
the same wording and build ids the same way: ``id_field`` when given (``str()``
of its value), else ``"<source>#<n>"`` with ``n`` the 0-based record number.
The record's other fields become ``meta`` as ``ReadOptions`` selects them
(``--keep-fields``, ``--drop-fields``, ``--no-meta``, ``--columns``).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping
from typing import Any

from segtool.readers.options import ReadOptions
from segtool.types import BadInput, Document

_MAX_FIELDS_SHOWN = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


def describe_fields(names: list[str]) -> str:
    """``a, b, c`` (truncated) — shown when the text field is missing."""
    if not names:
        return "none"
    shown = ", ".join(names[:_MAX_FIELDS_SHOWN])
    more = len(names) - _MAX_FIELDS_SHOWN
    return f"{shown}, … (+{more} more)" if more > 0 else shown


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def make_document(
    record: Mapping[str, Any],
    *,
    source: str,
    index: int,
    location: str,
    options: ReadOptions,
) -> Document | BadInput:
    """Build the Document for ``record`` or say precisely why it cannot be one."""
    field = options.text_field
    if field not in record:
        return BadInput(
            source,
            location,
            f"no text field '{field}' (fields: {describe_fields(list(record))})",
            hint="pass --text-field NAME",
        )
    text = record[field]
    if not isinstance(text, str):
        return BadInput(
            source,
            location,
            f"text field '{field}' is {json_type(text)}, not a string",
            hint="pass --text-field NAME for the field that holds the text",
        )
    if options.id_field is not None:
        value = record.get(options.id_field)
        if value is None:
            return BadInput(
                source,
                location,
                f"no id field '{options.id_field}' (fields: {describe_fields(list(record))})",
                hint="pass --id-field NAME, or leave it out to number the records",
            )
        doc_id = value if isinstance(value, str) else str(value)
    else:
        doc_id = f"{source}#{index}"
    return Document(id=doc_id, text=text, source=source, meta=options.select(record, field),
                    markup="text")


class LoneSurrogate(ValueError):
    """A string holds a lone UTF-16 surrogate (``"\\ud800"`` in JSON)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def clean_surrogates(value: Any, replace: bool, field: str = "") -> Any:
    """Replace lone surrogates with U+FFFD, or raise :class:`LoneSurrogate`.

    JSON's ``\\uD800`` escapes decode to code points that have no UTF-8 form, so
    the writers would crash on them much later; catching them here names the
    line and field instead.
    """
    if isinstance(value, str):
        if _SURROGATE.search(value):
            if not replace:
                raise LoneSurrogate(field)
            return _SURROGATE.sub("\ufffd", value)
        return value
    if isinstance(value, list):
        return [clean_surrogates(item, replace, field) for item in value]
    if isinstance(value, dict):
        return {
            clean_surrogates(key, replace, field or key): clean_surrogates(
                item, replace, field or key
            )
            for key, item in value.items()
        }
    return value


def jsonable(value: Any) -> Any:
    """Make a Parquet cell JSON-compatible so every writer can store ``meta``.

    Non-finite floats become None (JSON has no NaN), timestamps ISO strings,
    decimals strings (no precision lost), bytes base64, Arrow maps (lists of
    pairs) lists of ``[key, value]``.
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return str(value)
