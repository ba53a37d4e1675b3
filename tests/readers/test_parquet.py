"""Parquet: streamed row batches, schema checks once, JSON-compatible meta."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import math
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from segtool.types import BadInput, Document

from .conftest import only_bad, only_docs, read_all


def write_table(path: Path, table: pa.Table, **kwargs: object) -> str:
    pq.write_table(table, path, **kwargs)
    return str(path)


def test_rows_become_documents(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.parquet", pa.table({
        "text": ["First row.", "Second — ü 😀"],
        "n": [1, 2],
        "score": [0.5, float("nan")],
        "when": [dt.datetime(2024, 1, 2, 3, 4, 5), None],
        "price": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(5, 2)),
        "blob": [b"\x00\x01", None],
        "tags": [["a", "b"], []],
        "nested": [{"k": 1}, {"k": None}],
    }))
    docs = only_docs(read_all(path))
    assert [d.id for d in docs] == [f"{path}#0", f"{path}#1"]
    assert [d.text for d in docs] == ["First row.", "Second — ü 😀"]
    assert docs[0].meta == {"n": 1, "score": 0.5, "when": "2024-01-02T03:04:05",
                            "price": "1.10", "blob": "AAE=", "tags": ["a", "b"],
                            "nested": {"k": 1}}
    assert docs[1].meta["score"] is None  # NaN is not JSON
    assert "text" not in docs[0].meta


def test_many_row_groups_and_batches_keep_numbering(tmp_path: Path) -> None:
    n = 2500
    path = write_table(tmp_path / "big.parquet",
                       pa.table({"text": [f"row {i}" for i in range(n)], "i": list(range(n))}),
                       row_group_size=700)
    docs = only_docs(read_all(path))
    assert [d.text for d in docs] == [f"row {i}" for i in range(n)]
    assert all(d.id == f"{path}#{d.meta['i']}" for d in docs)


def test_text_field_and_id_field(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.parquet",
                       pa.table({"body": ["a", "b"], "key": [10, 20]}))
    docs = only_docs(read_all(path, text_field="body", id_field="key"))
    assert [(d.id, d.text, dict(d.meta)) for d in docs] == [
        ("10", "a", {"key": 10}), ("20", "b", {"key": 20})]


def test_missing_text_column_is_one_bad_input(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.parquet",
                       pa.table({"content": ["a"] * 10, "title": ["t"] * 10}))
    bad = only_bad(read_all(path))
    assert bad == BadInput(path, "", "no text column 'text' (columns: content, title)",
                           "pass --text-field NAME")


def test_non_string_text_column_is_one_bad_input(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.parquet", pa.table({"text": [1, 2, 3]}))
    bad = only_bad(read_all(path))
    assert bad.reason == "text column 'text' has type int64, not string"


def test_null_text_and_binary_text_columns(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.parquet", pa.table({"text": ["a", None, "c"]}))
    items = read_all(path)
    assert [type(i) for i in items] == [Document, BadInput, Document]
    assert items[1].location == "row 1"  # type: ignore[union-attr]
    assert items[1].reason == "text field 'text' is null, not a string"  # type: ignore[union-attr]
    assert items[2].id == f"{path}#2"  # type: ignore[union-attr]

    raw = write_table(tmp_path / "b.parquet",
                      pa.table({"text": pa.array([b"ok", b"caf\xe9"], pa.binary())}))
    items = read_all(raw)
    assert isinstance(items[0], Document) and items[0].text == "ok"
    assert isinstance(items[1], BadInput) and items[1].location == "row 1, byte 3"
    assert only_docs(read_all(raw, encoding_errors="replace"))[1].text == "caf\ufffd"


def test_dictionary_encoded_text(tmp_path: Path) -> None:
    table = pa.table({"text": pa.array(["x", "y", "x"]).dictionary_encode()})
    path = write_table(tmp_path / "d.parquet", table)
    assert [d.text for d in only_docs(read_all(path))] == ["x", "y", "x"]


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("just text")
    bad = only_bad(read_all(str(path)))
    assert bad.reason.startswith("not a readable Parquet file")


def test_compressed_parquet_and_stdin(tmp_path: Path, stdin: Callable[[bytes], None]) -> None:
    plain = tmp_path / "t.parquet"
    write_table(plain, pa.table({"text": ["a", "b"], "x": [1.5, math.inf]}))
    gz = tmp_path / "t.parquet.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    docs = only_docs(read_all(str(gz)))
    assert [(d.id, d.text, dict(d.meta)) for d in docs] == [
        (f"{gz}#0", "a", {"x": 1.5}), (f"{gz}#1", "b", {"x": None})]
    stdin(plain.read_bytes())
    docs = only_docs(read_all("-", stdin_format="parquet"))
    assert [(d.id, d.source, d.text) for d in docs] == [("-#0", "-", "a"), ("-#1", "-", "b")]
