"""From user-given option values to a configured splitter and chunker.

The CLI and the Python API both hand their option values here, by option name
(``max_tokens``), optionally aimed at one stage (``split_device``,
``chunk_batch_size``).  This module decides which stage each value goes to,
refuses values no selected component takes — nothing is ignored silently —
builds the components from their declarations and derives the configuration
identity that record ids come from.  Worker processes rebuild the same
components from the same :class:`Selection`, which is plain data and pickles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from segtool import registry
from segtool.identity import config_identity, config_key
from segtool.options import STAGES, OptionSpec, specs_of, suggest
from segtool.structure.options import StructureOptions
from segtool.types import UsageError

KIND_OF_STAGE = {"split": "splitters", "chunk": "chunkers"}
_NOUN = {"splitters": "splitter", "chunkers": "chunker"}


@dataclass(frozen=True)
class Selection:
    """Which components a run uses and the option values each one gets."""

    splitter: str
    chunker: str | None = None
    split_options: Mapping[str, Any] = field(default_factory=dict)
    chunk_options: Mapping[str, Any] = field(default_factory=dict)
    # Run-level: how document structure shapes the output (--structure …).
    structure: StructureOptions = field(default_factory=StructureOptions)


@cache
def declared_options(kinds: tuple[str, ...]) -> dict[str, list[tuple[str, str, OptionSpec]]]:
    """Option name → every ``(kind, component, spec)`` that declares it, over all registered
    components of ``kinds`` (plugins included; one that fails to load is left out).

    Cached per process: installed plugins do not change while it runs, and the
    Python API routes options on every call (reading entry points costs ~15 ms).
    Callers must not modify the result."""
    found: dict[str, list[tuple[str, str, OptionSpec]]] = {}
    for kind in kinds:
        for name in registry.available(kind):
            try:
                component = registry.resolve(kind, name)
            except Exception:  # a broken plugin must not break the other commands
                continue
            for spec in specs_of(component):
                found.setdefault(spec.name, []).append((kind, name, spec))
    return found


def _owners(entries: list[tuple[str, str, OptionSpec]]) -> str:
    by_kind: dict[str, list[str]] = {}
    for kind, name, _ in entries:
        by_kind.setdefault(_NOUN[kind], []).append(repr(name))
    return " and ".join(f"{noun} {', '.join(names)}" for noun, names in by_kind.items())


def route(values: Mapping[str, Any], splitter: str, chunker: str | None, *,
          error: type[Exception] = UsageError, flag_style: bool = True) -> Selection:
    """Send each given value to the stage(s) whose selected component declares it.

    ``values`` holds only what the user gave (``None`` = not given).  A plain
    name goes to every selected component that takes it; ``split_X`` and
    ``chunk_X`` go to one stage and win over a plain ``X``.  A name no
    registered component declares, or one the selected components do not take,
    raises ``error`` naming the option and the components that do take it.
    """
    selected = {"split": splitter, **({"chunk": chunker} if chunker else {})}
    kinds = tuple(KIND_OF_STAGE[s] for s in selected)
    known = declared_options(kinds)
    takes = {stage: {s.name for s in specs_of(registry.resolve(KIND_OF_STAGE[stage], name))}
             for stage, name in selected.items()}
    routed: dict[str, dict[str, Any]] = {stage: {} for stage in selected}
    aimed: dict[str, dict[str, Any]] = {stage: {} for stage in selected}

    def shown(name: str) -> str:
        return "--" + name.replace("_", "-") if flag_style else repr(name)

    for key, value in values.items():
        if value is None:
            continue
        stage, _, bare = key.partition("_")
        if stage in STAGES and bare in known:
            if stage not in selected:
                raise error(f"{shown(key)}: this command has no {stage} stage")
            if bare not in takes[stage]:
                mine = [e for e in known[bare] if e[0] == KIND_OF_STAGE[stage]]
                raise error(f"{shown(key)} applies to {_owners(mine)}, not "
                            f"{_NOUN[KIND_OF_STAGE[stage]]} {selected[stage]!r}")
            aimed[stage][bare] = value
            continue
        if key not in known:
            everywhere = declared_options(("splitters", "chunkers"))
            if key in everywhere:  # a chunker option where no chunker runs
                raise error(f"{shown(key)} applies to {_owners(everywhere[key])}, and no "
                            "chunker runs here")
            raise error(f"unknown option {shown(key)}{suggest(key, everywhere)}")
        targets = [s for s in selected if key in takes[s]]
        if not targets:
            chosen = " or ".join(f"{_NOUN[KIND_OF_STAGE[s]]} {n!r}" for s, n in selected.items()
                                 if KIND_OF_STAGE[s] in {k for k, _, _ in known[key]})
            raise error(f"{shown(key)} applies to {_owners(known[key])}, not {chosen}")
        for stage in targets:
            routed[stage][key] = value
    for stage in selected:
        routed[stage].update(aimed[stage])
    return Selection(splitter, chunker, routed["split"], routed.get("chunk", {}))


def build(selection: Selection) -> tuple[Any, Any]:
    """The splitter and chunker of a selection, built from their declarations."""
    split = registry.create("splitters", selection.splitter, selection.split_options)
    chunk = (registry.create("chunkers", selection.chunker, selection.chunk_options)
             if selection.chunker else None)
    return split, chunk


def identity_key(selection: Selection, splitter: Any, chunker: Any) -> str:
    """The configuration key every record id of this run is derived from."""
    return config_key(identity(selection, splitter, chunker))


def identity(selection: Selection, splitter: Any, chunker: Any) -> dict[str, Any]:
    """The configuration identity; structure options that differ from the defaults are part
    of it (they change the output), the defaults are left out so ids of earlier runs hold."""
    ident = config_identity((selection.splitter, splitter),
                            (selection.chunker, chunker) if selection.chunker else None)
    structure = selection.structure.identity(chunking=selection.chunker is not None)
    if structure:
        ident["structure"] = structure
    return ident


def stage_kinds(has_chunker: bool) -> tuple[str, ...]:
    return ("splitters", "chunkers") if has_chunker else ("splitters",)


__all__ = ["Selection", "build", "declared_options", "identity", "identity_key", "route",
           "stage_kinds"]
