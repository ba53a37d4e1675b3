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
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
       "HF_HUB_OFFLINE": "1"}


def timed(args: list[str]) -> dict[str, float]:
    """Wall and CPU seconds (user + system, the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args], env=ENV,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"segtool {' '.join(args)} failed:\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "stderr": proc.stderr.strip().splitlines()[-1:]}


def median(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def jobs_case(name: str, source: Path, work: Path, repeats: int) -> dict[str, object]:
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    outputs: dict[int, Path] = {}
    for _ in range(repeats):
        for jobs in (1, 2):
            outputs[jobs] = work / f"{name}-j{jobs}.jsonl"
            runs[jobs].append(timed(["chunk", "-q", str(source), "-o", str(outputs[jobs]),
                                     "-j", str(jobs)]))
    identical = outputs[1].read_bytes() == outputs[2].read_bytes()
    wall = {j: median(runs[j], "wall_s") for j in runs}
    return {"case": name, "wall_s": wall, "cpu_s": {j: median(runs[j], "cpu_s") for j in runs},
            "all_wall_s": {j: [round(r["wall_s"], 3) for r in runs[j]] for j in runs},
            "speedup": round(wall[1] / wall[2], 2), "identical_output": identical}


def incremental_case(books: Path, work: Path, repeats: int, jobs: int) -> dict[str, object]:
    full: list[dict[str, float]] = []
    again: list[dict[str, float]] = []
    changed: list[dict[str, float]] = []
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
