"""Running segtool's pipeline inside distributed engines.

* :mod:`segtool.distributed.arrow_batches` — a table-in/table-out function
  (:class:`Segmenter`, :func:`segment_batches`) that any engine handing out
  Arrow batches can call: Ray Data, Spark's ``mapInArrow``, Dask's
  ``map_partitions``.
* :mod:`segtool.distributed.ray_data` — :func:`chunk_dataset` and
  :func:`sentences_dataset` over a ``ray.data.Dataset``, and the CLI's
  ``--executor ray``.

Nothing heavy is imported here: ``import segtool.distributed`` works without
Ray or pyarrow; the functions load them when called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Segmenter", "chunk_dataset", "segment_batches", "sentences_dataset"]

_WHERE = {"Segmenter": "arrow_batches", "segment_batches": "arrow_batches",
          "chunk_dataset": "ray_data", "sentences_dataset": "ray_data"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"segtool.distributed.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'segtool.distributed' has no attribute {name!r}")
