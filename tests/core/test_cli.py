"""The CLI contract: data on stdout, one-line errors on stderr, exit codes 0/1/2."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from segtool.cli import app

runner = CliRunner()

TEXT = (
    "The committee met on Monday. Dr. Smith presented the report, which cost $3.5 million.\n\n"
    "Members asked questions! Was the budget approved? It was, by a vote of 7 to 2.\n"
)


def run(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_sentences_from_a_file_are_exact_slices(text_file):
    result = run("sentences", str(text_file))
    assert result.exit_code == 0, result.stderr
    recs = records(result.stdout)
    assert [r["index"] for r in recs] == list(range(len(recs)))
    assert "".join(r["text"] for r in recs) == TEXT
    assert all(TEXT[r["start"] : r["end"]] == r["text"] for r in recs)
    assert len(recs) == 5
    assert recs[1]["text"].startswith("Dr. Smith")
    assert result.stderr.startswith("segtool: 1 document;")


def test_chunk_from_stdin_with_the_documented_schema():
    result = run("chunk", "--max-tokens", "20", input=TEXT)
    assert result.exit_code == 0, result.stderr
    recs = records(result.stdout)
    assert list(recs[0]) == ["id", "doc_id", "index", "start", "end", "text", "n_tokens",
                             "ctx_start", "sent_start", "sent_end", "source", "meta"]
    assert all(r["doc_id"] == "-" and r["n_tokens"] <= 20 for r in recs)
    assert "".join(r["text"] for r in recs) == TEXT


def test_quiet_keeps_stderr_empty_and_output_is_deterministic(text_file):
    first = run("chunk", str(text_file), "-q")
    second = run("chunk", str(text_file), "-q")
    assert first.exit_code == second.exit_code == 0
    assert first.stderr == ""
    assert first.stdout == second.stdout


def test_ids_change_with_the_configuration(text_file):
    a = records(run("chunk", str(text_file), "--max-tokens", "20", "-q").stdout)
    b = records(run("chunk", str(text_file), "--max-tokens", "21", "-q").stdout)
    assert [(r["start"], r["end"]) for r in a] == [(r["start"], r["end"]) for r in b]
    assert all(x["id"] != y["id"] for x, y in zip(a, b, strict=True))


def test_parquet_output_has_the_fixed_schema(tmp_path, text_file):
    out = tmp_path / "chunks.parquet"
    result = run("chunk", str(text_file), "--max-tokens", "16", "--format", "parquet",
                 "-o", str(out))
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out)
    assert table.schema.field("ctx_start").type == pa.int64()
    assert table.schema.field("meta").type == pa.string()
    rows = table.to_pylist()
    assert "".join(r["text"] for r in rows) == TEXT
    assert [r["index"] for r in rows] == list(range(len(rows)))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_parquet_needs_an_output_file(text_file):
    result = run("chunk", str(text_file), "--format", "parquet")
    assert result.exit_code == 2
    assert "needs -o FILE" in result.stderr


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz"), (None, ".zst")])
def test_compressed_jsonl_with_id_field_and_meta(tmp_path, opener, suffix):
    lines = "".join(json.dumps({"doc": f"d{i}", "body": TEXT, "lang": "en"}) + "\n"
                    for i in range(3)).encode()
    path = tmp_path / f"docs.jsonl{suffix}"
    if opener is None:
        path.write_bytes(zstandard.ZstdCompressor().compress(lines))
    else:
        with opener(path, "wb") as fh:
            fh.write(lines)
    result = run("chunk", str(path), "--text-field", "body", "--id-field", "doc", "-q")
    assert result.exit_code == 0, result.stderr
    recs = records(result.stdout)
    assert sorted({r["doc_id"] for r in recs}) == ["d0", "d1", "d2"]
    assert all(r["meta"] == {"doc": r["doc_id"], "lang": "en"} for r in recs)


def test_directories_and_globs_are_sorted(tmp_path):
    for name in ["b.txt", "a.txt", "sub/c.md"]:
        p = tmp_path / name
        p.parent.mkdir(exist_ok=True)
        p.write_text(f"Document {name}. Second sentence.", encoding="utf-8")
    by_dir = records(run("sentences", str(tmp_path), "-q").stdout)
    docs = []
    for r in by_dir:
        if r["doc_id"] not in docs:
            docs.append(r["doc_id"])
    assert [os.path.relpath(d, tmp_path) for d in docs] == ["a.txt", "b.txt", "sub/c.md"]
    by_glob = records(run("sentences", str(tmp_path / "*.txt"), "-q").stdout)
    assert {os.path.basename(r["doc_id"]) for r in by_glob} == {"a.txt", "b.txt"}


def test_empty_and_whitespace_documents_are_counted_not_errors(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text("  \n\n \t", encoding="utf-8")
    result = run("chunk", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "2 documents, 2 empty; 0 chunks" in result.stderr


# ------------------------------------------------------------------ bad input
def _bad_files(tmp_path):
    invalid = tmp_path / "invalid.txt"
    invalid.write_bytes(b"Valid start. \xff\xfe broken")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"ELF\x00\x01\x02 binary")
    malformed = tmp_path / "bad.jsonl"
    malformed.write_text('{"text": "fine."}\n{"text": \n{"text": "also fine."}\n')
    nofield = tmp_path / "nofield.jsonl"
    nofield.write_text('{"body": "no text field here."}\n')
    truncated = tmp_path / "trunc.txt.gz"
    truncated.write_bytes(gzip.compress(TEXT.encode() * 50)[:-40])
    table = pa.table({"body": ["x"]})
    parquet = tmp_path / "nofield.parquet"
    pq.write_table(table, parquet)
    return {"invalid": (invalid, "byte 13"), "binary": (binary, "NUL"),
            "malformed": (malformed, "line 2"), "nofield": (nofield, "--text-field"),
            "truncated": (truncated, "gzip"), "parquet": (parquet, "--text-field")}


@pytest.mark.parametrize("case", ["invalid", "binary", "malformed", "nofield", "truncated",
                                  "parquet"])
def test_bad_input_stops_with_exit_1_and_no_output_file(tmp_path, case):
    path, expected = _bad_files(tmp_path)[case]
    out = tmp_path / "out" / "chunks.jsonl"
    out.parent.mkdir()
    result = run("chunk", str(path), "-o", str(out))
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert str(path) in lines[0] and expected in lines[0]
    assert "Traceback" not in result.stderr
    assert list(out.parent.iterdir()) == []


def test_skip_mode_writes_the_rest_and_names_each_bad_document(tmp_path):
    bad = _bad_files(tmp_path)
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "chunks.jsonl"
    errors = tmp_path / "errors.jsonl"
    inputs = [str(bad[k][0]) for k in ("invalid", "malformed", "binary")] + [str(good)]
    result = run("chunk", *inputs, "-o", str(out), "--on-error", "skip",
                 "--errors-file", str(errors))
    assert result.exit_code == 0, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 3
    logged = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [e["source"] for e in logged] == inputs[:3]
    recs = records(out.read_text())
    sources = {r["source"] for r in recs}
    assert sources == {str(bad["malformed"][0]), str(good)}  # the two good JSONL lines survive
    assert "3 skipped" in result.stderr


def test_replace_decodes_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café au lait. Très bon.".encode("latin-1"))
    strict = run("sentences", str(path))
    assert strict.exit_code == 1 and "--encoding-errors replace" in strict.stderr
    replaced = run("sentences", str(path), "--encoding-errors", "replace", "-q")
    assert replaced.exit_code == 0
    assert "\ufffd" in "".join(r["text"] for r in records(replaced.stdout))


@pytest.mark.parametrize("args,listed", [
    (["chunk", "-", "--splitter", "nope"], "rules"),
    (["chunk", "-", "--chunker", "nope"], "window"),
    (["chunk", "-", "--tokenizer", "nope"], "cl100k_base"),
])
def test_unknown_component_names_exit_2_and_list_valid_ones(args, listed):
    result = run(*args, input="Some text.")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown ") and listed in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_output_directory_exit_2(text_file):
    # /sys refuses new files even to root, so this holds wherever the suite runs
    result = run("chunk", str(text_file), "-o", "/sys/segtool-out.jsonl")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot write /sys/segtool-out.jsonl")


def test_missing_output_directory_exit_2(tmp_path, text_file):
    result = run("chunk", str(text_file), "-o", str(tmp_path / "no" / "such" / "out.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_list_shows_builtins_and_the_plugin():
    result = run("list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    names = {(r["kind"], r["name"]) for r in rows}
    assert {("splitters", "rules"), ("chunkers", "window"), ("splitters", "lines"),
            ("writers", "parquet")} <= names
    window = next(r for r in rows if r["name"] == "window")
    assert {"max_tokens", "tokenizer", "overlap_tokens"} <= {o["name"] for o in window["options"]}
    lines = next(r for r in rows if r["name"] == "lines" and r["kind"] == "splitters")
    assert lines["origin"] == "segtool-lines" and lines["installed"]


def test_plugin_splitter_and_chunker_run_end_to_end():
    text = "alice: hi\nbob: hello\n\ncarol: hey\n"
    result = run("chunk", "--splitter", "lines", "--chunker", "lines", "--max-tokens", "2",
                 "-q", input=text)
    assert result.exit_code == 0, result.stderr
    recs = records(result.stdout)
    assert [r["text"] for r in recs] == ["alice: hi\nbob: hello\n\n", "carol: hey\n"]


def test_eval_sentences_json(dev_dir):
    gold = dev_dir / "en_golden_rules.jsonl"
    result = run("eval", "sentences", "--gold", str(gold), "--splitter", "rules",
                 "--splitter", "nupunkt", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["splitter"] for r in rows] == ["rules", "nupunkt"]
    assert all(r["docs"] == 48 for r in rows)
    # rules was written against the Golden Rules: every document exact, F1 1.0
    assert (rows[0]["exact_docs"], rows[0]["fn"], rows[0]["fp"], rows[0]["f1"]) == (48, 0, 0, 1.0)


def test_eval_sentences_scores_a_hand_computed_case(tmp_path):
    """Gold treats "One two. Three four." as one sentence; rules splits it.

    Internal gold ends (the final end left out): {21}; rules predicts {9, 21}
    → tp 1, fp 1, fn 0 → precision 0.5, recall 1.0, F1 2/3.  ``paragraphs``
    predicts no internal end → tp 0, fn 1 → precision 1.0 (nothing claimed),
    recall 0.0, F1 0.0.
    """
    text = "One two. Three four. Five six."
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "d", "text": text, "sentences": [[0, 21], [21, 30]]}) + "\n",
                    encoding="utf-8")
    result = run("eval", "sentences", "-g", str(gold), "-s", "rules", "-s", "paragraphs", "--json")
    assert result.exit_code == 0, result.stderr
    rules, paragraphs = json.loads(result.stdout)
    assert (rules["tp"], rules["fp"], rules["fn"]) == (1, 1, 0)
    assert (rules["precision"], rules["recall"], rules["f1"]) == (0.5, 1.0, round(2 / 3, 4))
    assert (paragraphs["tp"], paragraphs["fp"], paragraphs["fn"]) == (0, 0, 1)
    assert (paragraphs["precision"], paragraphs["recall"], paragraphs["f1"]) == (1.0, 0.0, 0.0)


def test_no_input_on_a_terminal_is_a_usage_error(monkeypatch):
    monkeypatch.setattr("segtool.cli.run._stdin_is_tty", lambda: True)
    result = run("chunk")
    assert result.exit_code == 2 and "no input" in result.stderr
