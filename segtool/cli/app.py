"""The Typer application objects every command module registers on.

Kept apart from the commands so that command modules import this module, the
package ``__init__`` imports the command modules, and nothing imports back up.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from segtool import __version__

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
