#!/usr/bin/env python3
"""Peak RSS of ``segtool chunk FILE -o OUT -q`` per input type and size.

Each run is its own process, which reports its own peak resident set
(``VmHWM`` in ``/proc/self/status``: what ``/usr/bin/time -v`` prints as
"Maximum resident set size" for a process started from a small shell).
Inputs are built from the benchmark corpus (``single_20MiB.txt``, Gutenberg
books) in ``--work``:

* ``text-NNN.txt``: the 20 MiB file repeated to NNN MB.  The books use curly
  quotes, so CPython holds this text at 2 bytes per character: a 64 MiB block
  is ~32 M characters.
* ``ascii-NNN.txt``: the same with every non-ASCII character dropped, 1 byte per
  character: a 64 MiB block is ~64 M characters, the most sentences (and so
  the most span and chunk objects) a block can hold for this prose.
* ``lines-NNN.txt``: one short sentence per line (``Item 123 is done.``, ~18
  characters): far more sentence objects per block than prose.
* ``record-NNN.jsonl``: one JSONL record whose text is NNN MB of the ASCII prose;
  a record is never cut into blocks, so this is the bound for records.

    python3 bench/bench_memory.py --corpus bench-corpus --work /tmp/segtool-mem \\
        --text-mb 200 1024 --ascii-mb 200 --lines-mb 140 --record-mb 200 \\
        --out bench/results/memory.json

Other options: ``--block-mib`` (passed to segtool; default 64), ``--command``
(``chunk`` or ``sentences``).  Builds what is missing; delete ``--work`` after.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import ensure_corpus, machine, write_results

MB = 10**6
MiB = 1 << 20


def build_text(source: Path, target: Path, size: int, ascii_only: bool) -> Path:
    """``source`` repeated (optionally ASCII only) until ``target`` holds ``size`` bytes."""
    if target.exists() and target.stat().st_size >= size:
        return target
    data = source.read_bytes()
    if ascii_only:
        data = data.decode("utf-8").encode("ascii", "ignore")
    with target.open("wb") as fh:
        written = 0
        while written < size:
            piece = data[: size - written]
            fh.write(piece)
            written += len(piece)
    return target


def build_lines(target: Path, size: int) -> Path:
    """Numbered one-sentence lines until ``target`` holds at least ``size`` bytes."""
    if target.exists() and target.stat().st_size >= size:
        return target
    with target.open("w", encoding="ascii") as fh:
        written = n = 0
        while written < size:
            piece = "".join(f"Item {k} is done.\n" for k in range(n, n + 100_000))
            fh.write(piece)
            written += len(piece)
            n += 100_000
    return target


def build_record(source: Path, target: Path, size: int) -> Path:
    """One JSONL line holding ``size`` bytes of ASCII prose as its text field."""
    if target.exists() and target.stat().st_size >= size:
        return target
    text = source.read_bytes().decode("utf-8").encode("ascii", "ignore").decode("ascii")
    body = (text * (size // len(text) + 1))[:size]
    with target.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "giant", "text": body}) + "\n")
    return target


# Runs the CLI and reports its own VmHWM (peak RSS of this process image) on
# exit.  Not ``wait4``'s ru_maxrss: that keeps the high-water mark from before
# ``exec``, which for a child of this script (which held a whole generated
# record) can be the parent's size, not segtool's.
_WRAPPER = """
import atexit, runpy, sys
def _report():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                sys.stderr.write('segtool-peak-kib ' + line.split()[1] + '\\n')
atexit.register(_report)
sys.argv[0] = 'segtool'
runpy.run_module('segtool.cli', run_name='__main__', alter_sys=True)
"""


def peak_rss(args: list[str]) -> tuple[int, float, int]:
    """(peak RSS in bytes, wall seconds, exit status) of ``segtool ARGS``."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    kib = [int(line.split()[1]) for line in proc.stderr.splitlines()
           if line.startswith("segtool-peak-kib ")]
    if proc.returncode != 0 or not kib:
        sys.stderr.write(proc.stderr)
    return (kib[-1] * 1024 if kib else 0), seconds, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("bench-corpus"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/segtool-mem"))
    parser.add_argument("--text-mb", type=int, nargs="*", default=[200, 1024])
    parser.add_argument("--ascii-mb", type=int, nargs="*", default=[200])
    parser.add_argument("--lines-mb", type=int, nargs="*", default=[])
    parser.add_argument("--record-mb", type=int, nargs="*", default=[200])
    parser.add_argument("--block-mib", type=int, default=64)
    parser.add_argument("--command", choices=["chunk", "sentences"], default="chunk")
    parser.add_argument("--out", type=Path, default=None)
    opts = parser.parse_args()

    source = ensure_corpus(opts.corpus, "single_20MiB.txt")
    opts.work.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, Path]] = []
    for mb in opts.text_mb:
        cases.append(("text", build_text(source, opts.work / f"text-{mb}.txt", mb * MB, False)))
    for mb in opts.ascii_mb:
        cases.append(("ascii text", build_text(source, opts.work / f"ascii-{mb}.txt", mb * MB,
                                               True)))
    for mb in opts.lines_mb:
        cases.append(("short lines", build_lines(opts.work / f"lines-{mb}.txt", mb * MB)))
    for mb in opts.record_mb:
        cases.append(("one JSONL record", build_record(source, opts.work / f"record-{mb}.jsonl",
                                                       mb * MB)))
    out = opts.work / "out.jsonl"
    rows: list[dict[str, Any]] = []
    print(f"| input | size MB | peak RSS MiB | MB | seconds |  (segtool {opts.command}, "
          f"--block-mib {opts.block_mib})")
    for kind, path in cases:
        args = [opts.command, str(path), "-o", str(out), "-q", "--block-mib", str(opts.block_mib)]
        rss, seconds, code = peak_rss(args)
        if code != 0:
            sys.exit(f"error: segtool {' '.join(args)} exited with {code}")
        size = path.stat().st_size
        rows.append({"input": kind, "file": path.name, "bytes": size, "block_mib": opts.block_mib,
                     "command": opts.command, "peak_rss_bytes": rss, "seconds": round(seconds, 1)})
        print(f"| {kind} | {size / MB:,.0f} | {rss / MiB:,.0f} | {rss / MB:,.0f} | {seconds:,.0f} |",
              flush=True)
    out.unlink(missing_ok=True)
    if opts.out:
        write_results(opts.out, machine(), rows, ["segtool"])


if __name__ == "__main__":
    main()
