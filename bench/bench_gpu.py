#!/usr/bin/env python3
"""Every model-based stage, batched across documents vs one document at a time, as JSON.

Stages: the SaT splitter, MiniLM sentence embeddings (the semantic chunker),
the margin and perplexity causal-LM chunkers and the intent chunker (its
sentence and question embeddings; the questions come from a file, so no text
generation is timed).  Each stage is built the way the CLI builds it (option
routing and construction from the declarations), warmed up on one document,
then timed twice on the same documents: one ``split_batch``/``chunk_batch``
call over all of them (the pipeline's cross-document batching), and one call
per document.  ``--dtype float16`` is passed to the stages that declare a
``--dtype`` option; the others run in their default precision.

Meant for a GPU (``bench/gpu.sh`` runs it with ``--device cuda --dtype
float16`` inside a time budget), and kept runnable on CPU on a small slice so
it does not rot (``--device cpu --docs 2 --max-chars 300``, which a test runs).

    python3 bench/bench_gpu.py --device cuda --dtype float16 --out "$OUT/gpu.json"
    python3 bench/bench_gpu.py --device cpu --docs 2 --max-chars 300 --out /tmp/gpu.json

A stage that cannot run here (a missing extra, a chunker not registered)
gets an entry with ``"status": "not available"`` and the reason, so the JSON
always names every stage.  Stages left when ``--budget-s`` is spent get
``"status": "skipped (time budget)"``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import REPO, ensure_corpus, machine, write_results

STAGES = ("sat", "minilm", "margin", "perplexity", "intent")
LABELS = {
    "sat": "SaT splitter (tiny offline SaT unless --sat-model)",
    "minilm": "semantic chunker, MiniLM embeddings",
    "margin": "margin chunker (SmolLM2-135M)",
    "perplexity": "perplexity chunker (SmolLM2-135M)",
    "intent": "intent chunker (MiniLM, questions from a file)",
}
QUESTIONS = ("Who are the main characters?", "Where does the story take place?",
             "What happens at the end?", "What does the narrator think about it?")


def load_docs(corpus: Path, n: int, max_chars: int) -> list[tuple[str, str]]:
    """(id, text) of the first ``n`` documents, each cut to ``max_chars`` at a sentence end."""
    from segtool.sentences.rules import RulesSplitter

    splitter = RulesSplitter()
    out = []
    with open(ensure_corpus(corpus), encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            rec = json.loads(line)
            text = rec["text"]
            if max_chars and len(text) > max_chars:
                ends = [s.end for s in splitter.split(text) if s.end <= max_chars]
                text = text[: ends[-1]] if ends else text[:max_chars]
            out.append((rec["id"], text))
    return out


def stage_config(stage: str, args: argparse.Namespace, intents_file: str
                 ) -> tuple[str, str | None, dict[str, Any]]:
    """(splitter, chunker, options) of a stage; raises LookupError when it cannot run here."""
    from segtool import registry

    if stage == "sat":
        model = args.sat_model
        options: dict[str, Any] = {"batch_size": args.batch_size}
        if model is None:
            from segtool.testing.tiny_sat import THRESHOLD, cached_tiny_sat

            model = str(cached_tiny_sat())
            options["sat_threshold"] = THRESHOLD
        return "sat", None, {"sat_model": model, **options}
    chunker = {"minilm": "semantic", "margin": "margin", "perplexity": "perplexity",
               "intent": "intent"}[stage]
    if chunker not in registry.available("chunkers"):
        raise LookupError(f"the {chunker} chunker is not registered (segtool list shows it "
                          "when it is installed)")
    options = {"batch_size": args.batch_size, "max_tokens": 256}
    if stage == "minilm":
        options["embedder"] = "minilm"
    elif stage in ("margin", "perplexity"):
        options["lm"] = args.lm
        options["batch_size"] = min(args.batch_size, 16)
        if stage == "margin" and args.tiny_lm:  # its 512 positions hold only short prompts
            options["margin_context_tokens"] = 48
    else:
        options.update(embedder="minilm", intents=intents_file)
    return "rules", chunker, options


def build_stage(splitter: str, chunker: str | None, options: dict[str, Any], device: str,
                dtype: str) -> tuple[Any, Any, dict[str, Any]]:
    """The stage's components with ``device`` (and ``dtype`` where the component declares it)."""
    from segtool.selection import build, route

    wanted = {**options, "device": device}
    if dtype != "auto":
        wanted["dtype"] = dtype
    try:
        selection = route(wanted, splitter, chunker, error=TypeError, flag_style=False)
    except TypeError:  # no --dtype on this component: its default precision
        wanted.pop("dtype", None)
        selection = route(wanted, splitter, chunker, error=TypeError, flag_style=False)
    split, chunk = build(selection)
    return split, chunk, wanted


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run_stage(stage: str, docs: list[tuple[str, str]], args: argparse.Namespace,
              intents_file: str) -> dict[str, Any]:
    from segtool.types import Document

    splitter, chunker, options = stage_config(stage, args, intents_file)
    started = time.perf_counter()
    split, chunk, used = build_stage(splitter, chunker, options, args.device, args.dtype)
    documents = [Document(id=i, text=t, source="many_small_10k.jsonl") for i, t in docs]
    texts = [d.text for d in documents]
    if chunk is None:
        def batched(items: list[Document]) -> list[Any]:
            return split.split_batch([d.text for d in items])
    else:
        from segtool.sentences.rules import RulesSplitter

        rules = RulesSplitter()
        spans = {d.id: rules.split(d.text) for d in documents}
        by_document = getattr(chunk, "chunk_documents", None)

        def batched(items: list[Document]) -> list[Any]:
            sentences = [spans[d.id] for d in items]
            if by_document is not None:
                return list(by_document(items, sentences))
            return list(chunk.chunk_batch([d.text for d in items], sentences))
    batched(documents[:1])  # load the model, warm the kernels
    _sync(args.device)
    load_s = time.perf_counter() - started
    timings: dict[str, float] = {}
    outputs: dict[str, list[Any]] = {}
    for mode in ("batched", "per_document"):
        t0 = time.perf_counter()
        if mode == "batched":
            outputs[mode] = batched(documents)
        else:
            outputs[mode] = [batched([d])[0] for d in documents]
        _sync(args.device)
        timings[mode] = time.perf_counter() - t0
    chars = sum(map(len, texts))
    return {
        "stage": stage, "label": LABELS[stage], "status": "ok", "device": args.device,
        "dtype": used.get("dtype", "default"), "docs": len(docs), "chars": chars,
        "load_s": round(load_s, 2),
        "batched_s": round(timings["batched"], 3),
        "per_document_s": round(timings["per_document"], 3),
        "batched_docs_per_s": round(len(docs) / timings["batched"], 2),
        "per_document_docs_per_s": round(len(docs) / timings["per_document"], 2),
        "speedup": round(timings["per_document"] / timings["batched"], 2),
        "same_output": outputs["batched"] == outputs["per_document"],
        "options": {k: v for k, v in used.items() if k not in ("intents", "sat_model")},
    }


