"""segtool on Ray Data: a dataset of documents in, a dataset of sentence or chunk records out.

    import ray, segtool.distributed as sd
    docs = ray.data.read_parquet("s3://bucket/docs/")           # columns id, text, …
    chunks = sd.chunk_dataset(docs, max_tokens=256)              # same records as the CLI
    chunks.write_parquet("s3://bucket/chunks/")

The work is one ``map_batches`` over Arrow batches with a callable class
(:class:`_SegmentWorker`): Ray starts a pool of actors, each builds its
splitter and chunker — and loads their models — once, then segments batch
after batch.  A model-based stage can ask for GPUs per actor (``num_gpus``)
and a pool size (``concurrency``).  Records have the Parquet writer's schema,
and the local executor's ids (see :mod:`segtool.distributed.arrow_batches`).

The CLI's ``--executor ray`` (:func:`run_files`) reads the input files with
Ray Data's ``read_binary_files`` and turns each file into documents with
segtool's own readers in the workers, so document ids, ``meta`` and bad-record
messages are those of a local run.  What stays local-only: a text file is one
document here, read whole by one worker, while the local executor reads huge
text files in bounded blocks; stdin; JSON Lines output.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from segtool.distributed.arrow_batches import Segmenter
from segtool.types import BadInput, Document, SegtoolError, UsageError

__all__ = ["chunk_dataset", "run_files", "sentences_dataset"]

log = logging.getLogger("segtool.distributed")
DEFAULT_BATCH = 64  # documents per model call and per Ray batch
_MAX_MESSAGES = 10_000  # skipped-record messages kept for the CLI's report


class _SegmentWorker:
    """One Ray actor: builds the components at start, then segments batch after batch.

    ``mode`` ``"rows"`` reads document rows (:meth:`Segmenter.documents`);
    ``"documents"`` reads the pickled documents of the CLI's file stage.  With
    a ``tally`` (the CLI's), counts and skipped-record messages are sent to it
    after every batch, synchronously, so they are all in when the job ends.
    """

    def __init__(self, segmenter: Segmenter, mode: str = "rows", tally: Any = None) -> None:
        self.seg = segmenter
        self.mode = mode
        self.tally = tally
        self.messages: list[str] = []
        self.seg.on_bad = self._bad
        self.seg._build()  # load models now, before the first batch is timed

    def _bad(self, bad: BadInput) -> None:
        message = bad.message()
        if self.tally is None:
            log.warning("skipped: %s", message)
        else:
            self.messages.append(message)

    def __call__(self, batch: Any) -> Any:
        if self.mode == "documents":
            items = (pickle.loads(b) for b in batch.column("doc").to_pylist())
            before = _counts(self.seg)
            out = self.seg.segment(items)
        else:
            before = _counts(self.seg)
            out = self.seg(batch)
        if self.tally is not None:
            import ray

            after = _counts(self.seg)
            delta = {k: after[k] - before[k] for k in after}
            ray.get(self.tally.add.remote(delta, self.messages))
            self.messages = []
        return out


def _counts(seg: Segmenter) -> dict[str, int]:
    s = seg.stats
    return {"documents": s.documents, "empty_documents": s.empty_documents,
            "skipped": s.skipped, "records": s.records}


def _compute(concurrency: int | tuple[int, int] | None) -> Any:
    import ray.data

    if concurrency is None:
        return ray.data.ActorPoolStrategy(min_size=1)
    if isinstance(concurrency, tuple):
        return ray.data.ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
    return ray.data.ActorPoolStrategy(size=concurrency)


def _segment(ds: Any, seg: Segmenter, *, mode: str = "rows", tally: Any = None,
             batch_size: int = DEFAULT_BATCH, concurrency: int | tuple[int, int] | None = None,
             num_gpus: float | None = None, num_cpus: float | None = None) -> Any:
    resources: dict[str, Any] = {}
    if num_gpus:
        resources["num_gpus"] = num_gpus
    if num_cpus is not None:
        resources["num_cpus"] = num_cpus
    return ds.map_batches(_SegmentWorker, batch_format="pyarrow", batch_size=batch_size,
                          fn_constructor_kwargs={"segmenter": seg, "mode": mode, "tally": tally},
                          compute=_compute(concurrency), **resources)


def chunk_dataset(ds: Any, *, splitter: str = "rules", chunker: str = "window",
                  text_field: str = "text", id_field: str = "id", source: str = "dataset",
                  source_field: str | None = None, keep_fields: Sequence[str] | None = None,
                  drop_fields: Sequence[str] = (), no_meta: bool = False,
                  columns: Sequence[str] = (), on_error: str = "stop",
                  batch_size: int = DEFAULT_BATCH,
                  concurrency: int | tuple[int, int] | None = None,
                  num_gpus: float | None = None, num_cpus: float | None = None,
                  **options: Any) -> Any:
    """A ``ray.data.Dataset`` of chunk records for a dataset of documents (lazy, like Ray).

    Rows need ``text_field`` and ``id_field`` (ids are ``str()`` of it); the
    other columns go to ``meta`` as ``keep_fields``/``drop_fields``/``no_meta``
    select them, or become columns (``columns``).  ``source`` is every
    record's source, or take it per row from ``source_field`` (for instance
    the ``path`` column of a reader called with ``include_paths=True``).
    Options are the CLI's flags in snake_case and are checked here, on the
    driver.  ``on_error="stop"`` fails the job on the first bad row with the
    CLI's one-line message (the cause of Ray's error); ``"skip"`` drops it
    with a warning in the worker's log.  ``num_gpus`` per actor and
    ``concurrency`` (actors, or ``(min, max)``) size the actor pool.
    """
    seg = Segmenter(splitter=splitter, chunker=chunker, text_field=text_field, id_field=id_field,
                    source=source, source_field=source_field, keep_fields=keep_fields,
                    drop_fields=drop_fields, no_meta=no_meta, columns=columns, on_error=on_error,
                    options=options)
    return _segment(ds, seg, batch_size=batch_size, concurrency=concurrency, num_gpus=num_gpus,
                    num_cpus=num_cpus)


def sentences_dataset(ds: Any, *, splitter: str = "rules", text_field: str = "text",
                      id_field: str = "id", source: str = "dataset",
                      source_field: str | None = None, on_error: str = "stop",
                      batch_size: int = DEFAULT_BATCH,
                      concurrency: int | tuple[int, int] | None = None,
                      num_gpus: float | None = None, num_cpus: float | None = None,
                      **options: Any) -> Any:
    """A ``ray.data.Dataset`` of sentence records (see :func:`chunk_dataset`)."""
    seg = Segmenter(splitter=splitter, chunker=None, text_field=text_field, id_field=id_field,
                    source=source, source_field=source_field, no_meta=True, on_error=on_error,
                    options=options)
    return _segment(ds, seg, batch_size=batch_size, concurrency=concurrency, num_gpus=num_gpus,
                    num_cpus=num_cpus)


# -- the CLI's executor: files → documents with segtool's readers -------------------------------

def _rebase(item: Document | BadInput, temp: str, path: str) -> Document | BadInput:
    """A document read from the worker's temporary copy, named after the input path."""
    import dataclasses

    if isinstance(item, BadInput):
        return dataclasses.replace(item, source=path)
    doc_id = item.id
    if doc_id == temp or doc_id.startswith(temp + "#"):
        doc_id = path + doc_id[len(temp):]
    return dataclasses.replace(item, id=doc_id, source=path)


