"""The shared chunk-file reader (``segtool.quality.chunk_files``) used by ``check`` and ``score``."""

from __future__ import annotations

import gzip
import json

import pytest

from segtool.quality.chunk_files import (
    ChunkRow,
    DocResolver,
    load_documents,
    locate_chunks,
    looks_like_chunks,
    read_chunk_rows,
)
from segtool.types import InputError, UsageError


def _row(text: str, line: int = 1) -> ChunkRow:
    return ChunkRow("f.jsonl", line, "d", None, None, None, None, text, None, {})


def test_jsonl_and_parquet_give_the_same_rows(work):
    a = list(read_chunk_rows(str(work / "good.jsonl")))
    b = list(read_chunk_rows(str(work / "good.parquet")))
    assert len(a) == len(b) == 29
    for x, y in zip(a, b, strict=True):
        assert (x.line, x.doc_id, x.index, x.id, x.start, x.end, x.text, x.n_tokens, x.meta) == \
               (y.line, y.doc_id, y.index, y.id, y.start, y.end, y.text, y.n_tokens, y.meta)
    # read from elsewhere, the ids are absolute paths: chunks' "docs/x.txt" still find them
    docs = load_documents([str(work / "docs")])
    resolver = DocResolver(docs)
    for r in a:
        key = resolver.resolve(r.doc_id)
        assert docs[key][r.start:r.end] == r.text


def test_bad_row_is_one_error_naming_file_and_line(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt") as fh:  # compressed files are read too
        fh.write(json.dumps({"doc_id": "d", "text": "ok"}) + "\n\n")
        fh.write(json.dumps({"doc_id": "d", "start": 1}) + "\n")
    rows = read_chunk_rows(str(path))
    assert next(rows).text == "ok"
    with pytest.raises(InputError, match=r"'start' and 'end' must be given together\) — .*c\.jsonl\.gz:3"):
        next(rows)
    seen = []
    kept = list(read_chunk_rows(str(path), lambda p, line, why: seen.append((line, why))))
    assert [r.line for r in kept] == [1]
    assert seen == [(3, "'start' and 'end' must be given together")]
    with pytest.raises(UsageError, match="not a chunk file"):
        read_chunk_rows(str(tmp_path / "c.txt"))
    assert looks_like_chunks(str(path)) and not looks_like_chunks(str(tmp_path / "c.txt"))


def test_locate_chunks_in_order_contiguous_overlapping_or_after_a_gap():
    doc = "ab ab. cd cd. ab ab."
    # contiguous tiling wins over an earlier repeat; stripped whitespace is skipped
    assert locate_chunks([_row("ab ab."), _row("cd cd."), _row("ab ab.")], doc) == [
        (0, 6), (7, 13), (14, 20)]
    # an overlapping chunk (tools that repeat overlap text) is placed inside the previous one
    assert locate_chunks([_row("ab ab. cd"), _row("cd cd. ab")], doc) == [(0, 9), (7, 16)]
    with pytest.raises(InputError, match=r"not found in document 'd' after offset 13 — f\.jsonl:2"):
        locate_chunks([_row("cd cd.", 1), _row("xx", 2)], doc)
    with pytest.raises(InputError, match=r"f\.jsonl:2"):  # never found again before the previous one
        locate_chunks([_row("cd cd.", 1), _row("ab ab. cd", 2)], doc)
