"""``segtool list``: components, their declared options, and whether they are installed."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from segtool.cli.app import app
from segtool.cli.errors import Debug, guarded
from segtool.cli.examples import epilog
from segtool.types import UsageError


def _kinds(kind: str | None) -> tuple[str, ...]:
    from segtool import registry

    if kind is None:
        return registry.KINDS
    wanted = kind.strip().lower()
    for k in registry.KINDS:
        if wanted in (k, registry.noun(k)):
            return (k,)
    raise UsageError(f"unknown kind: {kind!r} — available: {', '.join(registry.KINDS)} "
                     "(singular works too)")


def _status(row: dict[str, Any]) -> str:
    if row["summary"].startswith("failed to load"):
        return "unavailable"
    if row["installed"]:
        return "installed"
    return f"needs segtool[{row['extra'] or row['name']}]"


def _option_line(opt: dict[str, Any]) -> str:
    flag = opt["flag"] if opt["type"] != "bool" else f"{opt['flag']}/--no-{opt['flag'][2:]}"
    kind = "" if opt["type"] == "bool" else f" {opt['type'].upper()}"
    default = "" if opt["default"] is None else f" (default {opt['default']!r})"
    rng = f" [{opt['range']}]" if opt["range"] else ""
    runtime = " (runtime only)" if opt["runtime"] else ""
    return f"{flag}{kind}{default}{rng}{runtime} — {opt['help']}"


@app.command("list", epilog=epilog("list"))
def list_components(
    kind: Annotated[str | None, typer.Option(
        help="Only this kind: splitters, chunkers, readers or writers (singular works too).",
        rich_help_panel="Output")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.",
                                          rich_help_panel="Output")] = False,
    debug: Debug = False,
) -> None:
    """List components, their options, and whether they are installed.

    Splitters, chunkers, readers and writers, built in or from plugins; for
    each its declared options (the flags of sentences and chunk) and, when its
    extra is missing, the pip extra that provides it.
    """

    def body() -> None:
        from segtool import registry

        kinds = _kinds(kind)
        rows = [row for k in kinds for row in registry.describe(k)]
        if as_json:
            sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
            return
        for k in kinds:
            sys.stdout.write(f"{k}:\n")
            for row in (r for r in rows if r["kind"] == k):
                origin = "" if row["origin"] == "builtin" else f" [plugin: {row['origin']}]"
                sys.stdout.write(f"  {row['name']:<14} {_status(row):<24} {row['summary']}"
                                 f"{origin}\n")
                for opt in row["options"]:
                    sys.stdout.write(f"  {'':<14}   {_option_line(opt)}\n")

    guarded(debug, body)
