"""Compose the stages: documents → sentence spans → chunks → records.

A generator pipeline in the spirit of datatrove: each stage consumes an
iterator and yields, and nothing is held beyond one batch of documents.  The
batch exists so model-based components see many documents per call (a GPU or a
many-core CPU stays busy even when each document is short).  The pipeline never
prints and never exits; bad input is either raised (``on_error="stop"``) or
handed to a callback and counted (``"skip"``); only counts are kept, so a run
with millions of bad records needs no more memory than a clean one.

With ``"skip"``, a skipped document is absent from the output: its records
are held back until the document is complete (a file read in blocks may turn
out unreadable in its last block), in memory up to a bound and then in an
anonymous temporary file, and dropped if the document is rejected.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

from segtool.identity import record_id
from segtool.structure.options import StructureOptions
from segtool.types import (
    BadInput,
    Chunker,
    ChunkSpan,
    Document,
    InputError,
    SegtoolError,
    SentenceSplitter,
    Span,
    document_location,
)

Record = dict[str, Any]


@dataclass(slots=True)
class DocResult:
    """What the splitter and chunker made of one document (or why they could not)."""

    spans: list[Span] | BadInput
    chunks: list[ChunkSpan] | BadInput | None
    # Section headings of a Markdown/HTML document, ``(start, level, title)`` in order: a
    # huge file is read in parts, and the next part's heading paths continue from these.
    outline: tuple[tuple[int, int, str], ...] = ()

DEFAULT_DOC_BATCH = 64
DEFAULT_BATCH_CHARS = 1_000_000
DEFAULT_HOLD_CHARS = 4_000_000  # record text held in memory before spilling to a temp file


@dataclass
class RunStats:
    """What a run did, for the summary line: counts only (bad inputs go to ``on_bad``)."""

    documents: int = 0
    empty_documents: int = 0
    skipped: int = 0
    records: int = 0


class _Held:
    """Records of one document withheld until the document is known to be complete.

    Bounded memory: past ``limit`` characters of record text, records move to
    an anonymous temporary file (deleted by the OS even if the process dies).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.records: list[Record] = []
        self.size = 0
        self.spool: IO[bytes] | None = None
        self.spillable = True

    def add(self, record: Record) -> None:
        self.records.append(record)
        self.size += len(record["text"]) + 256
        if self.size > self.limit and self.spillable:
            self._spill()

    def _spill(self) -> None:
        try:
            data = pickle.dumps(self.records, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # e.g. meta nested too deeply to pickle: keep this document in memory
            self.spillable = False
            return
        try:
            if self.spool is None:
                self.spool = tempfile.TemporaryFile(prefix="segtool-held-")
            self.spool.write(data)
        except OSError as exc:
            raise SegtoolError(
                f"cannot hold back the records of a document read in blocks: "
                f"{exc.strerror or exc} — temporary directory {tempfile.gettempdir()} — free "
                "space there or point TMPDIR elsewhere") from None
        self.records, self.size = [], 0

    def release(self) -> Iterator[Record]:
        """All held records, in order; the holder is empty afterwards."""
        spool, self.spool = self.spool, None
        if spool is not None:
            with spool:
                spool.seek(0)
                while True:
                    try:
                        batch = pickle.load(spool)
                    except EOFError:
                        break
                    yield from batch
        records, self.records, self.size = self.records, [], 0
        yield from records

    def discard(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        self.records, self.size = [], 0


@dataclass(slots=True)
class _Open:
    """The document records are being emitted for (the last one seen)."""

    id: str
    source: str
    parts: int = 1
    index: int = 0  # records numbered so far
    sentences: int = 0  # sentences in the parts seen so far
    rejected: bool = False
    closed: bool = False  # complete: nothing more of it can follow
    held: _Held | None = None
    # sections open at the end of the parts seen so far, (level, title): the heading path a
    # later part of a huge Markdown/HTML file continues from
    sections: list[tuple[int, str]] = field(default_factory=list)

    def is_file(self) -> bool:
        """A whole file as one document (text, Markdown, HTML): its reader's errors are its own."""
        return self.id == self.source


def work(batch: Sequence[Document | BadInput]) -> list[Document]:
    """The documents of a batch that need computing: every non-empty one, in order."""
    return [d for d in batch if isinstance(d, Document) and _has_text(d.text)]


def batches(items: Iterable[Document | BadInput], max_docs: int, max_chars: int
             ) -> Iterator[list[Document | BadInput]]:
    batch: list[Document | BadInput] = []
    chars = 0
    for item in items:
        batch.append(item)
        if isinstance(item, Document):
            chars += len(item.text)
        if len(batch) >= max_docs or chars >= max_chars:
            yield batch
            batch, chars = [], 0
        del item  # else the previous (up to 64 MiB) block stays alive while the next is read
    if batch:
        yield batch


def _has_text(text: str) -> bool:
    """Anything but whitespace?  Without copying the text, as ``strip()`` would."""
    return bool(text) and not text.isspace()


class Pipeline:
    """One configured run; the CLI, the Python API and benchmarks all use it."""

    def __init__(
        self,
        splitter: SentenceSplitter,
        chunker: Chunker | None = None,
        *,
        key: str = "",
        on_error: str = "stop",
        on_bad: Callable[[BadInput], None] | None = None,
        doc_batch: int = DEFAULT_DOC_BATCH,
        batch_chars: int = DEFAULT_BATCH_CHARS,
        hold_chars: int = DEFAULT_HOLD_CHARS,
        columns: Sequence[str] = (),
        structure: StructureOptions | None = None,
    ) -> None:
        if on_error not in ("stop", "skip"):
            raise SegtoolError(f"--on-error {on_error!r}: use stop or skip", exit_code=2)
        self.splitter = splitter
        self.chunker = chunker
        self.key = key  # the configuration key record ids derive from (segtool.identity)
        self.on_error = on_error
        self.on_bad = on_bad
        self.doc_batch = doc_batch
        self.batch_chars = batch_chars
        self.hold_chars = hold_chars
        # Input fields promoted out of ``meta`` to top-level keys after the fixed ones.
        self.columns = tuple(columns)
        # Document structure (segtool.structure): on by default, off with --structure off.
        self.structure = structure if structure is not None else StructureOptions()
        self.stats = RunStats()
        self._open: _Open | None = None

    # -- error policy -------------------------------------------------------
    def reject(self, bad: BadInput) -> None:
        """Apply --on-error to one bad document: raise (stop) or record and report it (skip)."""
        if self.on_error == "stop":
            raise InputError(bad.message())
        self.stats.skipped += 1
        if self.on_bad is not None:
            self.on_bad(bad)

    # -- stages -------------------------------------------------------------
    def compute(self, docs: Sequence[Document]) -> list[DocResult]:
        """Spans (and chunks) for each document, or the BadInput that stopped it.

        Pure: no statistics, no error policy, no records — so it can run in a
        worker process (``jobs > 1``) and its results be emitted in order here.
        """
        if not docs:
            return []
        split = self._split(docs)
        docs = list(docs)
        blocks, owners = self._structure(docs, split)
        if self.chunker is None:
            return [DocResult(s, None) for s in split]
        ok = [k for k, s in enumerate(split) if not isinstance(s, BadInput)]
        if any(blocks[k] is not None for k in ok):
            from segtool.structure.apply import chunk_sections

            chunked = chunk_sections(
                self._chunk, self.chunker, [docs[k] for k in ok],
                [split[k] for k in ok], [owners[k] for k in ok],  # type: ignore[misc]
                [blocks[k] for k in ok], self.structure)
        else:
            chunked = self._chunk([docs[k] for k in ok], [split[k] for k in ok])  # type: ignore[misc]
        out = [DocResult(s, None) for s in split]
        for k, c in zip(ok, chunked, strict=True):
            out[k] = DocResult(split[k], c, _outline(blocks[k]))
        return out

    def _structure(self, docs: list[Document], split: list[list[Span] | BadInput]
                   ) -> tuple[list[Any], list[list[int] | None]]:
        """Find each document's blocks and cut its sentence spans at them (in place).

        Returns the blocks (``None`` for a document without structure) and, for
        Markdown/HTML, the block index of every span; plain-text paragraphs only
        cut sentences, so their documents are chunked whole.  A document whose
        markup ``--structure md|text`` overrides is replaced in ``docs``.
        """
        blocks: list[Any] = [None] * len(docs)
        owners: list[list[int] | None] = [None] * len(docs)
        if not self.structure.on:
            return blocks, owners
        from segtool.structure.apply import already_cut, cut_spans
        from segtool.structure.blocks import document_blocks

        for k, doc in enumerate(docs):
            spans = split[k]
            markup = self.structure.markup_for(doc.markup, doc.blocks is not None)
            if markup != doc.markup:
                doc = docs[k] = replace(doc, markup=markup)
            if isinstance(spans, BadInput) or (not doc.markup and doc.blocks is None):
                continue
            try:
                found = document_blocks(doc)
                if not found or (len(found) == 1 and doc.markup == "text"):
                    continue  # one plain paragraph: nothing to cut
                if doc.markup == "text" and doc.blocks is None and already_cut(
                        doc.text, spans, found):
                    continue  # the splitter ended a sentence at every blank line already
                split[k], own = cut_spans(doc.text, spans, found)
            except SegtoolError:
                raise
            except Exception as exc:
                split[k] = _failed(doc, "structure parsing", exc)
                continue
            if doc.markup != "text" or doc.blocks is not None:
                blocks[k], owners[k] = found, own
        return blocks, owners

    def _split(self, docs: Sequence[Document]) -> list[list[Span] | BadInput]:
        """Split a batch; if the batch call fails, retry one by one to name the culprit."""
        texts = [d.text for d in docs]
        try:
            return list(self.splitter.split_batch(texts))
        except SegtoolError:
            raise
        except Exception:
            if len(docs) == 1:
                raise
        out: list[list[Span] | BadInput] = []
        for doc in docs:
            try:
                out.append(self.splitter.split_batch([doc.text])[0])
            except SegtoolError:
                raise
            except Exception as exc:
                out.append(_failed(doc, "sentence splitting", exc))
        return out

    def _chunk(self, docs: Sequence[Document], spans: Sequence[list[Span]]
               ) -> list[list[ChunkSpan] | BadInput]:
        assert self.chunker is not None
        try:
            return self._chunk_call(docs, spans)
        except SegtoolError:
            raise
        except Exception:
            if len(docs) == 1:
                raise
        out: list[list[ChunkSpan] | BadInput] = []
        for doc, sp in zip(docs, spans, strict=True):
            try:
                out.append(self._chunk_call([doc], [sp])[0])
            except SegtoolError:
                raise
            except Exception as exc:
                out.append(_failed(doc, "chunking", exc))
        return out

    def _chunk_call(self, docs: Sequence[Document], spans: Sequence[list[Span]]
                    ) -> list[list[ChunkSpan]]:
        """Chunk through ``chunk_documents`` when the chunker needs more than the text.

        A chunker that reads per-document data (the intent chunker looks up each
        document's intents by id or in a record field) defines
        ``chunk_documents(docs, sentences)``; every other chunker only sees texts.
        """
        assert self.chunker is not None
        by_document = getattr(self.chunker, "chunk_documents", None)
        if by_document is not None:
            return list(by_document(docs, spans))
        return list(self.chunker.chunk_batch([d.text for d in docs], spans))

    def run(self, items: Iterable[Document | BadInput]) -> Iterator[Record]:
        """Yield sentence records (no chunker) or chunk records, in input order, computing
        everything in this process (``segtool.executor`` runs ``compute`` elsewhere)."""
        for batch in self.batches(items):
            yield from self.emit_batch(batch, self.compute(work(batch)))
            del batch  # do not hold the emitted batch while the next one is read
        yield from self.finish()

    def batches(self, items: Iterable[Document | BadInput]) -> Iterator[list[Document | BadInput]]:
        """The input grouped the way this pipeline computes it (for executors)."""
        return batches(items, self.doc_batch, self.batch_chars)

    def count(self, doc: Document) -> bool:
        """Count a document in the statistics; ``False`` when it is empty (nothing to do)."""
        if doc.part == 0:
            self.stats.documents += 1
        if not _has_text(doc.text):
            if doc.part == 0:
                self.stats.empty_documents += 1
            return False
        return True

    def emit_batch(self, batch: Sequence[Document | BadInput], results: Sequence[DocResult]
                   ) -> Iterator[Record]:
        """Records of one batch in input order, given ``compute(work(batch))``.

        Bad input from the reader is rejected where it stands, so everything
        read before it is written first; every document is counted; the
        computed ones are turned into records (or rejected, if they failed).
        The single-process loop and the ``--jobs`` executor both end here, and
        both call :meth:`finish` after the last batch.
        """
        computed = iter(results)
        for item in batch:
            if isinstance(item, BadInput):
                yield from self._bad(item)
            else:
                counted = self.count(item)
                yield from self._document(item, next(computed) if counted else None)

    def finish(self) -> Iterator[Record]:
        """Records still held for the last document (the input has ended, so it is complete)."""
        yield from self._close()

    # -- one document at a time ----------------------------------------------
    def _close(self) -> Iterator[Record]:
        """The open document is complete: release what was held for it."""
        current = self._open
        if current is None or current.closed:
            return
        current.closed = True
        if current.held is not None:
            for record in current.held.release():
                self.stats.records += 1
                yield record

    def _drop(self, current: _Open, bad: BadInput) -> None:
        """Reject the open document: its held records are discarded, later parts ignored."""
        current.rejected = True
        if current.held is not None:
            current.held.discard()
        self.reject(bad)

    def _bad(self, bad: BadInput) -> Iterator[Record]:
        current = self._open
        belongs = (current is not None and not current.closed and not current.rejected
                   and bad.source == current.source and (current.is_file() or current.parts > 1))
        if belongs:  # the reader gave up part-way through the document still open
            assert current is not None
            self._drop(current, bad)
            return
        yield from self._close()
        self.reject(bad)

    def _document(self, doc: Document, res: DocResult | None) -> Iterator[Record]:
        current = self._open
        if current is not None and not current.closed and doc.part > 0 and doc.id == current.id:
            current.parts += 1
            if current.rejected:
                return  # a later block of a document already reported as skipped
        else:
            yield from self._close()
            previous = current
            held = _Held(self.hold_chars) if self.on_error == "skip" else None
            current = self._open = _Open(doc.id, doc.source, held=held)
            if previous is not None and doc.part == 0 and doc.id == previous.id:
                self._drop(current, BadInput(
                    doc.source, document_location(doc),
                    f"duplicate document id '{doc.id}' (the previous document has the same id)",
                    hint="ids must be unique: fix the ids, or leave out --id-field to number "
                         "records as SOURCE#N"))
                return
        if res is None:  # empty: counted, nothing to emit
            return
        if isinstance(res.spans, BadInput):
            self._drop(current, res.spans)
            return
        records: Iterator[Record]
        if self.chunker is None:
            records = self._sentence_records(doc, res.spans, current)
        else:
            sent_base = current.sentences
            current.sentences += len(res.spans)
            if isinstance(res.chunks, BadInput):
                self._drop(current, res.chunks)
                return
            chunks = res.chunks or []
            if current.sections:  # a later part: continue the earlier parts' heading paths
                from segtool.structure.apply import continue_headings

                chunks = continue_headings(chunks, current.sections, res.outline,
                                           self.structure.heading_context)
            if res.outline:
                from segtool.structure.apply import close_sections

                close_sections(current.sections, res.outline)
            records = self._chunk_records(doc, chunks, sent_base, current)
        if current.held is not None:
            for record in records:
                current.held.add(record)
            return
        for record in records:
            self.stats.records += 1
            yield record

    def _promote(self, doc: Document) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(meta, columns)`` of a document: ``--columns`` fields leave ``meta``.

        A promoted field the record lacks is ``None`` (null), so every record
        has every column and the Parquet schema stays fixed.
        """
        if not self.columns:
            return doc.meta, {}
        meta = {key: value for key, value in doc.meta.items() if key not in self.columns}
        return meta, {name: doc.meta.get(name) for name in self.columns}

    def _sentence_records(self, doc: Document, spans: Sequence[Span], current: _Open
                          ) -> Iterator[Record]:
        base = doc.offset
        extra = self._promote(doc)[1]
        for span in spans:
            start, end = base + span.start, base + span.end
            index, current.index = current.index, current.index + 1
            record = {
                "id": record_id(doc.id, start, end, self.key),
                "doc_id": doc.id,
                "index": index,
                "start": start,
                "end": end,
                "text": doc.text[span.start : span.end],
                "source": doc.source,
            }
            if extra:
                record.update(extra)
            yield record

    def _chunk_records(self, doc: Document, chunks: Sequence[Any], sent_base: int,
                       current: _Open) -> Iterator[Record]:
        base = doc.offset
        limit = getattr(self.chunker, "max_tokens", None)
        doc_meta, extra = self._promote(doc)
        heading_context = self.structure.on and self.structure.heading_context
        for c in chunks:
            start, end = base + c.start, base + c.end
            if limit is not None and c.n_tokens > limit:  # a lone character over the limit
                from segtool.chunkers.units import warn_over_limit

                warn_over_limit(doc.source, doc.id, start, c.n_tokens, limit)
            meta = dict(doc_meta)
            if c.meta:
                meta.update(c.meta)
            index, current.index = current.index, current.index + 1
            record = {
                "id": record_id(doc.id, start, end, self.key),
                "doc_id": doc.id,
                "index": index,
                "start": start,
                "end": end,
                "text": doc.text[c.start : c.end],
                "n_tokens": c.n_tokens,
                "ctx_start": None if c.ctx_start is None else base + c.ctx_start,
                "sent_start": sent_base + c.sent_start,
                "sent_end": sent_base + c.sent_end,
                "source": doc.source,
                "meta": meta,
            }
            if heading_context:  # the heading path as text for embedding, never inside text
                record["context"] = c.context or ""
            if extra:
                record.update(extra)
            yield record


def _outline(blocks: Any) -> tuple[tuple[int, int, str], ...]:
    """``(start, level, title)`` of each section heading among a document's blocks.

    Blank lines at the very start of a text belong to the block after them for
    heading paths, so a heading right after them counts from 0.
    """
    if not blocks:
        return ()
    lead = blocks[0].end if blocks[0].kind == "blank" else 0
    return tuple((0 if b.start == lead else b.start, b.level, b.title)
                 for b in blocks if b.level > 0)


def _failed(doc: Document, stage: str, exc: BaseException) -> BadInput:
    reason = f"{stage} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return BadInput(source=doc.source, location=document_location(doc), reason=reason.rstrip(": "))
