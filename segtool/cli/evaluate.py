"""``segtool eval sentences`` and ``segtool eval chunks``: the Typer layer.

Scoring lives in :mod:`segtool.quality.evaluate` (readers → Pipeline →
metric); this module parses options, prints rich tables on stderr, JSON on
stdout (``--json``) and exact per-question records (``--per-question FILE``,
written atomically).  Component flags are generated from the declarations,
like those of ``segtool chunk``; in ``eval chunks`` the retrieval embedder's
own ``--embedder``/``--device``/``--batch-size``/``--embed-cache`` come first,
so the chunker's are ``--chunk-embedder``, ``--chunk-device`` and so on.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from segtool.cli.app import eval_app
from segtool.cli.bundles import (
    Chunker,
    HeadingContext,
    Jobs,
    MergeSections,
    SectionLevel,
    Splitter,
    StructureMode,
    StructureOpt,
    structure_options,
)
from segtool.cli.component_flags import with_component_flags
from segtool.cli.errors import Debug, guarded
from segtool.cli.examples import epilog

AsJson = Annotated[bool, typer.Option("--json", help="JSON results on stdout.",
                                      rich_help_panel="Output")]

CHUNKS_HELP = (
    "Score a chunking by retrieval against gold spans.\n\n"
    "Chroma's chunking evaluation: embed questions and chunks, retrieve the top-k chunks of "
    "the question's corpus by cosine similarity, and score recall, precision, IoU and "
    "precision-Ω over character ranges.  The chunks come from --chunks or from running the "
    "chunker with its usual options."
)


@eval_app.command("sentences", epilog=epilog("eval sentences"))
@with_component_flags(("splitters",))
def eval_sentences(
    gold: Annotated[list[str], typer.Option(
        "--gold", "-g", help="Gold JSONL file(s), directories or globs "
        '({"id","text","sentences":[[start,end],...]}).', rich_help_panel="Input")],
    splitter: Annotated[list[str] | None, typer.Option(
        "--splitter", "-s", help="Splitter(s) to evaluate; repeat to compare.",
        rich_help_panel="Splitter")] = None,
    as_json: AsJson = False,
    debug: Debug = False,
    component_values: dict[str, Any] | None = None,
) -> None:
    """Score sentence splitters against gold sentence spans.

    Precision, recall and F1 of sentence end offsets (the last end of each
    document left out, trailing whitespace ignored), per gold file and
    splitter.
    """

    def body() -> None:
        from segtool.quality.evaluate import evaluate_sentences

        results = evaluate_sentences(gold, splitter or ["rules"], component_values or {})
        if as_json:
            sys.stdout.write(json.dumps(results, indent=2) + "\n")
        else:
            render_sentences(results)

    guarded(debug, body)


def render_sentences(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Sentence boundaries (ends; last end per document left out)")
    for col in ("file", "splitter", "docs", "exact", "P", "R", "F1"):
        table.add_column(col, justify="left" if col in ("file", "splitter") else "right")
    for r in results:
        table.add_row(os.path.basename(r["file"]), r["splitter"], str(r["docs"]),
                      str(r["exact_docs"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}",
                      f"{r['f1']:.3f}")
    Console(file=sys.stderr, width=120).print(table)


@eval_app.command("chunks", help=CHUNKS_HELP, epilog=epilog("eval chunks"))
@with_component_flags(("splitters", "chunkers"))
def eval_chunks(
    questions: Annotated[Path, typer.Option(
        "--questions", "-Q", help='Questions JSONL: {"id","corpus_id","question",'
        '"references":[{"start","end","content"}]}.', rich_help_panel="Input")],
    corpus: Annotated[list[Path], typer.Option(
        "--corpus", help="Corpus file or directory (repeatable); corpus id = file stem.",
        rich_help_panel="Input")],
    chunks: Annotated[Path | None, typer.Option(
        "--chunks", help="Evaluate these chunks (segtool JSONL/Parquet output with doc_id, "
        "start, end) instead of running a chunker.", rich_help_panel="Input")] = None,
    splitter: Splitter = "rules",
    chunker: Chunker = "window",
    embedder: Annotated[str, typer.Option(
        "--embedder", help="Retrieval embedder for questions and chunks: minilm, model2vec"
        "[:PATH], st:ID_OR_DIR.", rich_help_panel="Retrieval")] = "minilm",
    k: Annotated[str, typer.Option(
        "--k", help="Cut-offs, comma separated.", rich_help_panel="Retrieval")] = "1,5,10",
    retrieve_from: Annotated[str, typer.Option(
        "--retrieve-from", help="corpus: rank only the question's own corpus; all: one "
        "pool for every corpus, as the reference code does.",
        rich_help_panel="Retrieval")] = "corpus",
    stats_tokenizer: Annotated[str | None, typer.Option(
        "--stats-tokenizer", help="Tokenizer for the chunk-size statistics of the report "
        "(default: the chunker's --tokenizer, else cl100k_base).",
        rich_help_panel="Retrieval")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="Device of the retrieval embedder: auto, cpu, cuda, cuda:N.",
        rich_help_panel="Retrieval")] = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", min=1, help="Texts per call of the retrieval embedder.",
        rich_help_panel="Retrieval")] = None,
    embed_cache: Annotated[str | None, typer.Option(
        "--embed-cache", help="Directory for an on-disk cache of the retrieval embedder.",
        rich_help_panel="Retrieval")] = None,
    jobs: Jobs = 1,
    structure: StructureOpt = StructureMode.auto,
    section_level: SectionLevel = None,
    merge_sections: MergeSections = False,
    heading_context: HeadingContext = False,
    as_json: AsJson = False,
    per_question: Annotated[Path | None, typer.Option(
        "--per-question", help="Write one JSON record per question to FILE.",
        rich_help_panel="Output")] = None,
    debug: Debug = False,
    component_values: dict[str, Any] | None = None,
) -> None:
    def body() -> None:
        from segtool.quality.evaluate import evaluate_chunks

        values = component_values or {}
        counting = stats_tokenizer or values.get("chunk_tokenizer") or values.get("tokenizer")
        result, records = evaluate_chunks(
            questions=questions, corpus=corpus, chunks=chunks, splitter=splitter,
            chunker=chunker, values=values, embedder=embedder, ks=k,
            retrieve_from=retrieve_from, tokenizer=counting or "cl100k_base", device=device,
            batch_size=batch_size, embed_cache=embed_cache, jobs=jobs,
            structure=structure_options(structure, section_level, merge_sections,
                                        heading_context))
        if per_question is not None:
            write_jsonl(per_question, records)
        render_chunks(result)
        if as_json:
            sys.stdout.write(json.dumps(result, indent=2, sort_keys=False) + "\n")

    guarded(debug, body)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    from segtool.writers.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def render_chunks(result: dict[str, Any]) -> None:
    """The human summary on stderr: one row per corpus and cut-off, then the overall rows."""
    from rich.console import Console
    from rich.table import Table

    cfg = result["config"]
    what = cfg.get("chunks_file") or " ".join(
        f"{k}={v}" for k, v in cfg.items()
        if k in {"chunker", "max_tokens", "min_tokens", "breakpoint", "breakpoint_amount",
                 "semantic_window", "overlap_tokens", "merge_to_tokens", "margin_threshold",
                 "margin_context", "ppl_threshold", "ppl_dynamic"})
    table = Table(title=f"Retrieval with gold spans — {what}; embedder {cfg['embedder']}, "
                        f"retrieve from {cfg['retrieve_from']} (character ranges, %)")
    for col in ("corpus", "questions", "chunks", "mean tokens", "k", "recall", "precision",
                "IoU", "precision-Ω"):
        table.add_column(col, justify="left" if col == "corpus" else "right")
    stats = result["chunks"]
    rows = [*((cid, s, stats["per_corpus"].get(cid, {})) for cid, s in
              result["per_corpus"].items()), ("all", result["overall"], stats)]
    for n, (name, scores, cs) in enumerate(rows):
        for i, (cut, m) in enumerate(scores["at_k"].items()):
            first = i == 0
            table.add_row(
                name if first else "", str(scores["questions"]) if first else "",
                str(cs.get("count", "")) if first else "",
                f"{cs.get('mean', 0):.0f}" if first else "", cut,
                f"{100 * m['recall']:.1f}", f"{100 * m['precision']:.1f}",
                f"{100 * m['iou']:.1f}",
                f"{100 * scores['precision_omega']:.1f}" if first else "",
                end_section=i == len(scores["at_k"]) - 1 and n < len(rows) - 1,
            )
    console = Console(file=sys.stderr, width=120)
    console.print(table)
    trunc = ""
    if "embedder_truncated" in stats:
        trunc = (f"; {stats['embedder_truncated']} chunk(s) longer than the embedder's "
                 f"{stats['embedder_max_input_tokens']}-token input were truncated when embedded")
    console.print(
        f"chunks: {stats['count']}, {stats['unit']} tokens min {stats['min']} / p50 "
        f"{stats['p50']:.0f} / p95 {stats['p95']:.0f} / max {stats['max']} / mean "
        f"{stats['mean']:.1f}{trunc}", highlight=False)
