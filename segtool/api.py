"""The Python API: the same pipeline the CLI runs, without files or exit codes.

    import segtool
    chunks = segtool.chunk(text, max_tokens=256)                 # list[ChunkRecord]
    chunks = segtool.chunk_documents(docs, max_tokens=256)       # str, dict, (id, text), Document
    table = segtool.segment_table(df, text_column="body")        # Arrow/pandas/datasets in, same out

Keyword options are the CLI's flags in snake_case and are checked the same
way; the selection, configuration identity, pipeline and executor are the
CLI's, so the same document id and options give the same records, ids
included.  Records are typed (:mod:`segtool.records`) and ``to_dict()`` /
``to_json()`` give exactly what the CLI writes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeAlias, TypeVar

from segtool.pipeline import Pipeline, Record
from segtool.records import ChunkRecord, SentenceRecord
from segtool.structure.options import StructureOptions
from segtool.types import BadInput, Document, UsageError

__all__ = ["DocumentLike", "chunk", "chunk_documents", "segment_table", "split_documents",
           "split_sentences"]


class LangChainLike(Protocol):
    """A LangChain ``Document`` as the API reads it (duck-typed: nothing is imported)."""

    page_content: str
    metadata: dict[str, Any]


class LlamaIndexLike(Protocol):
    """A LlamaIndex ``Document`` or ``TextNode`` as the API reads it."""

    text: str
    id_: str
    metadata: dict[str, Any]


DocumentLike: TypeAlias = (Document | str | Mapping[str, Any] | tuple[Any, str] | LangChainLike
                           | LlamaIndexLike)
"""What ``chunk_documents``/``split_documents`` take, item by item (see :func:`chunk_documents`)."""

TableLike = TypeVar("TableLike")


def _records(splitter: str, chunker: str | None, options: dict[str, Any],
             docs: Iterable[Document | BadInput], jobs: int = 1) -> Iterator[Record]:
    """The same selection, identity, pipeline and executor as the CLI (so the same ids).

    An option no registered component declares, or one the selected components
    do not take, raises ``TypeError`` naming it (with a close match, if any).
    """
    from segtool import executor
    from segtool.selection import build, identity_key, route

    structure, options = _structure_options(options, chunker is not None)
    selection = route(options, splitter, chunker, error=TypeError, flag_style=False)
    selection = replace(selection, structure=structure)
    split, chunk = build(selection)
    pipe = Pipeline(split, chunk, key=identity_key(selection, split, chunk), structure=structure)
    return executor.run(pipe, docs, selection=selection, jobs=jobs)


STRUCTURE_KEYS = ("structure", "section_level", "merge_sections", "heading_context")


def _structure_options(options: dict[str, Any], chunking: bool
                       ) -> tuple[StructureOptions, dict[str, Any]]:
    """The run-level structure options out of ``options``; the rest is routed to the
    components.  Texts given to the API have no known format: ``structure="md"`` (or
    ``"text"``) reads them as Markdown (plain-text paragraphs)."""
    rest = {k: v for k, v in options.items() if k not in STRUCTURE_KEYS}
    given = {k: options[k] for k in STRUCTURE_KEYS if options.get(k) is not None}
    try:
        structure = StructureOptions(**given)
        structure.check_chunking(chunking)
    except UsageError as exc:
        raise TypeError(re.sub(r"--([a-z-]+)", lambda m: m.group(1).replace("-", "_"),
                               str(exc))) from None
    return structure, rest


def _check_text(text: Any, what: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{what} takes the text as a str, not {type(text).__name__}")


def split_sentences(text: str, *, splitter: str = "rules", doc_id: str = "text", **options: Any
                    ) -> list[SentenceRecord]:
    """Sentence records for one text (offsets into ``text``); ``doc_id`` is also the source."""
    _check_text(text, "split_sentences")
    docs = [Document(id=doc_id, text=text, source=doc_id)]
    return [SentenceRecord(**r) for r in _records(splitter, None, options, docs)]


def chunk(text: str, *, splitter: str = "rules", chunker: str = "window", doc_id: str = "text",
          **options: Any) -> list[ChunkRecord]:
    """Chunk records for one text; options are the CLI's flags in snake_case."""
    _check_text(text, "chunk")
    docs = [Document(id=doc_id, text=text, source=doc_id)]
    return [ChunkRecord(**r) for r in _records(splitter, chunker, options, docs)]


