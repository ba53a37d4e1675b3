"""``read_documents``: every input, in order, through the reader for its format."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from segtool.readers.formats import Reader
from segtool.readers.options import ReadOptions
from segtool.readers.sources import FORMAT_SUFFIXES, STDIN, detect_format, expand_inputs
from segtool.types import BadInput, Document

BUILTIN_FORMATS = ("txt", "md", "html", "jsonl", "parquet")


def get_reader(fmt: str) -> Reader:
    """The reader registered for ``fmt`` (built-in or plugin); UsageError if unknown."""
    from segtool import registry

    reader: Reader = registry.resolve("readers", fmt)
    return reader


def format_for(path: str, options: ReadOptions) -> str | None:
    """The format ``path`` is read as: the option, else stdin's, else by extension."""
    if options.input_format:
        return options.input_format
    if path == STDIN:
        return options.stdin_format
    return detect_format(path)


def read_documents(
    inputs: Sequence[str], options: ReadOptions
) -> Iterator[Document | BadInput]:
    """Documents from all inputs, in input order, streamed one at a time.

    Options, format names and the inputs themselves are checked *now* (this is
    a plain function returning a generator), so a typo in a path or format
    raises ``UsageError``/``InputError`` before the caller writes any output.
    A file whose extension names no known format yields a BadInput; pass
    ``input_format`` to read it anyway.
    """
    options.validate()
    for fmt in {options.input_format, options.stdin_format} - {None}:
        get_reader(fmt)  # type: ignore[arg-type]
    paths = expand_inputs(inputs)
    return _iterate(paths, options)


def _unlistable(path: str) -> BadInput | None:
    """The BadInput for a directory left in the expanded list because it could not be listed.

    ``expand_inputs`` keeps such a directory in place of its files rather than
    dropping it silently; here it becomes an error that ``--on-error`` handles
    like an unreadable file.  None if the directory can be listed by now.
    """
    try:
        with os.scandir(path):
            return None
    except OSError as exc:
        return BadInput(path, "", f"cannot read directory: {exc.strerror or exc}",
                        hint="check its permissions, or leave it out")


def _iterate(paths: list[str], options: ReadOptions) -> Iterator[Document | BadInput]:
    readers: dict[str, Reader] = {}
    for path in paths:
        if path != STDIN and os.path.isdir(path):
            bad = _unlistable(path)
            if bad is not None:
                yield bad
            else:  # listable after all (permissions changed meanwhile): read its files
                yield from _iterate(expand_inputs([path]), options)
            continue
        fmt = format_for(path, options)
        if fmt is None:
            ext = os.path.splitext(path)[1]
            yield BadInput(
                path,
                "",
                f"unknown file type '{ext}'",
                hint=f"pass --input-format ({', '.join(BUILTIN_FORMATS)})",
            )
            continue
        if fmt not in readers:
            readers[fmt] = get_reader(fmt)
        yield from readers[fmt](path, options)


__all__ = ["BUILTIN_FORMATS", "FORMAT_SUFFIXES", "format_for", "get_reader", "read_documents"]
