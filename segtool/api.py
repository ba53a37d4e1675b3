"""The Python API: the same pipeline the CLI runs, without files or exit codes.

    import segtool
    chunks = segtool.chunk(text, max_tokens=256)            # list of chunk records
    table = segtool.segment_table(arrow_table, max_tokens=256)  # pyarrow in, pyarrow out
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from segtool.pipeline import Pipeline, Record
from segtool.types import Document


def _pipeline(splitter: str, chunker: str | None, options: dict[str, Any], jobs: int = 1
              ) -> Pipeline:
    from segtool.executor import build_components, parallel_options

    split, chunk = build_components(splitter, chunker, options)
    config = {"splitter": splitter, "chunker": chunker,
              **{k: v for k, v in sorted(options.items()) if v is not None}}
    return Pipeline(split, chunk, config=config,
                    **parallel_options(splitter, chunker, options, jobs))


def split_sentences(text: str, *, splitter: str = "rules", doc_id: str = "text", **options: Any
              ) -> list[Record]:
    """Sentence records for one text (offsets into ``text``)."""
    pipe = _pipeline(splitter, None, options)
    return list(pipe.run([Document(id=doc_id, text=text, source=doc_id)]))


def chunk(text: str, *, splitter: str = "rules", chunker: str = "window", doc_id: str = "text",
          **options: Any) -> list[Record]:
    """Chunk records for one text; options are the CLI's flags in snake_case."""
    pipe = _pipeline(splitter, chunker, options)
    return list(pipe.run([Document(id=doc_id, text=text, source=doc_id)]))


def chunk_documents(docs: Iterable[Document], *, splitter: str = "rules", chunker: str = "window",
                    jobs: int = 1, **options: Any) -> list[Record]:
    """Chunk many documents with cross-document batching (model-based components).

    ``jobs`` > 1 (0: one per core) splits and chunks in worker processes, with
    the same records as ``jobs=1``; call it under ``if __name__ == "__main__":``
    in a script, as ``multiprocessing`` requires for spawned workers.
    """
    return list(_pipeline(splitter, chunker, options, jobs).run(docs))


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
    records = list(_pipeline(splitter, chunker, options).run(docs))
    schema = CHUNK_SCHEMA if chunker else SENTENCE_SCHEMA
    if chunker:
        for r in records:
            r["meta"] = json.dumps(r["meta"], ensure_ascii=False, sort_keys=True)
    return pa.Table.from_pylist(records, schema=schema)
