"""What goes into records: ``--keep-fields``, ``--drop-fields``, ``--no-meta`` and ``--columns``.

Observed the way a user sees it: the CLI runs in a subprocess, JSONL output is
parsed line by line and Parquet output is reopened with pyarrow, its schema
and values compared with the input's.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segtool.types import InputError
from segtool.writers.parquet import ParquetWriter

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
FIXED_CHUNK_KEYS = ["id", "doc_id", "index", "start", "end", "text", "n_tokens", "ctx_start",
                    "sent_start", "sent_end", "source", "meta"]
FIXED_CHUNK_COLUMNS = [*FIXED_CHUNK_KEYS, "headings"]  # Parquet adds the typed heading path
FIXED_SENTENCE_KEYS = ["id", "doc_id", "index", "start", "end", "text", "source"]


def segtool(*args: str, cwd: Path | None = None, stdin: bytes | None = None
            ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args, "-q"], capture_output=True,
                          env=ENV, timeout=300, check=False, cwd=cwd, input=stdin)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))


def records(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def one_error_line(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def _text(i: int) -> str:
    return " ".join(f"Document {i} has sentence number {j} in it." for j in range(30))


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset with gold ``sentences``/``paragraphs`` arrays beside the text."""
    path = tmp_path_factory.mktemp("fields") / "gold.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(20):
            text = _text(i)
            sentences = [s + "." for s in text.split(".") if s.strip()]
            row = {"id": f"doc-{i}", "text": text, "url": f"https://example.org/{i}",
                   "sentences": sentences, "paragraphs": [text]}
            if i % 2 == 0:
                row["lang"] = "en"  # only every other record has it
            fh.write(json.dumps(row) + "\n")
    return path


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Parquet corpus whose columns have types JSON cannot express."""
    path = tmp_path_factory.mktemp("typed") / "typed.parquet"
    utc = dt.UTC
    table = pa.table({
        "text": [_text(0), _text(1), "Short one. Two."],
        "ts": pa.array([dt.datetime(2020, 1, 1, tzinfo=utc), None,
                        dt.datetime(2021, 5, 5, 12, 30, tzinfo=utc)], type=pa.timestamp("ms", "UTC")),
        "year": pa.array([2020, 2021, None], type=pa.int32()),
        "tags": pa.array([["a", "b"], [], None], type=pa.list_(pa.string())),
        "info": pa.array([{"x": 1, "y": "q"}, None, {"x": 2, "y": None}],
                         type=pa.struct([("x", pa.int16()), ("y", pa.string())])),
        "price": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("2.25")],
                          type=pa.decimal128(6, 2)),
        "attrs": pa.array([[("k", 1)], None, []], type=pa.map_(pa.string(), pa.int64())),
        "cat": pa.array(["u", "v", "u"]).dictionary_encode(),
        "blob": pa.array([b"\x00\x01", None, b""], type=pa.binary()),
        "note": ["n0", "n1", "n2"],
    })
    pq.write_table(table, path)
    return path


TYPED_COLUMNS = ["ts", "year", "tags", "info", "price", "attrs", "cat", "blob"]


# ------------------------------------------------------------------ meta selection


def test_drop_fields_removes_gold_arrays_and_shrinks_the_output(gold: Path) -> None:
    full = segtool("chunk", str(gold), "--max-tokens", "64")
    lean = segtool("chunk", str(gold), "--max-tokens", "64", "--drop-fields", "sentences,paragraphs")
    every, dropped = records(full), records(lean)
    assert {"sentences", "paragraphs"} <= set(every[0]["meta"])
    assert [r["text"] for r in dropped] == [r["text"] for r in every]
    assert [r["id"] for r in dropped] == [r["id"] for r in every]  # ids do not depend on meta
    for rec in dropped:
        assert "sentences" not in rec["meta"] and "paragraphs" not in rec["meta"]
        n = rec["doc_id"].rsplit("#", 1)[1]
        assert rec["meta"]["url"] == f"https://example.org/{n}" and rec["meta"]["id"] == f"doc-{n}"
    # each of several chunks per document carried the whole gold arrays
    assert len(every) > 2 * 20
    assert len(full.stdout) > 2 * gold.stat().st_size
    assert len(lean.stdout) < len(full.stdout) / 3


def test_keep_fields_keeps_only_those_and_a_missing_one_is_absent(gold: Path) -> None:
    # repeated flag and a comma list combine; the text and id fields may be named
    recs = records(segtool("chunk", str(gold), "--id-field", "id", "--keep-fields", "lang,text",
                           "--keep-fields", "url"))
    by_doc = {r["doc_id"]: r["meta"] for r in recs}
    assert by_doc["doc-0"] == {"url": "https://example.org/0", "lang": "en"}
    assert by_doc["doc-1"] == {"url": "https://example.org/1"}  # no "lang": null


def test_no_meta_leaves_meta_empty_for_jsonl_parquet_and_html(tmp_path: Path, gold: Path,
                                                              typed: Path) -> None:
    html = tmp_path / "page.html"
    html.write_text("<html><head><title>Title here</title></head><body><p>One sentence. "
                    "Another.</p></body></html>", encoding="utf-8")
    # meta.headings is the structure layer's output, not an input field: --no-meta keeps it
    assert records(segtool("chunk", str(html)))[0]["meta"] == {"title": "Title here",
                                                                "headings": []}
    recs = records(segtool("chunk", str(gold), str(typed), str(html), "--no-meta"))
    assert {r["source"] for r in recs} == {str(gold), str(typed), str(html)}
    assert all(r["meta"] == ({"headings": []} if r["source"] == str(html) else {})
               for r in recs)


def test_parquet_input_honours_keep_and_drop(typed: Path) -> None:
    kept = records(segtool("chunk", str(typed), "--keep-fields", "note,year"))
    assert [r["meta"] for r in kept if r["index"] == 0] == [
        {"note": "n0", "year": 2020}, {"note": "n1", "year": 2021}, {"note": "n2", "year": None}]
    dropped = records(segtool("chunk", str(typed), "--drop-fields", "note,attrs,blob"))
    assert set(dropped[0]["meta"]) == {"ts", "year", "tags", "info", "price", "cat"}


@pytest.mark.parametrize(("args", "words"), [
    (["--keep-fields", "a", "--drop-fields", "b"], "--keep-fields and --drop-fields"),
    (["--no-meta", "--drop-fields", "b"], "--no-meta"),
    (["--columns", "start"], "column 'start'"),
    (["--columns", "meta"], "column 'meta'"),
    (["--text-field", "body", "--columns", "body"], "text field"),
    (["--columns", "url", "--drop-fields", "url"], "both dropped and promoted"),
    (["--keep-fields", "a,,b"], "empty field name"),
])
def test_contradictory_selections_are_usage_errors(tmp_path: Path, gold: Path, args: list[str],
                                                   words: str) -> None:
    out = tmp_path / "out.jsonl"
    line = one_error_line(segtool("chunk", str(gold), "-o", str(out), *args), 2)
    assert words in line
    assert not out.exists()


# ------------------------------------------------------------------ promoted columns


def test_columns_in_jsonl_follow_the_fixed_keys_and_leave_meta(gold: Path) -> None:
    recs = records(segtool("chunk", str(gold), "--columns", "url,lang,missing"))
    for rec in recs:
        assert list(rec) == [*FIXED_CHUNK_KEYS, "url", "lang", "missing"]
        assert "url" not in rec["meta"] and "lang" not in rec["meta"]
        assert rec["missing"] is None
    assert {r["lang"] for r in recs} == {"en", None}  # absent → null
    sentences = records(segtool("sentences", str(gold), "--columns", "lang,url"))
    assert list(sentences[0]) == [*FIXED_SENTENCE_KEYS, "lang", "url"]
    assert sentences[0]["url"] == "https://example.org/0"


def test_columns_in_jsonl_are_converted_like_meta(typed: Path) -> None:
    """A promoted Parquet value is written as the same JSON it had in ``meta``."""
    plain = records(segtool("chunk", str(typed)))
    promoted = records(segtool("chunk", str(typed), "--columns", ",".join(TYPED_COLUMNS)))
    assert len(plain) == len(promoted)
    for before, after in zip(plain, promoted, strict=True):
        assert after["meta"] == {"note": before["meta"]["note"]}
        assert {name: after[name] for name in TYPED_COLUMNS} == {
            name: before["meta"][name] for name in TYPED_COLUMNS}
    assert promoted[0]["ts"] == "2020-01-01T00:00:00+00:00" and promoted[0]["blob"] == "AAE="


def test_parquet_output_keeps_the_input_column_types_and_values(tmp_path: Path, typed: Path) -> None:
    out = tmp_path / "out.parquet"
    proc = segtool("chunk", str(typed), "-o", str(out), "--columns", ",".join(TYPED_COLUMNS),
                   "--no-meta", "--max-tokens", "32")
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    source = pq.read_table(typed)
    assert table.schema.names == [*FIXED_CHUNK_COLUMNS, *TYPED_COLUMNS]
    for name in TYPED_COLUMNS:
        assert table.schema.field(name).type == source.schema.field(name).type, name
    rows = source.to_pylist()
    seen = set()
    for rec in table.to_pylist():
        row = rows[int(rec["doc_id"].rsplit("#", 1)[1])]
        assert {name: rec[name] for name in TYPED_COLUMNS} == {name: row[name]
                                                                for name in TYPED_COLUMNS}
        assert json.loads(rec["meta"]) == {}
        seen.add(rec["doc_id"])
    assert len(seen) == 3 and table.num_rows > 3


def test_parquet_output_from_jsonl_infers_types_with_null_for_absent(tmp_path: Path,
                                                                    gold: Path) -> None:
    out = tmp_path / "out.parquet"
    proc = segtool("chunk", str(gold), "-o", str(out), "--columns", "lang,sentences")
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    assert table.schema.field("lang").type == pa.string()
    assert table.schema.field("sentences").type == pa.list_(pa.string())
    langs = {r["doc_id"]: r["lang"] for r in table.select(["doc_id", "lang"]).to_pylist()}
    assert langs[f"{gold}#0"] == "en"
    assert langs[f"{gold}#1"] is None
    assert "lang" not in json.loads(table.column("meta")[0].as_py())


def test_sentence_records_in_parquet_carry_columns_too(tmp_path: Path, typed: Path) -> None:
    out = tmp_path / "s.parquet"
    proc = segtool("sentences", str(typed), "-o", str(out), "--columns", "year,ts")
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    assert table.schema.names == [*FIXED_SENTENCE_KEYS, "year", "ts"]
    assert table.schema.field("year").type == pa.int32()
    assert table.schema.field("ts").type == pa.timestamp("ms", "UTC")


def test_a_value_of_another_type_is_one_error_naming_field_and_record(tmp_path: Path) -> None:
    src = tmp_path / "mixed.jsonl"
    src.write_text('{"text": "One. Two.", "v": 1}\n{"text": "Three. Four.", "v": "x"}\n',
                   encoding="utf-8")
    out = tmp_path / "out.parquet"
    line = one_error_line(segtool("chunk", str(src), "-o", str(out), "--columns", "v"), 1)
    assert "column 'v'" in line and f"{src}#1" in line and "'x'" in line
    assert not out.exists()
    # JSONL output has no schema: the same input is fine there
    assert [r["v"] for r in records(segtool("chunk", str(src), "--columns", "v"))] == [1, "x"]


def test_a_value_that_would_change_is_refused_not_truncated(tmp_path: Path, typed: Path) -> None:
    """2.5 from a JSONL file cannot go into the Parquet input's int32 column as 2."""
    src = tmp_path / "more.jsonl"
    src.write_text('{"text": "Five. Six.", "year": 2.5}\n', encoding="utf-8")
    out = tmp_path / "out.parquet"
    line = one_error_line(segtool("chunk", str(typed), str(src), "-o", str(out),
                                  "--columns", "year"), 1)
    assert "column 'year' is int32" in line and "2.5" in line and f"{src}#0" in line
    ok = tmp_path / "ok.jsonl"
    ok.write_text('{"text": "Five. Six.", "year": 7}\n', encoding="utf-8")
    assert segtool("chunk", str(typed), str(ok), "-o", str(out), "--columns", "year"
                   ).returncode == 0
    assert pq.read_table(out).column("year").to_pylist()[-1] == 7


