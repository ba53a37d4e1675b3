"""Progress on stderr for ``segtool sentences`` and ``segtool chunk``.

What a user sees depends on where stderr goes:

* a terminal: a live bar redrawn in place — by input bytes when every input is
  a file (their sizes are the total, so there is a percentage and an ETA), or a
  counter when reading stdin or a pipe (no total to measure against) — with
  throughput and documents per second; building the splitter and chunker
  (loading a model) is shown before it as its own stage;
* anything else (a pipe, a CI log): nothing, unless ``--progress`` asks for it,
  and then one plain line every few seconds — never redraws, which a log file
  would keep as garbage;
* ``-q``: nothing, whatever else is given.

When the records themselves stream to the same terminal (no ``-o``, stdout a
terminal), a redrawn bar would tear through them, so it is not drawn there
(``--progress`` gives the plain lines).

Bytes are counted as they are read from each input (compressed bytes for a
compressed file, the honest measure of how far through it the run is) through
the reader's byte meter; an input the meter never sees (a Parquet file read in
place, one that failed to open) counts as done when the next input starts.
The bar does not show bytes merely read, though: the pipeline reads a batch
ahead (a whole file, when it is one document), so a bar of bytes read would
reach 100% while the work is still to do.  Each document carries the count of
bytes read when it was taken from the reader, and that count becomes the
bar's position once the document's records come out.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from segtool.readers.sources import STDIN, metered
from segtool.types import Document

T = TypeVar("T")

LINE_INTERVAL_S = 5.0  # plain lines (--progress off a terminal): one per this many seconds
_TICK_S = 0.1  # how often the counters are pushed to the display
_MODEL_OPTIONS = ("embedder", "lm")  # plus every option named *_model


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _redraws_work() -> bool:
    """Whether the terminal on stderr can redraw a line (not a ``TERM=dumb`` one), as rich sees it."""
    from rich.console import Console

    return bool(Console(stderr=True).is_interactive)


def choose_mode(*, quiet: bool, forced: bool, output: str | None) -> str:
    """``"bar"``, ``"lines"`` or ``"off"`` for this run (see the module docstring)."""
    if quiet:
        return "off"
    interactive = _is_terminal(sys.stderr) and _redraws_work()
    records_on_terminal = output is None and _is_terminal(sys.stdout)
    if interactive and not records_on_terminal:
        return "bar"
    return "lines" if forced else "off"


def input_sizes(sources: list[str]) -> dict[str, int] | None:
    """Size in bytes of every input, or None when one has no size known up front.

    stdin, a FIFO or a device is only known once read to its end, so such a
    run gets a counter instead of a percentage.  A path that cannot be
    examined counts 0: reading it reports the error.
    """
    sizes: dict[str, int] = {}
    for path in sources:
        try:
            if path == STDIN:  # redirected from a file (< FILE) it has a size; a pipe has not
                info = os.fstat(sys.stdin.fileno())
                if not stat.S_ISREG(info.st_mode):
                    return None
                sizes[path] = max(0, info.st_size - os.lseek(sys.stdin.fileno(), 0, os.SEEK_CUR))
                continue
            info = os.stat(path)
        except (OSError, ValueError, AttributeError):
            sizes[path] = 0
            continue
        if stat.S_ISREG(info.st_mode):
            sizes[path] = info.st_size
        elif stat.S_ISDIR(info.st_mode):
            sizes[path] = 0  # an unlistable directory: reported as a bad input
        else:
            return None
    return sizes


def loading_label(selection: Any) -> str:
    """``loading splitter 'rules' and chunker 'semantic' (model2vec)…`` for a selection.

    A component's model is whatever its model-naming option says (given or
    default), so the user sees which model is being loaded, not just which
    component.
    """
    from segtool import registry
    from segtool.options import specs_of

    parts = []
    stages = [("splitter", "splitters", selection.splitter, selection.split_options)]
    if selection.chunker:
        stages.append(("chunker", "chunkers", selection.chunker, selection.chunk_options))
    for noun, kind, name, given in stages:
        model = None
        try:
            specs = specs_of(registry.resolve(kind, name))
        except Exception:  # an unloadable component reports itself when built
            specs = ()
        for spec in specs:
            if spec.name in _MODEL_OPTIONS or spec.name.endswith("_model"):
                value = given.get(spec.name, spec.default)
                if value is not None:
                    model = str(value)
                    break
        parts.append(f"{noun} {name!r}" + (f" ({model})" if model else ""))
    return f"loading {' and '.join(parts)}…"


def human_size(n: float) -> str:
    """Decimal units, like the bar's own byte columns: 12.3 MB."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover - the loop always returns


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _rate(count: int, seconds: float) -> str:
    per_s = count / seconds if seconds > 0 else 0.0
    return f"{per_s:,.1f}" if per_s < 10 else f"{per_s:,.0f}"


