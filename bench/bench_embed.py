#!/usr/bin/env python3
"""Sentence-embedding throughput: batched across documents vs one call per document.

Model-based components in segtool hand *all* sentences of a batch of documents
to the embedder in one call (docs/architecture.md).  This measures what that buys over
the naive loop (one ``embed`` call per document) for the two offline
embedders, on the first ``--docs`` documents of the bench corpus's
``many_small_10k.jsonl`` (Gutenberg pieces of ~2 KB), sentences cut by
segtool's rules splitter.

    mkdir -p /tmp/bench-corpus && tar -xJf ../shared/bench/gutenberg-books.tar.xz -C /tmp/bench-corpus
    python3 ../shared/bench/build_corpus.py --books-dir /tmp/bench-corpus/books --out /tmp/bench-corpus
    python3 bench/bench_embed.py --corpus /tmp/bench-corpus --docs 100 --out bench/results/embed.json

(the corpus is built automatically when it is missing and the shared archive
is where the first line expects it).  Timings exclude model loading (reported
separately) and follow one warm-up call; each mode runs ``--repeats`` times and
the median is reported (runs under a second are repeated at least 5 times).
Threads are pinned with ``--threads`` (default 1, as on the 2-core CI
machines).  ``embed`` normally encodes duplicate texts once per call, which
would let the batched mode profit from repeats *across* documents too; the
benchmark switches that off unless ``--dedupe`` is given, so the speed-up is
batching alone (``encoded`` = texts that reached the model).
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
SHARED_BENCH = REPO.parent / "shared" / "bench"


def load_sentences(path: Path, n_docs: int) -> list[list[str]]:
    from segtool.registry import create

    texts = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= n_docs:
                break
    spans = create("splitters", "rules", {}).split_batch(texts)
    return [[t[s.start : s.end].strip() for s in doc] for t, doc in zip(texts, spans,
                                                                       strict=True)]


def timed(fn, repeats: int) -> float:
    """Median of ``repeats`` runs; runs under a second are repeated at least 5 times."""
    runs: list[float] = []
    while len(runs) < repeats or (len(runs) < 5 and sum(runs) < 5.0):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_one(spec: str, docs: list[list[str]], *, device: str, batch_size: int,
              repeats: int, dedupe: bool) -> list[dict]:
    from segtool.models.embedders import get_embedder

    start = time.perf_counter()
    emb = get_embedder(spec, device=device, batch_size=batch_size)
    load_s = time.perf_counter() - start
    emb.dedupe = dedupe
    flat = [s for d in docs for s in d]
    emb.embed(flat[:16])  # warm-up: lazy kernels, allocator, tokenizer caches
    batched = timed(lambda: emb.embed(flat), repeats)
    per_doc = timed(lambda: [emb.embed(d) for d in docs if d], repeats)
    encoded_per_doc = sum(len(set(d)) if dedupe else len(d) for d in docs)
    encoded_batched = len(set(flat)) if dedupe else len(flat)
    rows = []
    for mode, seconds, unique in (("batched across documents (1 call)", batched, encoded_batched),
                                  ("one call per document", per_doc, encoded_per_doc)):
        rows.append({"embedder": spec, "identity": emb.identity, "mode": mode,
                     "docs": len(docs), "sentences": len(flat), "encoded": unique,
                     "dedupe": dedupe,
                     "seconds": round(seconds, 3),
                     "sentences_per_s": round(len(flat) / seconds, 1),
                     "load_s": round(load_s, 2)})
    rows[0]["speedup"] = round(per_doc / batched, 2)
    rows[1]["speedup"] = 1.0
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/bench-corpus"))
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--embedders", default="minilm,model2vec")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--dedupe", action="store_true",
                    help="let embed() encode repeated sentences once (its default in segtool); "
                         "off here so the table shows batching alone")
    ap.add_argument("--out", type=Path, help="write the rows and the environment as JSON")
    args = ap.parse_args()

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, str(REPO))

    docs = load_sentences(ensure_corpus(args.corpus), args.docs)
    rows = []
    for spec in [s.strip() for s in args.embedders.split(",") if s.strip()]:
        rows.extend(bench_one(spec, docs, device=args.device, batch_size=args.batch_size,
                              repeats=args.repeats, dedupe=args.dedupe))

    print(f"\nSentence embedding on {args.device}, {args.threads} thread(s), batch size "
          f"{args.batch_size}, {len(docs)} documents of many_small_10k.jsonl "
          f"({rows[0]['sentences'] if rows else 0} sentences, rules splitter), duplicate "
          f"sentences {'encoded once per call' if args.dedupe else 'all encoded'}\n")
    print("| embedder | mode | sentences | encoded | seconds | sentences/s | speed-up | load s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['embedder']} | {r['mode']} | {r['sentences']} | {r['encoded']} | "
              f"{r['seconds']:.2f} | {r['sentences_per_s']:,.0f} | {r['speedup']:.2f}× | "
              f"{r['load_s']:.1f} |")
    if args.out:
        env = {**machine(), "threads": args.threads, "device": args.device,
               "batch_size": args.batch_size, "docs": args.docs, "repeats": args.repeats}
        write_results(args.out, env, rows, ("torch", "sentence-transformers", "model2vec", "transformers"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
