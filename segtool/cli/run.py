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
    HeadingContext,
    IdField,
    InputFormat,
    Inputs,
    Jobs,
    KeepFields,
    MergeSections,
    NoMeta,
    OnError,
    OnErrorOpt,
    OutFormat,
    Output,
    ProgressOpt,
    Quiet,
    SectionLevel,
    Splitter,
    StructureMode,
    StructureOpt,
    TextField,
    read_options,
    structure_options,
)
from segtool.cli.component_flags import with_component_flags
from segtool.cli.errors import Debug, guarded
from segtool.cli.examples import epilog
from segtool.cli.incremental import Force, Prune, is_directory_output, run_directory
from segtool.cli.ray_flags import Executor, ExecutorName, RayAddress, RayGpus
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
    progress_flag: bool = False, executor: str = "local", ray_address: str | None = None,
    ray_gpus: float | None = None,
    structure: Any = None,
    prune: bool = False,
    force: bool = False,
) -> None:
    if (executor != "local" or ray_address or ray_gpus is not None) and structure is not None \
            and structure.identity(chunker is not None):  # not carried to Ray workers (yet)
        raise UsageError("--structure/--section-level/--merge-sections/--heading-context other "
                         "than the defaults work with the local executor only — leave them "
                         "out, or drop --executor")
    if executor != "local" or ray_address or ray_gpus is not None:  # segtool.distributed
        from segtool.distributed.ray_cli import run_ray

        if prune or force:
            raise UsageError("--prune and --force apply to the local executor's output "
                             "directory — Ray Data rewrites its whole output directory; drop them "
                             "or drop --executor ray")

        return run_ray(kind=kind, inputs=inputs, read_opts=read_opts, splitter=splitter,
                       chunker=chunker, values=values, output=output, fmt=fmt, on_error=on_error,
                       errors_file=errors_file, quiet=quiet, jobs=jobs, executor=executor,
                       ray_address=ray_address, ray_gpus=ray_gpus)
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
    if structure is not None:  # run-level structure options (segtool.structure)
        structure.check_chunking(chunker is not None)
        selection = dataclasses.replace(selection, structure=structure)
    read = ReadOptions(**read_opts)
    read.validate()  # e.g. --keep-fields with --drop-fields: exit 2 before anything is read
    if kind == "sentences":  # sentence records carry no meta: read only promoted fields
        read = dataclasses.replace(read, no_meta=True)
    if errors_file is not None and on_error is not OnError.skip:
        raise UsageError("--errors-file only applies with --on-error skip")
    if output is not None and is_directory_output(output):  # -o DIR/: segtool.incremental
        writer_opts_dir: dict[str, Any] = {"kind": kind}
        if read.columns:
            writer_opts_dir["columns"] = read.columns
        if kind == "chunks" and selection.structure.on and selection.structure.heading_context:
            _context_column(writer_opts_dir, read.columns, fmt.value if fmt else "jsonl")
        return run_directory(kind=kind, inputs=inputs, read=read, selection=selection,
                             output=output, fmt_name=fmt.value if fmt else "jsonl",
                             writer_opts=writer_opts_dir, on_error=on_error.value,
                             errors_file=errors_file, quiet=quiet, jobs=jobs, prune=prune,
                             force=force)
    if prune or force:
        raise UsageError("--prune and --force apply to an output directory — give -o DIR/ "
                         "(with the trailing slash) or leave them out")
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

    if kind == "chunks" and selection.structure.on and selection.structure.heading_context:
        _context_column(writer_opts, read.columns, fmt_name)
    progress = RunProgress(choose_mode(quiet=quiet, forced=progress_flag, output=output), kind,
                           sources)
    with contextlib.ExitStack() as stack:
        # --jobs: the workers start first and build their components while this process
        # builds its own (segtool.executor.Workers)
        workers = stack.enter_context(executor.Workers(selection, jobs))
        with progress.stage(loading_label(selection)):
            split, chunk = build(selection)
            progress.load_models((split, chunk), workers.jobs)
        writer = registry.create("writers", fmt_name, writer_opts)
        docs = read_documents(sources, read)
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
                            on_error=on_error.value, on_bad=report, columns=read.columns,
                            structure=selection.structure)
        records = progress.records(executor.run(pipeline, progress.documents(docs),
                                                selection=selection, workers=workers))
        with progress.running(pipeline.stats):
            writer.write(records, out, flush_each=out.isatty())
    if not quiet:
        _summary(pipeline.stats, kind, output)


def _context_column(writer_opts: dict[str, Any], columns: tuple[str, ...], fmt_name: str
                    ) -> None:
    """--heading-context: records get a ``context`` string field, written as a column."""
    if "context" in columns:
        raise UsageError("--columns context: with --heading-context, context is the heading "
                         "path — rename the input field or leave out --heading-context")
    writer_opts["columns"] = ("context", *columns)
    if fmt_name == "parquet":
        import pyarrow as pa

        writer_opts["column_types"] = {**writer_opts.get("column_types", {}),
                                       "context": pa.string()}


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
    structure: StructureOpt = StructureMode.auto,
    output: Output = None,
    columns: Columns = None,
    fmt: Format = None,
    on_error: OnErrorOpt = OnError.stop,
    errors_file: ErrorsFile = None,
    prune: Prune = False,
    force: Force = False,
    jobs: Jobs = 1,
    executor: Executor = ExecutorName.local,
    ray_address: RayAddress = None,
    ray_gpus: RayGpus = None,
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
        structure=structure_options(structure),
        progress_flag=progress, executor=executor.value, ray_address=ray_address,
        ray_gpus=ray_gpus, prune=prune, force=force))


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
    structure: StructureOpt = StructureMode.auto,
    section_level: SectionLevel = None,
    merge_sections: MergeSections = False,
    heading_context: HeadingContext = False,
    output: Output = None,
    columns: Columns = None,
    fmt: Format = None,
    on_error: OnErrorOpt = OnError.stop,
    errors_file: ErrorsFile = None,
    prune: Prune = False,
    force: Force = False,
    jobs: Jobs = 1,
    executor: Executor = ExecutorName.local,
    ray_address: RayAddress = None,
    ray_gpus: RayGpus = None,
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
        structure=structure_options(structure, section_level, merge_sections, heading_context),
        progress_flag=progress, executor=executor.value, ray_address=ray_address,
        ray_gpus=ray_gpus, prune=prune, force=force))
