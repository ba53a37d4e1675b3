"""Measurements for ``segtool score`` (bench/RESULTS.md, section 9).

``python3 bench/bench_score.py semchunk --corpus DIR --chunk-size 200 --out-text F1 --out-spans F2``
    semchunk's chunks of every corpus file: F1 with ``doc_id`` (file stem) and
    ``text`` only (scored by locating the text in ``--docs``), F2 with
    ``start``/``end`` too (for ``segtool eval chunks --chunks``).
``python3 bench/bench_score.py structural --chunks FILE --mb 100``
    Speed of the model-free statistics: FILE's chunks repeated up to ``--mb`` MB
    of chunk text, with the files' ``n_tokens`` and with the offsets checked
    against the documents.
``python3 bench/bench_score.py cost --chunks FILE --chars 4000``
    CPU and wall seconds of ChunkScore (SmolLM2 + MiniLM on the CPU) for the
    chunks of FILE that end within each document's first ``--chars`` characters,
    without and with BC/CS (stickiness window 1), per 1,000 chunks.
``python3 bench/bench_score.py table --score S.json --eval NAME=E.json ...``
    The ChunkScore / BC / CS vs IoU@5 / recall@5 table and the Spearman
    correlation between ChunkScore and IoU@5 (Markdown on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench_common import machine


def cmd_semchunk(args: argparse.Namespace) -> None:
    import semchunk

    from segtool.models.tokens import get_tokenizer

    counter = get_tokenizer("cl100k_base")  # segtool's offline copy of the tiktoken encoding
    chunker = semchunk.chunkerify(lambda t: counter.counts([t])[0], args.chunk_size)
    with open(args.out_text, "w", encoding="utf-8") as ft, \
            open(args.out_spans, "w", encoding="utf-8") as fs:
        for path in sorted(Path(args.corpus).glob("*.md")):
            text = path.read_text(encoding="utf-8")
            chunks, offsets = chunker(text, offsets=True)
            for n, (chunk, (start, end)) in enumerate(zip(chunks, offsets, strict=True)):
                assert text[start:end] == chunk
                ft.write(json.dumps({"doc_id": path.stem, "text": chunk}, ensure_ascii=False) + "\n")
                fs.write(json.dumps({"doc_id": str(path), "index": n, "start": start, "end": end,
                                     "text": chunk}, ensure_ascii=False) + "\n")


def cmd_structural(args: argparse.Namespace) -> None:
    from segtool.quality.chunk_files import read_chunk_rows
    from segtool.quality.structural import Chunk, structural_stats

    rows = list(read_chunk_rows(args.chunks))
    base = [Chunk(r.doc_id, r.start, r.end, r.text, r.n_tokens, r.where) for r in rows]
    docs: dict[str, str] = {}
    for c in base:  # rebuild the documents from their tiling chunks
        doc = docs.get(c.doc_id, "")
        docs[c.doc_id] = doc + " " * (c.start - len(doc)) + c.text
    per_copy = sum(len(c.text) for c in base)
    copies = max(1, int(args.mb * 1e6 // per_copy))
    chunks, all_docs = [], {}
    for k in range(copies):  # distinct documents, so duplicates stay duplicates of one copy
        for c in base:
            fresh = (c.text + "x")[:-1]  # a new string object: its hash is not cached yet
            chunks.append(Chunk(f"{c.doc_id}#{k}", c.start, c.end, fresh, c.n_tokens, c.where))
        all_docs.update({f"{d}#{k}": t for d, t in docs.items()})
    text_mb = sum(len(c.text.encode("utf-8")) for c in chunks) / 1e6
    tokens = [c.n_tokens or 0 for c in chunks]
    out = {"chunks": len(chunks), "chunk_text_mb": round(text_mb, 1), **machine()}
    for label, kw in (("n_tokens, offsets checked among themselves", {}),
                      ("n_tokens, offsets checked against the documents", {"docs": all_docs})):
        runs = [_timed(lambda kw=kw: structural_stats(chunks, tokens, max_tokens=200, **kw))
                for _ in range(3)]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        out[label] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                      "mb_per_wall_s": round(text_mb / wall, 1), "mb_per_cpu_s": round(text_mb / cpu, 1)}
    print(json.dumps(out, indent=2))


def _timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds of one call (CPU time is what a shared, loaded machine still shows)."""
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu


def cmd_cost(args: argparse.Namespace) -> None:
    from segtool.models.causal_lm import load_causal_lm
    from segtool.models.embedders import get_embedder
    from segtool.quality.chunk_files import read_chunk_rows
    from segtool.quality.chunkscore import score_documents

    docs: dict[str, list[str]] = {}
    for r in read_chunk_rows(args.chunks):
        if r.end is not None and r.end <= args.chars:
            docs.setdefault(r.doc_id, []).append(r.text)
    items = list(docs.items())
    n = sum(len(t) for _, t in items)
    lm = load_causal_lm("smollm2", device="cpu")
    embedder = get_embedder("minilm", device="cpu")
    for boundary in (False, True):
        wall, cpu = _timed(lambda b=boundary: score_documents(
            items, lm=lm, embedder=embedder, boundary_metrics=b, stickiness_window=1))
        print(json.dumps({"boundary_metrics": boundary, "chunks": n, "wall_s": round(wall, 1),
                          "cpu_s": round(cpu, 1), "cpu_s_per_1000": round(cpu / n * 1000),
                          "wall_s_per_1000": round(wall / n * 1000), **machine()}))


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float:
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy) if vx and vy else float("nan")


def cmd_table(args: argparse.Namespace) -> None:
    scored = {}
    for path in args.score:
        for c in json.load(open(path, encoding="utf-8"))["chunkings"]:
            scored[Path(c["name"]).stem] = c
    rows = []
    for item in args.eval:
        name, _, path = item.partition("=")
        ev = json.load(open(path, encoding="utf-8"))
        at5 = ev["overall"]["at_k"]["5"]
        c = scored[name]
        rows.append((name, c, 100 * at5["iou"], 100 * at5["recall"]))
    print("| chunking | chunks | p50 tokens | LI | SD | ChunkScore | BC | CS | IoU@5 | R@5 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, c, iou, rec in rows:
        s = c["scores"]
        print(f"| {name} | {c['structural']['chunks']} | {c['structural']['tokens']['p50']:.0f} | "
              f"{s['li']:.3f} | {s['sd']:.3f} | {s['chunk_score']:.3f} | {s['bc']:.3f} | "
              f"{s['cs']:.3f} | {iou:.1f} | {rec:.1f} |")
    for label, key in (("ChunkScore", "chunk_score"), ("LI", "li"), ("SD", "sd"), ("BC", "bc"),
                       ("CS", "cs")):
        xs = [c["scores"][key] for _, c, _, _ in rows]
        print(f"\nSpearman({label}, IoU@5) = {spearman(xs, [r[2] for r in rows]):.3f}; "
              f"Spearman({label}, R@5) = {spearman(xs, [r[3] for r in rows]):.3f} "
              f"(n = {len(rows)})", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("semchunk")
    p.add_argument("--corpus", required=True)
    p.add_argument("--chunk-size", type=int, default=200)
    p.add_argument("--out-text", required=True)
    p.add_argument("--out-spans", required=True)
    p = sub.add_parser("structural")
    p.add_argument("--chunks", required=True)
    p.add_argument("--mb", type=float, default=100)
    p = sub.add_parser("cost")
    p.add_argument("--chunks", required=True)
    p.add_argument("--chars", type=int, default=4000)
    p = sub.add_parser("table")
    p.add_argument("--score", nargs="+", required=True)
    p.add_argument("--eval", nargs="+", required=True, help="NAME=eval-json (NAME = file stem)")
    args = parser.parse_args()
    {"semchunk": cmd_semchunk, "structural": cmd_structural, "cost": cmd_cost,
     "table": cmd_table}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