def _read_files(batch: Any, *, given: Mapping[str, str], formats: Mapping[str, str | None],
                read: Any) -> Any:
    """``read_binary_files`` rows (bytes, path) → one row per document (pickled).

    Each file goes through the reader its format names, from a temporary copy
    that keeps the file's suffixes (compression is detected from them), so a
    document, its ``meta`` and a bad record's message are what a local run
    reads; then ids and sources are put back to the path as the user gave it.
    """
    import tempfile

    import pyarrow as pa

    from segtool.readers import get_reader
    from segtool.readers.documents import BUILTIN_FORMATS

    out: list[bytes] = []
    for data, where in zip(batch.column("bytes").to_pylist(), batch.column("path").to_pylist(),
                           strict=True):
        path = given.get(where) or given.get(os.path.abspath(where)) or where
        fmt = formats.get(path)
        if fmt is None:
            ext = os.path.splitext(path)[1]
            out.append(pickle.dumps(BadInput(path, "", f"unknown file type '{ext}'",
                                             hint=f"pass --input-format "
                                                  f"({', '.join(BUILTIN_FORMATS)})")))
            continue
        name = os.path.basename(path)
        with tempfile.TemporaryDirectory(prefix="segtool-ray-") as tmp:
            temp = os.path.join(tmp, name)
            with open(temp, "wb") as fh:
                fh.write(data)
            del data
            for item in get_reader(fmt)(temp, read):
                out.append(pickle.dumps(_rebase(item, temp, path)))
    return pa.table({"doc": pa.array(out, pa.large_binary())})


def _tally_class() -> Any:
    import ray

    @ray.remote(num_cpus=0)
    class Tally:
        """Counts and skipped-record messages of one CLI run, sent by every worker."""

        def __init__(self) -> None:
            self.counts = {"documents": 0, "empty_documents": 0, "skipped": 0, "records": 0}
            self.messages: list[str] = []

        def add(self, delta: dict[str, int], messages: list[str]) -> None:
            for key, value in delta.items():
                self.counts[key] += value
            room = _MAX_MESSAGES - len(self.messages)
            self.messages.extend(messages[:max(0, room)])

        def result(self) -> tuple[dict[str, int], list[str]]:
            return self.counts, self.messages

    return Tally