class RunProgress:
    """The progress of one run: a stage for loading, then bytes and documents.

    Used by ``run_pipeline`` as::

        progress = RunProgress(mode, kind, sources)
        with progress.stage(loading_label(selection)):
            ...build the components...
        with progress.running(pipeline.stats):
            writer.write(progress.records(executor.run(pipeline, progress.documents(docs))))

    Off, every method is a pass-through: no display, no byte meter.
    """

    def __init__(self, mode: str, what: str, sources: list[str]) -> None:
        self.mode = mode
        self.what = what  # "chunks" or "sentences"
        self._sizes = input_sizes(sources) if mode != "off" else None
        self.total = sum(self._sizes.values()) if self._sizes is not None else None
        order = list(self._sizes or ())
        self._index = {path: i for i, path in enumerate(order)}
        self._order = order
        self._before = [0]  # _before[k]: bytes of the inputs ahead of input k
        for path in order:
            self._before.append(self._before[-1] + (self._sizes or {})[path])
        self._current = 0  # index of the input documents now come from
        self._metered = 0  # bytes reported by the meter, all inputs
        self._metered_by_path: dict[str, int] = {}
        self._metered_passed = 0  # ...of those, from inputs before the current one
        # Documents taken from the reader whose records have not all come out yet:
        # (number of whole documents up to this one, id, end offset, bytes read by then).
        self._pending: deque[tuple[int, str, int, int]] = deque()
        self._whole = 0  # whole documents (first parts) taken from the reader so far
        self._done = 0  # bytes behind the documents whose records have come out
        self._last: Any = None  # the latest record out
        self._stats: Any = None
        self._started = 0.0
        self._next_tick = 0.0
        self._next_line = 0.0
        self._console: Any = None
        self._bar: Any = None
        self._task: Any = None

    # -- what the display shows ---------------------------------------------------------

    @property
    def read_bytes(self) -> int:
        """Bytes of input read: whole inputs passed plus what was read since."""
        if self.total is None:
            return self._metered
        done = self._before[self._current] + self._metered - self._metered_passed
        return min(done, self.total)

    @property
    def done_bytes(self) -> int:
        """Bytes of input behind the documents whose records have come out."""
        return self._done

    def _settle(self) -> None:
        """Advance ``done_bytes`` past every document the pipeline has finished with.

        A document is finished once a later whole document is counted (the
        pipeline counts one as its records start to come out), or, for one
        part of a long file read in blocks, once a record of the same document
        starts past the end of that part.
        """
        started = self._stats.documents
        last = self._last
        pending = self._pending
        while pending:
            whole, doc_id, end, mark = pending[0]
            if not (whole < started or (last is not None and last.get("doc_id") == doc_id
                                        and last.get("start", -1) >= end)):
                break
            self._done = mark
            pending.popleft()

    def _on_bytes(self, path: str, n: int) -> None:
        self._metered += n
        self._metered_by_path[path] = self._metered_by_path.get(path, 0) + n

    def _reached(self, source: str) -> None:
        index = self._index.get(source)
        if index is None or index <= self._current:
            return
        for path in self._order[self._current:index]:
            self._metered_passed += self._metered_by_path.get(path, 0)
        self._current = index

    def line(self, now: float | None = None) -> str:
        """One plain status line: ``segtool: 12.3 MB/45.6 MB (27%), 1,234 documents, …``."""
        elapsed = (time.monotonic() if now is None else now) - self._started
        documents = self._stats.documents if self._stats is not None else 0
        records = self._stats.records if self._stats is not None else 0
        done = self.done_bytes
        parts = []
        if self.total is not None:
            share = done / self.total if self.total else 1.0
            parts.append(f"{human_size(done)}/{human_size(self.total)} ({share:.0%})")
        else:
            parts.append(f"{human_size(done)} read")
        parts += [f"{documents:,} document{'' if documents == 1 else 's'}",
                  f"{records:,} {self.what}",
                  f"{_rate(documents, elapsed)} docs/s",
                  f"{human_size(done / elapsed if elapsed > 0 else 0)}/s"]
        if self.total is not None and 0 < done < self.total and elapsed > 0:
            parts.append(f"ETA {_clock((self.total - done) / (done / elapsed))}")
        elif self.total is not None and done >= self.total:
            parts.append(f"in {_clock(elapsed)}")
        return "segtool: " + ", ".join(parts)

    def _tick(self) -> None:
        now = time.monotonic()
        if now < self._next_tick:
            return
        self._next_tick = now + _TICK_S
        self._settle()
        if self._bar is not None:
            documents = self._stats.documents
            fields = {"docs": f"{documents:,} {'doc' if documents == 1 else 'docs'} "
                              f"({_rate(documents, now - self._started)}/s)",
                      "records": f"{self._stats.records:,} {self.what}",
                      "read": f"{human_size(self.read_bytes)} read"}
            self._bar.update(self._task, completed=self.done_bytes, **fields)
        elif self.mode == "lines" and now >= self._next_line:
            self._next_line = now + LINE_INTERVAL_S
            sys.stderr.write(self.line(now) + "\n")
            sys.stderr.flush()

    # -- the stages ----------------------------------------------------------------------

    def _get_console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    @contextlib.contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """Show ``label`` (a spinner on a terminal, one line in a log) while the block runs."""
        if self.mode == "bar":
            with self._get_console().status(label, spinner="dots"):
                yield
            return
        if self.mode == "lines":
            sys.stderr.write(f"segtool: {label}\n")
            sys.stderr.flush()
        yield

    def load_models(self, components: Iterable[Any], jobs: int) -> None:
        """Load models that would otherwise load at the first document, inside the stage.

        Some components defer loading their model until first used; with a
        display on, the load is done here so it shows as its own stage instead
        of as a stalled bar.  Only for a single process: with ``--jobs`` the
        workers load their own copies and this process never needs one.
        """
        if self.mode == "off" or jobs != 1:
            return
        for component in components:
            load = getattr(component, "load", None)
            if callable(load):
                load()

    @contextlib.contextmanager
    def running(self, stats: Any) -> Iterator[None]:
        """Count bytes and show the display while the run's records are produced."""
        if self.mode == "off":
            yield
            return
        self._stats = stats
        self._started = time.monotonic()
        self._next_line = self._started + LINE_INTERVAL_S
        with contextlib.ExitStack() as stack:
            stack.enter_context(metered(self._on_bytes))
            if self.mode == "bar":
                self._bar = stack.enter_context(self._make_bar())
                self._task = self._bar.add_task("", total=self.total, docs="0 docs",
                                                records=f"0 {self.what}", read="0 bytes read")
            yield
            # the run succeeded: everything read is done (and a log gets a last line)
            self._pending.clear()
            self._done = self.total if self.total is not None else self.read_bytes
            self._next_tick = self._next_line = 0.0
            self._tick()
        self._bar = None

    def _make_bar(self) -> Any:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns: list[Any]
        if self.total is not None:  # files: by bytes, with a percentage and an ETA
            from rich.progress import DownloadColumn

            columns = [BarColumn(bar_width=24), TaskProgressColumn(), DownloadColumn(),
                       TransferSpeedColumn(), TextColumn("{task.fields[docs]}"),
                       TextColumn("ETA"), TimeRemainingColumn()]
        else:  # stdin or a pipe: no total, so counters and rates
            columns = [SpinnerColumn(), TextColumn("{task.fields[docs]}"),
                       TextColumn("{task.fields[records]}"),
                       TextColumn("{task.fields[read]}"),
                       TransferSpeedColumn(), TimeElapsedColumn()]
        return Progress(*columns, console=self._get_console(), transient=True,
                        redirect_stdout=False, refresh_per_second=8)

    # -- the streams ---------------------------------------------------------------------

    def documents(self, items: Iterable[T]) -> Iterator[T]:
        """Pass documents through, noting which input they come from."""
        if self.mode == "off":
            yield from items
            return
        for item in items:
            self._reached(getattr(item, "source", ""))
            if isinstance(item, Document):
                self._whole += item.part == 0
                self._pending.append((self._whole, item.id, item.offset + len(item.text),
                                      self.read_bytes))
            else:  # a bad input: done with the document before it
                self._pending.append((self._whole, "", -1, self.read_bytes))
            self._tick()
            yield item

    def records(self, records: Iterable[T]) -> Iterator[T]:
        """Pass records through, updating the display now and then."""
        if self.mode == "off":
            yield from records
            return
        for record in records:
            self._last = record
            self._tick()
            yield record
