"""``segtool score``: gold-free quality of one or more chunkings, ranked by ChunkScore.

The work is in :mod:`segtool.quality.scoring`; this module parses options,
loads the scoring models, prints the rich table on stderr, JSON on stdout
(``--json``) and the self-contained HTML report (``--html FILE``, written
atomically).  The command's own ``--lm``/``--embedder``/``--device``/
``--batch-size`` configure the *scoring* models, so a chunker run here takes
``--chunk-lm``, ``--chunk-embedder`` and so on; ``--max-tokens`` and
``--tokenizer`` are both the limit/counting of the report and, when given,
the chunker's own settings.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from segtool.cli.app import app
from segtool.cli.bundles import Splitter
from segtool.cli.component_flags import with_component_flags
from segtool.cli.errors import Debug, guarded
from segtool.cli.examples import epilog
from segtool.types import UsageError

SCORE_HELP = (
    "Gold-free quality of chunkings: structural stats, ChunkScore, boundary clarity, stickiness.\n\n"
    "CHUNKS are chunk files (JSONL/Parquet from segtool chunk, or another tool's with doc_id plus "
    "start/end or only text; text-only chunks are located in --docs).  With --chunker, "
    "arguments that are not chunk files are documents, chunked here.  Structural stats need no "
    "model; --lm and --embedder add ChunkScore = λ·LI + (1−λ)·SD, and several chunkings are "
    "ranked by it."
)


def _panel(name: str) -> dict[str, Any]:
    return {"rich_help_panel": name}


@app.command("score", help=SCORE_HELP, epilog=epilog("score"))
@with_component_flags(("splitters", "chunkers"))
def score(
    inputs: Annotated[list[str] | None, typer.Argument(
        help="Chunk files (JSONL/Parquet); with --chunker also documents to chunk.",
        metavar="CHUNKS...", show_default=False, **_panel("Input"))] = None,
    docs: Annotated[list[str] | None, typer.Option(
        "--docs", help="Source documents of the chunks (files, directories, globs; repeatable): "
        "locate text-only chunks, check offsets, feed --chunker.", show_default=False,
        **_panel("Input"))] = None,
    chunker: Annotated[list[str] | None, typer.Option(
        "--chunker", "-c", help="Run this chunker on the documents and score its chunks; "
        "repeat to compare; NAME:key=value,... sets options of one configuration "
        "(window:max_tokens=400).", metavar="SPEC", show_default=False,
        **_panel("Chunker"))] = None,
    splitter: Splitter = "rules",
    lm: Annotated[str | None, typer.Option(
        "--lm", help="Causal LM for LI/BC/CS: smollm2, a hub id, a directory or a .gguf file "
        "(default: no LM measures).", **_panel("Scoring"))] = None,
    embedder: Annotated[str | None, typer.Option(
        "--embedder", help="Embedder for SD: minilm, model2vec[:PATH], st:ID_OR_DIR (default: "
        "no SD).", **_panel("Scoring"))] = None,
    device: Annotated[str, typer.Option(
        "--device", help="Device of the scoring models: auto, cpu, cuda, cuda:N.",
        **_panel("Scoring"))] = "auto",
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1, help="Texts per call of the scoring models.",
        **_panel("Scoring"))] = 8,
    tokenizer: Annotated[str | None, typer.Option(
        "--tokenizer", help="Token counting for the length stats (default: the files' n_tokens, "
        "else cl100k_base); also the chunker's.", **_panel("Scoring"))] = None,
    max_tokens: Annotated[int | None, typer.Option(
        "--max-tokens", min=1, help="Token limit: chunks above it are violations; also the "
        "chunker's limit.", **_panel("Scoring"))] = None,
    score_lambda: Annotated[float, typer.Option(
        "--score-lambda", min=0.0, max=1.0, help="λ of ChunkScore = λ·LI + (1−λ)·SD.",
        **_panel("Scoring"))] = 0.3,
    score_alpha: Annotated[float, typer.Option(
        "--score-alpha", min=0.0, help="α regularising SD's log-determinant.",
        **_panel("Scoring"))] = 1e-3,
    boundary_metrics: Annotated[bool, typer.Option(
        "--boundary-metrics", help="Also boundary clarity (BC) and chunk stickiness (CS); CS "
        "costs one LM call per chunk pair within --stickiness-window.",
        **_panel("Scoring"))] = False,
    stickiness_k: Annotated[float, typer.Option(
        "--stickiness-k", help="Edge threshold K of the stickiness graph.",
        **_panel("Scoring"))] = 0.8,
    stickiness_window: Annotated[int, typer.Option(
        "--stickiness-window", min=0, help="Stickiness compares chunks at most N apart "
        "(0: every pair, quadratic).", **_panel("Scoring"))] = 2,
    sample_chars: Annotated[int | None, typer.Option(
        "--sample-chars", min=1, help="Model measures only on the chunks that end within each "
        "document's first N characters (bounds LM time; structural stats use all chunks).",
        **_panel("Scoring"))] = None,
    worst: Annotated[int, typer.Option(
        "--worst", min=0, help="Weakest boundaries (lowest LI ratio) listed per chunking.",
        **_panel("Output"))] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="JSON results on stdout.",
                                          **_panel("Output"))] = False,
    html: Annotated[str | None, typer.Option(
        "--html", help="Write a self-contained HTML report to FILE (atomically).",
        metavar="FILE", **_panel("Output"))] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines and no table.",
                                        **_panel("Run"))] = False,
    debug: Debug = False,
    component_values: dict[str, Any] | None = None,
) -> None:
    """Score chunkings without gold data (see SCORE_HELP)."""

    def body() -> None:
        result = run_score(
            inputs or [], docs=docs or [], chunkers=chunker or [], splitter=splitter,
            values=component_values or {}, lm=lm, embedder=embedder, device=device,
            batch_size=batch_size, tokenizer=tokenizer, max_tokens=max_tokens,
            lam=score_lambda, alpha=score_alpha, boundary_metrics=boundary_metrics,
            stickiness_k=stickiness_k, stickiness_window=stickiness_window,
            sample_chars=sample_chars, worst=worst, quiet=quiet, html=html)
        if html:
            from segtool.quality.report_html import write_report

            write_report(html, result)
        if not quiet:
            render(result)
        if as_json:
            sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    guarded(debug, body)


def run_score(inputs: list[str], *, docs: list[str], chunkers: list[str], splitter: str,
              values: dict[str, Any], lm: str | None, embedder: str | None, device: str,
              batch_size: int, tokenizer: str | None, max_tokens: int | None, lam: float,
              alpha: float, boundary_metrics: bool, stickiness_k: float, stickiness_window: int,
              sample_chars: int | None, worst: int, quiet: bool,
              html: str | None = None) -> dict[str, Any]:
    """Validate, gather the chunkings, load models, score (no printing besides progress)."""
    from segtool.quality import scoring
    from segtool.quality.chunk_files import chunk_file_format, load_documents, looks_like_chunks
    from segtool.readers import expand_inputs

    def log(message: str) -> None:
        if not quiet:
            sys.stderr.write(f"segtool: {message}\n")
            sys.stderr.flush()

    if boundary_metrics and not lm:
        raise UsageError("--boundary-metrics needs --lm (BC and CS are LM measures) — add e.g. "
                         "--lm smollm2")
    if not inputs and not chunkers:
        raise UsageError("nothing to score — give chunk files, or documents with --chunker")
    if html:
        from pathlib import Path

        parent = Path(html).parent
        if not parent.is_dir():
            raise UsageError(f"cannot write {html}: directory {parent} does not exist — create "
                             "it first")
    for spec in chunkers:  # bad names and options fail before any work
        name, raw = scoring.parse_chunker_spec(spec)
        scoring.typed_overrides(name, raw, spec)
    files: list[str] = []
    doc_paths = list(docs)
    for item in inputs:
        if chunk_file_format(item) is not None and looks_like_chunks(item):
            files.append(item)
        elif chunkers:
            doc_paths.append(item)
        else:
            raise UsageError(f"not a chunk file — {item} — score expects chunk files (JSONL/"
                             "Parquet with doc_id); to chunk documents here add --chunker NAME")
    for path in files:
        expand_inputs([path])  # a missing file: the readers' one-line error
    documents = load_documents(doc_paths) if doc_paths else None
    if chunkers and not documents:
        raise UsageError("--chunker: no documents found — pass documents as arguments or --docs")
    chunk_values = dict(values)
    if max_tokens is not None:
        chunk_values.setdefault("max_tokens", max_tokens)
    if tokenizer is not None:
        chunk_values.setdefault("tokenizer", tokenizer)
    chunkings = [scoring.chunking_from_file(p, documents) for p in files]
    if chunkers:
        declared_by_any = _chunker_values(chunk_values, chunkers, splitter)
        log(f"chunking {len(documents or {}):,} document(s) with {len(chunkers)} configuration(s)")
        chunkings += scoring.chunkings_from_chunkers(chunkers, splitter=splitter,
                                                     values=declared_by_any, docs=documents or {})
    elif values:
        raise UsageError(f"--{next(iter(values)).replace('_', '-')} is a chunker option — add "
                         "--chunker NAME to chunk documents here")
    counter = None
    if tokenizer is not None:
        from segtool.models.tokens import get_tokenizer

        counter = get_tokenizer(tokenizer)
    models = scoring.Models(lam=lam, alpha=alpha, boundary_metrics=boundary_metrics,
                            stickiness_k=stickiness_k, stickiness_window=stickiness_window,
                            sample_chars=sample_chars, batch_size=batch_size)
    if embedder:
        from segtool.models.embedders import get_embedder

        models.embedder = get_embedder(embedder, device=device, batch_size=max(batch_size, 32))
    if lm:
        from segtool.models.causal_lm import load_causal_lm

        log(f"loading LM {lm}")
        models.lm = load_causal_lm(lm, device=device, log=log)
    result = scoring.score_chunkings(chunkings, models=models, counter=counter,
                                     max_tokens=max_tokens, worst=worst, log=log)
    result["config"] = {
        "lm": lm, "embedder": embedder, "lambda": lam, "alpha": alpha,
        "boundary_metrics": boundary_metrics,
        "stickiness_k": stickiness_k if boundary_metrics else None,
        "stickiness_window": stickiness_window if boundary_metrics else None,
        "sample_chars": sample_chars, "max_tokens": max_tokens,
        "tokenizer": tokenizer or "n_tokens of the files, else cl100k_base",
        "sentence_end_rule": "terminal punctuation, a following line break, or document end",
    }
    return result


def _chunker_values(values: dict[str, Any], chunkers: list[str], splitter: str) -> dict[str, Any]:
    """Drop the report's own --max-tokens/--tokenizer where no chunker declares them."""
    from segtool import registry
    from segtool.options import specs_of
    from segtool.quality.scoring import parse_chunker_spec

    declared: set[str] = set()
    for spec in chunkers:
        declared |= {s.name for s in specs_of(registry.resolve("chunkers",
                                                               parse_chunker_spec(spec)[0]))}
    declared |= {s.name for s in specs_of(registry.resolve("splitters", splitter))}
    return {k: v for k, v in values.items()
            if k not in ("max_tokens", "tokenizer") or k in declared}