def segtool_cause(exc: BaseException) -> SegtoolError | None:
    """The segtool error a worker raised, dug out of Ray's wrappers (or None).

    Ray re-raises a worker's exception in the driver wrapped (``RayTaskError``,
    Ray Data's ``UserCodeException``), with the remote traceback in its text;
    the CLI wants the original one-line message and exit code.
    """
    import re

    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SegtoolError) and type(current).__module__.startswith("segtool"):
            # Ray appends its retry advice to the message: keep segtool's own (first) line
            text = str(current.args[0]) if current.args else str(current)
            return type(current)(text.splitlines()[0] if text else text,
                                 exit_code=current.exit_code)
        cause = getattr(current, "cause", None)
        todo.extend([current.__cause__, current.__context__,
                     cause if isinstance(cause, BaseException) else None])
    # Without ``raise_original_map_exception`` Ray Data keeps only the remote traceback's text,
    # whose last line for one of ours is "segtool.types.InputError: <message>".
    found = re.findall(r"^segtool\.types\.(InputError|UsageError|SegtoolError): (.+)$", str(exc),
                       flags=re.M)
    if found:
        from segtool import types

        name, message = found[-1]
        error: SegtoolError = getattr(types, name)(message)
        return error
    return None


def run_files(paths: Sequence[str], *, kind: str, read: Any, selection: Any, output: str,
              on_error: str, jobs: int, address: str | None, gpus: float | None,
              column_types: Mapping[str, Any] | None = None, quiet: bool = False,
              batch_size: int = DEFAULT_BATCH) -> tuple[dict[str, int], list[str]]:
    """Segment ``paths`` on Ray and write a Parquet dataset directory to ``output``.

    ``jobs`` is the number of segmenting actors (and, for a Ray instance
    started here, its CPUs; 0: one per core).  The directory is written under
    a temporary name beside ``output`` and renamed into place, so a failed or
    interrupted run leaves no partial dataset.  Returns the run's counts and
    the skipped-record messages.
    """
    import shutil
    import tempfile

    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # the C++ core's start-up chatter
    import ray
    import ray.data

    from segtool.executor import resolve_jobs

    workers = resolve_jobs(jobs)
    verbose = os.environ.get("SEGTOOL_RAY_VERBOSE", "") not in ("", "0")
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": verbose}
        if not verbose:
            options.update(logging_level=logging.ERROR, configure_logging=False)
        if address:
            ray.init(address=address, **options)
        else:
            # one logical CPU more than segmenting actors: the stream's light stages
            # (re-blocking documents for the actors) need one, and would stall without it
            ray.init(num_cpus=workers + 1, **options)
    context = ray.data.DataContext.get_current()
    context.raise_original_map_exception = True  # a worker's InputError reaches us as its cause
    if not verbose:
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        # Ray Data logs a failed task at ERROR level before raising it; the CLI reports the
        # cause as its one line instead
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)
        logging.getLogger("ray").setLevel(logging.CRITICAL)

    given = {os.path.abspath(p): p for p in paths}
    formats = {p: _format(p, read) for p in paths}
    import dataclasses

    whole = dataclasses.replace(read, block_bytes=1 << 62)  # a file is one document here
    seg = Segmenter(splitter=selection.splitter, chunker=selection.chunker,
                    columns=read.columns, column_types=dict(column_types or {}),
                    on_error=on_error, routed=selection)
    tally = _tally_class().remote()
    # Reading, parsing and writing ask for no CPU of their own: the segmenting actors hold
    # the CPUs, and a stage waiting for a CPU none of them gives back would stall the stream.
    # They run beside the actors (parsing ``workers`` files at once).
    files = ray.data.read_binary_files(list(given), include_paths=True, num_cpus=0,
                                       override_num_blocks=len(given))
    docs = files.map_batches(_read_files, batch_format="pyarrow", batch_size=1,
                             fn_kwargs={"given": given, "formats": formats, "read": whole},
                             num_cpus=0, compute=ray.data.TaskPoolStrategy(size=workers))
    docs = docs.repartition(target_num_rows_per_block=batch_size)
    records = _segment(docs, seg, mode="documents", tally=tally, batch_size=batch_size,
                       concurrency=workers, num_gpus=gpus, num_cpus=1)
    parent = os.path.dirname(os.path.abspath(output)) or "."
    temp = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(output))}.", dir=parent)
    try:
        records.write_parquet(temp, compression="zstd", ray_remote_args={"num_cpus": 0})
        counts, messages = ray.get(tally.result.remote())
        _replace_dir(temp, output)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)
        cause = segtool_cause(exc) if isinstance(exc, Exception) else None
        if cause is not None:
            raise cause from None
        raise
    return counts, messages


def _format(path: str, read: Any) -> str | None:
    from segtool.readers import format_for

    return format_for(path, read)


def _replace_dir(new: str, output: str) -> None:
    """Put the finished dataset at ``output``, replacing a previous dataset there."""
    import shutil

    if os.path.isdir(output):
        old = new + ".old"
        os.rename(output, old)
        os.rename(new, output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, output)


def check_output_dir(output: str) -> None:
    """``-o`` for ``--executor ray`` names a directory that is absent, empty or a dataset."""
    if os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"-o {output}: --executor ray writes a Parquet dataset directory, and "
                         "this is a file — give a directory name (it is created)")
    if os.path.isdir(output):
        others = [n for n in os.listdir(output) if not n.endswith(".parquet")]
        if others:
            raise UsageError(f"-o {output}: the directory holds other files ({others[0]}) — give "
                             "an empty or new directory, or one a previous Ray run wrote")

