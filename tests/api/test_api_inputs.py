"""The Python API takes what the ecosystem hands it and gives what the CLI gives.

Every accepted input kind — strings, dicts, ``(id, text)`` pairs, segtool
``Document``\\ s, LangChain and LlamaIndex documents for the document
functions; pyarrow Tables and RecordBatches, pandas DataFrames and Hugging
Face Datasets for ``segment_table`` — is compared with ``segtool`` run in a
subprocess on the same documents written as JSONL or Parquet: the same
spans, and where the ids and metadata can be the same, the same bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import datasets
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import segtool
from segtool.types import Document, InputError, UsageError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docs"
OPTS = ["--max-tokens", "40", "--overlap-tokens", "6"]
KW = {"max_tokens": 40, "overlap_tokens": 6}


def _texts() -> list[str]:
    paragraphs = [p for f in [*sorted(FIXTURES.glob("*.txt")), FIXTURES / "legal_memo.md"]
                  for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    # whole files too (long, multi-paragraph), an empty and a blank document
    whole = [f.read_text(encoding="utf-8") for f in sorted(FIXTURES.glob("*.txt"))]
    return [*paragraphs, *whole, "", "  \n "]


def _cli(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args, "-q"], capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("api-inputs")
    texts = _texts()
    rows = [{"id": f"doc-{i:02d}", "text": t, "lang": "en" if i % 2 else "xx"}
            for i, t in enumerate(texts)]
    plain, rich, parquet = root / "plain.jsonl", root / "rich.jsonl", root / "rich.parquet"
    plain.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    rich.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    out_chunks, out_sents = root / "chunks.parquet", root / "sents.parquet"
    _cli("chunk", str(parquet), "--id-field", "id", *OPTS, "-o", str(out_chunks))
    _cli("sentences", str(parquet), "--id-field", "id", "-o", str(out_sents))
    return {
        "texts": texts, "rows": rows, "plain": plain, "rich": rich, "parquet": parquet,
        "chunks_plain": _cli("chunk", str(plain), *OPTS),
        "chunks_rich": _cli("chunk", str(rich), "--id-field", "id", *OPTS),
        "sents_plain": _cli("sentences", str(plain)),
        "sents_rich": _cli("sentences", str(rich), "--id-field", "id"),
        "table_chunks": pq.read_table(out_chunks), "table_sents": pq.read_table(out_sents),
    }


def _spans(lines_or_records) -> list[tuple]:
    """What must not depend on how the documents were handed over: ids, offsets, text, sizes."""
    out = []
    for r in lines_or_records:
        d = json.loads(r) if isinstance(r, str) else r.to_dict()
        out.append((d["id"], d["doc_id"], d["index"], d["start"], d["end"], d["text"],
                    d.get("n_tokens"), d.get("ctx_start")))
    return out


# -- documents ----------------------------------------------------------------------------------

def test_strings_give_the_cli_records_byte_for_byte(corpus):
    source = str(corpus["plain"])  # plain strings are numbered "<source>#<n>", as the CLI does
    chunks = segtool.chunk_documents(corpus["texts"], source=source, **KW)
    assert [r.to_json() for r in chunks] == corpus["chunks_plain"]
    sents = segtool.split_documents(corpus["texts"], source=source)
    assert [r.to_json() for r in sents] == corpus["sents_plain"]
    assert all(type(r) is segtool.ChunkRecord for r in chunks)
    assert all(type(r) is segtool.SentenceRecord for r in sents)


def test_dicts_are_read_like_jsonl_lines(corpus):
    chunks = segtool.chunk_documents(corpus["rows"], id_field="id", source=str(corpus["rich"]),
                                     **KW)
    assert [r.to_json() for r in chunks] == corpus["chunks_rich"]  # meta {"id", "lang"} too
    sents = segtool.split_documents(corpus["rows"], id_field="id", source=str(corpus["rich"]))
    assert [r.to_json() for r in sents] == corpus["sents_rich"]
    # another text field name
    renamed = [{"body": r["text"], "id": r["id"]} for r in corpus["rows"]]
    assert _spans(segtool.chunk_documents(renamed, text_field="body", id_field="id", **KW)) == \
        _spans(corpus["chunks_rich"])


def test_pairs_documents_and_ecosystem_documents_give_the_cli_spans(corpus):
    from langchain_core.documents import Document as LCDocument
    from llama_index.core import Document as LIDocument

    rows = corpus["rows"]
    expected = _spans(corpus["chunks_rich"])
    inputs = {
        "pairs": [(r["id"], r["text"]) for r in rows],
        "Document": [Document(id=r["id"], text=r["text"], source="mine") for r in rows],
        "langchain": [LCDocument(page_content=r["text"], id=r["id"], metadata={"lang": r["lang"]})
                      for r in rows],
        "llama_index": [LIDocument(text=r["text"], id_=r["id"], metadata={"lang": r["lang"]})
                        for r in rows],
    }
    for kind, docs in inputs.items():
        chunks = segtool.chunk_documents(docs, **KW)
        assert _spans(chunks) == expected, kind
        if kind in ("langchain", "llama_index"):  # their metadata is kept as meta
            lang = {r["id"]: r["lang"] for r in rows}
            assert all(c.meta == {"lang": lang[c.doc_id]} for c in chunks), kind
    mixed = [rows[0]["text"], (rows[1]["id"], rows[1]["text"]), {"text": rows[2]["text"]}]
    got = segtool.split_documents(mixed, source="s")
    assert [r.doc_id for r in got if r.index == 0] == ["s#0", rows[1]["id"], "s#2"]


def test_workers_give_the_same_records_for_every_input_kind(corpus):
    rows = corpus["rows"] * 3  # enough batches for both workers
    pairs = [(f"{r['id']}-{k}", r["text"]) for k, r in enumerate(rows)]
    assert segtool.chunk_documents(pairs, jobs=2, **KW) == segtool.chunk_documents(pairs, **KW)


def test_bad_documents_raise_one_line_errors_naming_the_item():
    with pytest.raises(InputError, match=r"^no text field 'text' \(fields: body\) — doc:docs\[1\] "
                                         r"— pass text_field=NAME$"):
        segtool.chunk_documents(["Fine.", {"body": "x"}])
    with pytest.raises(InputError, match=r"text field 'text' is null, not a string — doc:docs\[0\]"):
        segtool.split_documents([{"text": None}])
    with pytest.raises(InputError, match=r"no id field 'key' .* — doc:docs\[0\]"):
        segtool.split_documents([{"text": "x"}], id_field="key")
    with pytest.raises(InputError, match=r"the text of an \(id, text\) pair is a bytes"):
        segtool.split_documents([("a", b"x")])
    with pytest.raises(TypeError, match=r"^docs\[0\]: cannot segment a int — give str, dict"):
        segtool.split_documents([3])
    # containers that would silently iterate the wrong way are refused up front
    with pytest.raises(TypeError, match=r"not a str — use segtool.chunk\(text\)"):
        segtool.chunk_documents("A whole text.")
    frame = pd.DataFrame({"text": ["a"]})
    with pytest.raises(TypeError, match=r"not a DataFrame — use segtool.segment_table\(\)"):
        segtool.chunk_documents(frame)
    with pytest.raises(TypeError, match=r"not a dict — wrap one document in a list"):
        segtool.split_documents({"text": "x"})


# -- tables -------------------------------------------------------------------------------------

def _as_arrow(result) -> pa.Table:
    if isinstance(result, pd.DataFrame):
        return pa.Table.from_pandas(result, preserve_index=False)
    if isinstance(result, datasets.Dataset):
        return result.with_format("arrow")[:]
    if isinstance(result, pa.RecordBatch):
        return pa.Table.from_batches([result])
    return result


def _record_columns(table: pa.Table, names) -> list[tuple]:
    return list(zip(*(table.column(n).to_pylist() for n in names), strict=True))


def _table_inputs(rows: list[dict]) -> dict:
    table = pa.Table.from_pylist(rows)
    return {"table": table, "batch": table.combine_chunks().to_batches()[0],
            "pandas": table.to_pandas(), "dataset": datasets.Dataset(table)}


@pytest.mark.parametrize("chunker", ["window", None])
def test_segment_table_gives_the_cli_parquet_rows_and_the_same_kind(corpus, chunker):
    expected = corpus["table_chunks"] if chunker else corpus["table_sents"]
    names = [n for n in expected.schema.names if n != "meta"]  # the CLI keeps the rest in meta
    for kind, data in _table_inputs(corpus["rows"]).items():
        out = segtool.segment_table(data, id_column="id", chunker=chunker, source=str(corpus["parquet"]),
                                    keep_columns=["lang"], **(KW if chunker else {}))
        assert type(out) is type(data), kind
        got = _as_arrow(out)
        assert got.schema.names == [*expected.schema.names, "lang"], kind
        assert _record_columns(got, names) == _record_columns(expected, names), kind
        lang = {r["id"]: r["lang"] for r in corpus["rows"]}
        assert got.column("lang").to_pylist() == [lang[d] for d in got.column("doc_id").to_pylist()]
        if chunker:
            assert set(got.column("meta").to_pylist()) == {"{}"}


def test_segment_table_reads_a_dataset_view_and_keeps_column_types(corpus):
    rows = [{**r, "n": i, "score": i / 4} for i, r in enumerate(corpus["rows"])]
    ds = datasets.Dataset.from_list(rows).select(range(len(rows) - 1, -1, -1))  # reversed view
    out = segtool.segment_table(ds, id_column="id", keep_columns=["n", "score"], **KW)
    assert isinstance(out, datasets.Dataset)
    got = out.with_format("arrow")[:]
    assert got.schema.field("n").type == pa.int64() and got.schema.field("score").type == pa.float64()
    expected = [r for r in segtool.segment_table(pa.Table.from_pylist(rows[::-1]), id_column="id",
                                                 **KW).to_pylist()]
    assert got.drop_columns(["n", "score"]).to_pylist() == expected
    by_id = {r["id"]: r for r in rows}
    assert got.column("n").to_pylist() == [by_id[d]["n"] for d in got.column("doc_id").to_pylist()]


def test_kept_columns_follow_each_record_to_its_own_row():
    # repeated ids, blank and null texts before the row that has text: only the row index can tell
    table = pa.table({
        "id": ["a", "b", "a", "c", "a"],
        "text": ["", None, "First one. Second one.", "   ", "Again a. Twice."],
        "row": [0, 1, 2, 3, 4],
    })
    out = segtool.segment_table(table, id_column="id", chunker=None, keep_columns=["row"])
    assert _record_columns(out, ["doc_id", "text", "row"]) == [
        ("a", "First one. ", 2), ("a", "Second one.", 2), ("a", "Again a. ", 4), ("a", "Twice.", 4)]
    frame = segtool.segment_table(table.to_pandas(), chunker=None, keep_columns=["row"])
    assert frame["doc_id"].tolist() == ["row#2", "row#2", "row#4", "row#4"]
    assert frame["row"].tolist() == [2, 2, 4, 4]


def test_segment_table_with_workers_equals_one_process(corpus):
    table = pa.Table.from_pylist(corpus["rows"] * 4)
    one = segtool.segment_table(table, **KW)
    assert segtool.segment_table(table, jobs=2, **KW).equals(one)


def test_empty_and_all_blank_tables_give_empty_results_of_the_same_kind():
    frame = segtool.segment_table(pd.DataFrame({"text": ["", " "]}))
    assert isinstance(frame, pd.DataFrame) and len(frame) == 0 and "n_tokens" in frame.columns
    empty = pa.RecordBatch.from_pydict({"text": pa.array([], pa.string()), "k": pa.array([], pa.int8())})
    batch = segtool.segment_table(empty, chunker=None, keep_columns=["k"])
    assert isinstance(batch, pa.RecordBatch) and batch.num_rows == 0
    assert batch.schema.names[-1] == "k" and batch.schema.field("k").type == pa.int8()


def test_table_errors_are_one_line_and_name_the_way_out():
    table = pa.table({"id": [1, None], "body": ["One. Two.", "Three."], "n": [1, 2]})
    with pytest.raises(UsageError, match=r"^no column 'text' — text_column — columns: id, body, n$"):
        segtool.segment_table(table)
    with pytest.raises(UsageError, match=r"no column 'x' — keep_columns"):
        segtool.segment_table(table, text_column="body", keep_columns=["x"])
    with pytest.raises(UsageError, match=r"^keep_columns 'id': the output has a column of that name"):
        segtool.segment_table(table, text_column="body", keep_columns=["id"])
    with pytest.raises(UsageError, match=r"column 'n' holds int64, not text"):
        segtool.segment_table(table, text_column="n")
    with pytest.raises(InputError, match=r"column 'id' is null — table:row 1"):
        segtool.segment_table(table, text_column="body", id_column="id")
    with pytest.raises(TypeError, match=r"keep_columns=\['n'\]"):
        segtool.segment_table(table, text_column="body", keep_columns="n")
    with pytest.raises(TypeError, match=r"cannot read a list — give a pyarrow Table"):
        segtool.segment_table([{"text": "x"}])
    with pytest.raises(TypeError, match=r"DatasetDict — pick a split"):
        segtool.segment_table(datasets.DatasetDict({"train": datasets.Dataset(table)}))
    # ids that are numbers become their str(), as the CLI's --id-field does
    out = segtool.segment_table(table.filter(pc.is_valid(table["id"])), text_column="body",
                                id_column="id", chunker=None)
    assert set(out.column("doc_id").to_pylist()) == {"1"}


# -- the records and the package surface ---------------------------------------------------------

def test_records_are_typed_and_still_read_like_the_old_dicts(corpus):
    rec = segtool.chunk(corpus["texts"][0], max_tokens=8)[0]
    line = json.loads(rec.to_json())
    assert list(rec.to_dict()) == list(line) == list(rec.keys())
    assert rec["text"] == rec.text and rec.get("nope", 5) == 5 and dict(rec) == line
    assert list(rec) == list(line) and dict(rec.items()) == line and "meta" in rec
    with pytest.raises(KeyError):
        rec["nope"]
    with pytest.raises(AttributeError):
        rec.text = "changed"  # type: ignore[misc]
    assert segtool.records.from_dict(line) == rec and hash(rec) == hash(segtool.records.from_dict(line))
    as_parquet_row = {**line, "meta": json.dumps(line["meta"])}
    assert segtool.records.from_dict(as_parquet_row) == rec
    with pytest.raises(TypeError, match="not a ChunkRecord field: 'extra'"):
        segtool.records.from_dict({**line, "extra": 1})


def test_import_is_cheap_and_the_public_names_are_listed():
    probe = ("import sys, segtool; heavy = [m for m in ('pyarrow', 'pandas', 'numpy', "
             "'segtool.api', 'segtool.pipeline') if m in sys.modules]; "
             "print(heavy); print(sorted(segtool.__all__) == sorted(set(segtool.__all__))); "
             "print(all(n in dir(segtool) for n in segtool.__all__)); "
             "print(segtool.chunk.__module__, segtool.ChunkRecord.__module__); "
             "print(segtool.adapters.__name__, 'langchain_core' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         timeout=60).stdout.splitlines()
    assert out == ["[]", "True", "True", "segtool.api segtool.records", "segtool.adapters False"]
    for name in ("chunk", "chunk_documents", "split_documents", "split_sentences", "segment_table",
                 "ChunkRecord", "SentenceRecord", "Document", "UsageError", "InputError"):
        assert name in segtool.__all__
        assert getattr(segtool, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'chunks'"):
        segtool.chunks  # noqa: B018
