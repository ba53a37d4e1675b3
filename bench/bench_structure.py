"""Throughput on Markdown-heavy input: segtool with structure next to semchunk and chonkie.

The input is real Markdown: the long descriptions (READMEs) of the installed
Python distributions whose metadata declares ``text/markdown`` and that have
at least 2,000 characters — headings, lists, fenced code, tables, badges and
HTML, written by hundreds of authors.  The set depends on what is installed,
so the script records how many documents and bytes it used (and the bench
extra's versions).  Each tool runs in its own subprocess on the same texts
(already in memory, one document per call), cl100k_base, median of
``--repeats`` runs, CPU time of the worker (``--clock cpu``, for a shared
machine) or wall time; with ``--rounds N`` every tool runs N times, interleaved,
and the median of the rounds is kept (a shared machine's speed drifts).

Rows:

* ``segtool-recursive`` / ``segtool-window``: the whole pipeline (``rules``
  sentences, Markdown blocks, sentence cuts at blocks, the chunker, records)
  with ``--structure auto`` — what ``segtool chunk README.md -c NAME`` does
  after reading; ``…-off``: the same with ``--structure off``.
* ``recursive-stage``: the recursive chunker alone, given the blocks and the
  cut sentences (computed before the clock starts).
* ``markdown-blocks``: the Markdown block parse alone (markdown-it-pyrs; part of
  every ``--structure auto`` row).
* ``semchunk``, ``chonkie-recursive`` (default rules), ``langchain-recursive``
  (``RecursiveCharacterTextSplitter.from_tiktoken_encoder``), raw ``tiktoken``.

    python3 bench/bench_structure.py --clock cpu --rounds 5 --out bench/results/structure_throughput.json
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
from importlib import metadata
from pathlib import Path

from bench_common import REPO, machine, write_results

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
       "RAYON_NUM_THREADS": "1"}
TOOLS = ["tiktoken", "markdown-blocks", "recursive-stage", "segtool-recursive",
         "segtool-window", "segtool-recursive-off", "segtool-window-off", "semchunk",
         "chonkie-recursive", "langchain-recursive"]


def markdown_corpus(min_chars: int = 2000) -> list[str]:
    """README bodies of the installed distributions that declare Markdown, sorted by name."""
    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        meta = dist.metadata
        name = (meta.get("Name") or "").lower()
        if not name or name in seen:
            continue
        if "markdown" not in (meta.get("Description-Content-Type") or "").lower():
            continue
        body = meta.get_payload() or meta.get("Description") or ""
        if isinstance(body, str) and len(body) >= min_chars:
            seen[name] = body
    return [seen[k] for k in sorted(seen)]


def _cl100k():
    from segtool.assets import prepare_tiktoken

    prepare_tiktoken("cl100k_base")
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def make_tool(name: str, texts: list[str], size: int):
    if name == "tiktoken":
        enc = _cl100k()
        return lambda ts: sum(len(enc.encode_ordinary(t)) for t in ts)
    if name == "markdown-blocks":
        from segtool.structure.blocks import parse_blocks

        return lambda ts: sum(len(parse_blocks(t, "md")) for t in ts)
    if name == "recursive-stage":
        from segtool.chunkers.recursive import RecursiveChunker
        from segtool.sentences.rules import RulesSplitter
        from segtool.structure.apply import cut_spans
        from segtool.structure.blocks import parse_blocks
        from segtool.types import Document

        chunker = RecursiveChunker(max_tokens=size)
        blocks = {id(t): tuple(parse_blocks(t, "md")) for t in texts}
        spans = {id(t): cut_spans(t, s, blocks[id(t)])[0]
                 for t, s in zip(texts, RulesSplitter().split_batch(texts), strict=True)}

        def stage(ts):
            docs = [Document(id="d", text=t, source="b", markup="md", blocks=blocks[id(t)])
                    for t in ts]
            return sum(len(c) for c in chunker.chunk_documents(docs, [spans[id(t)] for t in ts]))

        return stage
    if name.startswith("segtool-"):
        from segtool.pipeline import Pipeline
        from segtool.registry import create
        from segtool.structure.options import StructureOptions
        from segtool.types import Document

        _cl100k()
        chunker = name.split("-")[1]
        mode = "off" if name.endswith("-off") else "auto"

        def run(ts):
            pipe = Pipeline(create("splitters", "rules"),
                            create("chunkers", chunker, {"max_tokens": size}),
                            structure=StructureOptions(structure=mode))
            docs = (Document(id=str(i), text=t, source="bench.md", markup="md")
                    for i, t in enumerate(ts))
            return sum(1 for _ in pipe.run(docs))

        return run
    if name == "semchunk":
        import semchunk

        _cl100k()

        def run_semchunk(ts):
            # a fresh chunker per run: semchunk memoises counts across calls
            chunker = semchunk.chunkerify("cl100k_base", size)
            return sum(len(chunker(t)) for t in ts)

        return run_semchunk
    if name == "chonkie-recursive":
        from chonkie import RecursiveChunker as ChonkieRecursive

        enc = _cl100k()

        def run_chonkie(ts):
            # a fresh chunker per run: chonkie caches token counts per instance
            chunker = ChonkieRecursive(tokenizer=enc, chunk_size=size)
            return sum(len(chunker.chunk(t)) for t in ts)

        return run_chonkie
    if name == "langchain-recursive":
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        _cl100k()
        splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name="cl100k_base", chunk_size=size, chunk_overlap=0)
        return lambda ts: sum(len(splitter.split_text(t)) for t in ts)
    raise SystemExit(f"unknown tool {name}")


def exactness(name: str, texts: list[str], size: int) -> dict:
    """segtool rows: chunks over the limit / with a wrong n_tokens, each re-encoded alone."""
    from segtool.pipeline import Pipeline
    from segtool.registry import create
    from segtool.structure.options import StructureOptions
    from segtool.types import Document

    enc = _cl100k()
    pipe = Pipeline(create("splitters", "rules"),
                    create("chunkers", name.split("-")[1], {"max_tokens": size}),
                    structure=StructureOptions(structure="off" if name.endswith("-off") else "auto"))
    docs = [Document(id=str(i), text=t, source="bench.md", markup="md") for i, t in enumerate(texts)]
    over = wrong = total = 0
    for rec in pipe.run(docs):
        n = len(enc.encode_ordinary(rec["text"]))
        over += n > size
        wrong += n != rec["n_tokens"]
        total += 1
    return {"chunks": total, "over_limit_alone": over, "n_tokens_not_exact": wrong}


def worker(tool: str, size: int, repeats: int, clock: str) -> dict:
    texts = markdown_corpus()
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    fn = make_tool(tool, texts, size)
    fn(texts[:5])  # warm up: lazy tables, regex compilation, the tokenizer's byte-length table
    now = time.process_time if clock == "cpu" else time.perf_counter
    times, outputs = [], []
    for _ in range(repeats):
        t0 = now()
        outputs.append(fn(texts))
        times.append(now() - t0)
    row = {"tool": tool, "max_tokens": size, "docs": len(texts), "mb": mb,
           "seconds": statistics.median(times), "all_seconds": times, "clock": clock,
           "items": outputs[0],
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if tool.startswith("segtool-"):
        row["exactness"] = exactness(tool, texts, size)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--sizes", default="200,512")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every tool this many times, interleaved (median of the rounds)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    ap.add_argument("--out", type=Path,
                    default=REPO / "bench" / "results" / "structure_throughput.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, args.repeats, args.clock)))
        return
    # Rounds: every tool once per round, round after round, so that a shared machine's
    # drift in speed (often ±30 % within minutes) hits every tool alike; the figure kept is
    # the median over rounds of each round's median.
    runs: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.rounds):
        for size in (int(s) for s in args.sizes.split(",")):
            for tool in args.tools.split(","):
                cmd = [sys.executable, __file__, "--worker", tool, "--size", str(size),
                       "--repeats", str(args.repeats), "--clock", args.clock]
                proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=False)
                if proc.returncode != 0:
                    row = {"tool": tool, "max_tokens": size,
                           "error": proc.stderr.strip().splitlines()[-1:]}
                else:
                    row = json.loads(proc.stdout.strip().splitlines()[-1])
                runs.setdefault((tool, size), []).append(row)
                print(json.dumps(row), file=sys.stderr)
    rows = []
    for done in runs.values():
        ok = [r for r in done if "seconds" in r]
        if not ok:
            rows.append(done[0])
            continue
        row = dict(ok[0])
        row["seconds"] = statistics.median(r["seconds"] for r in ok)
        row["round_seconds"] = [r["seconds"] for r in ok]
        row["all_seconds"] = [t for r in ok for t in r["all_seconds"]]
        row["mb_per_s"] = row["mb"] / row["seconds"]
        rows.append(row)
    write_results(args.out, {**machine(), "clock": args.clock}, rows,
                  ["semchunk", "chonkie", "chonkie-core", "langchain-text-splitters", "tiktoken",
                   "markdown-it-py", "markdown-it-pyrs"])
    base = {r["max_tokens"]: r["mb_per_s"] for r in rows if r["tool"] == "tiktoken" and "mb_per_s" in r}
    print("| tool | max tokens | MB/s | × tiktoken | chunks | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        if "mb_per_s" not in r:
            print(f"| {r['tool']} | {r['max_tokens']} | error: {r['error']} | | | |")
            continue
        ratio = r["mb_per_s"] / base[r["max_tokens"]] if r["max_tokens"] in base else float("nan")
        print(f"| {r['tool']} | {r['max_tokens']} | {r['mb_per_s']:.2f} | {ratio:.2f} | "
              f"{r['items']} | {r['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
