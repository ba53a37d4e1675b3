"""``segtool sentences`` and ``segtool chunk``: read, split, chunk, write.

Both commands take the shared input/output/run bundles plus one flag per
declared option of every registered splitter (and chunker), generated from the
declarations.  Values the user gave are routed to the selected components
(:func:`segtool.selection.route`); the executor runs the pipeline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from typing import Any

from segtool.cli.app import app
from segtool.cli.bundles import (
    BlockMiB,
    Chunker,
    Columns,
    DropFields,
    EncErrors,
    EncodingErrors,
    ErrorsFile,
    Format,
    IdField,
    InputFormat,
    Inputs,
    Jobs,
    KeepFields,
    NoMeta,
    OnError,
    OnErrorOpt,
    OutFormat,
    Output,
    ProgressOpt,
    Quiet,
    Splitter,
    TextField,
    read_options,
)
from segtool.cli.component_flags import with_component_flags
from segtool.cli.errors import Debug, guarded
from segtool.cli.examples import epilog
from segtool.types import BadInput, UsageError


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


def _summary(stats: Any, what: str, output: str | None) -> None:
    parts = [f"{stats.documents:,} document{'s' if stats.documents != 1 else ''}"]
    if stats.empty_documents:
        parts.append(f"{stats.empty_documents:,} empty")
    if stats.skipped:
        parts.append(f"{stats.skipped:,} skipped")
    where = f" → {output}" if output else ""
    sys.stderr.write(f"segtool: {', '.join(parts)}; {stats.records:,} {what}{where}\n")


def run_pipeline(
    *, kind: str, inputs: list[str] | None, read_opts: dict[str, Any], splitter: str,
    chunker: str | None, values: dict[str, Any], output: str | None, fmt: OutFormat | None,
    on_error: OnError, errors_file: str | None, quiet: bool, jobs: int = 1,
    progress_flag: bool = False,
) -> None:
    from segtool import executor, registry
    from segtool.cli.progress import RunProgress, choose_mode, loading_label
    from segtool.pipeline import Pipeline
    from segtool.readers import ReadOptions, expand_inputs, read_documents
    from segtool.selection import build, identity_key, route
    from segtool.writers.jsonl import JsonlWriter
    from segtool.writers.output import (
        check_distinct,
        check_format,
        check_target,
        open_target,
        stdout_target,
    )

    selection = route(values, splitter, chunker)  # a flag no selected component takes: exit 2
    read = ReadOptions(**read_opts)
    read.validate()  # e.g. --keep-fields with --drop-fields: exit 2 before anything is read
    if kind == "sentences":  # sentence records carry no meta: read only promoted fields
        read = dataclasses.replace(read, no_meta=True)
    if errors_file is not None and on_error is not OnError.skip:
        raise UsageError("--errors-file only applies with --on-error skip")
    # Every destination is checked before anything is read or any model loaded.
    requested = fmt.value if fmt else None
    if output is None:
        if requested == "parquet":
            raise UsageError("--format parquet needs -o FILE (Parquet is not streamed to stdout)")
        target, fmt_name = stdout_target(), "jsonl"
    else:
        target = check_target(output, "-o")
        fmt_name = check_format(target, requested)
    targets = [target]
    if errors_file is not None:
        errors_target = check_target(errors_file, "--errors-file")
        if check_format(errors_target, None) != "jsonl":
            raise UsageError(f"--errors-file {errors_file}: the errors file is JSON Lines — "
                             "name it .jsonl")
        targets.append(errors_target)
    sources = expand_inputs(_resolve_inputs(inputs))
    check_distinct(targets, sources)
    writer_opts: dict[str, Any] = {"kind": kind}
    if read.columns:
        writer_opts["columns"] = read.columns
        if fmt_name == "parquet":
            from segtool.readers.column_types import parquet_column_types

            writer_opts["column_types"] = parquet_column_types(sources, read.columns, read)

    progress = RunProgress(choose_mode(quiet=quiet, forced=progress_flag, output=output), kind,
                           sources)
    with progress.stage(loading_label(selection)):
        split, chunk = build(selection)
        progress.load_models((split, chunk), executor.resolve_jobs(jobs))
    writer = registry.create("writers", fmt_name, writer_opts)
    docs = read_documents(sources, read)

    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open_target(target))
        errors_out = stack.enter_context(open_target(targets[1])) if errors_file else None
        errors_jsonl = JsonlWriter()

        def report(bad: BadInput) -> None:
            # streamed, never collected: a run with millions of bad records stays small
            sys.stderr.write(f"skipped: {bad.message()}\n")
            if errors_out is not None:
                errors_jsonl.write([{"source": bad.source, "location": bad.location,
                                     "reason": bad.reason}], errors_out)

        pipeline = Pipeline(split, chunk, key=identity_key(selection, split, chunk),
                            on_error=on_error.value, on_bad=report, columns=read.columns)
        records = progress.records(executor.run(pipeline, progress.documents(docs),
                                                selection=selection, jobs=jobs))
        with progress.running(pipeline.stats):
            writer.write(records, out, flush_each=out.isatty())
    if not quiet:
        _summary(pipeline.stats, kind, output)


@app.command(epilog=epilog("sentences"))
@with_component_flags(("splitters",))
def sentences(
    inputs: Inputs = None,
    splitter: Splitter = "rules",
    input_format: InputFormat = None,
    text_field: TextField = "text",
    id_field: IdField = None,
    encoding_errors: EncErrors = EncodingErrors.strict,
    block_mib: BlockMiB = 64,
    output: Output = None,
    columns: Columns = None,
    fmt: Format = None,
    on_error: OnErrorOpt = OnError.stop,
    errors_file: ErrorsFile = None,
    jobs: Jobs = 1,
    progress: ProgressOpt = False,
    quiet: Quiet = False,
    debug: Debug = False,
    component_values: dict[str, Any] | None = None,
) -> None:
    """Split documents into sentences, one record per sentence.

    Each record has id, doc_id, index, start, end, text and source, with text
    exactly document[start:end].  Component options apply to the selected
    splitter only; giving one that it does not take is an error.
    """
    guarded(debug, lambda: run_pipeline(
        kind="sentences", inputs=inputs,
        read_opts=read_options(input_format, text_field, id_field, encoding_errors, block_mib,
                               columns=columns),
        splitter=splitter, chunker=None, values=component_values or {}, output=output, fmt=fmt,
        on_error=on_error, errors_file=errors_file, quiet=quiet, jobs=jobs,
        progress_flag=progress))


@app.command(epilog=epilog("chunk"))
@with_component_flags(("splitters", "chunkers"))
def chunk(
    inputs: Inputs = None,
    chunker: Chunker = "window",
    splitter: Splitter = "rules",
    input_format: InputFormat = None,
    text_field: TextField = "text",
    id_field: IdField = None,
    encoding_errors: EncErrors = EncodingErrors.strict,
    block_mib: BlockMiB = 64,
    keep_fields: KeepFields = None,
    drop_fields: DropFields = None,
    no_meta: NoMeta = False,
    output: Output = None,
    columns: Columns = None,
    fmt: Format = None,
    on_error: OnErrorOpt = OnError.stop,
    errors_file: ErrorsFile = None,
    jobs: Jobs = 1,
    progress: ProgressOpt = False,
    quiet: Quiet = False,
    debug: Debug = False,
    component_values: dict[str, Any] | None = None,
) -> None:
    """Split documents into token-bounded chunks, one record per chunk.

    Documents are split into sentences (--splitter), which the chunker
    (--chunker) groups into chunks no longer than --max-tokens.  Records have
    exact offsets (text is document[start:end]) and their token count.
    """
    guarded(debug, lambda: run_pipeline(
        kind="chunks", inputs=inputs,
        read_opts=read_options(input_format, text_field, id_field, encoding_errors, block_mib,
                               keep_fields=keep_fields, drop_fields=drop_fields,
                               no_meta=no_meta, columns=columns),
        splitter=splitter, chunker=chunker, values=component_values or {}, output=output,
        fmt=fmt, on_error=on_error, errors_file=errors_file, quiet=quiet, jobs=jobs,
        progress_flag=progress))
