"""Option bundles several commands share: input, output and run options.

Declared once here and used by every command that takes them; component
options are not here — they are generated from the components' own
declarations (:mod:`segtool.cli.component_flags`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer


class OnError(StrEnum):
    stop = "stop"
    skip = "skip"


class OutFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


class EncodingErrors(StrEnum):
    strict = "strict"
    replace = "replace"


Inputs = Annotated[
    list[str] | None,
    typer.Argument(help="Files, directories (recursive), globs, or - for stdin. "
                        "With none and piped stdin, stdin is read.", show_default=False,
                   metavar="INPUTS", rich_help_panel="Input"),
]
InputFormat = Annotated[str | None, typer.Option(
    "--input-format", help="txt, md, html, jsonl or parquet (default: from the extension; "
    "stdin: txt).", rich_help_panel="Input", metavar="FORMAT")]
TextField = Annotated[str, typer.Option(help="JSONL/Parquet field holding the text.",
                                        rich_help_panel="Input", metavar="FIELD")]
IdField = Annotated[str | None, typer.Option(
    help="JSONL/Parquet field holding the document id (default: SOURCE#N).",
    rich_help_panel="Input", metavar="FIELD")]
EncErrors = Annotated[EncodingErrors, typer.Option(
    "--encoding-errors", help="strict: invalid UTF-8 is an error; replace: use U+FFFD.",
    rich_help_panel="Input")]
BlockMiB = Annotated[int, typer.Option(
    "--block-mib", min=1, help="Text files larger than this are processed in blocks cut at "
    "paragraph breaks (bounded memory; offsets stay global).", rich_help_panel="Input",
    metavar="MIB")]
KeepFields = Annotated[list[str] | None, typer.Option(
    "--keep-fields", help="JSONL/Parquet: only these input fields go to meta (comma-separated "
    "or repeated; a field a record lacks is left out).", rich_help_panel="Input",
    metavar="A,B", show_default=False)]
DropFields = Annotated[list[str] | None, typer.Option(
    "--drop-fields", help="JSONL/Parquet: these input fields do not go to meta.",
    rich_help_panel="Input", metavar="A,B", show_default=False)]
NoMeta = Annotated[bool, typer.Option(
    "--no-meta", help="Leave meta empty: no input field is copied into it (--columns still "
    "apply).",
    rich_help_panel="Input")]
Columns = Annotated[list[str] | None, typer.Option(
    "--columns", help="Input fields that become top-level columns of every record, after the "
    "fixed ones (null where absent; taken out of meta). Parquet output keeps the types of a "
    "Parquet input.", rich_help_panel="Output", metavar="A,B", show_default=False)]

Output = Annotated[str | None, typer.Option(
    "--output", "-o", help="Output file (default: JSONL on stdout). A file is written "
    "atomically and keeps its permissions; a device, FIFO or /dev/stdout is written directly. "
    "DIR/ (or an existing directory): one shard per input file, and a re-run redoes only "
    "changed inputs.", rich_help_panel="Output", metavar="FILE|DIR/")]
Format = Annotated[OutFormat | None, typer.Option(
    "--format", "-f", help="Output format (default: parquet for -o *.parquet or *.pq, "
    "else jsonl).", rich_help_panel="Output", show_default=False)]
OnErrorOpt = Annotated[OnError, typer.Option(
    "--on-error", help="stop: the first bad document stops the run (exit 1, no output file); "
    "skip: report bad documents on stderr and go on.", rich_help_panel="Run")]
ErrorsFile = Annotated[str | None, typer.Option(
    "--errors-file", help="With --on-error skip: also write each skipped document as JSONL.",
    rich_help_panel="Output", metavar="FILE")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.",
                                     rich_help_panel="Run")]
ProgressOpt = Annotated[bool, typer.Option(
    "--progress", help="Show progress even when stderr is not a terminal: one plain line every "
    "few seconds, for CI logs (on a terminal a live bar is shown anyway; -q wins).",
    rich_help_panel="Run")]
Jobs = Annotated[int, typer.Option(
    "--jobs", "-j", min=0, help="Processes that split and chunk, this one included (0: one per "
    "CPU core). Output is identical for any value.", rich_help_panel="Run", metavar="N")]

Splitter = Annotated[str, typer.Option("--splitter", "-s", help="Sentence splitter (segtool "
                                       "list --kind splitters).", rich_help_panel="Splitter",
                                       metavar="NAME")]
Chunker = Annotated[str, typer.Option("--chunker", "-c", help="Chunking strategy (segtool "
                                      "list --kind chunkers).", rich_help_panel="Chunker",
                                      metavar="NAME")]

class StructureMode(StrEnum):
    auto = "auto"
    off = "off"
    md = "md"
    text = "text"


StructureOpt = Annotated[StructureMode, typer.Option(
    "--structure", help="auto: Markdown and HTML blocks (headings, lists, code, tables) and "
    "plain-text paragraphs shape sentences and chunks; md, text: read every text (JSONL, "
    "Parquet) as Markdown or plain text; off: the text is flat.",
    rich_help_panel="Input")]
SectionLevel = Annotated[int | None, typer.Option(
    "--section-level", min=0, max=6, help="No chunk spans two sections of heading level ≤ N "
    "(default: every heading starts a chunk; with --merge-sections: merge across any).",
    rich_help_panel="Chunker", metavar="N", show_default=False)]
MergeSections = Annotated[bool, typer.Option(
    "--merge-sections", help="Merge small adjacent whole sections into one chunk while they "
    "fit --max-tokens.", rich_help_panel="Chunker")]
HeadingContext = Annotated[bool, typer.Option(
    "--heading-context", help="Add a context field with the chunk's heading path (for "
    "embedding; text stays document[start:end]).", rich_help_panel="Output")]


def structure_options(structure: StructureMode, section_level: int | None = None,
                      merge_sections: bool = False, heading_context: bool = False) -> Any:
    from segtool.structure.options import StructureOptions

    return StructureOptions(structure.value, section_level, merge_sections, heading_context)


def read_options(input_format: str | None, text_field: str, id_field: str | None,
               encoding_errors: EncodingErrors, block_mib: int, *,
               keep_fields: list[str] | None = None, drop_fields: list[str] | None = None,
               no_meta: bool = False, columns: list[str] | None = None) -> dict[str, Any]:
    from segtool.readers.options import field_list

    return {"input_format": input_format, "text_field": text_field, "id_field": id_field,
            "encoding_errors": encoding_errors.value, "block_bytes": block_mib * 1024 * 1024,
            "keep_fields": field_list(keep_fields), "drop_fields": field_list(drop_fields) or (),
            "no_meta": no_meta, "columns": field_list(columns) or ()}
