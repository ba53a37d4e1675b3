"""``--jobs N``: the same pipeline, with splitting and chunking in worker processes.

Splitting and token counting are CPU-bound Python, so threads do not help;
processes do.  Each worker builds its own splitter and chunker once (from a
picklable factory: component names and options, never live objects) and
computes spans and chunks for one batch of documents at a time.  Everything
that makes the output what it is stays in the parent: batches are handed out
and their results taken back *in input order*, and the parent counts
documents, applies ``--on-error``, numbers records and derives their ids, so
``--jobs 4`` writes byte-for-byte what ``--jobs 1`` writes.

Memory stays bounded: at most ``2 × jobs`` batches are in flight, and the
reader is not asked for more until the oldest batch has been emitted.
Workers are started with ``spawn`` (safe with torch and tokenizers' threads)
and default to one math thread each unless ``OMP_NUM_THREADS`` says otherwise.
Model-based components gain little from this on one GPU (each worker would
load its own copy of the model); their batching across documents is the way
to keep a GPU busy.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from segtool.pipeline import work
from segtool.types import BadInput, Document

if TYPE_CHECKING:
    from segtool.pipeline import DocResult, Pipeline, Record

_WORKER: Any = None  # this worker process's Pipeline


def resolve_jobs(jobs: int) -> int:
    """``0`` means one job per CPU core; anything else is taken as given (≥ 1)."""
    if jobs == 0:
        return max(1, os.cpu_count() or 1)
    return max(1, jobs)


def _start_worker(factory: Callable[[], tuple[Any, Any]]) -> None:
    import signal

    # Ctrl-C reaches the whole process group: the parent stops the run (and
    # removes a half-written output file); workers must not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from segtool.pipeline import Pipeline

    global _WORKER
    splitter, chunker = factory()
    _WORKER = Pipeline(splitter, chunker)


def _compute(docs: list[Document]) -> list[DocResult]:
    return _WORKER.compute(docs)


def run_parallel(pipeline: Pipeline, batches: Iterable[list[Document | BadInput]]
                 ) -> Iterator[Record]:
    """Yield the records of ``pipeline`` over ``batches``, computed by worker processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    window = 2 * pipeline.jobs
    pending: deque[tuple[list[Document | BadInput], Future[list[DocResult]] | None]] = deque()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(pipeline.jobs, mp_context=context, initializer=_start_worker,
                             initargs=(pipeline.factory,)) as pool:
        try:
            for batch in batches:
                todo = work(batch)
                pending.append((batch, pool.submit(_compute, todo) if todo else None))
                if len(pending) >= window:
                    batch, future = pending.popleft()
                    yield from pipeline.emit_batch(batch, future.result() if future else [])
            while pending:
                batch, future = pending.popleft()
                yield from pipeline.emit_batch(batch, future.result() if future else [])
        finally:
            for _, future in pending:  # stopping early (error, closed pipe): drop queued work
                if future is not None:
                    future.cancel()


def build_components(splitter: str, chunker: str | None, options: dict[str, Any]
                     ) -> tuple[Any, Any]:
    """The splitter and chunker the CLI would build; a worker calls this once."""
    from segtool import registry

    split = registry.create("splitters", splitter, options)
    chunk = registry.create("chunkers", chunker, options) if chunker else None
    return split, chunk


def parallel_options(splitter: str, chunker: str | None, options: dict[str, Any], jobs: int
                     ) -> dict[str, Any]:
    """``Pipeline`` keyword arguments for ``--jobs`` (a worker factory only when needed)."""
    from functools import partial

    workers = resolve_jobs(jobs)
    factory = partial(build_components, splitter, chunker, options) if workers > 1 else None
    return {"jobs": workers, "factory": factory}
