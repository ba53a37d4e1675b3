"""Name → component resolution for built-ins and entry-point plugins.

Built-ins are listed as ``"module:attribute"`` strings so that resolving one
name imports exactly one module; plugins register under the entry-point groups
``segtool.splitters``, ``segtool.chunkers``, ``segtool.readers`` and
``segtool.writers`` and are loaded only when asked for.  Component classes
describe themselves with class attributes (``name``, ``summary``, ``extra``,
``requires``, ``version``) and declare their options once, as an ``Options``
dataclass (:mod:`segtool.options`); :func:`create` validates the values it is
given against that declaration, so nothing reaches a component unchecked.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from segtool.options import build, specs_of
from segtool.types import UsageError

KINDS = ("splitters", "chunkers", "readers", "writers")
_SINGULAR = {"splitters": "splitter", "chunkers": "chunker", "readers": "reader", "writers": "writer"}

BUILTINS: dict[str, dict[str, str]] = {
    "splitters": {
        "rules": "segtool.sentences.rules:RulesSplitter",
        "nupunkt": "segtool.sentences.nupunkt_splitter:NupunktSplitter",
        "spacy": "segtool.sentences.spacy_splitter:SpacySplitter",
        "paragraphs": "segtool.sentences.paragraphs:ParagraphSplitter",
        "sat": "segtool.sentences.sat:SatSplitter",
        "charboundary": "segtool.sentences.charboundary_splitter:CharBoundarySplitter",
    },
    "chunkers": {
        "window": "segtool.chunkers.window:WindowChunker",
        "semantic": "segtool.chunkers.semantic:SemanticChunker",
        "margin": "segtool.chunkers.margin:MarginChunker",
        "perplexity": "segtool.chunkers.perplexity:PerplexityChunker",
        "recursive": "segtool.chunkers.recursive:RecursiveChunker",
        "intent": "segtool.chunkers.intent:IntentChunker",
    },
    "readers": {
        "txt": "segtool.readers.formats:read_text",
        "md": "segtool.readers.formats:read_markdown",
        "html": "segtool.readers.formats:read_html",
        "jsonl": "segtool.readers.formats:read_jsonl",
        "parquet": "segtool.readers.formats:read_parquet",
    },
    "writers": {
        "jsonl": "segtool.writers.jsonl:JsonlWriter",
        "parquet": "segtool.writers.parquet:ParquetWriter",
    },
}


@dataclass(frozen=True)
class ComponentInfo:
    kind: str
    name: str
    target: str
    origin: str  # "builtin" or the distribution name of the plugin


def _plugin_entries(kind: str) -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=f"segtool.{kind}")}


def available(kind: str) -> list[str]:
    """All names for ``kind``: built-ins first, then plugins, each sorted."""
    names = sorted(BUILTINS[kind])
    names += sorted(n for n in _plugin_entries(kind) if n not in BUILTINS[kind])
    return names


def _load_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def resolve(kind: str, name: str) -> Any:
    """Return the class or callable registered as ``name``; exit-2 error if unknown."""
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}")
    if name in BUILTINS[kind]:
        return _load_target(BUILTINS[kind][name])
    plugins = _plugin_entries(kind)
    if name in plugins:
        return plugins[name].load()
    raise UsageError(
        f"unknown {_SINGULAR[kind]}: {name!r} — available: {', '.join(available(kind))}"
    )


def missing_requirements(component: Any) -> list[str]:
    """Importable modules the component declares in ``requires`` but are absent."""
    from segtool.models.libraries import installed

    return [module for module in getattr(component, "requires", ()) if not installed(module)]


def ensure_installed(kind: str, name: str, component: Any) -> None:
    if missing_requirements(component):
        extra = getattr(component, "extra", None) or name
        raise UsageError(f"{_SINGULAR[kind]} '{name}' needs: pip install 'segtool[{extra}]'")


def noun(kind: str) -> str:
    """``splitters`` → ``splitter`` (messages name one component)."""
    return _SINGULAR[kind]


def create(kind: str, name: str, options: Mapping[str, Any] | None = None) -> Any:
    """Build the named component from option values it declares (all validated).

    Callers route values first (:func:`segtool.selection.route`), so a value
    the component does not declare is a programming error: ``TypeError``.
    """
    component = resolve(kind, name)
    ensure_installed(kind, name, component)
    values = {k: v for k, v in (options or {}).items() if v is not None}
    if getattr(component, "Options", None) is not None:  # writers/readers declare none
        build(component, values, who=f"{_SINGULAR[kind]} {name!r}")  # fail before set-up
    return component(**values)


def describe(kind: str) -> list[dict[str, Any]]:
    """What ``segtool list`` shows: name, summary, options, installed or not."""
    rows = []
    plugins = _plugin_entries(kind)
    for name in available(kind):
        origin = "builtin" if name in BUILTINS[kind] else (
            plugins[name].dist.name if getattr(plugins[name], "dist", None) else "plugin"
        )
        try:
            component = resolve(kind, name)
        except Exception as exc:  # a broken plugin must not break `segtool list`
            rows.append({"kind": kind, "name": name, "origin": origin, "installed": False,
                         "summary": f"failed to load: {exc}", "options": [], "extra": None,
                         "version": None})
            continue
        rows.append({
            "kind": kind,
            "name": name,
            "origin": origin,
            "installed": not missing_requirements(component),
            "summary": (getattr(component, "summary", "") or "").strip(),
            "options": [spec.describe() for spec in specs_of(component)],
            "version": str(getattr(component, "version", "1")),
            "extra": getattr(component, "extra", None),
        })
    return rows
