"""The ``segtool`` command line: a thin Typer layer over readers, pipeline and writers.

One module per command group — ``run`` (sentences, chunk), ``listing`` (list),
``evaluate`` (eval sentences, eval chunks) — registering on the application in
``app``; shared option bundles in ``bundles``, generated component flags in
``component_flags``, failure handling in ``errors``.  Only this package writes
data to stdout or decides exit codes.
"""

from __future__ import annotations

from segtool.cli import check, evaluate, listing, run, score  # noqa: F401  (register the commands)
from segtool.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
