"""``-o DIR/``: one shard per input file, and a re-run redoes only what changed.

The flags (``--prune``, ``--force``) and the command-side run: check the
destination, plan against the manifest, build the components only if
something has to be redone, make the shards, save the manifest and print the
summary.  The mechanics live in :mod:`segtool.incremental`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, Any

import typer

from segtool.types import BadInput, UsageError

Prune = Annotated[bool, typer.Option(
    "--prune", help="With -o DIR/: delete the shards (and manifest entries) of inputs that are "
    "no longer given.", rich_help_panel="Output")]
Force = Annotated[bool, typer.Option(
    "--force", help="With -o DIR/: redo every input, whatever the manifest says.",
    rich_help_panel="Output")]


def is_directory_output(output: str) -> bool:
    """``-o DIR/`` (a trailing slash) or ``-o DIR`` naming an existing directory."""
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def run_directory(*, kind: str, inputs: list[str] | None, read: Any, selection: Any,
                  output: str, fmt_name: str, writer_opts: dict[str, Any], on_error: str,
                  errors_file: str | None, quiet: bool, jobs: int, prune: bool, force: bool) -> None:
    """Bring the output directory ``output`` up to date with ``inputs``."""
    from segtool import executor
    from segtool.incremental import identity
    from segtool.incremental.manifest import JOURNAL, Manifest
    from segtool.incremental.plan import Hashes, make_plan
    from segtool.incremental.runner import Job, ShardMaker, make_all
    from segtool.incremental.shards import (
        locked,
        prepare_directory,
        remove_leftovers,
        remove_shard,
        units,
    )
    from segtool.selection import build, identity_key
    from segtool.writers.jsonl import JsonlWriter
    from segtool.writers.output import check_format, check_target, open_target

    errors_target = None
    if errors_file is not None:
        errors_target = check_target(errors_file, "--errors-file")
        if check_format(errors_target, None) != "jsonl":
            raise UsageError(f"--errors-file {errors_file}: the errors file is JSON Lines — "
                             "name it .jsonl")
    todo = units(inputs or [], output, fmt_name)  # stdin: usage error
    directory = prepare_directory(output)
    quick = identity.quick_key(kind, fmt_name, read, selection)
    with locked(directory):
        remove_leftovers(directory)
        manifest = Manifest(directory).load()
        if manifest.problem and not quiet:
            sys.stderr.write(f"segtool: {manifest.problem} — redoing every input\n")
        hashes = Hashes()
        plan = make_plan(todo, manifest, directory, quick=quick, config=None, force=force,
                         on_error=on_error, hashes=hashes)
        maker = None
        if plan.redo:  # build, and judge every input by what the built components are
            split, chunk = build(selection)
            key = identity_key(selection, split, chunk)
            config = identity.config_key(kind, fmt_name, read, key)
            plan = make_plan(todo, manifest, directory, quick=quick, config=config, force=force,
                             on_error=on_error, hashes=hashes)
            job = Job(kind=kind, selection=selection, read=read, fmt=fmt_name,
                      writer_opts=writer_opts, on_error=on_error,
                      directory=str(directory), journal=str(directory / JOURNAL), quick=quick,
                      config=config, key=key)
            maker = ShardMaker(job, split, chunk)
        for name, entry in plan.refresh.items():
            manifest.record(name, entry)
        removed = 0
        if prune:
            for name in plan.gone:
                remove_shard(directory, manifest.entries[name].shard)
                manifest.forget(name)
                removed += 1
        for unit in plan.redo:  # a shard under another name (the format changed) goes first
            old = manifest.entries.get(unit.name)
            if old is not None and old.shard != unit.shard:
                remove_shard(directory, old.shard)
                manifest.forget(unit.name)

        totals = {"documents": 0, "empty": 0, "skipped": 0, "records": 0}
        bad_by_input: dict[str, list[BadInput]] = {}

        def done(unit: Any, entry: Any, bad: list[BadInput]) -> None:
            for key in totals:
                totals[key] += getattr(entry, key)
            for item in bad:
                sys.stderr.write(f"skipped: {item.message()}\n")
            if bad:
                bad_by_input[unit.name] = bad

        try:
            if maker is not None:
                make_all(maker, plan.redo, executor.resolve_jobs(jobs), done)
        finally:
            # every finished shard is in the journal (workers' too): fold it into the manifest
            with contextlib.suppress(OSError):
                Manifest(directory).load().save()
    if errors_target is not None:
        errors_jsonl = JsonlWriter()
        with open_target(errors_target) as out:
            for unit in todo:
                errors_jsonl.write([{"source": b.source, "location": b.location,
                                     "reason": b.reason} for b in bad_by_input.get(unit.name, [])],
                                   out)
    if quiet:
        return
    stale = "" if prune or not plan.gone else \
        f" ({_plural(len(plan.gone), 'shard')} of inputs no longer given kept: --prune removes them)"
    parts = [_plural(totals["documents"], "document")]
    if totals["empty"]:
        parts.append(f"{totals['empty']:,} empty")
    if totals["skipped"]:
        parts.append(f"{totals['skipped']:,} skipped as bad")
    sys.stderr.write(
        f"segtool: {_plural(len(todo), 'input')}: {len(plan.skip):,} skipped, "
        f"{len(plan.redo):,} redone, {removed:,} removed{stale}; {', '.join(parts)}; "
        f"{totals['records']:,} {kind} → {output}\n")
