"""segtool: documents → sentences → retrieval-ready chunks, with exact offsets.

The public Python API (everything in ``__all__``)::

    segtool.split_sentences(text, **options)  -> list[SentenceRecord]
    segtool.chunk(text, **options)            -> list[ChunkRecord]
    segtool.split_documents(docs, **options)  -> list[SentenceRecord]
    segtool.chunk_documents(docs, **options)  -> list[ChunkRecord]
    segtool.segment_table(data, **options)    -> the same kind of table as ``data``

``segtool.adapters`` turns records into LangChain documents and LlamaIndex
nodes.  Names are loaded on first use, so ``import segtool`` stays cheap (no
pyarrow, no pipeline) until something is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "chunk": "segtool.api",
    "chunk_documents": "segtool.api",
    "segment_table": "segtool.api",
    "split_documents": "segtool.api",
    "split_sentences": "segtool.api",
    "DocumentLike": "segtool.api",
    "ChunkRecord": "segtool.records",
    "SentenceRecord": "segtool.records",
    "Document": "segtool.types",
    "SegtoolError": "segtool.types",
    "UsageError": "segtool.types",
    "InputError": "segtool.types",
}

__all__ = ["ChunkRecord", "Document", "DocumentLike", "InputError", "SegtoolError",
           "SentenceRecord", "UsageError", "chunk", "chunk_documents", "segment_table",
           "split_documents", "split_sentences"]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ loads them
    from segtool.api import (
        DocumentLike,
        chunk,
        chunk_documents,
        segment_table,
        split_documents,
        split_sentences,
    )
    from segtool.records import ChunkRecord, SentenceRecord
    from segtool.types import Document, InputError, SegtoolError, UsageError


_SUBMODULES = ("adapters", "records")  # public modules reachable as segtool.NAME without an import


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"segtool.{name}")  # the import also sets the attribute
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'segtool' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