def render(result: dict[str, Any]) -> None:
    """The ranking table (structural stats beside the model scores) on stderr."""
    from rich.console import Console
    from rich.table import Table

    from segtool.quality.report_html import format_number as _fmt

    by_name = {r["name"]: r for r in result["chunkings"]}
    cfg = result.get("config", {})
    models = ", ".join(f"{k} {cfg[k]}" for k in ("lm", "embedder") if cfg.get(k)) or "no models"
    table = Table(title=f"Chunk quality ({models}; λ={cfg.get('lambda')})")
    cols = ("#", "chunking", "chunks", "p50 tok", "p95 tok", "sent. end %", "over limit",
            "empty", "dup.", "gaps/overlaps", "LI", "SD", "ChunkScore", "BC", "CS")
    for col in cols:
        table.add_column(col, justify="left" if col == "chunking" else "right",
                         overflow="fold")
    for row in result["ranking"]:
        r = by_name[row["name"]]
        st = r["structural"]
        sc = r.get("scores", {})
        tiling = f"{st['gaps']}/{st['overlaps']}" if st["offsets"] else "—"
        if st["offset_errors"]:
            tiling += f" ({st['offset_errors']} bad offsets)"
        table.add_row(_fmt(row["rank"]), row["name"], str(st["chunks"]),
                      f"{st['tokens']['p50']:.0f}", f"{st['tokens']['p95']:.0f}",
                      f"{100 * st['sentence_end_share']:.1f}",
                      str(st["over_limit"]) if st["max_tokens"] else "—", str(st["empty"]),
                      str(st["duplicates"]), tiling, _fmt(sc.get("li")), _fmt(sc.get("sd")),
                      _fmt(row["chunk_score"]), _fmt(sc.get("bc")), _fmt(sc.get("cs")))
    console = Console(file=sys.stderr, width=160)
    console.print(table)
