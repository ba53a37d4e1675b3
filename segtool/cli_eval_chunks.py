"""``segtool eval chunks``: retrieval quality of a chunking against gold reference spans.

The metric and its definitions live in :mod:`segtool.quality.retrieval`; this
module is the Typer layer: parse options, build or load the chunks, print a
rich table on stderr, JSON on stdout (``--json``) and exact per-question
records (``--per-question FILE``, written atomically).

``register(eval_app)`` is called by ``segtool.cli``; the command body runs
inside the CLI's ``_guarded`` so errors become one line and exit 1 (bad data)
or 2 (bad options, unknown embedder/component).

No ``from __future__ import annotations`` here: the command is defined inside
``register`` and Typer must see its option annotations as objects.
"""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

HELP = (
    "Retrieval evaluation with gold spans (Chroma's chunking evaluation): embed questions and "
    "chunks, retrieve the top-k chunks of the question's corpus by cosine similarity, and score "
    "recall, precision, IoU and precision-Ω over character ranges."
)


def register(eval_app: typer.Typer) -> None:
    """Add the ``chunks`` command to the ``eval`` sub-app."""
    from segtool import cli

    @eval_app.command("chunks", help=HELP)
    def eval_chunks(
        questions: Annotated[Path, typer.Option(
            "--questions", "-Q", help='Questions JSONL: {"id","corpus_id","question",'
            '"references":[{"start","end","content"}]}.')],
        corpus: Annotated[list[Path], typer.Option(
            "--corpus", help="Corpus file or directory (repeatable); corpus id = file stem.")],
        chunks: Annotated[Path | None, typer.Option(
            "--chunks", help="Evaluate these chunks (segtool JSONL/Parquet output with doc_id, "
            "start, end) instead of running a chunker.")] = None,
        splitter: cli.Splitter = "rules",
        lang: cli.Lang = "en",
        chunker: cli.Chunker = "window",
        max_tokens: cli.MaxTokens = 512,
        tokenizer: cli.Tokenizer = "cl100k_base",
        overlap_tokens: cli.Overlap = 0,
        min_tokens: cli.MinTokens = None,
        chunk_embedder: Annotated[str | None, typer.Option(
            "--chunk-embedder", help="Embedder of the semantic chunker (default: minilm).",
            rich_help_panel="Semantic")] = None,
        breakpoint: cli.Breakpoint = None,
        breakpoint_amount: cli.BreakpointAmount = None,
        semantic_window: cli.SemWindow = None,
        lm: cli.Lm = None,
        lm_gguf: cli.LmGguf = None,
        margin_threshold: cli.MarginThreshold = None,
        margin_context: cli.MarginContext = None,
        margin_context_tokens: cli.MarginCtxTokens = None,
        ppl_threshold: cli.PplThreshold = None,
        ppl_dynamic: cli.PplDynamic = None,
        merge_to_tokens: cli.MergeTo = None,
        lm_window_tokens: cli.LmWindow = None,
        dtype: cli.Dtype = None,
        embedder: Annotated[str, typer.Option(
            "--embedder", help="Retrieval embedder for questions and chunks: minilm, model2vec"
            "[:PATH], st:ID_OR_DIR.", rich_help_panel="Retrieval")] = "minilm",
        k: Annotated[str, typer.Option(
            "--k", help="Cut-offs, comma separated.", rich_help_panel="Retrieval")] = "1,5,10",
        retrieve_from: Annotated[str, typer.Option(
            "--retrieve-from", help="corpus: rank only the question's own corpus; all: one "
            "pool for every corpus, as the reference code does.",
            rich_help_panel="Retrieval")] = "corpus",
        embed_cache: cli.EmbedCache = None,
        device: cli.Device = None,
        batch_size: cli.BatchSize = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON results on stdout.")] = False,
        per_question: Annotated[Path | None, typer.Option(
            "--per-question", help="Write one JSON record per question to FILE.")] = None,
        debug: cli.Debug = False,
    ) -> None:
        def body() -> None:
            result, records = run(
                questions=questions, corpus=corpus, chunks=chunks, splitter=splitter,
                chunker=chunker, embedder=embedder, ks=k, retrieve_from=retrieve_from,
                tokenizer=tokenizer, device=device, batch_size=batch_size,
                embed_cache=embed_cache,
                options={"lang": lang, "max_tokens": max_tokens, "tokenizer": tokenizer,
                         "overlap_tokens": overlap_tokens, "min_tokens": min_tokens,
                         "embedder": chunk_embedder, "breakpoint": breakpoint,
                         "breakpoint_amount": breakpoint_amount,
                         "semantic_window": semantic_window, "lm": lm, "lm_gguf": lm_gguf,
                         "margin_threshold": margin_threshold, "margin_context": margin_context,
                         "margin_context_tokens": margin_context_tokens,
                         "ppl_threshold": ppl_threshold, "ppl_dynamic": ppl_dynamic,
                         "merge_to_tokens": merge_to_tokens, "lm_window_tokens": lm_window_tokens,
                         "device": device, "dtype": dtype, "batch_size": batch_size,
                         "embed_cache": embed_cache},
            )
            if per_question is not None:
                write_jsonl(per_question, records)
            render(result)
            if as_json:
                sys.stdout.write(json.dumps(result, indent=2, sort_keys=False) + "\n")

        cli._guarded(debug, body)


def run(
    *, questions: Path, corpus: list[Path], chunks: Path | None, splitter: str, chunker: str,
    embedder: str, ks: str, retrieve_from: str, tokenizer: str, device: str | None,
    batch_size: int | None, embed_cache: str | None, options: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Load, validate, chunk (or read chunks), embed and score; no printing."""
    from segtool.models.embedders import get_embedder
    from segtool.models.tokens import get_tokenizer
    from segtool.quality import retrieval as rv
    from segtool.types import UsageError

    cut_offs = rv.parse_ks(ks)
    if retrieve_from not in {"corpus", "all"}:
        raise UsageError(f"--retrieve-from {retrieve_from!r}: use corpus or all")
    qs = rv.load_questions(questions)
    corpora = rv.load_corpora(corpus)
    rv.check_references(qs, corpora, str(questions))
    counter = get_tokenizer(tokenizer)
    # build the retrieval embedder before chunking: a bad --embedder fails fast (exit 2)
    retriever = get_embedder(embedder, device=device or "auto", batch_size=batch_size or 64,
                             cache_dir=embed_cache)
    if chunks is not None:
        records = rv.load_chunk_records(chunks, corpora)
        config: dict[str, Any] = {"chunks_file": str(chunks)}
    else:
        records, config = rv.chunk_corpora(corpora, splitter=splitter, chunker=chunker,
                                           options=options)
    summary, per_question = rv.evaluate(qs, records, retriever, ks=cut_offs,
                                        retrieve_from=retrieve_from, token_counter=counter)
    result = {
        "config": {**config, "embedder": embedder, "embedder_identity": retriever.identity,
                   "k": cut_offs, "retrieve_from": retrieve_from, "unit": "characters",
                   "token_stats_tokenizer": counter.name},
        **summary,
    }
    return result, per_question


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    from segtool.writers.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def render(result: dict[str, Any]) -> None:
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