def save(args: argparse.Namespace, rows: list[dict[str, Any]], started: float) -> None:
    env = {**machine(), "device": args.device, "dtype": args.dtype, "docs": args.docs,
           "llm_docs": args.llm_docs, "max_chars": args.max_chars,
           "total_s": round(time.perf_counter() - started, 1)}
    try:
        import torch

        env["torch"] = torch.__version__
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    write_results(args.out, env, rows, ["segtool", "torch", "transformers",
                                        "sentence-transformers", "wtpsplit"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO / "bench-corpus")
    ap.add_argument("--docs", type=int, default=256, help="documents per stage")
    ap.add_argument("--llm-docs", type=int, default=64,
                    help="documents for the margin and perplexity chunkers (slowest per doc)")
    ap.add_argument("--max-chars", type=int, default=0,
                    help="cut each document to its sentences within N chars (0: whole)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="float16", help="float16, bfloat16, float32 or auto")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lm", default="smollm2",
                    help="causal LM of margin/perplexity; 'tiny': a 2-layer stand-in built here "
                         "(for the CPU smoke run: same code paths, meaningless chunks)")
    ap.add_argument("--sat-model", help="SaT model directory (default: the cached tiny SaT)")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--budget-s", type=float, default=420.0,
                    help="stop starting stages after this many seconds (the rest: skipped)")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "bench/results"))
                    / "gpu.json")
    args = ap.parse_args(argv)
    args.tiny_lm = False
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    started = time.perf_counter()
    all_docs = load_docs(args.corpus, max(args.docs, args.llm_docs), args.max_chars)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.lm == "tiny":
            from segtool.testing.tiny_lm import build_tiny_lm

            args.lm = str(build_tiny_lm(Path(tmp) / "tiny-lm"))
            args.tiny_lm = True
        intents_file = os.path.join(tmp, "questions.txt")
        Path(intents_file).write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
        for stage in [s.strip() for s in args.stages.split(",") if s.strip()]:
            if time.perf_counter() - started > args.budget_s:
                rows.append({"stage": stage, "label": LABELS[stage],
                             "status": "skipped (time budget)"})
                continue
            n = args.llm_docs if stage in ("margin", "perplexity") else args.docs
            try:
                row = run_stage(stage, all_docs[:n], args, intents_file)
            except (LookupError, ImportError) as exc:
                row = {"stage": stage, "label": LABELS[stage], "status": "not available",
                       "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
            except Exception as exc:  # record it and go on: one stage must not lose the rest
                from segtool.types import SegtoolError

                status = "not available" if isinstance(exc, SegtoolError) else "failed"
                row = {"stage": stage, "label": LABELS[stage], "status": status,
                       "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            save(args, rows, started)  # after every stage: a killed run keeps what it measured
    save(args, rows, started)
    print("| stage | device | dtype | docs | batched docs/s | per-document docs/s | speed-up "
          "| same output |\n|---|---|---|---:|---:|---:|---:|---|", file=sys.stderr)
    for r in rows:
        if r["status"] != "ok":
            print(f"| {r['label']} | {r['status']} | | | | | | |", file=sys.stderr)
            continue
        print(f"| {r['label']} | {r['device']} | {r['dtype']} | {r['docs']} | "
              f"{r['batched_docs_per_s']:,} | {r['per_document_docs_per_s']:,} | "
              f"{r['speedup']:.2f}× | {'yes' if r['same_output'] else 'no'} |", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(r["status"] != "failed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
