#!/usr/bin/env python3
"""Intent chunker: what the dynamic programme costs next to embedding, and documents/s.

Two measurements on the first documents of the bench corpus's
``many_small_10k.jsonl`` (Gutenberg pieces of ~2 KB), sentences cut by the
rules splitter, intents from a plain-text file of twelve questions (the same
for every document, as ``--intents FILE`` gives them):

* ``dp``: the programme alone — relevance table from prefix sums plus the
  recursion, per document, with ``L = 15`` — timed over all sentences of
  ``--docs`` documents and over one document of all those sentences, and
  reported per 1,000 sentences; next to it the time MiniLM takes to embed the
  same sentences on the CPU (one call, batch size 64, as the chunker does).
  The target is DP < 5 % of that embedding time.
* ``e2e``: documents/s of the whole pipeline (rules splitter, ``intent``
  chunker with ``--intents FILE``; ``semantic`` alongside for scale) over
  ``--e2e-docs`` documents, models loaded and warmed up before the clock starts.

    OMP_NUM_THREADS=1 python3 bench/bench_intent.py --corpus /tmp/bench-corpus --docs 40 \\
        --e2e-docs 200 --out bench/results/intent.json

Timings are medians of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_common import ensure_corpus, machine, write_results

QUESTIONS = [
    "Who is the main character of this passage?", "Where does the scene take place?",
    "What happens at the beginning?", "How does the conflict end?",
    "What does the narrator think about the events?", "Which people are mentioned?",
    "What is the relationship between the characters?", "What time of day or year is it?",
    "What objects play a role?", "Why does the main character act this way?",
    "What is said in the dialogue?", "What is the mood of the passage?",
]


def load_docs(path: Path, n: int) -> list[str]:
    texts = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= n:
                break
    return texts


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_dp(texts: list[str], repeats: int) -> list[dict]:
    import numpy as np

    from segtool.chunkers.idc import relevance_table, segment
    from segtool.chunkers.units import batch_units
    from segtool.models.embedders import get_embedder
    from segtool.models.tokens import get_tokenizer
    from segtool.registry import create

    spans = create("splitters", "rules", {}).split_batch(texts)
    sentences = [t[s.start : s.end].strip() for t, sp in zip(texts, spans, strict=True) for s in sp]
    n = len(sentences)
    embedder = get_embedder("minilm", device="cpu", batch_size=64)
    embedder.embed(sentences[:64])  # warm-up
    embed_s = median_time(lambda: embedder.embed(sentences), max(1, repeats // 2))
    vectors = embedder.embed(sentences)
    intents = embedder.embed(QUESTIONS)
    tok = get_tokenizer("cl100k_base")
    units = batch_units(texts, spans, tok, 512)
    per_doc, pos = [], 0
    for sp, us in zip(spans, units, strict=True):
        per_doc.append((vectors[pos : pos + len(sp)][[u.sent for u in us]],
                        [u.n_tokens for u in us]))
        pos += len(sp)

    def dp_per_document() -> None:
        for vecs, tokens in per_doc:
            table = relevance_table(vecs, intents, 15)
            segment(table, tokens, lam=0.0005, beta=0.5, max_len=15, max_tokens=512)

    all_vecs = np.vstack([v for v, _ in per_doc])
    all_tokens = [t for _, ts in per_doc for t in ts]

    def dp_one_document() -> None:
        table = relevance_table(all_vecs, intents, 15)
        segment(table, all_tokens, lam=0.0005, beta=0.5, max_len=15, max_tokens=512)

    rows = []
    per_k = 1000 / n
    embed_per_k = embed_s * per_k
    for label, fn in (("per document", dp_per_document), ("one document", dp_one_document)):
        dp_s = median_time(fn, repeats)
        rows.append({"bench": "dp", "mode": label, "documents": len(texts), "sentences": n,
                     "units": len(all_tokens), "dp_ms_per_1000": round(dp_s * per_k * 1000, 2),
                     "minilm_embed_ms_per_1000": round(embed_per_k * 1000, 1),
                     "dp_share_of_embedding_pct": round(100 * dp_s / embed_s, 2)})
        print(rows[-1])
    return rows


def bench_e2e(texts: list[str], repeats: int, embedders: list[str]) -> list[dict]:
    from segtool.pipeline import Pipeline
    from segtool.registry import create
    from segtool.types import Document

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        qfile = os.path.join(tmp, "q.txt")
        Path(qfile).write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
        docs = [Document(id=str(k), text=t, source="bench") for k, t in enumerate(texts)]
        configs = [
            ("intent", "model2vec", {"intents": qfile, "embedder": "model2vec", "intent_beta": 0.5}),
            ("semantic", "model2vec", {"embedder": "model2vec"}),
            ("intent", "minilm", {"intents": qfile, "embedder": "minilm", "device": "cpu",
                                  "intent_beta": 0.5}),
            ("semantic", "minilm", {"embedder": "minilm", "device": "cpu"}),
        ]
        for name, embedder, opts in [c for c in configs if c[1] in embedders]:
            splitter = create("splitters", "rules", {})
            chunker = create("chunkers", name, opts)
            pipe = Pipeline(splitter, chunker)
            list(pipe.run(docs[:8]))  # warm-up: model loaded, first batch through
            counts: list[int] = []

            def run(splitter=splitter, chunker=chunker, counts=counts) -> None:
                counts.append(sum(1 for _ in Pipeline(splitter, chunker).run(docs)))

            seconds = median_time(run, repeats if embedder == "model2vec" else 1)
            chunks = counts[-1]
            rows.append({"bench": "e2e", "chunker": name, "embedder": embedder,
                         "documents": len(docs), "chunks": chunks, "seconds": round(seconds, 3),
                         "docs_per_s": round(len(docs) / seconds, 1)})
            print(rows[-1])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/bench-corpus"))
    ap.add_argument("--docs", type=int, default=40, help="documents for the DP measurement")
    ap.add_argument("--e2e-docs", type=int, default=200, help="documents for documents/s")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--e2e-embedders", default="model2vec,minilm",
                    help="embedders for the documents/s part (comma separated; empty: skip it)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    path = ensure_corpus(args.corpus)
    rows = bench_dp(load_docs(path, args.docs), args.repeats)
    embedders = [e for e in args.e2e_embedders.split(",") if e]
    if embedders:
        rows += bench_e2e(load_docs(path, args.e2e_docs), args.repeats, embedders)
    if args.out:
        env = {**machine(), "threads": args.threads}
        write_results(args.out, env, rows, ["segtool", "numpy", "torch", "sentence-transformers",
                                            "model2vec"])


if __name__ == "__main__":
    main()
