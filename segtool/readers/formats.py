"""One reader per format: ``reader(path, options) -> Iterator[Document | BadInput]``.

These are the callables the registry lists under ``readers`` (a plugin reader
has the same signature).  ``path`` is a file path or ``-`` for stdin.  A reader
never raises for bad data: it yields a ``BadInput`` and either continues with
the next record (JSONL/Parquet rows) or stops reading that file (unreadable
file, corrupt compression, binary data).  Text, Markdown and HTML may already
have yielded some blocks of a file when a later part turns out unreadable; the
BadInput then follows them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from segtool.readers.blocks import BlockSplitter
from segtool.readers.decode import UTF8_HINT, Utf8Decoder, decode_line, iter_lines
from segtool.readers.html_text import HtmlTextExtractor
from segtool.readers.options import ReadFailure, ReadOptions
from segtool.readers.records import (
    LoneSurrogate,
    clean_surrogates,
    describe_fields,
    json_type,
    jsonable,
    make_document,
)
from segtool.readers.sources import iter_bytes, seekable
from segtool.types import BadInput, Document

Reader = Callable[[str, ReadOptions], Iterator[Document | BadInput]]
READ_CHUNK = 1 << 20
PARQUET_BATCH_ROWS = 512
# Only lines containing a \uD800-\uDFFF escape can hold a lone surrogate; the
# full check runs just for those.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _describe(summary: str) -> Callable[[Reader], Reader]:
    """Attach the ``summary`` that ``segtool list readers`` shows."""

    def mark(reader: Reader) -> Reader:
        reader.summary = summary  # type: ignore[attr-defined]
        return reader

    return mark


def _bad(path: str, failure: ReadFailure) -> BadInput:
    return BadInput(path, failure.location, failure.reason, failure.hint)


# ---------------------------------------------------------------- txt / md


@_describe("plain text, one document per file (verbatim); huge files in blocks")
def read_text(path: str, options: ReadOptions, markup: str = "text"
              ) -> Iterator[Document | BadInput]:
    """Yield the file's text verbatim, in blocks if it exceeds ``block_bytes``.

    Markdown is deliberately not rendered: its markup is cheap for splitters to
    handle and keeping it verbatim keeps offsets valid for the source file.
    Blocks share the file's id and carry ``offset`` (global character offset)
    and ``part``; their texts concatenate to the decoded file exactly.
    ``markup`` tells the structure layer how to find blocks in each part
    (each part is parsed on its own, so a huge file still streams).
    """
    decoder = Utf8Decoder(options.encoding_errors)
    splitter = BlockSplitter(options.block_bytes)
    # Decoded text can take 4 bytes of memory per input byte (one emoji makes a
    # whole piece 4 bytes per character), so a read of 1/16 block adds at most a
    # quarter block of text.
    chunk_size = max(1, min(options.block_bytes // 16, READ_CHUNK))
    offset = 0
    part = 0

    def emit(text: str) -> Document:
        nonlocal offset, part
        doc = Document(id=path, text=text, source=path, offset=offset, part=part, markup=markup)
        offset += len(text)
        part += 1
        return doc

    # ``map`` rather than ``for block in ...: yield emit(block)``: a loop variable
    # would keep the previous block alive while the next one is read, one more
    # block of memory for no use.
    try:
        for data in iter_bytes(path, chunk_size):
            yield from map(emit, splitter.push(decoder.feed(data), len(data)))
        yield from map(emit, splitter.push(decoder.feed(b"", final=True), 0))
    except ReadFailure as failure:
        yield _bad(path, failure)
        return
    yield emit(splitter.finish())


@_describe("Markdown, one document per file (verbatim, not rendered); huge files in blocks")
def read_markdown(path: str, options: ReadOptions) -> Iterator[Document | BadInput]:
    """Like :func:`read_text`; the text is marked as Markdown so its structure is parsed."""
    return read_text(path, options, markup="md")


# ---------------------------------------------------------------- html


@_describe("HTML, visible text via the standard library parser; <title> goes to meta")
def read_html(path: str, options: ReadOptions) -> Iterator[Document | BadInput]:
    """One document per file with the visible text (see :mod:`.html_text`).

    HTML is always decoded as UTF-8 (a ``<meta charset>`` is not honoured):
    the same rule as every other format, and the error says how to fix it.
    """
    decoder = Utf8Decoder(options.encoding_errors)
    parser = HtmlTextExtractor()
    try:
        for data in iter_bytes(path, READ_CHUNK):
            parser.feed(decoder.feed(data))
        parser.feed(decoder.feed(b"", final=True))
        parser.close()
    except ReadFailure as failure:
        yield _bad(path, failure)
        return
    meta = options.select({"title": parser.title} if parser.title else {})
    yield Document(id=path, text=parser.text(), source=path, meta=meta, markup="html",
                   blocks=parser.blocks())


# ---------------------------------------------------------------- jsonl


def _no_constants(name: str) -> None:
    """NaN/Infinity are not JSON; read them as null so meta stays JSON-compatible."""
    return None


def _finite_float(literal: str) -> float | None:
    """A number too large for a float (``1e400``) would become ``inf``; read it as null.

    Without this the record's meta would carry an infinity that the JSON writer
    prints as ``Infinity``, making the output invalid JSON.
    """
    value = float(literal)
    return value if math.isfinite(value) else None


def _parse_json(text: str, line: int, path: str, options: ReadOptions,
                surrogates: bool) -> dict[str, Any] | BadInput:
    """The line's object, or why it is not one; every parser failure is a bad record.

    Python's parser raises more than ``JSONDecodeError``: ``ValueError`` for an
    integer over the int-to-string digit limit (a 5,000-digit number),
    ``RecursionError`` for deep nesting.  All of them are problems of this one
    line, so all become a BadInput naming it, never an internal error.
    """
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        return BadInput(path, f"line {line}, column {exc.colno}", f"invalid JSON ({exc.msg})",
                        hint="each line must hold one JSON object")
    except RecursionError:
        return BadInput(path, f"line {line}", "JSON nested too deeply")
    except (ValueError, OverflowError) as exc:
        detail = str(exc).split(":")[0].strip() or type(exc).__name__
        return BadInput(path, f"line {line}", f"unreadable JSON value ({detail})",
                        hint="fix the value on this line (a number thousands of digits long "
                             "can be stored as a string)")
    if not isinstance(value, dict):
        return BadInput(path, f"line {line}", f"expected a JSON object, got {json_type(value)}",
                        hint="each line must hold one JSON object")
    if surrogates:
        try:
            value = clean_surrogates(value, options.encoding_errors == "replace")
        except LoneSurrogate as exc:
            return BadInput(path, f"line {line}",
                            f"lone UTF-16 surrogate escape in field '{exc.field}' "
                            "(it has no UTF-8 form)",
                            hint="fix the \\uD800-\\uDFFF escape or pass "
                                 "--encoding-errors replace")
        except RecursionError:
            return BadInput(path, f"line {line}", "JSON nested too deeply")
    return value


@_describe("JSON Lines, one document per object; other fields go to meta")
def read_jsonl(path: str, options: ReadOptions) -> Iterator[Document | BadInput]:
    """Stream records line by line; a bad line is one BadInput, then reading goes on.

    Numbering: ``n`` in ``"<path>#<n>"`` is the 0-based position of the record
    among the file's *non-blank* lines, bad lines included.  So ids do not move
    when a line is fixed or broken, blank lines do not count, and a JSONL file
    converted to Parquet row by row keeps its ids.  Locations in BadInput use
    the 1-based physical line number, which editors show.

    Memory: a record is whole in memory, so a giant one costs a few times its
    size.  The line's bytes are dropped once decoded and its text once parsed,
    and nothing is kept while the caller works on the Document, so at most two
    copies of a record exist at any moment here (see the README's bound).
    """
    index = 0
    try:
        for line, offset, raw in iter_lines(iter_bytes(path, READ_CHUNK)):
            if not raw or raw.isspace():  # not raw.strip(): that may copy a giant line
                continue
            record_index = index
            index += 1
            surrogates = _SURROGATE_ESCAPE.search(raw) is not None
            try:
                text = decode_line(raw, options.encoding_errors, offset, line)
            except ReadFailure as failure:
                yield _bad(path, failure)
                continue
            del raw
            parsed = _parse_json(text, line, path, options, surrogates)
            del text
            if isinstance(parsed, BadInput):
                yield parsed
                continue
            yield make_document(parsed, source=path, index=record_index,
                                location=f"line {line}", options=options)
            del parsed  # shares the text with the Document the caller may have dropped
    except ReadFailure as failure:
        yield _bad(path, failure)


# ---------------------------------------------------------------- parquet


@_describe("Parquet, one document per row, read one batch of rows at a time")
def read_parquet(path: str, options: ReadOptions) -> Iterator[Document | BadInput]:
    """Stream rows with ``ParquetFile.iter_batches``; other columns go to ``meta``.

    The schema is checked once: a missing or non-text column is a single
    BadInput naming the columns, not one per row.  Compressed files and stdin
    are spooled to a temporary file first (Parquet needs random access).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    field = options.text_field
    try:
        with seekable(path, READ_CHUNK) as source:
            try:
                parquet = pq.ParquetFile(source)
            except (pa.ArrowException, OSError) as exc:
                raise ReadFailure(f"not a readable Parquet file ({exc})",
                                  hint="check the file or pass the right --input-format") from exc
            schema = parquet.schema_arrow
            names = list(schema.names)
            if field not in names:
                yield BadInput(path, "", f"no text column '{field}' "
                               f"(columns: {describe_fields(names)})",
                               hint="pass --text-field NAME")
                return
            kind = schema.field(field).type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            is_binary = pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
            if not (is_binary or pa.types.is_string(kind) or pa.types.is_large_string(kind)
                    or str(kind) == "string_view"):
                yield BadInput(path, "", f"text column '{field}' has type {kind}, not string",
                               hint="pass --text-field NAME for the column that holds the text")
                return
            if options.id_field is None or options.id_field in names:  # else: named per row
                # Unselected columns are never read (the id column is, even if not kept).
                names = [name for name in names if name in (field, options.id_field)
                         or options.wants(name)]
            yield from _parquet_rows(parquet, names, path, options, is_binary)
    except ReadFailure as failure:
        yield _bad(path, failure)


def _parquet_rows(
    parquet: Any, names: list[str], path: str, options: ReadOptions, is_binary: bool
) -> Iterator[Document | BadInput]:
    import pyarrow as pa

    field = options.text_field
    raw = {field, *options.columns}  # promoted columns keep their Arrow values for the writer
    index = 0
    batches = parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=names)
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:
            raise ReadFailure(f"corrupt Parquet data after row {index} ({exc})") from exc
        if batch is None:
            return
        columns = {name: batch.column(i).to_pylist()
                   for i, name in enumerate(batch.schema.names)}
        for row in range(batch.num_rows):
            record = {name: values[row] if name in raw else jsonable(values[row])
                      for name, values in columns.items()}
            location = f"row {index}"
            if is_binary and isinstance(record.get(field), bytes):
                try:
                    record[field] = record[field].decode("utf-8", options.encoding_errors)
                except UnicodeDecodeError as exc:
                    yield BadInput(path, f"{location}, byte {exc.start}",
                                   f"invalid UTF-8 in text column ({exc.reason})", UTF8_HINT)
                    index += 1
                    continue
            yield make_document(record, source=path, index=index, location=location,
                                options=options)
            index += 1
