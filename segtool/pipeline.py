"""Compose the stages: documents → sentence spans → chunks → records.

A generator pipeline in the spirit of datatrove: each stage consumes an
iterator and yields, and nothing is held beyond one batch of documents.  The
batch exists so model-based components see many documents per call (a GPU or a
many-core CPU stays busy even when each document is short).  The pipeline never
prints and never exits; bad input is either raised (``on_error="stop"``) or
handed to a callback and counted (``"skip"``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from segtool.types import (
    BadInput,
    Chunker,
    ChunkSpan,
    Document,
    InputError,
    SegtoolError,
    SentenceSplitter,
    Span,
)

Record = dict[str, Any]


@dataclass(slots=True)
class DocResult:
    """What the splitter and chunker made of one document (or why they could not)."""

    spans: list[Span] | BadInput
    chunks: list[ChunkSpan] | BadInput | None

DEFAULT_DOC_BATCH = 64
DEFAULT_BATCH_CHARS = 1_000_000


@dataclass
class RunStats:
    """What a run did, for the summary line and for ``--on-error skip`` reporting."""

    documents: int = 0
    empty_documents: int = 0
    skipped: int = 0
    records: int = 0
    errors: list[BadInput] = field(default_factory=list)


def config_key(config: Mapping[str, Any]) -> str:
    """A stable string for the options that shape the output (part of every record id)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def record_id(doc_id: str, start: int, end: int, key: str) -> str:
    """Content-derived id: same document, span and configuration → same id."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{key}".encode()).hexdigest()
    return digest[:24]


def work(batch: Sequence[Document | BadInput]) -> list[Document]:
    """The documents of a batch that need computing: every non-empty one, in order."""
    return [d for d in batch if isinstance(d, Document) and d.text.strip()]


def _batches(items: Iterable[Document | BadInput], max_docs: int, max_chars: int
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
    if batch:
        yield batch


class Pipeline:
    """One configured run; the CLI, the Python API and benchmarks all use it."""

    def __init__(
        self,
        splitter: SentenceSplitter,
        chunker: Chunker | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        on_error: str = "stop",
        on_bad: Callable[[BadInput], None] | None = None,
        doc_batch: int = DEFAULT_DOC_BATCH,
        batch_chars: int = DEFAULT_BATCH_CHARS,
        jobs: int = 1,
        factory: Callable[[], tuple[SentenceSplitter, Chunker | None]] | None = None,
    ) -> None:
        if on_error not in ("stop", "skip"):
            raise SegtoolError(f"--on-error {on_error!r}: use stop or skip", exit_code=2)
        self.splitter = splitter
        self.chunker = chunker
        self.key = config_key(config or {})
        self.on_error = on_error
        self.on_bad = on_bad
        self.doc_batch = doc_batch
        self.batch_chars = batch_chars
        if jobs > 1 and factory is None:
            raise ValueError("jobs > 1 needs a picklable factory that builds the components")
        self.jobs = max(1, jobs)
        self.factory = factory
        self.stats = RunStats()
        self._index: tuple[str, int] = ("", 0)  # running record index per document id
        self._sentences: tuple[str, int] = ("", 0)  # sentences seen in earlier parts of a doc

    # -- error policy -------------------------------------------------------
    def reject(self, bad: BadInput) -> None:
        """Apply --on-error to one bad document: raise (stop) or record and report it (skip)."""
        if self.on_error == "stop":
            raise InputError(bad.message())
        self.stats.skipped += 1
        self.stats.errors.append(bad)
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
        if self.chunker is None:
            return [DocResult(s, None) for s in split]
        ok = [k for k, s in enumerate(split) if not isinstance(s, BadInput)]
        chunked = self._chunk([docs[k] for k in ok], [split[k] for k in ok])  # type: ignore[misc]
        out = [DocResult(s, None) for s in split]
        for k, c in zip(ok, chunked, strict=True):
            out[k] = DocResult(split[k], c)
        return out

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
            return list(self.chunker.chunk_batch([d.text for d in docs], spans))
        except SegtoolError:
            raise
        except Exception:
            if len(docs) == 1:
                raise
        out: list[list[ChunkSpan] | BadInput] = []
        for doc, sp in zip(docs, spans, strict=True):
            try:
                out.append(self.chunker.chunk_batch([doc.text], [sp])[0])
            except SegtoolError:
                raise
            except Exception as exc:
                out.append(_failed(doc, "chunking", exc))
        return out

    def _next_index(self, doc_id: str) -> int:
        current, n = self._index
        n = n if current == doc_id else 0
        self._index = (doc_id, n + 1)
        return n

    def run(self, items: Iterable[Document | BadInput]) -> Iterator[Record]:
        """Yield sentence records (no chunker) or chunk records, in input order."""
        batches = _batches(items, self.doc_batch, self.batch_chars)
        if self.jobs > 1:
            from segtool.executor import run_parallel

            yield from run_parallel(self, batches)
            return
        for batch in batches:
            yield from self.emit_batch(batch, self.compute(work(batch)))

    def count(self, doc: Document) -> bool:
        """Count a document in the statistics; ``False`` when it is empty (nothing to do)."""
        if doc.part == 0:
            self.stats.documents += 1
        if not doc.text.strip():
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
        The single-process loop and the ``--jobs`` executor both end here.
        """
        computed = iter(results)
        for item in batch:
            if isinstance(item, BadInput):
                self.reject(item)
            elif self.count(item):
                yield from self._emit(item, next(computed))

    def _emit(self, doc: Document, res: DocResult) -> Iterator[Record]:
        if isinstance(res.spans, BadInput):
            self.reject(res.spans)
            return
        if self.chunker is None:
            yield from self._sentence_records(doc, res.spans)
            return
        current, seen = self._sentences
        seen = seen if current == doc.id else 0
        self._sentences = (doc.id, seen + len(res.spans))
        if isinstance(res.chunks, BadInput):
            self.reject(res.chunks)
            return
        yield from self._chunk_records(doc, res.chunks or [], seen)

    def _sentence_records(self, doc: Document, spans: Sequence[Span]) -> Iterator[Record]:
        base = doc.offset
        for span in spans:
            start, end = base + span.start, base + span.end
            self.stats.records += 1
            yield {
                "id": record_id(doc.id, start, end, self.key),
                "doc_id": doc.id,
                "index": self._next_index(doc.id),
                "start": start,
                "end": end,
                "text": doc.text[span.start : span.end],
                "source": doc.source,
            }

    def _chunk_records(self, doc: Document, chunks: Sequence[Any], sent_base: int
                       ) -> Iterator[Record]:
        base = doc.offset
        for c in chunks:
            start, end = base + c.start, base + c.end
            meta = dict(doc.meta)
            if c.meta:
                meta.update(c.meta)
            self.stats.records += 1
            yield {
                "id": record_id(doc.id, start, end, self.key),
                "doc_id": doc.id,
                "index": self._next_index(doc.id),
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


def _failed(doc: Document, stage: str, exc: BaseException) -> BadInput:
    reason = f"{stage} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return BadInput(source=doc.source, location=f"document {doc.id}", reason=reason.rstrip(": "))
