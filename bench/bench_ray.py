#!/usr/bin/env python3
"""Ray Data against the local executor: whole-process ``segtool chunk`` on the 10,000 documents.

Cases (each a fresh process, rules + window, cl100k_base, 512 tokens,
``--id-field id``, Parquet output):

* ``local -j 1`` / ``local -j 2``: the local executor.
* ``ray -j 1`` / ``ray -j 2``: ``--executor ray`` with a local Ray instance of
  one or two segmenting actors (the instance gets one more logical CPU for
  reading and re-blocking).  Besides the process's wall time, the Ray rows give
  the time to start Ray and the time of the job alone (measured inside the
  process by :func:`inner`), since a cluster pays the start-up once.

Every Ray output is checked against the local one (same ids after sorting).  CPU
seconds are those of every process a case started (Ray's own services included,
as far as they are reaped), a steadier figure than wall time on a busy machine.

    python3 bench/bench_ray.py --corpus bench-corpus --out bench/results/ray.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import REPO, ensure_corpus, machine, write_results

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
       "HF_HUB_OFFLINE": "1", "RAY_BACKEND_LOG_LEVEL": "fatal"}


def inner(corpus: str, output: str, jobs: int) -> dict[str, float]:
    """One Ray run timed in this process: Ray's start-up, then the job."""
    import logging

    import ray

    from segtool.distributed.ray_data import run_files
    from segtool.readers import ReadOptions
    from segtool.selection import route

    t0 = time.perf_counter()
    ray.init(num_cpus=jobs + 1, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR, configure_logging=False)
    t1 = time.perf_counter()
    counts, _ = run_files([corpus], kind="chunks", read=ReadOptions(id_field="id"),
                          selection=route({}, "rules", "window"), output=output,
                          on_error="stop", jobs=jobs, address=None, gpus=None)
    t2 = time.perf_counter()
    ray.shutdown()
    return {"start_s": t1 - t0, "job_s": t2 - t1, "records": counts["records"]}


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process, their children included."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sorted_ids(path: Path) -> list[str]:
    import pyarrow.dataset as pads

    table = pads.dataset(str(path), format="parquet").to_table(columns=["doc_id", "index", "id"])
    return table.sort_by([("doc_id", "ascending"), ("index", "ascending")]).column("id").to_pylist()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO / "bench-corpus")
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ray.json")
    ap.add_argument("--inner", nargs=3, metavar=("CORPUS", "OUTPUT", "JOBS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        corpus, output, jobs = args.inner
        print(json.dumps(inner(corpus, output, int(jobs))))
        return 0

    source = ensure_corpus(args.corpus)
    size = source.stat().st_size
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        reference: list[str] | None = None
        for jobs in [int(j) for j in args.jobs.split(",")]:
            out = tmp / f"local-{jobs}.parquet"
            t0, c0 = time.perf_counter(), children_cpu()
            subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", str(source), "--id-field",
                            "id", "-j", str(jobs), "-o", str(out), "-q"], check=True, env=ENV)
            wall, cpu = time.perf_counter() - t0, children_cpu() - c0
            ids = sorted_ids(out)
            reference = reference or ids
            rows.append({"case": f"local -j {jobs}", "wall_s": round(wall, 2),
                         "cpu_s": round(cpu, 2), "load_avg_1m": os.getloadavg()[0],
                         "mb_per_s": round(size / wall / 1e6, 2), "records": len(ids),
                         "same_records": ids == reference})
            print(rows[-1], file=sys.stderr)
        for jobs in [int(j) for j in args.jobs.split(",")]:
            out = tmp / f"ray-{jobs}"
            t0, c0 = time.perf_counter(), children_cpu()
            proc = subprocess.run([sys.executable, __file__, "--inner", str(source), str(out),
                                   str(jobs)], check=True, env=ENV, capture_output=True, text=True)
            wall, cpu = time.perf_counter() - t0, children_cpu() - c0
            timing = json.loads(proc.stdout.strip().splitlines()[-1])
            ids = sorted_ids(out)
            rows.append({"case": f"ray -j {jobs}", "wall_s": round(wall, 2),
                         "cpu_s": round(cpu, 2), "load_avg_1m": os.getloadavg()[0],
                         "mb_per_s": round(size / wall / 1e6, 2),
                         "ray_start_s": round(timing["start_s"], 2),
                         "job_s": round(timing["job_s"], 2),
                         "job_mb_per_s": round(size / timing["job_s"] / 1e6, 2),
                         "records": len(ids), "same_records": ids == reference})
            print(rows[-1], file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_results(args.out, {**machine(), "corpus": source.name, "bytes": size,
                             "load_avg": os.getloadavg()}, rows, ["segtool", "ray", "pyarrow"])
    print("| case | wall s | MB/s (whole process) | CPU s (all processes) | Ray start s | job s "
          "| MB/s (job) | same records |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['case']} | {r['wall_s']} | {r['mb_per_s']} | {r['cpu_s']} | "
              f"{r.get('ray_start_s', '–')} | "
              f"{r.get('job_s', '–')} | {r.get('job_mb_per_s', '–')} | "
              f"{'yes' if r['same_records'] else 'NO'} |")
    return 0 if all(r["same_records"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
