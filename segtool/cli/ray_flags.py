"""The ``--executor`` flags of ``segtool sentences`` and ``segtool chunk``.

Kept apart from the shared bundles: only the two pipeline commands take them,
and the Ray code path lives in :mod:`segtool.distributed` (imported only when
``--executor ray`` is given, so help and local runs never load Ray).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class ExecutorName(StrEnum):
    local = "local"
    ray = "ray"


Executor = Annotated[ExecutorName, typer.Option(
    "--executor", help="local: this machine (--jobs processes); ray: Ray Data on a local or "
    "existing Ray cluster (needs segtool[ray], -o DIR, Parquet output).", rich_help_panel="Run")]
RayAddress = Annotated[str | None, typer.Option(
    "--ray-address", help="With --executor ray: the cluster to join (auto, ray://HOST:10001); "
    "default: start a local Ray instance for --jobs workers.", rich_help_panel="Run",
    metavar="ADDR")]
RayGpus = Annotated[float | None, typer.Option(
    "--ray-gpus", min=0, help="With --executor ray: GPUs per segmenting worker (fractions "
    "share a GPU).", rich_help_panel="Run", metavar="N")]
