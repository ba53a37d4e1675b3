"""``segtool eval sentences``: score splitters on gold sentence files.

Each splitter sees every document of a gold file in one ``split_batch`` call
(so model-based splitters batch across documents, as in a real run) and is
scored with the SBD metric of ``segtool.quality.sbd``.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from segtool import registry
from segtool.quality.sbd import load_gold, score
from segtool.types import UsageError


def expand_gold(paths: Sequence[str]) -> list[str]:
    """Files as given; directories → their ``*.jsonl`` (sorted); globs expanded (sorted)."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(sorted(glob.glob(os.path.join(p, "*.jsonl"))))
        elif any(ch in p for ch in "*?["):
            matches = sorted(glob.glob(p))
            if not matches:
                raise UsageError(f"--gold {p}: the pattern matches no file — check the path")
            out.extend(matches)
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise UsageError(f"--gold {p}: no such file or directory — check the path")
    return out


def evaluate_files(gold: Sequence[str], splitters: Sequence[str], options: dict[str, Any]
                   ) -> list[dict[str, Any]]:
    files = expand_gold(gold)
    built = {name: registry.create("splitters", name, options) for name in splitters}
    results = []
    for path in files:
        docs = load_gold(path)
        for name, splitter in built.items():
            started = time.perf_counter()
            predicted = splitter.split_batch([d.text for d in docs])
            seconds = time.perf_counter() - started
            s = score(docs, predicted)
            results.append({
                "file": path, "splitter": name, "docs": s.docs, "exact_docs": s.exact_docs,
                "tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4),
                "recall": round(s.recall, 4), "f1": round(s.f1, 4), "seconds": round(seconds, 3),
            })
    return results


def render_table(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Sentence boundaries (ends; last end per document left out)")
    for col in ("file", "splitter", "docs", "exact", "P", "R", "F1"):
        table.add_column(col, justify="left" if col in ("file", "splitter") else "right")
    for r in results:
        table.add_row(os.path.basename(r["file"]), r["splitter"], str(r["docs"]),
                      str(r["exact_docs"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}",
                      f"{r['f1']:.3f}")
    Console(file=sys.stderr, width=120).print(table)
