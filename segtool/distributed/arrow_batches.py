"""Table in, table out: segtool's pipeline over one Arrow batch of documents at a time.

Distributed engines hand user code one batch of rows at a time — Ray Data's
``map_batches``, Spark's ``mapInArrow``, Dask's ``map_partitions`` — and run
that code in many processes.  :class:`Segmenter` is the piece they call: it
takes a ``pyarrow.Table`` (or ``RecordBatch``) of documents and returns a
table of sentence or chunk records with exactly the columns of the CLI's
Parquet output.  It builds its splitter and chunker (and loads their models)
on its first batch, once per process, and is cheap to pickle before that, so
an engine can ship it to its workers.

Records are the local executor's, ids included: the same option routing,
component construction and configuration identity, and the same
:class:`segtool.pipeline.Pipeline` turning spans into records.  Rows become
documents the way the JSONL and Parquet readers read records: the text under
``text_field``, the id under ``id_field`` (``str()`` of it), every other
column into ``meta`` as ``keep_fields``/``drop_fields``/``no_meta`` select
it.  A batch has no file position to number rows by, so an id column is
required.  A bad row (null text, null id) follows ``on_error``: ``"stop"``
raises :class:`segtool.InputError` with the local one-line message,
``"skip"`` drops the document and counts it in :attr:`Segmenter.stats`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from segtool.types import BadInput, Document, UsageError

__all__ = ["Segmenter", "output_schema", "segment_batches"]


def output_schema(kind: str = "chunks") -> Any:
    """The Arrow schema of the records (``"chunks"`` or ``"sentences"``): the Parquet writer's."""
    from segtool.writers.parquet import CHUNK_SCHEMA, SENTENCE_SCHEMA

    return CHUNK_SCHEMA if kind == "chunks" else SENTENCE_SCHEMA


@dataclass
class _Built:
    """What a process builds once: the components, their identity key and the row encoder."""

    splitter: Any
    chunker: Any
    key: str
    writer: Any


