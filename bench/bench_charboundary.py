#!/usr/bin/env python3
"""charboundary on one large document: paragraph blocks vs one whole-string call.

charboundary's quote-balance feature counts quotes over the whole prefix of the
text for every quote character, so a single call's time grows super-linearly
with the text (the offline-model notes in the README: 5 MB in one call ~300 s, in ~50 KB blocks ~15 s).
The splitter therefore feeds it blocks cut at paragraph breaks.  This measures
both on the first ``--chars`` characters (default 5,000,000) of the bench
corpus's ``single_20MiB.txt``, for each block size in ``--blocks``, and runs
the whole-string call in a child process that is stopped after
``--max-seconds`` (reported as a lower bound).  When the whole-string call
finishes, the boundaries are compared.

    mkdir -p /tmp/bench-corpus && tar -xJf ../shared/bench/gutenberg-books.tar.xz -C /tmp/bench-corpus
    python3 ../shared/bench/build_corpus.py --books-dir /tmp/bench-corpus/books --out /tmp/bench-corpus
    python3 bench/bench_charboundary.py --max-seconds 600 --out bench/results/charboundary.json

Model loading is excluded (reported separately).  One run per mode: the
whole-string call is too slow to repeat.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

from bench_common import ensure_corpus, machine, write_results

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def load_text(path: Path, n_chars: int) -> str:
    with open(path, encoding="utf-8") as fh:
        text = fh.read(n_chars)
    cut = text.rfind("\n")
    return text[: cut + 1] if cut > 0 and len(text) == n_chars else text


def _whole_child(splitter, text: str, queue) -> None:
    start = time.perf_counter()
    ends = splitter.ends(text)
    queue.put((time.perf_counter() - start, ends))


def run_whole(splitter, text: str, max_seconds: float) -> tuple[float, list[int] | None]:
    """Seconds and ends of one whole-string call, or (max_seconds, None) if cut off."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_whole_child, args=(splitter, text, queue), daemon=True)
    start = time.perf_counter()
    proc.start()
    deadline = start + max_seconds
    result = None
    while time.perf_counter() < deadline:
        try:
            result = queue.get(timeout=min(5.0, max(0.1, deadline - time.perf_counter())))
            break
        except Exception:  # queue.Empty: still running
            if not proc.is_alive():
                break
    if result is None:
        proc.terminate()
        proc.join()
        return max_seconds, None
    proc.join()
    return result[0], result[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/bench-corpus"))
    ap.add_argument("--chars", type=int, default=5_000_000)
    ap.add_argument("--blocks", default="50000", help="block sizes in characters, comma separated")
    ap.add_argument("--max-seconds", type=float, default=600.0,
                    help="stop the whole-string call after this long (0: skip it)")
    ap.add_argument("--out", type=Path, help="write the rows and the environment as JSON")
    args = ap.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    from segtool.sentences.base import spans_from_ends
    from segtool.sentences.charboundary_splitter import CharBoundarySplitter

    text = load_text(ensure_corpus(args.corpus, "single_20MiB.txt"), args.chars)
    start = time.perf_counter()
    backend = "ONNX" if CharBoundarySplitter().load().config.use_onnx else "scikit-learn"
    load_s = time.perf_counter() - start

    rows = []
    reference: set[int] | None = None
    for size in [int(b) for b in args.blocks.split(",") if b.strip()]:
        splitter = CharBoundarySplitter(block_chars=size)
        splitter.load()
        start = time.perf_counter()
        ends = splitter.ends(text)
        seconds = time.perf_counter() - start
        spans = spans_from_ends(text, ends)
        assert "".join(text[s.start:s.end] for s in spans) == text
        reference = reference or set(ends)
        rows.append({"mode": f"blocks of ≤{size:,} chars", "block_chars": size,
                     "seconds": round(seconds, 2), "chars_per_s": round(len(text) / seconds),
                     "sentences": len(spans), "finished": True, "_ends": set(ends)})

    if args.max_seconds > 0:
        whole = CharBoundarySplitter(block_chars=len(text) + 1)
        whole.load()
        seconds, ends = run_whole(whole, text, args.max_seconds)
        rows.append({"mode": "one whole-string call", "block_chars": None,
                     "seconds": round(seconds, 2), "chars_per_s": round(len(text) / seconds),
                     "sentences": len(spans_from_ends(text, ends)) if ends is not None else None,
                     "finished": ends is not None,
                     "_ends": set(ends) if ends is not None else None})
        whole_ends = rows[-1]["_ends"]
        for row in rows[:-1]:
            if whole_ends is not None:
                row["differing_ends_vs_whole"] = len(row["_ends"] ^ whole_ends)
                row["speedup_vs_whole"] = round(seconds / row["seconds"], 1)
            else:
                row["speedup_vs_whole"] = f">{seconds / row['seconds']:.0f}"
    for row in rows:
        row.pop("_ends")

    print(f"\ncharboundary (small, {backend}) on the first {len(text):,} chars of single_20MiB.txt, "
          f"1 thread, model load {load_s:.1f} s\n")
    print("| mode | seconds | chars/s | sentences | speed-up vs whole | ends differing from whole |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        secs = f"{r['seconds']:.1f}" if r["finished"] else f">{r['seconds']:.0f} (stopped)"
        sents = f"{r['sentences']:,}" if r["sentences"] is not None else "–"
        speed = r.get("speedup_vs_whole", "–")
        speed = f"{speed}×" if speed != "–" else speed
        print(f"| {r['mode']} | {secs} | {r['chars_per_s']:,} | {sents} | {speed} | "
              f"{r.get('differing_ends_vs_whole', '–')} |")
    if args.out:
        env = {**machine(), "chars": len(text), "max_seconds": args.max_seconds,
               "load_s": round(load_s, 2)}
        write_results(args.out, env, rows, ("charboundary", "onnxruntime", "scikit-learn"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
