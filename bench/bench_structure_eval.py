"""Retrieval quality of structure-aware chunking next to peer libraries, one harness for all.

segtool's configurations are scored by ``segtool eval chunks`` itself (the same
function the command calls, in-process so MiniLM loads once).  The peers —
semchunk, chonkie's RecursiveChunker, langchain's RecursiveCharacterTextSplitter,
all counting cl100k_base tokens — chunk the very corpus texts segtool reads;
their chunks, with exact character offsets (checked: ``text[start:end]`` is
the peer's chunk), are written as a chunk file and scored through
``segtool eval chunks --chunks FILE`` — the same embedder, retrieval and
metric code (``segtool/quality/retrieval.py``).  Each row also reports the
mean chunk size in cl100k tokens so that rows are compared at matched sizes.

    python3 bench/bench_structure_eval.py --out bench/results/structure_eval.json

Tune only on the dev set (``../shared/data/dev/chunking_chroma``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import REPO, machine, write_results

DEV = REPO.parent / "shared" / "data" / "dev" / "chunking_chroma"

# (label, chunker, options) at the two size bands; the sizes give matched mean sizes
# (~175 and ~350-365 cl100k tokens) for every method on the dev corpora.
SEGTOOL = [
    ("recursive", "recursive", {"max_tokens": 200}),
    ("window", "window", {"max_tokens": 200}),
    ("semantic", "semantic", {"max_tokens": 256, "min_tokens": 140}),
    ("recursive", "recursive", {"max_tokens": 400}),
    ("window", "window", {"max_tokens": 400}),
    ("semantic", "semantic", {"max_tokens": 512, "min_tokens": 300}),
]
PEERS = [("semchunk", 200), ("chonkie-recursive", 200), ("langchain-recursive", 200),
         ("semchunk", 400), ("chonkie-recursive", 400), ("langchain-recursive", 400)]


def peer_spans(name: str, size: int, text: str) -> list[tuple[int, int, str]]:
    """``(start, end, chunk text)`` of each chunk the peer makes of ``text`` with ``size`` tokens."""
    from segtool.assets import prepare_tiktoken

    prepare_tiktoken("cl100k_base")
    if name == "semchunk":
        import semchunk

        chunks, offsets = semchunk.chunkerify("cl100k_base", size)(text, offsets=True)
        return [(a, b, c) for c, (a, b) in zip(chunks, offsets, strict=True)]
    if name == "chonkie-recursive":
        import tiktoken
        from chonkie import RecursiveChunker

        chunker = RecursiveChunker(tokenizer=tiktoken.get_encoding("cl100k_base"), chunk_size=size)
        return [(c.start_index, c.end_index, c.text) for c in chunker.chunk(text)]
    if name == "langchain-recursive":
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name="cl100k_base", chunk_size=size, chunk_overlap=0, add_start_index=True)
        return [(d.metadata["start_index"], d.metadata["start_index"] + len(d.page_content),
                 d.page_content) for d in splitter.create_documents([text])]
    raise SystemExit(f"unknown peer {name}")


def write_peer_chunks(name: str, size: int, corpora: dict[str, str], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for cid, text in sorted(corpora.items()):
            spans = peer_spans(name, size, text)
            for start, end, chunk in spans:
                if text[start:end] != chunk:  # the offsets must be exact to be scored
                    raise SystemExit(f"{name}: chunk at [{start}, {end}) of {cid} is not the text there")
                fh.write(json.dumps({"doc_id": f"{cid}.md", "start": start, "end": end,
                                     "text": text[start:end]}, ensure_ascii=False) + "\n")


def summary_row(result: dict[str, Any]) -> dict[str, Any]:
    overall, stats = result["overall"], result["chunks"]
    at = overall["at_k"]
    return {
        "chunks": stats["count"], "mean_tokens": round(stats["mean"], 1),
        "recall@1": at["1"]["recall"], "iou@1": at["1"]["iou"],
        "recall@5": at["5"]["recall"], "iou@5": at["5"]["iou"],
        "recall@10": at["10"]["recall"], "precision_omega": overall["precision_omega"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEV)
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "structure_eval.json")
    ap.add_argument("--only", default="", help="comma-separated labels to run (default: all)")
    ap.add_argument("-p", "--peer-chunks", type=Path, default=None,
                    help="keep the peers' chunk files here (NAME-SIZE.jsonl), e.g. to score one "
                    "with `segtool eval chunks --chunks FILE`")
    args = ap.parse_args()

    from segtool.quality.evaluate import evaluate_chunks, load_corpora
    from segtool.structure.options import StructureOptions

    questions, corpus = args.data / "questions.jsonl", args.data / "corpora"
    corpora = load_corpora([corpus])
    only = {s for s in args.only.split(",") if s}
    common = dict(questions=questions, corpus=[corpus], splitter="rules", embedder=args.embedder,
                  ks="1,5,10", retrieve_from="corpus", tokenizer="cl100k_base", device=None,
                  batch_size=None, embed_cache=None)
    rows: list[dict[str, Any]] = []
    for label, chunker, options in SEGTOOL:
        if only and label not in only:
            continue
        for mode in ("auto", "off"):
            t0 = time.perf_counter()
            result, _ = evaluate_chunks(chunks=None, chunker=chunker, values=options,
                                        structure=StructureOptions(structure=mode), **common)
            flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in options.items())
            row = {"tool": f"segtool {label}", "config": f"-c {chunker} {flags} --structure {mode}",
                   **summary_row(result), "seconds": round(time.perf_counter() - t0, 1)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.peer_chunks or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for name, size in PEERS:
            if only and name not in only:
                continue
            path = keep / f"{name}-{size}.jsonl"
            t0 = time.perf_counter()
            write_peer_chunks(name, size, corpora, path)
            result, _ = evaluate_chunks(chunks=path, chunker="window", values={}, **common)
            row = {"tool": name, "config": f"chunk_size={size} (cl100k_base)",
                   **summary_row(result), "seconds": round(time.perf_counter() - t0, 1)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    write_results(args.out, {**machine(), "embedder": args.embedder, "data": str(args.data)}, rows,
                  ["semchunk", "chonkie", "langchain-text-splitters", "tiktoken"])
    print("| tool | configuration | chunks | mean tokens | R@1 | IoU@1 | R@5 | IoU@5 | R@10 | "
          "precision-Ω |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: r["mean_tokens"]):
        print(f"| {r['tool']} | {r['config']} | {r['chunks']} | {r['mean_tokens']:.0f} | "
              + " | ".join(f"{100 * r[m]:.1f}" for m in ("recall@1", "iou@1", "recall@5", "iou@5",
                                                          "recall@10", "precision_omega")) + " |")


if __name__ == "__main__":
    main()
