#!/usr/bin/env python3
"""Throughput of segtool's rules+window pipeline against peer libraries, same session.

Every tool runs in its own subprocess (so peak RSS is its own), on the same
corpus, with the same tokenizer (cl100k_base) and a 512-token target; the time
is taken inside the library call (documents already in memory), median of
``--repeats``, and throughput is reported as MB/s of UTF-8 input and as a ratio
to raw tiktoken encoding measured in the same run.  The CLI row is the whole
``segtool chunk FILE > /dev/null`` process, start-up and JSON output included.

    mkdir -p bench-corpus && tar -xJf ../shared/bench/gutenberg-books.tar.xz -C bench-corpus
    python3 ../shared/bench/build_corpus.py --books-dir bench-corpus/books --out bench-corpus
    python3 bench/bench_throughput.py --corpus bench-corpus --out bench/results/throughput.json
    python3 bench/bench_throughput.py --corpus bench-corpus --big-gib 1   # peak RSS on 1 GiB

Single-threaded: OMP/tokenizer threads are pinned to 1 and every tool is fed
one document at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1",
       "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}

TOOLS = {
    "many": ["tiktoken", "tiktoken-sentences", "segtool", "segtool-rules", "nupunkt", "semchunk",
             "chonkie-token", "langchain-token"],
    "single": ["tiktoken", "tiktoken-sentences", "segtool", "segtool-rules", "nupunkt", "semchunk",
               "chonkie-token", "langchain-token"],
}
LABELS = {
    "tiktoken": "raw tiktoken encode (cl100k_base)",
    "tiktoken-sentences": "tiktoken encode of each rules sentence (split beforehand, untimed)",
    "segtool": "segtool rules + window (512)",
    "segtool-rules": "segtool rules splitter alone",
    "nupunkt": "nupunkt sent_spans (sentences only)",
    "semchunk": "semchunk (512)",
    "chonkie-token": "chonkie TokenChunker (512)",
    "langchain-token": "langchain TokenTextSplitter (512)",
}


def load_texts(corpus: Path, case: str) -> list[str]:
    if case == "many":
        with open(corpus / "many_small_10k.jsonl", encoding="utf-8") as fh:
            return [json.loads(line)["text"] for line in fh]
    return [(corpus / "single_20MiB.txt").read_text(encoding="utf-8")]


def _cl100k():
    """The offline cl100k_base files in place (every tool here uses them) and the encoding."""
    from segtool.assets import prepare_tiktoken

    prepare_tiktoken("cl100k_base")
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def make_tool(name: str, texts: list[str]):
    if name == "tiktoken-sentences":
        # what the window chunker's counting costs by itself: the sentences are
        # cut before the clock starts, so only the per-sentence encoding is timed
        from segtool.sentences.rules import RulesSplitter

        enc = _cl100k()
        splitter = RulesSplitter()
        pieces = {id(t): [t[s.start : s.end] for s in splitter.split(t)] for t in texts}
        return lambda batch: sum(len(enc.encode_ordinary(p)) for t in batch for p in pieces[id(t)])
    if name == "tiktoken":
        enc = _cl100k()
        return lambda texts: sum(len(enc.encode_ordinary(t)) for t in texts)
    if name == "segtool":
        from segtool.chunkers.window import WindowChunker
        from segtool.pipeline import Pipeline
        from segtool.sentences.rules import RulesSplitter
        from segtool.types import Document

        def run(texts):
            pipe = Pipeline(RulesSplitter(), WindowChunker(max_tokens=512))
            docs = (Document(id=str(i), text=t, source="bench") for i, t in enumerate(texts))
            return sum(1 for _ in pipe.run(docs))

        return run
    if name == "segtool-rules":
        from segtool.sentences.rules import RulesSplitter

        splitter = RulesSplitter()
        return lambda texts: sum(len(splitter.split(t)) for t in texts)
    if name == "nupunkt":
        import nupunkt

        return lambda texts: sum(len(list(nupunkt.sent_spans(t))) for t in texts)
    if name == "semchunk":
        import semchunk

        _cl100k()

        def run_semchunk(texts):
            # a fresh chunker per run: semchunk memoises token counts, and a cache
            # kept from the previous repeat of the same texts would time lookups
            chunker = semchunk.chunkerify("cl100k_base", 512)
            return sum(len(chunker(t)) for t in texts)

        return run_semchunk
    if name == "chonkie-token":
        from chonkie import TokenChunker

        chunker = TokenChunker(tokenizer=_cl100k(), chunk_size=512, chunk_overlap=0)
        return lambda texts: sum(len(chunker.chunk(t)) for t in texts)
    if name == "langchain-token":
        from langchain_text_splitters import TokenTextSplitter

        _cl100k()
        splitter = TokenTextSplitter(encoding_name="cl100k_base", chunk_size=512, chunk_overlap=0)
        return lambda texts: sum(len(splitter.split_text(t)) for t in texts)
    raise SystemExit(f"unknown tool {name}")


def worker(tool: str, corpus: Path, case: str, repeats: int) -> dict:
    texts = load_texts(corpus, case)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    fn = make_tool(tool, texts)
    fn(texts[:20])  # warm caches (lazy tables, regex compilation)
    times, outputs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        outputs.append(fn(texts))
        times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"tool": tool, "case": case, "mb": mb, "seconds": statistics.median(times),
            "all_seconds": times, "items": outputs[0], "peak_rss_mib": rss}


def run_worker(tool: str, corpus: Path, case: str, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, "--case", case, "--corpus", str(corpus),
           "--repeats", str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode != 0:
        return {"tool": tool, "case": case, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cli(corpus: Path, case: str) -> dict:
    path = corpus / ("many_small_10k.jsonl" if case == "many" else "single_20MiB.txt")
    mb = path.stat().st_size / 1e6
    seconds, rss = _timed_segtool(path)
    return {"tool": "segtool-cli", "case": case, "mb": mb, "seconds": seconds,
            "peak_rss_mib": rss, "note": "whole process incl. start-up, reading, JSONL output"}


def big_file_rss(corpus: Path, gib: float) -> dict:
    """Peak RSS of `segtool chunk` on a generated single text file of ``gib`` GiB."""
    source = (corpus / "single_20MiB.txt").read_bytes()
    target = corpus / f"big_{gib:g}GiB.txt"
    want = int(gib * 1024**3)
    if not target.exists() or target.stat().st_size < want:
        with open(target, "wb") as fh:
            written = 0
            while written < want:
                fh.write(source)
                fh.write(b"\n\n")
                written += len(source) + 2
    seconds, rss = _timed_segtool(target)
    return {"file": str(target), "bytes": target.stat().st_size, "seconds": seconds,
            "peak_rss_mib": rss}


def _timed_segtool(path: Path) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one ``segtool chunk PATH -q > /dev/null`` process.

    Peak RSS comes from ``/usr/bin/time -v`` for this process alone
    (``RUSAGE_CHILDREN`` would report the largest of all earlier workers).
    """
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", "segtool", "chunk", str(path), "-q"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
                          check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"segtool chunk {path} failed: {proc.stderr.strip()[-300:]}")
    rss_kib = next((int(line.split()[-1]) for line in proc.stderr.splitlines()
                    if "Maximum resident set size" in line), -1)
    return seconds, rss_kib / 1024


