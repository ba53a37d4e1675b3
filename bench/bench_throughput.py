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
one document at a time.  ``--clock cpu`` times with the worker's CPU time
instead of wall time, for a shared machine whose other load would otherwise
move the numbers (all tools here are single-threaded, so on an idle machine
the two agree).

``segtool-sums`` is the same run with each chunk's size taken as the sum of its
sentences' counts (what segtool did before it checked each chunk): the
difference between the two rows is the cost of the exact check.  The
``segtool`` row also reports, untimed, how many of its chunks encode on
their own (cl100k_base) to more tokens than ``--max-tokens`` and how many have
an ``n_tokens`` that is not that count — the guarantee the chunker keeps by
encoding every chunk once.  ``counts-per-document`` is what the alternative to
per-sentence counting would cost: token offsets of whole documents (in slices
of at most 64 KiB, cut at sentence ends), each token assigned to the sentence
holding its start.
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
    "many": ["tiktoken", "tiktoken-sentences", "counts-per-document", "segtool", "segtool-sums",
             "segtool-rules", "nupunkt", "semchunk", "chonkie-token", "langchain-token"],
    "single": ["tiktoken", "tiktoken-sentences", "counts-per-document", "segtool", "segtool-sums",
               "segtool-rules", "nupunkt", "semchunk", "chonkie-token", "langchain-token"],
}
SLICE_CHARS = 1 << 16
LABELS = {
    "tiktoken": "raw tiktoken encode (cl100k_base)",
    "tiktoken-sentences": "tiktoken encode of each rules sentence (split beforehand, untimed)",
    "counts-per-document": "per-sentence counts from token offsets of whole documents (64 KiB "
                           "slices; sentences split beforehand, untimed)",
    "segtool": "segtool rules + window (512)",
    "segtool-sums": "segtool rules + window (512), sizes as sums of sentence counts (no exact check)",
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
    if name == "counts-per-document":
        import numpy as np

        from segtool.models.tokens import get_tokenizer
        from segtool.sentences.rules import RulesSplitter

        _cl100k()
        counter = get_tokenizer("cl100k_base")
        splitter = RulesSplitter()
        spans = {id(t): splitter.split(t) for t in texts}

        def per_document(batch):
            total = 0
            for t in batch:
                sp, i = spans[id(t)], 0
                while i < len(sp):
                    a, j = sp[i].start, i + 1
                    while j < len(sp) and sp[j].end - a <= SLICE_CHARS:
                        j += 1
                    offsets = np.asarray(counter.offsets(t[a : sp[j - 1].end]))
                    starts = [s.start - a for s in sp[i:j]] + [sp[j - 1].end - a]
                    total += int(np.diff(np.searchsorted(offsets, starts)).sum())
                    i = j
            return total

        return per_document
    if name == "tiktoken":
        enc = _cl100k()
        return lambda texts: sum(len(enc.encode_ordinary(t)) for t in texts)
    if name == "segtool-sums":
        # what the exact check costs: the same run with each chunk's size taken as
        # the sum of its sentences' counts, as segtool did before (inexact)
        import segtool.chunkers.window as window
        from segtool.chunkers import units

        def by_sums(text, unit_list, cum, groups, tokenizer, max_tokens):
            return [c for lo, hi in groups
                    for c in units.chunks_by_sums(unit_list, cum, units.pack(cum, lo, hi, max_tokens))]

        window.to_chunks = by_sums
        return make_tool("segtool", texts)
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


def exactness(texts: list[str], max_tokens: int = 512) -> dict:
    """Chunks of the ``segtool`` row over the limit / with a wrong ``n_tokens``, when each
    chunk's text is encoded on its own (untimed, after the timed runs)."""
    from segtool.chunkers.window import WindowChunker
    from segtool.sentences.rules import RulesSplitter

    enc, splitter = _cl100k(), RulesSplitter()
    chunker = WindowChunker(max_tokens=max_tokens)
    over = wrong = total = 0
    for t in texts:
        for c in chunker.chunk_batch([t], [splitter.split(t)])[0]:
            n = len(enc.encode_ordinary(t[c.start : c.end]))
            over += n > max_tokens
            wrong += n != c.n_tokens
            total += 1
    return {"chunks": total, "over_limit_alone": over, "n_tokens_not_exact": wrong}


def worker(tool: str, corpus: Path, case: str, repeats: int, clock: str = "wall") -> dict:
    texts = load_texts(corpus, case)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    fn = make_tool(tool, texts)
    fn(texts[:20])  # warm caches (lazy tables, regex compilation)
    now = time.process_time if clock == "cpu" else time.perf_counter
    times, outputs = [], []
    for _ in range(repeats):
        t0 = now()
        outputs.append(fn(texts))
        times.append(now() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {"tool": tool, "case": case, "mb": mb, "seconds": statistics.median(times),
           "all_seconds": times, "clock": clock, "items": outputs[0], "peak_rss_mib": rss}
    if tool == "segtool":
        row["exactness"] = exactness(texts)
    return row


def run_worker(tool: str, corpus: Path, case: str, repeats: int, clock: str = "wall") -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, "--case", case, "--corpus", str(corpus),
           "--repeats", str(repeats), "--clock", clock]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode != 0:
        return {"tool": tool, "case": case, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cli(corpus: Path, case: str, clock: str = "wall") -> dict:
    path = corpus / ("many_small_10k.jsonl" if case == "many" else "single_20MiB.txt")
    mb = path.stat().st_size / 1e6
    seconds, rss = _timed_segtool(path, clock)
    return {"tool": "segtool-cli", "case": case, "mb": mb, "seconds": seconds, "clock": clock,
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


def _timed_segtool(path: Path, clock: str = "wall") -> tuple[float, float]:
    """Time and peak RSS (MiB) of one ``segtool chunk PATH -q > /dev/null`` process.

    Peak RSS (and, with ``clock="cpu"``, user + system time) come from
    ``/usr/bin/time -v`` for this process alone (``RUSAGE_CHILDREN`` would
    report the largest of all earlier workers).
    """
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", "segtool", "chunk", str(path), "-q"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
                          check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"segtool chunk {path} failed: {proc.stderr.strip()[-300:]}")

    def field(name: str) -> float:
        return next((float(line.split()[-1]) for line in proc.stderr.splitlines()
                     if name in line), -1.0)

    if clock == "cpu":
        seconds = field("User time (seconds)") + field("System time (seconds)")
    return seconds, field("Maximum resident set size") / 1024


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
        exact = r.get("exactness")
        note = (f" (over the limit alone: {exact['over_limit_alone']}, n_tokens not exact: "
                f"{exact['n_tokens_not_exact']} of {exact['chunks']})" if exact else "")
        lines.append(f"| {label} | {mbs:.2f} | {ratio:.2f} | {r['peak_rss_mib']:.0f} | "
                     f"{r.get('items', '')}{note} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("bench-corpus"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="many,single")
    ap.add_argument("--tools", default=None, help="comma-separated subset")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--big-gib", type=float, default=0.0)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="time with wall-clock (default) or CPU time (a shared, noisy machine)")
    ap.add_argument("--no-cli", action="store_true", help="leave out the whole-process row")
    ap.add_argument("--worker")
    ap.add_argument("--case")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.corpus, args.case, args.repeats, args.clock)))
        return
    results: dict = {"clock": args.clock, "cases": {}}
    for case in args.cases.split(","):
        tools = args.tools.split(",") if args.tools else TOOLS[case]
        rows = [run_worker(t, args.corpus, case, args.repeats, args.clock) for t in tools]
        if not args.no_cli:
            rows.append(run_cli(args.corpus, case, args.clock))
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
