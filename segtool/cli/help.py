"""Plain-text ``--help`` with options grouped by pipeline stage.

Commands take dozens of flags — their own plus one per declared component
option — so one long "Options" list does not teach anything.  Every option
names its group (``rich_help_panel`` in the declarations: the bundles, the
commands, and the ``group`` of each component option), and help prints one
section per group in pipeline order: Input, Splitter, Chunker, Model,
Retrieval, Output, Run.  The man page uses the same grouping.

Why not Typer's rich help, which also shows panels: it reads help texts as
Rich markup, so ``[splitter sat; default 512]`` or ``[[start, end], ...]``
silently vanish, and it turns usage errors into boxed panels.  Click's plain
formatter keeps every character, writes no escape codes, and wraps to the
terminal (``COLUMNS``; at most 80 columns), which also keeps the output stable
for tests.  The examples that end each command's help are printed as they are,
never re-wrapped, so a command line can be copied whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # Typer bundles its own copy of click
    from typer import _click as click

#: Help sections of a command, in the order they are printed.
PANELS = ("Input", "Splitter", "Chunker", "Model", "Retrieval", "Scoring", "Output", "Run")


def panel_of(param: click.Parameter, default: str) -> str:
    """The help section of ``param``: its declared group, else ``default`` (``--help``)."""
    return getattr(param, "rich_help_panel", None) or default


def grouped(params: list[click.Parameter], default: str) -> list[tuple[str, list[click.Parameter]]]:
    """``params`` by section: the known ones in pipeline order, then any other, as declared."""
    sections: dict[str, list[click.Parameter]] = {}
    for param in params:
        if getattr(param, "hidden", False):
            continue
        sections.setdefault(panel_of(param, default), []).append(param)
    order = [p for p in PANELS if p in sections] + [p for p in sections if p not in PANELS]
    return [(name, sections[name]) for name in order]


def _format_sections(cmd: click.Command, ctx: click.Context, formatter: click.HelpFormatter,
                     default: str) -> None:
    for name, params in grouped(cmd.get_params(ctx), default):
        rows = [rec for p in params if (rec := p.get_help_record(ctx)) is not None]
        if rows:
            with formatter.section(name):
                formatter.write_dl(rows)


def _format_examples(cmd: click.Command, formatter: click.HelpFormatter) -> None:
    if cmd.epilog:
        formatter.write_paragraph()
        formatter.write(cmd.epilog.rstrip("\n") + "\n")


class SegtoolCommand(TyperCommand):
    """A command whose help lists its options by stage and ends with examples verbatim."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # --help itself is the only option that declares no group: it belongs with the run
        _format_sections(self, ctx, formatter, default="Run")

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_examples(self, formatter)


class SegtoolGroup(TyperGroup):
    """A command group: its own few options, its commands, then examples verbatim."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_sections(self, ctx, formatter, default="Options")
        self.format_commands(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_examples(self, formatter)
