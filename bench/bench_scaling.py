#!/usr/bin/env python3
"""Whole-process scaling of ``segtool chunk``: ``-j 1`` against ``-j 2``, and incremental re-runs.

Every measurement is a fresh ``segtool chunk`` process (start-up, reading,
JSON output and, with ``-j 2``, starting the worker included), timed from
outside: wall time and the CPU time of the process tree.  The ``-j`` values
alternate within each repeat so that load from other processes on a shared
machine hits both alike; medians are reported, and the machine's load average
before and after, because a busy machine moves the wall times.

    mkdir -p bench-corpus && tar -xJf ../shared/bench/gutenberg-books.tar.xz -C bench-corpus
    python3 ../shared/bench/build_corpus.py --books-dir bench-corpus/books --out bench-corpus
    python3 bench/bench_scaling.py --corpus bench-corpus --out bench/results/scaling.json

Cases: ``many_small_10k.jsonl`` (10,000 documents, one file) and ``books/`` (73
files, into one JSONL file).  Incremental: ``books/ -o DIR/`` from an empty
directory, then the same command again with nothing changed (the re-run reads
no input and loads no model), then with one book's content changed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
       "HF_HUB_OFFLINE": "1"}


# Runs the CLI and, at exit, writes the CPU seconds of the command's own process and of
# its children (the workers) to the file named in SEGTOOL_BENCH_RUSAGE: on an idle machine
# the wall time of ``-j 2`` approaches the larger of the two.
_WRAPPER = """
import atexit, json, os, resource, sys
def _report():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.environ["SEGTOOL_BENCH_RUSAGE"], "w") as fh:
        json.dump({"self": s.ru_utime + s.ru_stime, "children": c.ru_utime + c.ru_stime}, fh)
atexit.register(_report)
sys.argv = ["segtool", *sys.argv[1:]]
from segtool.cli import main
main()
"""


def timed(args: list[str]) -> dict[str, Any]:
    """Wall seconds and CPU seconds (the command's process, its workers) of one run."""
    with tempfile.NamedTemporaryFile(suffix=".json") as usage:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _WRAPPER, *args],
                              env={**ENV, "SEGTOOL_BENCH_RUSAGE": usage.name},
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"segtool {' '.join(args)} failed:\n{proc.stderr}")
        cpu = json.loads(Path(usage.name).read_text())
    return {"wall_s": wall, "cpu_s": cpu["self"] + cpu["children"], "parent_cpu_s": cpu["self"],
            "workers_cpu_s": cpu["children"], "stderr": proc.stderr.strip().splitlines()[-1:]}


def median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def jobs_case(name: str, source: Path, work: Path, repeats: int) -> dict[str, object]:
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    outputs: dict[int, Path] = {}
    for _ in range(repeats):
        for jobs in (1, 2):
            outputs[jobs] = work / f"{name}-j{jobs}.jsonl"
            runs[jobs].append(timed(["chunk", "-q", str(source), "-o", str(outputs[jobs]),
                                     "-j", str(jobs)]))
    identical = outputs[1].read_bytes() == outputs[2].read_bytes()
    wall = {j: median(runs[j], "wall_s") for j in runs}
    cpu = {j: median(runs[j], "cpu_s") for j in runs}
    busiest = max(median(runs[2], "parent_cpu_s"), median(runs[2], "workers_cpu_s"))
    return {"case": name, "wall_s": wall, "cpu_s": cpu,
            "j2_parent_cpu_s": median(runs[2], "parent_cpu_s"),
            "j2_worker_cpu_s": median(runs[2], "workers_cpu_s"),
            "all_wall_s": {j: [round(r["wall_s"], 3) for r in runs[j]] for j in runs},
            "speedup": round(wall[1] / wall[2], 2),
            # what two idle cores allow: -j 1's CPU time over -j 2's busier process
            "speedup_idle_estimate": round(cpu[1] / busiest, 2),
            "identical_output": identical}


def incremental_case(books: Path, work: Path, repeats: int, jobs: int) -> dict[str, object]:
    full: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    copy = work / f"books-j{jobs}"
    shutil.copytree(books, copy)
    victim = sorted(copy.iterdir())[0]
    original = victim.read_bytes()
    for k in range(repeats):
        out = work / f"shards{k}"
        args = ["chunk", str(copy) + "/", "-o", str(out) + "/", "-j", str(jobs)]
        full.append(timed(args))
        again.append(timed(args))
        victim.write_bytes(original + f"\n\nOne more sentence, number {k}.\n".encode())
        changed.append(timed(args))
        victim.write_bytes(original)
        shutil.rmtree(out)
    ratio = median(again, "wall_s") / median(full, "wall_s")
    return {"case": f"books/ -o DIR/ -j {jobs}", "full_wall_s": median(full, "wall_s"),
            "unchanged_rerun_wall_s": median(again, "wall_s"),
            "one_changed_wall_s": median(changed, "wall_s"),
            "full_cpu_s": median(full, "cpu_s"), "unchanged_rerun_cpu_s": median(again, "cpu_s"),
            "rerun_fraction": round(ratio, 3),
            "summaries": [full[0]["stderr"], again[0]["stderr"], changed[0]["stderr"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("bench-corpus"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result: dict[str, object] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="segtool-scaling-") as tmp:
        work = Path(tmp)
        result["jobs"] = [
            jobs_case("many_small_10k", args.corpus / "many_small_10k.jsonl", work, args.repeats),
            jobs_case("books_73", args.corpus / "books", work, args.repeats),
        ]
        result["incremental"] = [incremental_case(args.corpus / "books", work, args.repeats, 1),
                                 incremental_case(args.corpus / "books", work, args.repeats, 2)]
    result["load_after"] = os.getloadavg()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
