"""The Python API runs the same pipeline as the CLI."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import segtool
from segtool.cli import app

TEXT = "Alpha is first. Beta follows it! Gamma ends the list?\n\nA new paragraph starts here."


def test_chunk_matches_the_cli_spans():
    api = segtool.chunk(TEXT, max_tokens=8)
    cli = CliRunner().invoke(app, ["chunk", "--max-tokens", "8", "-q"], input=TEXT)
    assert [(c["start"], c["end"]) for c in api] == [
        (r["start"], r["end"]) for r in map(json.loads, cli.stdout.splitlines())]
    assert "".join(c["text"] for c in api) == TEXT


def test_records_are_typed_and_the_text_must_be_a_str():
    assert all(isinstance(c, segtool.ChunkRecord) for c in segtool.chunk(TEXT, max_tokens=8))
    assert all(isinstance(s, segtool.SentenceRecord) for s in segtool.split_sentences(TEXT))
    with pytest.raises(TypeError, match="chunk takes the text as a str, not bytes"):
        segtool.chunk(TEXT.encode())


def test_sentences_tile_the_text():
    recs = segtool.split_sentences(TEXT)
    assert "".join(r["text"] for r in recs) == TEXT
    assert len(recs) == 4


def test_segment_table_round_trip():
    table = pa.table({"id": ["a", "b"], "text": [TEXT, "Short one."]})
    out = segtool.segment_table(table, id_column="id", max_tokens=8)
    rows = out.to_pylist()
    assert {r["doc_id"] for r in rows} == {"a", "b"}
    assert "".join(r["text"] for r in rows if r["doc_id"] == "a") == TEXT
    assert out.schema.field("meta").type == pa.string()


def test_chunk_documents_with_workers_equals_one_process():
    from segtool.types import Document

    docs = [Document(id=f"d{i}", text=TEXT * (1 + i % 3), source="api") for i in range(150)]
    one = segtool.chunk_documents(docs, max_tokens=12)
    two = segtool.chunk_documents(docs, max_tokens=12, jobs=2)
    assert two == one and len(one) > 150
