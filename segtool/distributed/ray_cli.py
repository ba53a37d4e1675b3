"""``segtool chunk|sentences --executor ray``: the CLI's checks and summary around Ray Data.

Everything a local run would refuse is refused the same way, before Ray
starts (Ray takes seconds to start): unknown options, contradictory reader
options.  What only the local executor can do is a usage error that says so:
stdin, a single output file, JSON Lines output, ``--errors-file``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from typing import Any

from segtool.types import UsageError


def _check(inputs: list[str] | None, output: str | None, fmt: str | None,
           errors_file: str | None, ray_address: str | None, ray_gpus: float | None,
           executor: str) -> str:
    if executor != "ray":
        flag = "--ray-address" if ray_address else "--ray-gpus"
        raise UsageError(f"{flag} only applies with --executor ray")
    if importlib.util.find_spec("ray") is None:
        raise UsageError("--executor ray needs Ray Data — pip install 'segtool[ray]'")
    if not inputs or "-" in inputs:
        raise UsageError("--executor ray reads files, not stdin — give files, directories or "
                         "globs (or use the local executor for stdin)")
    if output is None:
        raise UsageError("--executor ray writes a Parquet dataset directory — pass -o DIR")
    if fmt == "jsonl":
        raise UsageError("--format jsonl: --executor ray writes Parquet only — drop --format or "
                         "use the local executor for JSON Lines")
    if errors_file is not None:
        raise UsageError("--errors-file: not supported with --executor ray (skipped records are "
                         "reported on stderr) — use the local executor to write an errors file")
    from segtool.distributed.ray_data import check_output_dir

    check_output_dir(output)
    return output


def run_ray(*, kind: str, inputs: list[str] | None, read_opts: dict[str, Any], splitter: str,
            chunker: str | None, values: dict[str, Any], output: str | None, fmt: Any,
            on_error: Any, errors_file: str | None, quiet: bool, jobs: int,
            executor: str, ray_address: str | None, ray_gpus: float | None) -> None:
    """Check, run on Ray, print the summary line the local executor prints."""
    from segtool.readers import ReadOptions, expand_inputs
    from segtool.selection import route

    selection = route(values, splitter, chunker)
    read = ReadOptions(**read_opts)
    read.validate()
    if kind == "sentences":
        read = dataclasses.replace(read, no_meta=True)
    requested = fmt.value if fmt is not None else None
    target = _check(inputs, output, requested, errors_file, ray_address, ray_gpus, executor)
    sources = expand_inputs(inputs or [])
    inside = [s for s in sources
              if os.path.abspath(s).startswith(os.path.abspath(target).rstrip(os.sep) + os.sep)]
    if inside:
        raise UsageError(f"input {inside[0]} is inside the output directory -o {target} — "
                         "write the output elsewhere")
    column_types = None
    if read.columns:
        from segtool.readers.column_types import parquet_column_types

        column_types = parquet_column_types(sources, read.columns, read)
    from segtool.distributed.ray_data import run_files

    counts, messages = run_files(sources, kind=kind, read=read, selection=selection,
                                 output=target, on_error=on_error.value, jobs=jobs,
                                 address=ray_address, gpus=ray_gpus, column_types=column_types,
                                 quiet=quiet)
    for message in messages:
        sys.stderr.write(f"skipped: {message}\n")
    if len(messages) < counts["skipped"]:
        sys.stderr.write(f"skipped: … and {counts['skipped'] - len(messages):,} more\n")
    if not quiet:
        parts = [f"{counts['documents']:,} document{'s' if counts['documents'] != 1 else ''}"]
        if counts["empty_documents"]:
            parts.append(f"{counts['empty_documents']:,} empty")
        if counts["skipped"]:
            parts.append(f"{counts['skipped']:,} skipped")
        sys.stderr.write(f"segtool: {', '.join(parts)}; {counts['records']:,} {kind} → "
                         f"{target}/ (Ray Data)\n")
