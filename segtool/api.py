"""The Python API: the same pipeline the CLI runs, without files or exit codes.

    import segtool
    chunks = segtool.chunk(text, max_tokens=256)            # list of chunk records
    table = segtool.segment_table(arrow_table, max_tokens=256)  # pyarrow in, pyarrow out
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from segtool.pipeline import Pipeline, Record
from segtool.types import BadInput, Document


def _records(splitter: str, chunker: str | None, options: dict[str, Any],
             docs: Iterable[Document | BadInput], jobs: int = 1) -> Iterator[Record]:
    """The same selection, identity, pipeline and executor as the CLI (so the same ids).

    An option no registered component declares, or one the selected components
    do not take, raises ``TypeError`` naming it (with a close match, if any).
    """
    from segtool import executor
    from segtool.selection import build, identity_key, route

    selection = route(options, splitter, chunker, error=TypeError, flag_style=False)
    split, chunk = build(selection)
    pipe = Pipeline(split, chunk, key=identity_key(selection, split, chunk))
    return executor.run(pipe, docs, selection=selection, jobs=jobs)


def split_sentences(text: str, *, splitter: str = "rules", doc_id: str = "text", **options: Any
              ) -> list[Record]:
    """Sentence records for one text (offsets into ``text``)."""
    return list(_records(splitter, None, options, [Document(id=doc_id, text=text, source=doc_id)]))


def chunk(text: str, *, splitter: str = "rules", chunker: str = "window", doc_id: str = "text",
          **options: Any) -> list[Record]:
    """Chunk records for one text; options are the CLI's flags in snake_case."""
    return list(_records(splitter, chunker, options,
                         [Document(id=doc_id, text=text, source=doc_id)]))


def chunk_documents(docs: Iterable[Document], *, splitter: str = "rules", chunker: str = "window",
                    jobs: int = 1, **options: Any) -> list[Record]:
    """Chunk many documents with cross-document batching (model-based components).

    ``jobs`` > 1 (0: one per core) splits and chunks in worker processes, with
    the same records as ``jobs=1``; call it under ``if __name__ == "__main__":``
    in a script, as ``multiprocessing`` requires for spawned workers.
    """
    return list(_records(splitter, chunker, options, docs, jobs))


def segment_table(table: Any, *, text_column: str = "text", id_column: str | None = None,
                  splitter: str = "rules", chunker: str | None = "window", **options: Any) -> Any:
    """``pyarrow.Table`` of documents → ``pyarrow.Table`` of chunk (or sentence) records."""
    import json

    import pyarrow as pa

    from segtool.writers.parquet import CHUNK_SCHEMA, SENTENCE_SCHEMA

    ids = table.column(id_column).to_pylist() if id_column else None
    texts = table.column(text_column).to_pylist()
    docs = (Document(id=str(ids[i]) if ids else f"row#{i}", text=t or "", source="table")
            for i, t in enumerate(texts))
    records = list(_records(splitter, chunker, options, docs))
    schema = CHUNK_SCHEMA if chunker else SENTENCE_SCHEMA
    if chunker:
        for r in records:
            r["meta"] = json.dumps(r["meta"], ensure_ascii=False, sort_keys=True)
    return pa.Table.from_pylist(records, schema=schema)
