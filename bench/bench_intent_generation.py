#!/usr/bin/env python3
"""Intent generation with the local causal LM: documents/s and questions per document.

Documents are pieces of at least ``--chars`` characters (each running to the next
paragraph break) of the Chroma chunking dev corpora (``data/dev/chunking_chroma``),
``--docs`` of them taken alternately from the two corpora.  Each ``--batch-size``
given is timed on the same documents (after loading the model, which is
reported separately); the questions must not depend on the batch size, and
the run fails if they do.

    OMP_NUM_THREADS=1 python3 bench/bench_intent_generation.py --docs 8 --batch-size 8 1 \\
        --out bench/results/intent_generation.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "data" / "dev" / "chunking_chroma" / "corpora"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pages(text: str, chars: int) -> list[str]:
    """Consecutive pieces of at least ``chars`` characters, each running to the next paragraph break."""
    out, start = [], 0
    while start < len(text):
        cut = text.find("\n\n", start + chars)
        end = len(text) if cut < 0 else cut
        out.append(text[start:end].strip())
        start = end
    return [p for p in out if p]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=8)
    ap.add_argument("--chars", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, nargs="+", default=[8, 1])
    ap.add_argument("--lm", default="smollm2")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from segtool.intents.generate import LocalGenerator
    from segtool.intents.prompting import PROMPT_VERSION
    from segtool.types import Document

    corpora = [pages((CORPORA / name).read_text(encoding="utf-8"), args.chars)
               for name in ("state_of_the_union.md", "chatlogs.md")]
    texts = [corpora[k % 2][k // 2] for k in range(args.docs)]
    docs = [Document(f"page-{k}", t, "chunking_chroma") for k, t in enumerate(texts)]
    t0 = time.perf_counter()
    first = LocalGenerator(args.lm, None, device="cpu", dtype="float32", batch_size=args.batch_size[0])
    first._load()
    load_s = time.perf_counter() - t0
    runs, reference = [], None
    for bs in args.batch_size:
        gen = LocalGenerator(args.lm, None, device="cpu", dtype="float32", batch_size=bs)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        t0 = time.perf_counter()
        out = gen.generate(docs)
        wall = time.perf_counter() - t0
        cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0
        if reference is None:
            reference = out
        elif out != reference:
            sys.exit(f"error: batch size {bs} changed the questions")
        n = [len(q) for q in out]
        runs.append({"batch_size": bs, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                     "docs_per_s": round(len(docs) / wall, 3),
                     "intents_per_doc": round(sum(n) / len(n), 2), "min": min(n), "max": max(n)})
        print(json.dumps(runs[-1]), flush=True)
    result = {"lm": args.lm, "prompt": PROMPT_VERSION, "docs": len(docs),
              "mean_chars": round(sum(map(len, texts)) / len(texts)), "load_s": round(load_s, 2),
              "threads": os.environ.get("OMP_NUM_THREADS", "default"),
              "load_average": os.getloadavg(), "runs": runs,
              "examples": {d.id: q[:4] for d, q in zip(docs[:2], reference or [], strict=False)}}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
