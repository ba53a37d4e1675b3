"""The data model every stage shares.

Offsets are Python ``str`` indices, half-open ``[start, end)``.  A chunk never
stores its own text: text is always ``doc.text[start:end]`` so it cannot drift
from the source (docs/architecture.md).  Standard library only, so importing the data
model never pulls a heavy dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Document:
    """One unit of text to segment.

    ``offset`` is the position of ``text`` inside the logical document: a huge
    file is read in blocks that share one ``id`` and carry their global offset,
    so every emitted offset refers to the whole file.

    ``markup`` (``"md"``, ``"html"``, ``"text"`` or ``""`` for unknown) says how
    to find the document's structure; ``blocks`` holds its block spans when the
    reader already knows them (HTML) — else they are parsed lazily from the
    text (``segtool.structure.blocks.document_blocks``), so a document stays
    cheap to create and to send to a worker process.
    """

    id: str
    text: str
    source: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    offset: int = 0
    part: int = 0
    markup: str = ""
    blocks: tuple[Any, ...] | None = None  # segtool.structure.blocks.Block, local offsets


@dataclass(slots=True, unsafe_hash=True)
class Span:
    """A sentence or paragraph of a document's text (local offsets).

    Not frozen: splitters create hundreds of thousands of these per second and a
    frozen dataclass's ``__init__`` costs three times as much; treat it as
    immutable all the same.
    """

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """What a chunker proposes for one document (local offsets).

    ``sent_start``/``sent_end`` is the half-open range of sentence indices the
    chunk covers (a sentence cut by a fallback is counted in every piece).
    ``ctx_start`` is where optional preceding context begins (overlap); it never
    changes ``start``.  ``context`` is the heading path reported with
    ``--heading-context`` (text for embedding, never part of the chunk's text).
    """

    start: int
    end: int
    n_tokens: int
    sent_start: int
    sent_end: int
    ctx_start: int | None = None
    meta: Mapping[str, Any] | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class BadInput:
    """A record or file that could not be read, with where and how to fix it.

    Readers yield these instead of raising so that ``--on-error skip`` can carry
    on with the next record while ``stop`` turns the first one into exit 1.
    """

    source: str
    location: str
    reason: str
    hint: str = ""

    def message(self) -> str:
        where = f"{self.source}{':' + self.location if self.location else ''}"
        text = f"{self.reason} — {where}"
        return f"{text} — {self.hint}" if self.hint else text


def document_location(doc: Document) -> str:
    """Where in its source a document is, for a :class:`BadInput`: nothing when the document is
    the whole file (its id is the path already printed), else ``document ID``."""
    return "" if doc.id == doc.source else f"document {doc.id}"


class SegtoolError(Exception):
    """An error the CLI reports as one line; ``exit_code`` follows docs/architecture.md."""

    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(SegtoolError):
    """Bad options, unknown component names, missing extras: exit code 2."""

    exit_code = 2


class InputError(SegtoolError):
    """Bad input data: exit code 1."""

    exit_code = 1


@runtime_checkable
class SentenceSplitter(Protocol):
    """Finds sentence spans that tile each text exactly."""

    name: ClassVar[str]

    def split_batch(self, texts: Sequence[str]) -> list[list[Span]]: ...


@runtime_checkable
class Chunker(Protocol):
    """Groups a document's sentences into chunks that tile the document."""

    name: ClassVar[str]

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]: ...
