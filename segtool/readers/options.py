"""Reader options and the internal error every reader turns into a ``BadInput``."""

from __future__ import annotations

from dataclasses import dataclass

from segtool.types import UsageError

ENCODING_ERRORS = ("strict", "replace")


@dataclass(frozen=True)
class ReadOptions:
    """How inputs are read; one object for all formats so the CLI builds it once.

    ``input_format`` overrides detection by extension for every input (handy for
    files named ``*.log``); ``stdin_format`` only applies to ``-`` because stdin
    has no extension to look at.
    """

    input_format: str | None = None
    text_field: str = "text"
    id_field: str | None = None
    encoding_errors: str = "strict"
    block_bytes: int = 64 * 1024 * 1024
    stdin_format: str = "txt"

    def validate(self) -> None:
        """Reject options no reader can honour, as a usage error (exit 2)."""
        if self.encoding_errors not in ENCODING_ERRORS:
            raise UsageError(
                f"unknown encoding-errors policy {self.encoding_errors!r} — "
                f"--encoding-errors — use one of: {', '.join(ENCODING_ERRORS)}"
            )
        if self.block_bytes < 1:
            raise UsageError(
                f"block size must be positive, got {self.block_bytes} — block_bytes — "
                "pass a size of at least 1 byte"
            )
        if not self.text_field:
            raise UsageError("empty text field name — --text-field — pass the field holding text")


class ReadFailure(Exception):
    """Raised inside a reader when a whole file (or the rest of it) is unreadable.

    Readers catch it at their top level and yield a ``BadInput`` instead, so the
    failure carries a location and a hint but never escapes as a traceback.
    """

    def __init__(self, reason: str, location: str = "", hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location
        self.hint = hint
