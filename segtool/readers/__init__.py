"""Streaming readers: paths, globs, directories or ``-`` → Documents.

Public API (used by the pipeline and the CLI)::

    ReadOptions(input_format=None, text_field="text", id_field=None,
                encoding_errors="strict", block_bytes=64 MiB, stdin_format="txt")
    expand_inputs(inputs) -> list[str]           # raises InputError (exit 1)
    read_documents(inputs, options) -> Iterator[Document | BadInput]

Conventions worth knowing:

* Formats by extension after stripping ``.gz/.bz2/.xz/.zst``: txt/text, md/markdown,
  html/htm/xhtml, jsonl/ndjson, parquet/pq; no extension → txt; an unknown
  extension → BadInput (pass ``input_format``).  stdin is sniffed for compression.
* Ids: txt/md/html use the path as given (``-`` for stdin); records use
  ``id_field`` (``str()`` of it) or ``"<path>#<n>"``, ``n`` = 0-based index among
  non-blank lines (JSONL) or row number (Parquet).
* Text files over ``block_bytes`` come as several Documents with one id,
  ``part`` 0, 1, … and ``offset`` = global character offset of the block.
* Everything is UTF-8 (a BOM is dropped); byte offsets in messages count the
  decompressed stream.
"""

from __future__ import annotations

from segtool.readers.documents import BUILTIN_FORMATS, format_for, get_reader, read_documents
from segtool.readers.options import ReadOptions
from segtool.readers.sources import detect_format, expand_inputs

__all__ = [
    "BUILTIN_FORMATS",
    "ReadOptions",
    "detect_format",
    "expand_inputs",
    "format_for",
    "get_reader",
    "read_documents",
]
