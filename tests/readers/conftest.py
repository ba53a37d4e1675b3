"""Helpers for the reader tests: real files in tmp_path, a replaceable stdin."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from segtool.readers import ReadOptions, read_documents
from segtool.types import BadInput, Document

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def read_all(inputs: list[str] | str, **options: object) -> list[Document | BadInput]:
    if isinstance(inputs, str):
        inputs = [inputs]
    return list(read_documents(inputs, ReadOptions(**options)))  # type: ignore[arg-type]


def only_docs(items: list[Document | BadInput]) -> list[Document]:
    assert all(isinstance(item, Document) for item in items), items
    return items  # type: ignore[return-value]


def only_bad(items: list[Document | BadInput]) -> BadInput:
    assert len(items) == 1 and isinstance(items[0], BadInput), items
    return items[0]


def write(path: Path, data: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    suffix = path.suffix
    if suffix in COMPRESSORS:
        data = COMPRESSORS[suffix](data)
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Callable[[bytes], None]:
    """Replace sys.stdin with a text wrapper whose ``.buffer`` holds ``data``."""

    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    return feed