# -- many documents ---------------------------------------------------------------------------

def _document(item: Any, n: int, text_field: str, id_field: str | None, source: str
              ) -> Document | BadInput:
    """One input item as a Document, or a BadInput saying why it cannot be one.

    Ids follow the CLI's rule for records: the item's own id when it has one
    (``id_field`` for dicts), else ``"<source>#<n>"`` with ``n`` its 0-based
    position in the input.
    """
    if isinstance(item, Document):
        return item
    where = f"docs[{n}]"
    numbered = f"{source}#{n}"
    if isinstance(item, str):
        return Document(id=numbered, text=item, source=source)
    if isinstance(item, Mapping):
        return _from_mapping(item, where, numbered, text_field, id_field, source)
    if isinstance(item, tuple) and len(item) == 2:
        doc_id, text = item
        if doc_id is None:
            return BadInput(source, where, "the id of an (id, text) pair is None",
                            hint="give every pair an id, or pass plain strings to number them")
        if not isinstance(text, str):
            return BadInput(source, where, f"the text of an (id, text) pair is a "
                            f"{type(text).__name__}, not a str", hint="pairs are (id, text)")
        return Document(id=doc_id if isinstance(doc_id, str) else str(doc_id), text=text,
                        source=source)
    text = getattr(item, "page_content", None)  # a LangChain Document
    if isinstance(text, str):
        own = getattr(item, "id", None)
        return Document(id=numbered if own is None else str(own), text=text, source=source,
                        meta=dict(getattr(item, "metadata", None) or {}))
    text, own = getattr(item, "text", None), getattr(item, "id_", None)  # a LlamaIndex node
    if isinstance(text, str) and isinstance(own, str):
        return Document(id=own, text=text, source=source,
                        meta=dict(getattr(item, "metadata", None) or {}))
    raise TypeError(f"{where}: cannot segment a {type(item).__name__} — give str, dict, "
                    "(id, text) pairs, segtool.Document, or LangChain/LlamaIndex documents")


def _from_mapping(item: Mapping[str, Any], where: str, numbered: str, text_field: str,
                  id_field: str | None, source: str) -> Document | BadInput:
    """A dict as the CLI reads a JSONL line: other keys (the id's too) become ``meta``."""
    from segtool.readers.records import describe_fields, json_type

    if text_field not in item:
        return BadInput(source, where, f"no text field '{text_field}' "
                        f"(fields: {describe_fields(list(item))})", hint="pass text_field=NAME")
    text = item[text_field]
    if not isinstance(text, str):
        return BadInput(source, where, f"text field '{text_field}' is {json_type(text)}, "
                        "not a string", hint="pass text_field=NAME for the field with the text")
    doc_id = numbered
    if id_field is not None:
        value = item.get(id_field)
        if value is None:
            return BadInput(source, where, f"no id field '{id_field}' "
                            f"(fields: {describe_fields(list(item))})",
                            hint="pass id_field=NAME, or leave it out to number the documents")
        doc_id = value if isinstance(value, str) else str(value)
    meta = {key: value for key, value in item.items() if key != text_field}
    return Document(id=doc_id, text=text, source=source, meta=meta)


def _documents(docs: Iterable[DocumentLike], what: str, text_field: str, id_field: str | None,
               source: str) -> Iterator[Document | BadInput]:
    """The items of ``docs`` as Documents; a container that is not a list of documents is
    refused before anything is built (a str or a DataFrame would iterate as characters or
    column names)."""
    kind = _table_kind(docs)
    hint = ""
    if kind == "dataset_dict":
        hint = "pick a split: docs['train']"
    elif kind not in (None, "dataset"):  # a Dataset iterates as dicts: fine
        hint = "use segtool.segment_table() for tables"
    elif isinstance(docs, str | bytes):
        hint = f"use segtool.{'chunk' if what == 'chunk_documents' else 'split_sentences'}(text)"
    elif isinstance(docs, Mapping):
        hint = "wrap one document in a list"
    if hint:
        raise TypeError(f"{what} takes an iterable of documents, not a {type(docs).__name__} — "
                        f"{hint}")
    return (_document(item, n, text_field, id_field, source) for n, item in enumerate(docs))


