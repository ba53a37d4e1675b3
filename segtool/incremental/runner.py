"""Turn input files into shards of an output directory, skipping what is already done.

Every shard is made the same way, whoever makes it: a fresh pipeline over
one input file, its records written to a temp file beside the shard and
renamed over it, the shard hashed, and one journal line appended
(:mod:`segtool.incremental.manifest`).  So a shard is byte-identical whether
this process or a worker made it, in whatever order, and a run killed at any
point leaves finished shards (each with its journal line) and at most some
temp files, which the next run deletes before it starts.

With ``--jobs N`` and several inputs to redo, input files are the unit of
parallel work: ``N - 1`` worker processes each read, split, chunk, serialise
and write whole files, and this process takes the smallest waiting file
whenever the workers have two each.  A single input to redo is split into
batches instead (:mod:`segtool.executor`), so one huge file still uses
every core.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segtool.incremental.manifest import Entry, append_journal, file_hash
from segtool.incremental.shards import Unit
from segtool.readers.options import ReadOptions
from segtool.selection import Selection
from segtool.types import BadInput


@dataclass(frozen=True)
class Job:
    """How every shard of a run is made: plain data, so worker processes get it too."""

    kind: str
    selection: Selection
    read: ReadOptions
    fmt: str
    writer_opts: dict[str, Any]  # kind and columns (column types are per shard)
    on_error: str
    directory: str
    journal: str
    quick: str
    config: str
    key: str  # what record ids derive from (segtool.selection.identity_key)


class ShardMaker:
    """Makes shards with one set of built components."""

    def __init__(self, job: Job, splitter: Any, chunker: Any) -> None:
        self.job = job
        self.splitter = splitter
        self.chunker = chunker

    def make(self, unit: Unit, jobs: int = 1) -> tuple[Entry, list[BadInput]]:
        """Write ``unit``'s shard and journal it; its entry and the documents skipped as bad."""
        from segtool import executor, registry
        from segtool.pipeline import Pipeline
        from segtool.readers import read_documents
        from segtool.writers.atomic import atomic_path
        from segtool.writers.output import GuardedWriter

        job = self.job
        try:  # before reading: a file changed meanwhile is seen as changed next time
            st = os.stat(unit.source)
            size, mtime, digest = st.st_size, st.st_mtime_ns, file_hash(unit.source)
        except OSError:  # reading reports it (or, with --on-error skip, skips it)
            size, mtime, digest = -1, 0, ""
        bad: list[BadInput] = []
        pipeline = Pipeline(self.splitter, self.chunker, key=job.key, on_error=job.on_error,
                            on_bad=bad.append, columns=job.read.columns,
                            structure=job.selection.structure)
        opts = dict(job.writer_opts)
        if job.read.columns and job.fmt == "parquet":  # the types this input's columns have
            from segtool.readers.column_types import parquet_column_types

            opts["column_types"] = {**parquet_column_types([unit.source], job.read.columns,
                                                           job.read),
                                    **opts.get("column_types", {})}
        writer = registry.create("writers", job.fmt, opts)
        target = Path(job.directory) / unit.shard
        label = str(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        docs = read_documents([unit.source], job.read)
        with atomic_path(target) as tmp:
            raw = open(tmp, "wb")  # closed below, before the rename
            try:
                out = GuardedWriter(raw, label, atomic=True)
                writer.write(executor.run(pipeline, docs, selection=job.selection, jobs=jobs),
                             out)
                out.close()
            except BaseException:
                with contextlib.suppress(OSError):
                    raw.close()
                raise
        shard = os.stat(target)
        stats = pipeline.stats
        entry = Entry(source=unit.source, size=size, mtime_ns=mtime, hash=digest,
                      quick=job.quick, config=job.config, shard=unit.shard,
                      shard_size=shard.st_size, shard_mtime_ns=shard.st_mtime_ns,
                      shard_hash=file_hash(target), documents=stats.documents,
                      empty=stats.empty_documents, skipped=stats.skipped, records=stats.records)
        append_journal(Path(job.journal), {"input": unit.name, "entry": entry.to_json()})
        return entry, bad


# -- worker processes -----------------------------------------------------------------------
_MAKER: ShardMaker | None = None


def _start_worker(job: Job, parent: int) -> None:
    from segtool import executor
    from segtool.selection import build

    executor._die_with_parent(parent)
    for sig in executor._stop_signals():  # the parent stops the run; see segtool.executor
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, executor._stop_signals())
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    global _MAKER
    _MAKER = ShardMaker(job, *build(job.selection))


def _make(unit: Unit) -> tuple[Entry, list[BadInput]]:
    assert _MAKER is not None
    return _MAKER.make(unit)


Done = Callable[[Unit, Entry, list[BadInput]], None]


def make_all(maker: ShardMaker, units: list[Unit], jobs: int, done: Done) -> None:
    """Make every unit's shard, calling ``done`` as each finishes (in any order)."""
    if jobs <= 1 or len(units) <= 1:
        for unit in units:
            done(unit, *maker.make(unit, jobs))
        return
    _make_parallel(maker, units, jobs, done)


def _size(unit: Unit) -> int:
    try:
        return os.stat(unit.source).st_size
    except OSError:
        return 0


def _make_parallel(maker: ShardMaker, units: list[Unit], jobs: int, done: Done) -> None:
    """Workers take the largest waiting files, this process the smallest: the run ends
    with small pieces, so no process is left alone with a big one at the end."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import resource_tracker

    from segtool import executor, spawn

    helpers = min(jobs - 1, len(units) - 1)
    waiting = deque(sorted(units, key=_size, reverse=True))
    running: dict[Future[tuple[Entry, list[BadInput]]], Unit] = {}
    with executor._stop_signals_blocked():
        resource_tracker.ensure_running()
    with ProcessPoolExecutor(helpers, mp_context=spawn.context(), initializer=_start_worker,
                             initargs=(maker.job, os.getpid())) as pool:
        try:
            while waiting or running:
                for future in [f for f in running if f.done()]:
                    done(running.pop(future), *future.result())
                while waiting and len(running) < 2 * helpers:
                    with executor._stop_signals_blocked():  # submit() may start a worker
                        running[pool.submit(_make, waiting[0])] = waiting[0]
                    waiting.popleft()
                if waiting:
                    unit = waiting.pop()
                    done(unit, *maker.make(unit))
                elif running:
                    wait(list(running), return_when=FIRST_COMPLETED)
        except BaseException:
            # stopping (a bad input, a signal): a whole file can take minutes, so the
            # workers are not waited for; what they were writing is a temp file, which
            # the next run deletes, and every shard they finished is journaled already
            for future in running:
                future.cancel()
            _kill_workers(pool)
            raise


def _kill_workers(pool: Any) -> None:
    """Stop a pool's workers now (they ignore the stop signals, so SIGKILL)."""
    for process in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(OSError, ValueError):
            process.kill()
