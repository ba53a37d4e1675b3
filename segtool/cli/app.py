"""The Typer application objects every command module registers on.

Kept apart from the commands so that command modules import this module, the
package ``__init__`` imports the command modules, and nothing imports back up.

Every command and group uses the plain, stage-grouped help of
:mod:`segtool.cli.help` (``rich_markup_mode=None`` keeps Typer's Rich
formatting out of help and usage errors).  Shell completion is Typer's:
``segtool --install-completion`` / ``--show-completion``.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from segtool import __version__
from segtool.cli.examples import epilog
from segtool.cli.help import SegtoolCommand, SegtoolGroup


class _Typer(typer.Typer):
    """A Typer whose commands default to :class:`SegtoolCommand` (grouped help)."""

    def command(self, name: str | None = None, *, cls: type[Any] | None = None,
                **kwargs: Any) -> Any:
        return super().command(name, cls=cls or SegtoolCommand, **kwargs)


app = _Typer(
    name="segtool",
    cls=SegtoolGroup,
    help="Turn documents into sentences and retrieval-ready chunks with exact character offsets.",
    epilog=epilog(""),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
eval_app = _Typer(
    cls=SegtoolGroup,
    help="Measure splitters and chunkers against gold data.",
    epilog=epilog("eval"),
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