def test_parquet_inputs_with_clashing_types(tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{n}.parquet" for n in "abc")
    pq.write_table(pa.table({"text": ["A b. C d."], "n": pa.array([1], pa.int32())}), a)
    pq.write_table(pa.table({"text": ["E f. G h."], "n": pa.array([2], pa.int64())}), b)
    pq.write_table(pa.table({"text": ["I j. K l."], "n": ["three"]}), c)
    out = tmp_path / "out.parquet"
    assert segtool("chunk", str(a), str(b), "-o", str(out), "--columns", "n").returncode == 0
    assert pq.read_table(out).schema.field("n").type == pa.int64()  # widened, not refused
    line = one_error_line(segtool("chunk", str(a), str(c), "-o", str(out), "--columns", "n"), 1)
    assert "column 'n' is int32 in" in line and str(c) in line


def test_columns_from_parquet_on_stdin_are_inferred(typed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    proc = segtool("chunk", "-", "--input-format", "parquet", "-o", str(out),
                   "--columns", "year,tags", stdin=typed.read_bytes())
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    assert table.schema.field("year").type == pa.int64()  # from the values, not the schema
    assert table.column("tags").to_pylist()[0] == ["a", "b"]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_jobs_do_not_change_a_byte(tmp_path: Path, gold: Path, typed: Path, suffix: str) -> None:
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.{suffix}"
        proc = segtool("chunk", str(gold), str(typed), "--max-tokens", "32", "-j", jobs,
                       "-o", str(out), "--drop-fields", "paragraphs", "--columns", "year,lang")
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


# ------------------------------------------------------------------ the writer's type rules


def _rows(values: list[object]) -> list[dict[str, object]]:
    return [{"id": str(i), "doc_id": f"d#{i}", "index": 0, "start": 0, "end": 1, "text": "x",
             "source": "d", "v": value} for i, value in enumerate(values)]


def test_a_struct_value_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    """Arrow would silently drop the extra key when converting; the writer refuses."""
    writer = ParquetWriter(kind="sentences", columns=("v",),
                           column_types={"v": pa.struct([("a", pa.int64())])})
    with open(tmp_path / "x.parquet", "wb") as out, pytest.raises(InputError, match="d#1"):
        writer.write(_rows([{"a": 1}, {"a": 2, "b": 3}]), out)


def test_a_column_without_values_in_the_first_batch_says_why(tmp_path: Path) -> None:
    writer = ParquetWriter(kind="sentences", columns=("v",))
    with open(tmp_path / "x.parquet", "wb") as out, \
            pytest.raises(InputError, match="no record before this one had a value"):
        writer.write(_rows([None] * 8192 + [5]), out)
