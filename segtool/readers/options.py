"""Reader options and the internal error every reader turns into a ``BadInput``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from segtool.types import UsageError

ENCODING_ERRORS = ("strict", "replace")

# Names a promoted column may not take: the fields every record already has.
RECORD_FIELDS = ("id", "doc_id", "index", "start", "end", "text", "n_tokens", "ctx_start",
                 "sent_start", "sent_end", "source", "meta")


def field_list(values: Iterable[str] | None) -> tuple[str, ...] | None:
    """``["a,b", "c"]`` → ``("a", "b", "c")``: a flag may be repeated or take a comma list.

    Duplicates are dropped (first one wins, so ``--columns`` keeps its order);
    ``None`` stays ``None`` so "not given" differs from "given, empty".  An
    empty name (``a,,b``) is kept as ``""`` for :meth:`ReadOptions.validate` to refuse.
    """
    if values is None:
        return None
    out: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name not in out:
                out.append(name)
    return tuple(out)


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
    # What of a record's other fields ends up in ``Document.meta`` (JSONL, Parquet,
    # and HTML's title).  Selection happens while reading, so dropped fields never
    # cost memory downstream and, in Parquet, unselected columns are not even read.
    keep_fields: tuple[str, ...] | None = None  # only these (None: all)
    drop_fields: tuple[str, ...] = ()
    no_meta: bool = False
    # Fields promoted to top-level record columns: always read into ``meta`` (even
    # with ``no_meta``), and Parquet values stay unconverted so their types survive;
    # the pipeline moves them out of ``meta`` into the record.
    columns: tuple[str, ...] = ()

    def wants(self, name: str) -> bool:
        """Whether field ``name`` (not the text field) goes into ``meta``."""
        if name in self.columns:
            return True
        if self.no_meta or name in self.drop_fields:
            return False
        return self.keep_fields is None or name in self.keep_fields

    def select(self, fields: Mapping[str, Any], text_field: str | None = None) -> dict[str, Any]:
        """The ``meta`` for a record's ``fields``, leaving out ``text_field``."""
        if self.keep_fields is None and not self.drop_fields and not self.no_meta:
            return {key: value for key, value in fields.items() if key != text_field}
        return {key: value for key, value in fields.items()
                if key != text_field and self.wants(key)}

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
        self._validate_fields()

    def _validate_fields(self) -> None:
        """Contradictory selections are usage errors rather than a silent choice.

        Naming the text or id field in ``--keep-fields``/``--drop-fields`` is
        allowed: the text never goes to ``meta`` anyway, and the id is taken
        before the selection applies.  A kept field a record lacks is simply
        absent from its ``meta``.
        """
        lists = {"--keep-fields": self.keep_fields or (), "--drop-fields": self.drop_fields,
                 "--columns": self.columns}
        for flag, names in lists.items():
            if "" in names:
                raise UsageError(f"empty field name — {flag} — give names separated by commas "
                                 "(a,b)")
        if self.keep_fields is not None and self.drop_fields:
            raise UsageError("--keep-fields and --drop-fields together — --keep-fields, "
                             "--drop-fields — give one: the fields to keep, or those to drop")
        if self.no_meta and (self.keep_fields is not None or self.drop_fields):
            flag = "--keep-fields" if self.keep_fields is not None else "--drop-fields"
            raise UsageError(f"--no-meta with {flag} — {flag} — --no-meta leaves meta empty; "
                             f"give one of them")
        clash = [name for name in self.columns if name in RECORD_FIELDS]
        if clash:
            raise UsageError(f"column '{clash[0]}' would replace the record field of that name — "
                             f"--columns — promote other fields (records already have "
                             f"{', '.join(RECORD_FIELDS)})")
        if self.text_field in self.columns:
            raise UsageError(f"column '{self.text_field}' is the text field — --columns — it is "
                             "already the record's text; leave it out")
        dropped = [name for name in self.columns if name in self.drop_fields]
        if dropped:
            raise UsageError(f"field '{dropped[0]}' is both dropped and promoted — --drop-fields, "
                             "--columns — leave it out of one of them")


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
