"""``segtool check``: lint corpora and chunk files; a pre-commit hook and a Makefile gate.

Findings go to stdout, one per line like ruff's (``file:line: CODE rule: message``)
or as one JSON object with ``--format json``; the summary goes to stderr.  Exit
0 when clean, 1 when anything was found, 2 for usage and configuration errors
(an unknown rule, a bad ``[tool.segtool.check]`` key, a path that does not
exist), so a hook or ``make`` can tell "the data is bad" from "the gate is broken".
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from segtool.cli.app import app
from segtool.cli.errors import Debug, guarded
from segtool.cli.examples import epilog

HELP = (
    "Lint corpora and chunk files: token limits, offsets and tiling, empty chunks, duplicate "
    "ids, mid-word cuts, undecodable documents, and (optionally) a minimum ChunkScore.\n\n"
    "Chunk files (JSONL/Parquet with doc_id plus start/end and/or text) are checked row by "
    "row; other files are read as a corpus, and every document that fails to read or decode "
    "is a finding.  Settings come from [tool.segtool.check] in the nearest pyproject.toml, "
    "overridden by flags.  Exit 0: clean; 1: findings; 2: usage or configuration error."
)

# Help sections: the limits describe chunks (Chunker), rule selection is how the run goes (Run).
_Limits = "Chunker"
_Rules = "Run"


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _list_rules() -> None:
    from segtool.check.rules import RULES

    for rule in RULES:
        needs = f" — needs --{rule.needs.replace('_', '-')}" if rule.needs else ""
        sys.stdout.write(f"{rule.code}  {rule.name:<18} {rule.summary}{needs}\n")


@app.command("check", help=HELP, epilog=epilog("check"))
def check(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Chunk files, corpus files, directories (recursive) or globs.", show_default=False,
        metavar="PATHS", rich_help_panel="Input")] = None,
    docs: Annotated[list[str] | None, typer.Option(
        "--docs", help="Source documents of the chunk files (files, directories, globs; "
        "repeatable): enables the offset, gap and mid-word checks against the text.",
        rich_help_panel="Input", metavar="DOCS")] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help="auto: JSONL/Parquet whose rows have a doc_id are chunk "
        "files, the rest corpora; chunks or corpus force one.  [default: auto]",
        rich_help_panel="Input", metavar="auto|chunks|corpus")] = None,
    text_field: Annotated[str | None, typer.Option(
        "--text-field", help="JSONL/Parquet corpus field holding the text.  [default: text]",
        rich_help_panel="Input", metavar="FIELD")] = None,
    id_field: Annotated[str | None, typer.Option(
        "--id-field", help="JSONL/Parquet corpus field holding the document id.",
        rich_help_panel="Input", metavar="FIELD")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        "--max-tokens", help="Flag chunks longer than N tokens (text re-encoded).",
        rich_help_panel=_Limits, metavar="N")] = None,
    min_tokens: Annotated[int | None, typer.Option(
        "--min-tokens", help="Flag chunks shorter than N tokens (a document's only chunk "
        "is exempt).", rich_help_panel=_Limits, metavar="N")] = None,
    tokenizer: Annotated[str | None, typer.Option(
        "--tokenizer", help="Tokenizer for the token rules, as in segtool chunk.  "
        "[default: cl100k_base]", rich_help_panel=_Limits, metavar="T")] = None,
    min_chunkscore: Annotated[float | None, typer.Option(
        "--min-chunkscore", help="Flag documents whose ChunkScore is below X (loads --lm and "
        "--embedder).", rich_help_panel=_Limits, metavar="X")] = None,
    lm: Annotated[str | None, typer.Option(
        "--lm", help="Causal LM for ChunkScore.  [default: smollm2]", rich_help_panel="Model",
        metavar="LM")] = None,
    embedder: Annotated[str | None, typer.Option(
        "--embedder", help="Embedder for ChunkScore.  [default: minilm]",
        rich_help_panel="Model", metavar="NAME")] = None,
    select: Annotated[list[str] | None, typer.Option(
        "--select", help="Rules to run: codes, names, code prefixes or ALL (comma-separated "
        "or repeated).  [default: ALL]", rich_help_panel=_Rules, metavar="RULES")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="Rules to skip (comma-separated or repeated).",
        rich_help_panel=_Rules, metavar="RULES")] = None,
    list_rules: Annotated[bool, typer.Option(
        "--list-rules", help="Print every rule's code, name and summary, and exit.",
        rich_help_panel=_Rules)] = False,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="text: one line per finding; json: one JSON object for "
        "machines.  [default: text]", rich_help_panel="Output", metavar="text|json")] = None,
    config: Annotated[str | None, typer.Option(
        "--config", help="Read [tool.segtool.check] from this file instead of the nearest "
        "pyproject.toml.", rich_help_panel="Run", metavar="FILE")] = None,
    debug: Debug = False,
) -> None:
    def body() -> int:
        if list_rules:
            _list_rules()
            return 0
        from segtool.check import load_config, run_check

        flags: dict[str, Any] = {
            "docs": docs or None, "kind": kind, "text_field": text_field, "id_field": id_field,
            "max_tokens": max_tokens, "min_tokens": min_tokens, "tokenizer": tokenizer,
            "min_chunkscore": min_chunkscore, "lm": lm, "embedder": embedder,
            "select": _split(select), "ignore": _split(ignore), "format": fmt}
        cfg = load_config(flags, config)
        report = run_check(paths or [], cfg)
        if cfg.format == "json":
            sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.writelines(f.render() + "\n" for f in report.findings)
        sys.stdout.flush()
        _summary(report)
        return 1 if report.findings else 0

    code = guarded(debug, body)
    raise typer.Exit(code)


def _summary(report: Any) -> None:
    from segtool.check.rules import BY_CODE

    def count(n: int, what: str) -> str:
        return f"{n:,} {what}{'' if n == 1 else 's'}"

    parts = []
    if report.chunk_files:
        parts.append(f"{count(report.chunk_files, 'chunk file')} ({count(report.chunks, 'chunk')})")
    if report.corpus_files:
        parts.append(f"{count(report.corpus_files, 'corpus file')} "
                     f"({count(report.corpus_documents, 'document')})")
    looked = ", ".join(parts) or "no files"
    if not report.findings:
        sys.stderr.write(f"segtool check: all clean — {looked}\n")
        return
    rules = ", ".join(f"{code} {BY_CODE[code].name} ×{n}" for code, n in report.by_rule().items())
    n = len(report.findings)
    sys.stderr.write(f"segtool check: {n:,} finding{'s' if n != 1 else ''} ({rules}) — {looked}\n")