def split_documents(docs: Iterable[DocumentLike], *, splitter: str = "rules", text_field: str = "text",
                    id_field: str | None = None, source: str = "doc", jobs: int = 1, **options: Any
                    ) -> list[SentenceRecord]:
    """Sentence records for many documents, in input order (see :func:`chunk_documents`)."""
    items = _documents(docs, "split_documents", text_field, id_field, source)
    return [SentenceRecord(**r) for r in _records(splitter, None, options, items, jobs)]


def chunk_documents(docs: Iterable[DocumentLike], *, splitter: str = "rules", chunker: str = "window",
                    text_field: str = "text", id_field: str | None = None, source: str = "doc",
                    jobs: int = 1, **options: Any) -> list[ChunkRecord]:
    """Chunk many documents with cross-document batching (model-based components).

    Each item may be a ``str``; a dict read the way the CLI reads a JSONL
    line (text under ``text_field``, id under ``id_field``, every other key —
    the id's too — kept as ``meta``); an ``(id, text)`` pair; a
    :class:`segtool.Document`; or a LangChain ``Document`` / LlamaIndex
    node (their ``id``/``id_`` and ``metadata`` are kept).  Items without an
    id are numbered ``"<source>#<n>"``, ``n`` their 0-based position, as the
    CLI numbers JSONL records — so ``source="data.jsonl"`` gives the very
    records ``segtool chunk data.jsonl`` writes (given that file's dicts).  A
    bad item raises :class:`segtool.InputError` naming it (``docs[3]``).

    ``jobs`` > 1 (0: one per core) splits and chunks in worker processes, with
    the same records as ``jobs=1``; it works in any script, with or without
    an ``if __name__ == "__main__":`` guard (the workers never re-run it).
    """
    items = _documents(docs, "chunk_documents", text_field, id_field, source)
    return [ChunkRecord(**r) for r in _records(splitter, chunker, options, items, jobs)]


# -- tables -------------------------------------------------------------------------------------

def _table_kind(data: Any) -> str | None:
    """Which accepted table type ``data`` is, without importing a library it cannot be from."""
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        if isinstance(data, pa.Table):
            return "table"
        if isinstance(data, pa.RecordBatch):
            return "batch"
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, pd.DataFrame):
        return "pandas"
    ds = sys.modules.get("datasets")
    if ds is not None and isinstance(data, ds.Dataset):
        return "dataset"
    if ds is not None and isinstance(data, ds.DatasetDict):
        return "dataset_dict"
    return None


def _columns_of(data: Any, kind: str) -> list[str]:
    if kind == "pandas":
        return [str(c) for c in data.columns]
    return list(data.column_names) if kind == "dataset" else list(data.schema.names)


def _to_arrow(data: Any, kind: str, needed: list[str]) -> Any:
    """Only the ``needed`` columns of ``data`` as a ``pyarrow.Table`` (no per-row Python)."""
    import pyarrow as pa

    if kind == "pandas":
        return pa.Table.from_pandas(data[needed], preserve_index=False)
    if kind == "dataset":  # the arrow view applies any select/filter/shuffle indices
        return data.select_columns(needed).with_format("arrow")[:]
    if kind == "batch":
        return pa.Table.from_batches([data.select(needed)])
    return data.select(needed)


def _from_arrow(out: Any, kind: str, original: Any) -> Any:
    """The result as the kind of object the caller gave."""
    import pyarrow as pa

    if kind == "batch":
        return pa.RecordBatch.from_arrays([c.combine_chunks() for c in out.columns], schema=out.schema)
    if kind == "pandas":
        frame = out.to_pandas()
        if "ctx_start" in frame.columns:  # nullable integers, not floats with NaN
            frame["ctx_start"] = frame["ctx_start"].astype("Int64")
        return frame
    if kind == "dataset":
        import datasets

        return datasets.Dataset(out, split=original.split)
    return out


def _check_columns(data: Any, kind: str, text_column: str, id_column: str | None,
                   keep_columns: Sequence[str], output: Sequence[str]) -> list[str]:
    """The input columns to read, or a one-line error naming the column and the way out."""
    present = _columns_of(data, kind)
    if isinstance(keep_columns, str):
        raise TypeError(f"keep_columns takes a list of column names, not a str — "
                        f"keep_columns=[{keep_columns!r}]")
    wanted = [("text_column", text_column), *([("id_column", id_column)] if id_column else []),
              *(("keep_columns", c) for c in keep_columns)]
    for keyword, name in wanted:
        if name not in present:
            from segtool.readers.records import describe_fields

            raise UsageError(f"no column {name!r} — {keyword} — columns: {describe_fields(present)}")
    clash = [c for c in keep_columns if c in output]
    if clash:
        raise UsageError(f"keep_columns {', '.join(map(repr, clash))}: the output has a column of "
                         "that name (the document id is 'doc_id') — rename the input column first")
    return list(dict.fromkeys(name for _, name in wanted))


