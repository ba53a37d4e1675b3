#!/usr/bin/env python3
"""SaT splitter throughput: one ``split_batch`` over many documents vs one call per document.

The SaT splitter hands all documents of a batch to wtpsplit together
(cross-document batching, grouped by length so padding stays small).  This
measures documents/s against calling it once per document (what a naive
per-document loop does) on the first ``--docs`` documents of the bench corpus's
``many_small_10k.jsonl`` (Gutenberg pieces of ~2.5 KB), and asserts that both
modes give identical spans.  A third row runs the batch as one single wtpsplit
call without length grouping, to show what the grouping buys.

There are no offline SaT weights, so the model is the tiny SaT that the tests
use (``segtool.testing.tiny_sat``, hidden 64, 2 layers; built and cached on
first use, ~1 minute) unless ``--model DIR`` names a real one.

Measured on one CPU thread (bench/results/bench_sat.json, 300 documents, median
of 3): short documents (first ≤300 chars) 1.2x faster batched with torch (0.8x
with ONNX, whose per-call overhead is already small); full documents (~2.5 KB)
1.0x — wtpsplit moves its 512-token window by a 64-token stride, so one 2.5 KB
document is already several full overlapping windows in one forward pass: the
CPU is busy with one document and batching has nothing left to amortise.  Cross-document batching
is for GPUs (and for many short texts).

    mkdir -p /tmp/bench-corpus && tar -xJf ../shared/bench/gutenberg-books.tar.xz -C /tmp/bench-corpus
    python3 ../shared/bench/build_corpus.py --books-dir /tmp/bench-corpus/books --out /tmp/bench-corpus
    OMP_NUM_THREADS=1 python3 bench/bench_sat.py --docs 200 --out bench/results/sat.json

(the corpus is built automatically when missing).  Timings exclude model
loading (reported separately), follow one warm-up call and are the median of
``--repeats`` runs.  Threads are pinned with ``--threads`` (default 1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench_common import ensure_corpus, machine, write_results

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def load_texts(path: Path, n_docs: int) -> list[str]:
    texts = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= n_docs:
                break
    return texts


def shorten(text: str, max_chars: int) -> str:
    """The text's beginning, at most ``max_chars``, cut after whitespace (a short document)."""
    if len(text) <= max_chars:
        return text
    cut = max(text.rfind(" ", 0, max_chars), text.rfind("\n", 0, max_chars))
    return text[: cut + 1] if cut > 0 else text[:max_chars]


def interleaved(fns: dict[str, object], repeats: int) -> tuple[dict[str, float], dict]:
    """Median seconds per mode, the modes taking turns so machine load hits all alike."""
    runs: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, object] = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            runs[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in runs.items()}, results


def bench_backend(model: str, backend: str, workload: str, texts: list[str], *,
                  threshold: float | None, batch_size: int, repeats: int) -> list[dict]:
    from segtool.sentences.sat import SatSplitter

    splitter = SatSplitter(sat_model=model, sat_backend=backend, sat_threshold=threshold,
                           batch_size=batch_size, device="cpu")
    start = time.perf_counter()
    splitter.load()
    load_s = time.perf_counter() - start
    ungrouped = SatSplitter(sat_model=model, sat_backend=backend, sat_threshold=threshold,
                            batch_size=batch_size, device="cpu")
    ungrouped._sat = splitter._sat
    ungrouped._groups = lambda order, lengths: [order]  # one wtpsplit call, no length grouping
    splitter.split_batch(texts[: 2 * batch_size])  # warm-up: allocator, lazy kernels

    seconds, results = interleaved({
        "grouped": lambda: splitter.split_batch(texts),
        "single": lambda: ungrouped.split_batch(texts),
        "per_doc": lambda: [splitter.split_batch([t])[0] for t in texts],
    }, repeats)
    batched = results["grouped"]
    for name in ("single", "per_doc"):
        if results[name] != batched:
            bad = sum(a != b for a, b in zip(batched, results[name], strict=True))
            raise SystemExit(f"error: {backend}: {name} spans differ from batched in {bad} docs")
    batched_s, single_s, per_doc_s = seconds["grouped"], seconds["single"], seconds["per_doc"]

    chars = sum(len(t) for t in texts)
    sentences = sum(len(s) for s in batched)
    rows = []
    for mode, seconds in (("split_batch over all documents (grouped by length)", batched_s),
                          ("split_batch, one wtpsplit call (no grouping)", single_s),
                          ("one call per document", per_doc_s)):
        rows.append({"backend": backend, "workload": workload, "mode": mode,
                     "docs": len(texts), "chars": chars,
                     "sentences": sentences, "seconds": round(seconds, 3),
                     "docs_per_s": round(len(texts) / seconds, 2),
                     "chars_per_s": round(chars / seconds),
                     "speedup_vs_per_doc": round(per_doc_s / seconds, 2),
                     "load_s": round(load_s, 2)})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/bench-corpus"))
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--model", help="SaT model directory (default: the cached tiny SaT)")
    ap.add_argument("--threshold", type=float, default=None,
                    help="boundary threshold (default: the tiny model's 0.5, else by name)")
    ap.add_argument("--backends", default="torch,onnx")
    ap.add_argument("--short-chars", type=int, default=300,
                    help="also run on each document's first N chars (0: skip)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path, help="write the rows and the environment as JSON")
    args = ap.parse_args()

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, str(REPO))

    texts = load_texts(ensure_corpus(args.corpus), args.docs)
    threshold = args.threshold
    if args.model:
        model = args.model
    else:
        from segtool.testing.tiny_sat import THRESHOLD, cached_tiny_sat

        model = str(cached_tiny_sat(log=True))
        threshold = THRESHOLD if threshold is None else threshold

    workloads = [(f"full documents (mean {sum(map(len, texts)) // len(texts):,} chars)", texts)]
    if args.short_chars:
        workloads.append((f"short documents (first ≤{args.short_chars} chars)",
                          [shorten(t, args.short_chars) for t in texts]))
    rows = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        for workload, docs in workloads:
            rows.extend(bench_backend(model, backend, workload, docs, threshold=threshold,
                                      batch_size=args.batch_size, repeats=args.repeats))

    print(f"\nSaT splitter on CPU, {args.threads} thread(s), batch size {args.batch_size}, "
          f"first {len(texts)} documents of many_small_10k.jsonl, model {Path(model).name}, "
          f"stride 64, block 512, median of {args.repeats}\n")
    print("| backend | workload | mode | docs/s | chars/s | seconds | speed-up vs per-doc "
          "| load s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['workload']} | {r['mode']} | {r['docs_per_s']:,.1f} | "
              f"{r['chars_per_s']:,} | {r['seconds']:.2f} | {r['speedup_vs_per_doc']:.2f}× | "
              f"{r['load_s']:.1f} |")
    print("\nSpans were identical in all modes.")
    if args.out:
        env = {**machine(), "threads": args.threads, "batch_size": args.batch_size,
               "docs": len(texts), "repeats": args.repeats, "model": Path(model).name,
               "threshold": threshold}
        write_results(args.out, env, rows, ("torch", "wtpsplit", "onnxruntime", "transformers"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