@dataclass
class Segmenter:
    """A picklable, callable ``table → records table`` with segtool's configuration.

    ``options`` are the CLI's flags in snake_case (``max_tokens=256``,
    ``embedder="model2vec"``) and are checked when the object is created, so a
    typo fails on the driver, not in a worker.  ``chunker=None`` gives sentence
    records.  ``source`` is every record's ``source``, or take it per row from
    ``source_field`` (that column then stays out of ``meta``).
    """

    splitter: str = "rules"
    chunker: str | None = "window"
    text_field: str = "text"
    id_field: str = "id"
    source: str = "table"
    source_field: str | None = None
    keep_fields: Sequence[str] | None = None
    drop_fields: Sequence[str] = ()
    no_meta: bool = False
    columns: Sequence[str] = ()
    column_types: dict[str, Any] | None = None
    on_error: str = "stop"
    large_text: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    routed: Any = None  # a Selection already routed by the CLI (then ``options`` is unused)
    on_bad: Callable[[BadInput], None] | None = None

    def __post_init__(self) -> None:
        from segtool.readers.options import ReadOptions
        from segtool.selection import route

        if self.on_error not in ("stop", "skip"):
            raise UsageError(f"on_error {self.on_error!r}: use 'stop' or 'skip'")
        if not self.id_field:
            raise UsageError("id_field is required — a batch has no file position to number rows "
                             "by — pass the name of the column with the document ids")
        self.selection = self.routed or route(self.options, self.splitter, self.chunker,
                                              error=TypeError, flag_style=False)
        self.read = ReadOptions(
            text_field=self.text_field, id_field=self.id_field,
            keep_fields=tuple(self.keep_fields) if self.keep_fields is not None else None,
            drop_fields=tuple(self.drop_fields),
            no_meta=self.no_meta, columns=tuple(self.columns))
        self.read.validate()
        from segtool.pipeline import RunStats

        self.stats = RunStats()
        self._built: _Built | None = None

    @property
    def kind(self) -> str:
        return "chunks" if self.chunker else "sentences"

    @property
    def schema(self) -> Any:
        """The output schema (promoted ``columns`` typed once the first batch fixed them)."""
        return self._convert(self._build().writer.schema)

    def __getstate__(self) -> dict[str, Any]:
        """Ship the configuration, never built components: each process builds its own."""
        state = dict(self.__dict__)
        state["_built"] = None
        return state

    # -- building ------------------------------------------------------------
    def _build(self) -> _Built:
        if self._built is None:
            from segtool.selection import build, identity_key
            from segtool.writers.parquet import ParquetWriter

            split, chunk = build(self.selection)
            writer = ParquetWriter(kind=self.kind, columns=tuple(self.columns),
                                   column_types=self.column_types)
            self._built = _Built(split, chunk, identity_key(self.selection, split, chunk), writer)
        return self._built

    # -- rows → documents ----------------------------------------------------
    def documents(self, table: Any) -> Iterator[Document | BadInput]:
        """The rows of ``table`` as documents, read the way the Parquet reader reads rows."""
        import pyarrow as pa

        from segtool.readers.records import describe_fields, jsonable, make_document

        names = list(table.schema.names)
        for needed, what in ((self.text_field, "text_field"), (self.id_field, "id_field")):
            if needed not in names:
                raise UsageError(f"no column {needed!r} — {what} — columns: {describe_fields(names)}")
        kept = [n for n in names if n in (self.text_field, self.id_field, self.source_field)
                or self.read.wants(n)]
        raw = {self.text_field, *self.columns}  # promoted columns keep their Arrow values
        values = {n: table.column(n).to_pylist() for n in kept}
        text_type = table.schema.field(self.text_field).type
        binary = pa.types.is_binary(text_type) or pa.types.is_large_binary(text_type)
        for row in range(table.num_rows):
            record = {n: v[row] if n in raw else jsonable(v[row]) for n, v in values.items()}
            source = str(record.pop(self.source_field)) if self.source_field else self.source
            where = f"document {record.get(self.id_field)}"
            if binary and isinstance(record[self.text_field], bytes):
                try:
                    record[self.text_field] = record[self.text_field].decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield BadInput(source, where, f"invalid UTF-8 in text column ({exc.reason})")
                    continue
            yield make_document(record, source=source, index=row, location=where,
                                options=self.read)

    # -- documents → records ---------------------------------------------------
    def segment(self, items: Iterable[Document | BadInput]) -> Any:
        """The records of ``items`` as a ``pyarrow.Table`` with the output schema."""
        import pyarrow as pa

        from segtool.pipeline import Pipeline

        built = self._build()
        pipe = Pipeline(built.splitter, built.chunker, key=built.key, on_error=self.on_error,
                        on_bad=self.on_bad, columns=self.read.columns)
        rows = list(pipe.run(items))
        for name in ("documents", "empty_documents", "skipped", "records"):
            setattr(self.stats, name, getattr(self.stats, name) + getattr(pipe.stats, name))
        if not rows:
            return self._convert(pa.Table.from_batches([], schema=built.writer.schema))
        # The Parquet writer's own row encoder: same columns, meta as the same JSON string.
        return self._convert(pa.Table.from_batches([built.writer._batch(rows)]))

    def _convert(self, data: Any) -> Any:
        """Plain ``string`` text for engines without ``large_string`` (older Spark)."""
        if self.large_text:
            return data
        import pyarrow as pa

        schema = data if isinstance(data, pa.Schema) else data.schema
        plain = schema.set(schema.get_field_index("text"), pa.field("text", pa.string()))
        return plain if isinstance(data, pa.Schema) else data.cast(plain)

    def __call__(self, table: Any) -> Any:
        """One batch of document rows (Table or RecordBatch) → a Table of records."""
        return self.segment(self.documents(table))


def segment_batches(batches: Iterable[Any], **config: Any) -> Iterator[Any]:
    """Record batches for an iterator of document batches — the shape of Spark's ``mapInArrow``.

    ``config`` is :class:`Segmenter`'s (options as keywords go to ``options``).
    One :class:`Segmenter` serves the whole iterator, so components are built
    once per call (once per Spark task).
    """
    fields = set(Segmenter.__dataclass_fields__) - {"options"}
    own = {k: v for k, v in config.items() if k in fields}
    options = {**config.get("options", {}), **{k: v for k, v in config.items()
                                               if k not in fields and k != "options"}}
    seg = Segmenter(**own, options=options)
    for batch in batches:
        yield from seg(batch).to_batches()
