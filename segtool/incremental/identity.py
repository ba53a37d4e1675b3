"""The two configuration keys a shard is recorded under.

Both cover everything besides the input that shapes a shard's bytes: the
record kind, the output format, every reader option (text and id fields,
which fields go to ``meta``, block size, …) and segtool's own version.  They
differ in how the components are described:

* :func:`quick_key` — as given: names, option values and declared versions.
  Computable without loading anything, so an unchanged re-run loads no model.
* :func:`config_key` — by the identity of the built components (what record
  ids derive from), which also covers what they loaded from disk.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from segtool.identity import canonical
from segtool.identity import config_key as digest
from segtool.readers.options import ReadOptions
from segtool.selection import KIND_OF_STAGE, Selection


def _common(kind: str, fmt: str, read: ReadOptions) -> dict[str, Any]:
    import segtool

    return {"segtool": segtool.__version__, "kind": kind, "format": fmt,
            "read": dataclasses.asdict(read)}


def quick_key(kind: str, fmt: str, read: ReadOptions, selection: Selection) -> str:
    """The configuration as given; equal keys let a re-run skip without building anything."""
    from segtool import registry

    stages = {"split": (selection.splitter, selection.split_options)}
    if selection.chunker:
        stages["chunk"] = (selection.chunker, selection.chunk_options)
    components = {}
    for stage, (name, options) in stages.items():
        cls = registry.resolve(KIND_OF_STAGE[stage], name)
        components[stage] = {"name": name, "version": str(getattr(cls, "version", "1")),
                             "options": canonical(dict(options))}
    structure = selection.structure
    return digest({**_common(kind, fmt, read), "components": components,
                   "structure": dataclasses.asdict(structure)
                   if dataclasses.is_dataclass(structure) else repr(structure)})


def config_key(kind: str, fmt: str, read: ReadOptions, components_key: str) -> str:
    """The identity of a run's output given the built components' key."""
    return digest({**_common(kind, fmt, read), "components": components_key})
