"""``--jobs N``: the same pipeline, with splitting and chunking in N processes.

Splitting and token counting are CPU-bound Python, so threads do not help;
processes do.  ``N - 1`` worker processes each build their own splitter and
chunker once (from the run's :class:`segtool.selection.Selection`: component
names and option values, never live objects) and compute spans and chunks for
one batch of documents at a time; the command's own process is the N-th: it
reads, hands batches out, and computes a batch itself whenever every worker
already has four waiting (fewer, and a worker's queue ran dry while the parent
was busy with a batch of its own); when the input ends it takes back the
batches no worker has started.  A parent that only waited would leave a core to
reading and writing alone, and it has its components built anyway.  The
workers are started first (:class:`Workers`), so they build their components
while the parent builds its own.  The
executor drives the pipeline: ``Pipeline`` itself knows nothing about
processes, so another executor (a distributed engine) can sit beside this
one.  Everything that makes the output what it is stays in the parent:
results are taken back *in input order*, whoever computed them, and the
parent counts documents, applies ``--on-error``, numbers records and derives
their ids, so ``--jobs 4`` writes byte-for-byte what ``--jobs 1`` writes.
Workers send back chunks and, for chunking, only the *number* of sentences of
each document (all the parent needs of them), which keeps the pipe traffic
small.  (With an output directory, whole input files are the unit of
parallel work instead: :mod:`segtool.incremental.runner`.)

Memory stays bounded: at most ``4 × jobs`` batches are held, and the reader
is not asked for more until the oldest batch has been emitted.  Workers
get only what they compute from (id, text, source): a document's ``meta`` stays
in the parent, so metadata that cannot be pickled (nested too deeply, say)
fails or succeeds exactly as it does with one process.

Workers never outlive the run.  They ignore SIGINT, SIGTERM and SIGHUP, which
a terminal or a service manager sends to the whole process group: the parent
handles those, drops the queued batches, waits for the ones in flight (at
most two per worker) and shuts the pool down, so the pool never breaks under
it.  On Linux each worker also asks the kernel to kill it when the parent dies
without cleaning up (``kill -9``, a crash).
Workers are started with ``spawn`` (safe with torch and tokenizers' threads)
and default to one math thread each unless ``OMP_NUM_THREADS`` says otherwise.
Model-based components gain little from this on one GPU (each worker would
load its own copy of the model); their batching across documents is the way
to keep a GPU busy.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from segtool.pipeline import DocResult, Pipeline, Record, work
from segtool.selection import Selection
from segtool.types import BadInput, Document, SegtoolError

_WORKER: Any = None  # this worker process's Pipeline


def resolve_jobs(jobs: int) -> int:
    """``0`` means one job per CPU core; anything else is taken as given (≥ 1)."""
    if jobs == 0:
        return max(1, os.cpu_count() or 1)
    return max(1, jobs)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent process dies (Linux only).

    Without it a parent killed by a signal it cannot handle leaves its workers
    (each with its own copy of the components) running with PID 1 as parent.
    """
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        except (AttributeError, OSError):
            pass
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def _stop_signals() -> set[signal.Signals]:
    return {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """Hold back SIGINT/SIGTERM/SIGHUP while workers may be started.

    A worker inherits the blocked mask, so a Ctrl-C to the process group that
    arrives while it is still starting up stays pending until
    :func:`_start_worker` ignores it, instead of killing the worker (which
    would break the pool under the parent).  In the parent the signal is only
    delayed, never lost: it is delivered when the mask is restored.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _stop_signals())
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_worker(selection: Selection, parent: int) -> None:
    _die_with_parent(parent)
    # Ctrl-C, a hangup or a service stop reach the whole process group: the
    # parent stops the run (and removes a half-written output file); workers
    # must neither print tracebacks nor die under a pool that still uses them.
    for sig in _stop_signals():
        signal.signal(sig, signal.SIG_IGN)  # also drops one that arrived during start-up
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _stop_signals())
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from segtool.selection import build

    global _WORKER
    try:
        splitter, chunker = build(selection)
    except Exception as exc:  # reported by _compute, never as a traceback
        # Workers start while the command builds the same components, so the command
        # reports a build failure itself; a worker only keeps its own for later.
        _WORKER = exc
        return
    _WORKER = Pipeline(splitter, chunker, structure=selection.structure)


class SentenceCount:
    """Stands in for a document's sentence spans when only their number is needed.

    A chunking run turns spans into records through the chunks alone; the
    parent only adds up how many sentences each document had (``sent_start``
    of a later block).  Sending a count instead of hundreds of ``Span``
    objects per document cuts the pickling on both sides of the pipe.
    """

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return (SentenceCount, (self.n,))


def _compute(docs: list[Document]) -> list[DocResult]:
    if isinstance(_WORKER, Exception):
        raise SegtoolError(f"a --jobs worker could not build its components: "
                           f"{type(_WORKER).__name__}: {_WORKER}")
    results = _WORKER.compute(docs)
    if _WORKER.chunker is not None:
        for res in results:
            if isinstance(res.spans, list):
                res.spans = SentenceCount(len(res.spans))  # type: ignore[assignment]
    return results


def _payload(docs: list[Document], fields: tuple[str, ...] = ()) -> list[Document]:
    """What a worker needs of each document: ``meta`` stays with the parent, except the
    ``fields`` the chunker reads (``document_fields``: the intent chunker's --intents-field)."""
    return [Document(id=d.id, text=d.text, source=d.source, markup=d.markup, blocks=d.blocks,
                     offset=d.offset, part=d.part,
                     meta={k: d.meta[k] for k in fields if k in d.meta} if fields else {})
            for d in docs]


def _here(pipeline: Pipeline, docs: list[Document]) -> Future[list[DocResult]]:
    """``compute`` in this process, as a finished future.

    An error is kept in the future rather than raised, so that it surfaces when
    its batch's turn comes: everything before it is emitted first, as with one
    process.
    """
    done: Future[list[DocResult]] = Future()
    try:
        done.set_result(pipeline.compute(docs))
    except Exception as exc:  # re-raised by .result() in input order
        done.set_exception(exc)
    return done


class Workers:
    """The ``jobs - 1`` worker processes of a run, started before they are needed.

    A spawned worker takes about half a second to import segtool and build its
    components.  Started only when the first batch is ready, that half second
    comes after the command has built its own components and is spent with one
    core idle; started first (``segtool chunk`` does so before it builds its own
    components), both build at once and the worker is ready for the first batch.
    A context manager: leaving it shuts the pool down (waiting only for the
    batches the workers are on).  With ``jobs`` 1 it holds no pool.
    """

    def __init__(self, selection: Selection, jobs: int) -> None:
        self.jobs = resolve_jobs(jobs)
        self.pool: Any = None
        if self.jobs == 1:
            return
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import resource_tracker

        from segtool import spawn

        context = spawn.context()  # workers never re-run the caller's script (segtool.spawn)
        with _stop_signals_blocked():
            # multiprocessing's helper process shields itself from SIGINT and SIGTERM only;
            # started here it also keeps SIGHUP blocked, so a hangup cannot kill it mid-run
            resource_tracker.ensure_running()
            self.pool = ProcessPoolExecutor(self.jobs - 1, mp_context=context,
                                            initializer=_start_worker,
                                            initargs=(selection, os.getpid()))
            for _ in range(self.jobs - 1):  # the pool starts a process per task it cannot place
                self.pool.submit(_ready)

    def submit(self, docs: list[Document], fields: tuple[str, ...]) -> Future[list[DocResult]]:
        with _stop_signals_blocked():  # submit() may start a worker process
            return self.pool.submit(_compute, _payload(docs, fields))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ready() -> None:
    """A no-op task: submitting it makes the pool start a worker now."""


def run(pipeline: Pipeline, items: Iterable[Document | BadInput], *, selection: Selection,
        jobs: int = 1, workers: Workers | None = None) -> Iterator[Record]:
    """The records of ``pipeline`` over ``items``: computed here (``jobs`` 1) or by
    ``jobs`` worker processes (0: one per core) that build the selection's components.

    ``workers``, if given, are already started (see :class:`Workers`); the
    caller then closes them.  Otherwise they are started here and closed when
    the records end.
    """
    n = workers.jobs if workers is not None else resolve_jobs(jobs)
    if n == 1:
        return pipeline.run(items)
    return _run_parallel(pipeline, pipeline.batches(items), selection, n, workers)


def _run_parallel(pipeline: Pipeline, batches: Iterable[list[Document | BadInput]],
                  selection: Selection, jobs: int, workers: Workers | None
                  ) -> Iterator[Record]:
    """Yield the records of ``pipeline`` over ``batches``, computed by ``jobs - 1`` worker
    processes and by this one.

    The parent is one of the ``jobs``: it has the components built already, and
    a parent that only waited would leave one core to reading and writing
    alone.  Each batch goes to a worker while the workers have fewer than four
    batches each; otherwise the parent computes it itself, and at the end of the
    input it computes the batches no worker has started.  Records leave in
    input order whoever computed them, and at most ``4 × jobs`` batches are
    held, so memory stays bounded however unevenly the work is shared.
    """
    own = workers is None
    pool = Workers(selection, jobs) if workers is None else workers
    helpers = jobs - 1
    # batches sent but not yet finished by the workers: four each, so that a worker's queue
    # never runs dry while this process computes a batch of its own or writes records
    queue_depth = 4 * helpers
    window = 4 * jobs
    fields = tuple(getattr(pipeline.chunker, "document_fields", ()))
    pending: deque[tuple[list[Document | BadInput], Future[list[DocResult]] | None]] = deque()
    sent: deque[Future[list[DocResult]]] = deque()  # worker futures, oldest first
    try:
        for batch in batches:
            todo = work(batch)
            future: Future[list[DocResult]] | None = None
            if todo:
                while sent and sent[0].done():
                    sent.popleft()
                if len(sent) < queue_depth:
                    future = pool.submit(todo, fields)
                    sent.append(future)
                else:
                    future = _here(pipeline, todo)
            pending.append((batch, future))
            # emit what is ready; wait only when the window is full
            while pending and (len(pending) >= window or pending[0][1] is None
                               or pending[0][1].done()):
                batch, future = pending.popleft()
                yield from pipeline.emit_batch(batch, future.result() if future else [])
        # The input has ended: batches no worker has started yet are computed here, newest
        # first, instead of this process idling while a worker's queue drains.
        for i in range(len(pending) - 1, -1, -1):
            batch, future = pending[i]
            if future is not None and future.cancel():
                pending[i] = (batch, _here(pipeline, work(batch)))
        while pending:
            batch, future = pending.popleft()
            yield from pipeline.emit_batch(batch, future.result() if future else [])
    finally:
        # stopping early (error, signal, closed pipe): drop queued work; closing the pool
        # waits only for the batches the workers are on
        for _, future in pending:
            if future is not None:
                future.cancel()
        if own:
            pool.close()
    yield from pipeline.finish()
