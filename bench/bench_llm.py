#!/usr/bin/env python3
"""Causal-LM chunkers: cross-document batching vs one document at a time, and retrieval chunks.

``speed`` (default) — sentences/s of the margin chunker with the cross-document
wavefront (every forward pass carries the next pending decision of every
document) against calling it one document at a time, and of the perplexity
chunker with all documents' windows batched against one document per call.
Both modes must give identical chunks; the run fails otherwise.  Documents are
pieces of the bench corpus's ``many_small_10k.jsonl`` cut to their first 10-16
sentences (rules splitter), skipping the first ``--skip`` records (front matter).

    mkdir -p /tmp/bench-corpus && tar -xJf ../shared/bench/gutenberg-books.tar.xz -C /tmp/bench-corpus
    python3 ../shared/bench/build_corpus.py --books-dir /tmp/bench-corpus/books --out /tmp/bench-corpus
    OMP_NUM_THREADS=1 python3 bench/bench_llm.py speed --corpus /tmp/bench-corpus --docs 32 \\
        --out bench/results/llm_speed.json

Timings exclude model loading (reported separately) and follow a small warm-up
call.  ``--threads`` pins torch (default: ``OMP_NUM_THREADS`` or 1).

``retrieval-chunks`` — runs the LM once over the Chroma chunking corpora
(``data/dev/chunking_chroma``), saves the margins / per-sentence perplexities,
and writes segtool-style chunk JSONL files (doc_id, start, end, text, n_tokens)
for several ``--max-tokens`` / ``merge_to_tokens`` settings, ready for
``segtool eval chunks --chunks FILE``.  Dynamic merging and the hard limit do
not need the LM again, so all settings come from one LM pass.

    OMP_NUM_THREADS=1 python3 bench/bench_llm.py retrieval-chunks --out-dir /tmp/llm_chunks
    segtool eval chunks -Q ../shared/data/dev/chunking_chroma/questions.jsonl \\
        --corpus ../shared/data/dev/chunking_chroma/corpora --chunks /tmp/llm_chunks/FILE.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

from bench_common import ensure_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ----------------------------------------------------------------------------- corpus
def load_docs(path: Path, n_docs: int, skip: int, lo: int, hi: int):  # type: ignore[no-untyped-def]
    """``n_docs`` texts cut to their first lo..hi sentences (cycling), with their spans."""
    from segtool.registry import create

    splitter = create("splitters", "rules", {})
    texts, spans = [], []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i < skip:
                continue
            text = json.loads(line)["text"]
            sents = splitter.split_batch([text])[0]
            want = lo + len(texts) % (hi - lo + 1)
            if len(sents) < want:
                continue
            cut = sents[want - 1].end
            texts.append(text[:cut])
            spans.append(sents[:want])
            if len(texts) == n_docs:
                break
    return texts, spans


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# ----------------------------------------------------------------------------- speed
def speed(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    from segtool.chunkers.margin import MarginChunker
    from segtool.chunkers.perplexity import PerplexityChunker

    texts, spans = load_docs(ensure_corpus(args.corpus), args.docs, args.skip,
                             args.min_sentences, args.max_sentences)
    n_sent = sum(len(s) for s in spans)
    print(f"{len(texts)} documents, {n_sent} sentences, {sum(map(len, texts))} characters",
          file=sys.stderr)
    rows, results = [], {}
    common = {"lm": args.lm, "device": args.device, "batch_size": args.batch_size,
              "max_tokens": args.max_tokens}
    if "margin" in args.chunkers:
        margin, load_s = timed(lambda: MarginChunker(
            margin_context_tokens=args.margin_context_tokens, **common))
        margin.chunk_batch(texts[:1], [spans[0][:2]])  # warm-up
        prefix = margin._prefix
        modes = {}
        for mode in args.margin_modes:
            margin._prefix = [] if mode == "wavefront-no-prefix-cache" else prefix
            if mode == "per-document":
                out, secs = timed(lambda: [margin.chunk_batch([t], [s])[0]
                                           for t, s in zip(texts, spans, strict=True)])
            else:
                out, secs = timed(lambda: margin.chunk_batch(texts, spans))
            modes[mode] = (out, secs)
            print(f"margin {mode}: {secs:.1f} s", file=sys.stderr)
        margin._prefix = prefix
        ref_mode = next(iter(modes))
        same = {m: out == modes[ref_mode][0] for m, (out, _) in modes.items()}
        base = modes.get("per-document", modes[ref_mode])[1]
        for mode, (out, secs) in modes.items():
            rows.append(("margin", mode, len(texts), n_sent, secs, n_sent / secs, base / secs,
                         same[mode], sum(map(len, out))))
        results["margin"] = {"load_s": load_s, "same_output": all(same.values()),
                             "decisions": n_sent - len(texts),
                             "config": dataclasses.asdict(margin.options)}
    if "perplexity" in args.chunkers:
        ppl, load_s = timed(lambda: PerplexityChunker(lm_window_tokens=args.window, **common))
        ppl.chunk_batch(texts[:1], spans[:1])  # warm-up
        batched, b_secs = timed(lambda: ppl.chunk_batch(texts, spans))
        single, s_secs = timed(lambda: [ppl.chunk_batch([t], [s])[0]
                                        for t, s in zip(texts, spans, strict=True)])
        same = batched == single
        rows.append(("perplexity", "per-document", len(texts), n_sent, s_secs, n_sent / s_secs,
                     1.0, same, sum(map(len, single))))
        rows.append(("perplexity", "batched", len(texts), n_sent, b_secs, n_sent / b_secs,
                     s_secs / b_secs, same, sum(map(len, batched))))
        results["perplexity"] = {"load_s": load_s, "same_output": same,
                                 "config": dataclasses.asdict(ppl.options)}

    table = ["| chunker | mode | docs | sentences | seconds | sentences/s | speed-up | same output "
             "| chunks |", "|---|---|---:|---:|---:|---:|---:|---|---:|"]
    for c, m, d, n, secs, sps, up, same, nch in rows:
        table.append(f"| {c} | {m} | {d} | {n} | {secs:.1f} | {sps:.2f} | {up:.2f}× | "
                     f"{'yes' if same else 'NO'} | {nch} |")
    print("\n".join(table))
    env = {"python": platform.python_version(), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
           "cpus": os.cpu_count(), "device": args.device, "batch_size": args.batch_size}
    report = {"env": env, "rows": [dict(zip(("chunker", "mode", "docs", "sentences", "seconds",
                                              "sentences_per_s", "speedup", "same_output",
                                              "chunks"), r, strict=True)) for r in rows],
              **results}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if all(r[7] for r in rows) else 1


# ------------------------------------------------------------------ retrieval chunks
def retrieval_chunks(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    from segtool.chunkers.margin import MarginChunker
    from segtool.chunkers.metachunk import chunks_from_sentence_breaks, ppl_sentence_breaks
    from segtool.chunkers.perplexity import PerplexityChunker
    from segtool.chunkers.units import batch_units
    from segtool.models.tokens import get_tokenizer
    from segtool.quality.retrieval import load_corpora
    from segtool.registry import create

    corpora = load_corpora([args.corpus_dir])
    ids = sorted(corpora)
    texts = [corpora[c] for c in ids]
    spans = create("splitters", "rules", {}).split_batch(texts)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    state_file = args.out_dir / "llm_decisions.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    key = {"lm": args.lm, "corpora": ids, "sentences": [len(s) for s in spans],
           "margin_context": args.margin_context,
           "margin_context_tokens": args.margin_context_tokens, "window": args.window}
    if state.get("key") != key:
        state = {"key": key}
    common = {"lm": args.lm, "device": args.device, "batch_size": args.batch_size}
    if "margin" in args.chunkers and "margin" not in state:
        margin = MarginChunker(margin_context=args.margin_context,
                               margin_context_tokens=args.margin_context_tokens, **common)
        traces, secs = timed(lambda: margin.decide(texts, spans))
        state["margin"] = {"seconds": secs, "breaks": [t.breaks for t in traces],
                           "margins": [t.margins for t in traces]}
        state_file.write_text(json.dumps(state) + "\n")
        print(f"margin decisions: {secs:.0f} s", file=sys.stderr)
    if "perplexity" in args.chunkers and "perplexity" not in state:
        ppl = PerplexityChunker(lm_window_tokens=args.window, **common)
        values, secs = timed(lambda: ppl.sentence_scores(texts, spans))
        state["perplexity"] = {"seconds": secs, "values": [v.tolist() for v in values]}
        state_file.write_text(json.dumps(state) + "\n")
        print(f"perplexity scores: {secs:.0f} s", file=sys.stderr)

    counter = get_tokenizer(args.tokenizer)
    summary = []
    for method in [m for m in ("margin", "perplexity") if m in state]:
        if method == "margin":
            breaks = state["margin"]["breaks"]
        else:
            from segtool.chunkers.metachunk import dynamic_ppl_threshold, ppl_boundaries

            def bounds(v):  # type: ignore[no-untyped-def]
                theta = dynamic_ppl_threshold(v, args.ppl_threshold) if args.ppl_dynamic \
                    else args.ppl_threshold
                return ppl_sentence_breaks(ppl_boundaries(v, theta))

            breaks = [bounds([float("nan") if x is None else x for x in v])
                      for v in state["perplexity"]["values"]]
        for max_tokens in args.max_tokens:
            units = batch_units(texts, spans, counter, max_tokens)
            for merge in [None, *(m for m in args.merge_to if m <= max_tokens)]:
                records = []
                for cid, text, u, b in zip(ids, texts, units, breaks, strict=True):
                    for c in chunks_from_sentence_breaks(u, b, max_tokens=max_tokens,
                                                         merge_to_tokens=merge):
                        records.append({"doc_id": f"{cid}.md#0", "start": c.start, "end": c.end,
                                        "text": text[c.start : c.end], "n_tokens": c.n_tokens})
                name = f"{method}_max{max_tokens}" + (f"_merge{merge}" if merge else "")
                path = args.out_dir / f"{name}.jsonl"
                with open(path, "w", encoding="utf-8") as fh:
                    for r in records:
                        fh.write(json.dumps(r, ensure_ascii=False) + "\n")
                mean = sum(r["n_tokens"] for r in records) / len(records)
                summary.append((name, len(records), mean))
    print("| file | chunks | mean tokens |\n|---|---:|---:|")
    for name, n, mean in summary:
        print(f"| {name}.jsonl | {n} | {mean:.1f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    threads = int(os.environ.get("OMP_NUM_THREADS", "1") or 1)

    def shared(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lm", default="smollm2")
        p.add_argument("--device", default="cpu")
        p.add_argument("--batch-size", type=int, default=16)
        p.add_argument("--threads", type=int, default=threads)
        p.add_argument("--margin-context-tokens", type=int, default=256)
        p.add_argument("--window", type=int, default=1024, help="--lm-window-tokens")
        p.add_argument("--chunkers", type=lambda s: s.split(","), default=["margin", "perplexity"])

    sp = sub.add_parser("speed", help="wavefront / batched vs one document at a time")
    shared(sp)
    sp.add_argument("--corpus", type=Path, default=Path("/tmp/bench-corpus"))
    sp.add_argument("--docs", type=int, default=32)
    sp.add_argument("--skip", type=int, default=500)
    sp.add_argument("--min-sentences", type=int, default=10)
    sp.add_argument("--max-sentences", type=int, default=16)
    sp.add_argument("--max-tokens", type=int, default=512)
    sp.add_argument("--margin-modes", type=lambda s: s.split(","),
                    default=["per-document", "wavefront"],
                    help="per-document, wavefront, wavefront-no-prefix-cache")
    sp.add_argument("--out", type=Path)

    rp = sub.add_parser("retrieval-chunks", help="chunk JSONL for segtool eval chunks")
    shared(rp)
    rp.add_argument("--corpus-dir", type=Path,
                    default=SHARED / "data" / "dev" / "chunking_chroma" / "corpora")
    rp.add_argument("--out-dir", type=Path, default=Path("/tmp/llm_chunks"))
    rp.add_argument("--tokenizer", default="cl100k_base")
    rp.add_argument("--margin-context", default="chunk")
    rp.add_argument("--ppl-threshold", type=float, default=0.0)
    rp.add_argument("--ppl-dynamic", action="store_true")
    rp.add_argument("--max-tokens", type=lambda s: [int(x) for x in s.split(",")],
                    default=[200, 400])
    rp.add_argument("--merge-to", type=lambda s: [int(x) for x in s.split(",")],
                    default=[100, 150, 200, 300, 400])

    args = parser.parse_args(argv)
    if args.command == "retrieval-chunks":
        return retrieval_chunks(args)
    if args.command is None:
        args = parser.parse_args(["speed", *(argv or sys.argv[1:])])
    return speed(args)


if __name__ == "__main__":
    sys.exit(main())
