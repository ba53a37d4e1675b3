"""CLI flags generated from component option declarations.

Typer builds a command's options from the function's signature.  Commands that
run components take their own options as ordinary parameters and get one flag
per declared component option added here, so a new option — in a built-in or a
plugin — appears in ``--help`` and the man page without touching the CLI.

Every generated flag defaults to ``None`` ("not given"): only values the user
gave are routed to components (:func:`segtool.selection.route`), each
component's own default applies otherwise, and a flag no selected component
takes is an error instead of being dropped.  Runtime options that both a
splitter and a chunker declare (device, batch size, dtype) also get
``--split-X``/``--chunk-X`` forms so each stage can have its own.

In ``--help`` each flag is listed under its declared group (Splitter, Chunker
or Model); any other group (a plugin that kept the default) is replaced by
the stage of the components that declare the option, so every flag lands in
one of the pipeline-stage sections.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from segtool.options import OptionSpec
from segtool.selection import declared_options

_NOUN = {"splitters": "splitter", "chunkers": "chunker"}
_STAGE_OF_KIND = {"splitters": "split", "chunkers": "chunk"}
_PANEL_OF_KIND = {"splitters": "Splitter", "chunkers": "Chunker"}
_COMPONENT_PANELS = ("Splitter", "Chunker", "Model")


def _panel(spec: OptionSpec, kinds_owning: set[str]) -> str:
    """The help section of a generated flag: its declared group, else its stage."""
    if spec.opt.group in _COMPONENT_PANELS:
        return spec.opt.group
    if len(kinds_owning) == 1:
        return _PANEL_OF_KIND[next(iter(kinds_owning))]
    return "Model"  # declared by splitters and chunkers alike: a model/runtime setting


def _help(spec: OptionSpec, owners: list[tuple[str, str, OptionSpec]], stage: str | None) -> str:
    who = ", ".join(f"{_NOUN[k]} {n}" for k, n, _ in owners)
    defaults = {repr(s.default) for _, _, s in owners}
    default = (f"default {next(iter(defaults))}" if len(defaults) == 1
               else "default: " + ", ".join(f"{n} {s.default!r}" for _, n, s in owners))
    rng = spec.range_text()
    aim = f" For the {stage} stage only." if stage else ""
    return f"{spec.opt.help}{aim} [{who}; {default}{'; ' + rng if rng else ''}]"


def _parameter(name: str, flag: str, spec: OptionSpec, help_text: str, panel: str
               ) -> inspect.Parameter:
    base: Any = spec.type
    if spec.type is bool:
        negative = "--no-" + flag[2:]
        info = typer.Option(f"{flag}/{negative}", help=help_text, show_default=False,
                            rich_help_panel=panel)
    else:
        info = typer.Option(flag, help=help_text, show_default=False,
                            rich_help_panel=panel, metavar=spec.opt.metavar)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[base | None, info])


def component_parameters(kinds: tuple[str, ...], reserved: set[str]
                         ) -> list[inspect.Parameter]:
    """One parameter per declared option of every registered component of ``kinds``.

    A name the command itself uses (``reserved``) gets its stage prefix instead
    (``eval chunks`` has its own ``--embedder``; the semantic chunker's becomes
    ``--chunk-embedder``).  Conflicting declarations of one name (different
    types) are a plugin bug, reported at once.
    """
    params: list[inspect.Parameter] = []
    for name, owners in sorted(declared_options(kinds).items()):
        types = {s.type for _, _, s in owners}
        if len(types) > 1:
            raise TypeError(f"option {name!r} is declared with different types by "
                            + ", ".join(f"{_NOUN[k]} {n}" for k, n, _ in owners))
        spec = owners[0][2]
        kinds_owning = {k for k, _, _ in owners}
        if name not in reserved:
            params.append(_parameter(name, spec.flag, spec, _help(spec, owners, None),
                                     _panel(spec, kinds_owning)))
        staged = (spec.runtime and len(kinds_owning) > 1) or name in reserved
        if staged:
            for kind in sorted(kinds_owning, key=kinds.index):
                stage = _STAGE_OF_KIND[kind]
                mine = [o for o in owners if o[0] == kind]
                params.append(_parameter(f"{stage}_{name}", f"--{stage}-{spec.flag[2:]}", spec,
                                         _help(spec, mine, stage), _panel(spec, {kind})))
    return params


def with_component_flags(kinds: tuple[str, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command taking ``component_values: dict`` with the generated flags."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values()
               if p.name != "component_values"]
        generated = component_parameters(kinds, {p.name for p in own})
        own_names = {p.name for p in own}

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            mine = {k: v for k, v in kwargs.items() if k in own_names}
            # choices and ranges are checked by segtool.options (one-line errors), not click
            values = {k: v for k, v in kwargs.items() if k not in own_names and v is not None}
            return func(**mine, component_values=values)

        # Typer reads parameters from __signature__; keep the command's own first.
        command.__signature__ = inspect.Signature([*own, *generated])  # type: ignore[attr-defined]
        del command.__wrapped__  # inspect.signature must not look through to func
        command.__annotations__ = {}
        return command

    return decorate