def _row_of_each_record(records: Sequence[Record], ids: Sequence[str], texts: Sequence[str]
                        ) -> list[int]:
    """The input row each record came from.

    Records come in input order, a document's records together, numbered from
    0; a blank document has none.  So each record numbered 0 belongs to the
    next non-blank row with its document id.
    """
    rows: list[int] = []
    row = -1
    for rec in records:
        if rec["index"] == 0:
            row += 1
            while ids[row] != rec["doc_id"] or not texts[row].strip():
                row += 1
        rows.append(row)
    return rows


def segment_table(data: TableLike, *, text_column: str = "text", id_column: str | None = None,
                  keep_columns: Sequence[str] = (), splitter: str = "rules",
                  chunker: str | None = "window", source: str = "table", jobs: int = 1,
                  **options: Any) -> TableLike:
    """Documents in a table → one row per chunk (or sentence, with ``chunker=None``).

    ``data`` is a ``pyarrow.Table`` or ``RecordBatch``, a ``pandas.DataFrame``
    or a Hugging Face ``datasets.Dataset``, and the result is of the same kind,
    with the columns of the CLI's Parquet output (``meta`` as a JSON string)
    followed by ``keep_columns``, copied from each record's input row.  The
    input is converted through Arrow without per-row Python work beyond
    reading the text (and id) column.  Document ids are ``id_column``'s values
    (``str()`` of them) or ``"row#<n>"``; a null text is an empty document (no
    rows).  A missing column or a kept column that clashes with an output
    column raises :class:`segtool.UsageError`; a null id raises
    :class:`segtool.InputError`.
    """
    import pyarrow as pa

    from segtool.writers.parquet import CHUNK_SCHEMA, SENTENCE_SCHEMA

    kind = _table_kind(data)
    if kind is None or kind == "dataset_dict":
        hint = ("pick a split: data['train']" if kind else
                "give a pyarrow Table or RecordBatch, a pandas DataFrame or a datasets.Dataset")
        raise TypeError(f"segment_table cannot read a {type(data).__name__} — {hint}")
    schema = CHUNK_SCHEMA if chunker else SENTENCE_SCHEMA
    needed = _check_columns(data, kind, text_column, id_column, keep_columns, schema.names)
    table = _to_arrow(data, kind, needed)
    text_type = table.schema.field(text_column).type
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)
            or pa.types.is_null(text_type) or str(text_type) == "string_view"):
        raise UsageError(f"column {text_column!r} holds {text_type}, not text — text_column — "
                         "pass text_column=NAME for the column with the text")
    texts = [t or "" for t in table.column(text_column).to_pylist()]
    raw_ids = table.column(id_column).to_pylist() if id_column else None
    ids = ([f"row#{i}" for i in range(len(texts))] if raw_ids is None
           else [v if isinstance(v, str) else "" if v is None else str(v) for v in raw_ids])

    def documents() -> Iterator[Document | BadInput]:
        for i, text in enumerate(texts):
            if raw_ids is not None and raw_ids[i] is None:
                yield BadInput(source, f"row {i}", f"column '{id_column}' is null",
                               hint="fill in the ids, or leave out id_column to number the rows")
            else:
                yield Document(id=ids[i], text=text, source=source)

    records = list(_records(splitter, chunker, options, documents(), jobs))
    columns = {name: [r[name] for r in records] for name in schema.names
               if name not in ("meta", "headings")}
    if chunker:
        import json

        from segtool.writers.parquet import headings_of

        columns["headings"] = [headings_of(r["meta"]) for r in records]

        columns["meta"] = [json.dumps(r["meta"], ensure_ascii=False, sort_keys=True)
                           for r in records]
    out = pa.Table.from_pydict(columns, schema=schema)
    if keep_columns:
        rows = pa.array(_row_of_each_record(records, ids, texts), pa.int64())
        kept = table.select(list(keep_columns)).take(rows)
        for name in keep_columns:
            out = out.append_column(kept.schema.field(name), kept.column(name))
    return _from_arrow(out, kind, data)