def table(rows: list[dict], case: str) -> str:
    base = next((r for r in rows if r.get("tool") == "tiktoken" and "seconds" in r), None)
    lines = [f"### {case}", "", "| tool | MB/s | × tiktoken | peak RSS MiB | output items |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['tool']} | error: {r['error']} | | | |")
            continue
        mbs = r["mb"] / r["seconds"]
        ratio = (r["mb"] / r["seconds"]) / (base["mb"] / base["seconds"]) if base else float("nan")
        label = LABELS.get(r["tool"], r["tool"] + " (whole process)")
        lines.append(f"| {label} | {mbs:.2f} | {ratio:.2f} | {r['peak_rss_mib']:.0f} | "
                     f"{r.get('items', '')} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("bench-corpus"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="many,single")
    ap.add_argument("--tools", default=None, help="comma-separated subset")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--big-gib", type=float, default=0.0)
    ap.add_argument("--worker")
    ap.add_argument("--case")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.corpus, args.case, args.repeats)))
        return
    results: dict = {"cases": {}}
    for case in args.cases.split(","):
        tools = args.tools.split(",") if args.tools else TOOLS[case]
        rows = [run_worker(t, args.corpus, case, args.repeats) for t in tools]
        rows.append(run_cli(args.corpus, case))
        results["cases"][case] = rows
        print(table(rows, case), flush=True)
        print()
    if args.big_gib:
        results["big"] = big_file_rss(args.corpus, args.big_gib)
        print(f"big file: {json.dumps(results['big'])}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
