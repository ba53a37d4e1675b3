"""Start worker processes without re-running the caller's main script.

A ``spawn`` worker normally begins by re-running the parent's ``__main__``
(as ``__mp_main__``) so that functions defined there can be unpickled.  A
script that calls ``segtool.chunk_documents(..., jobs=4)`` at top level,
without an ``if __name__ == "__main__":`` guard, then calls it again in every
worker, which may not start processes while it is starting itself: the
worker dies and the caller gets ``BrokenProcessPool``.  With ``python - <
script.py`` it is worse: the worker looks for a file named ``<stdin>``.

segtool's workers need nothing from ``__main__``: their start-up function
lives in :mod:`segtool.executor`, and they build their components by name
from the registry (built-ins and installed plugins).  So the processes this
context starts are told there is no main module to re-run — ``__main__`` is
swapped for an empty module for the moment it takes to start each worker —
and any script works with ``jobs > 1``, guarded or not, and runs once.
(Another thread that looks up ``sys.modules["__main__"]`` during those few
milliseconds sees the empty module.)
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
from collections.abc import Iterator
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

__all__ = ["context"]

_SWAP = threading.Lock()  # two threads starting workers must not interleave their swaps


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """``__main__`` looks like an interactive session's (no file, no module name) meanwhile."""
    with _SWAP:
        real = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if real is None:
                del sys.modules["__main__"]
            else:
                sys.modules["__main__"] = real


class _WorkerProcess(SpawnProcess):
    """A spawned process whose start-up leaves ``__main__`` alone."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_hidden():
            return SpawnProcess._Popen(process_obj)


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


def context() -> SpawnContext:
    """A ``spawn`` context for pools whose workers import everything they need by name."""
    return _WorkerContext()
