"""The base class splitters and chunkers (built-in or plugin) derive from.

A component describes itself with class attributes and declares its options
once, as an ``Options`` dataclass (see :mod:`segtool.options`).  Construction
takes those options as keywords — ``WindowChunker(max_tokens=256)`` — checks
them against the declaration (unknown names raise ``TypeError`` with a
suggestion, bad values ``UsageError`` with the valid range) and keeps the
validated instance as ``self.options``, which the configuration identity
reads.  Subclasses do their set-up in :meth:`setup`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from segtool.options import build


class Component:
    """Class attributes say what a component is; ``Options`` what it takes."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "component"  # "splitter" or "chunker", for messages
    summary: ClassVar[str] = ""
    extra: ClassVar[str | None] = None  # the pip extra that installs its requirements
    requires: ClassVar[tuple[str, ...]] = ()  # importable modules it needs
    version: ClassVar[str] = "1"  # bump when output changes on purpose (changes record ids)
    Options: ClassVar[type | None] = None

    options: Any

    def __init__(self, **values: Any) -> None:
        self.options = build(type(self), values, who=f"{self.kind} {self.name!r}")
        self.setup()

    def setup(self) -> None:
        """Load what the options name; raise ``UsageError`` for what cannot work."""

    def fingerprint(self) -> dict[str, str]:
        """Identity of what was loaded (model files, tokenizer) beyond the options."""
        return {}
