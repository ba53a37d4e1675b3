"""Each rule of ``segtool check`` fires on a crafted bad file and stays quiet on a good one.

The good files are real ``segtool chunk`` output (see conftest); every bad file
is that output with one defect put in, and the tests assert the *exact* set of
findings where the defect is the only thing wrong, so a rule that fires too
often fails as surely as one that never fires.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.check.conftest import check, codes_at, write_rows

DOCS = ["--docs", "docs"]


def _found(result: Any, name: str) -> set[tuple[int, str]]:
    return {(line, code) for path, line, code in codes_at(result.stdout) if path == name}


def _doc(work: Path, doc_id: str) -> str:
    return (work / doc_id).read_text(encoding="utf-8")


def _renumber(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counters: dict[str, int] = {}
    for r in rows:
        r["index"] = counters.get(r["doc_id"], 0)
        counters[r["doc_id"]] = r["index"] + 1
    return rows


@pytest.mark.parametrize("name", ["good.jsonl", "good.parquet"])
def test_real_chunk_output_is_clean_with_every_rule(work, name):
    result = check([name, *DOCS, "--max-tokens", "64", "--select", "ALL"], work)
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    assert "all clean" in result.stderr and "29 chunks" in result.stderr


def test_corpus_that_decodes_is_clean_and_bad_documents_are_findings(work, tmp_path):
    assert check(["docs"], work).exit_code == 0
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("Fine text.\n")
    (corpus / "bad.txt").write_bytes(b"line one\nline \xff two\n")
    (corpus / "bad.jsonl").write_bytes(b'{"text": "a"}\nnot json\n{"text": "b"}\n')
    result = check(["corpus"], tmp_path)
    assert result.exit_code == 1
    assert codes_at(result.stdout) == {("corpus/bad.txt", 2, "ST001"),
                                       ("corpus/bad.jsonl", 2, "ST001")}
    assert "invalid UTF-8" in result.stdout


def test_unreadable_docs_and_corrupt_parquet_are_findings(work, tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    result = check([str(tmp_path / "broken.parquet")], work)
    assert result.exit_code == 1
    assert _found(result, str(tmp_path / "broken.parquet")) == {(1, "ST001")}
    # a source document that does not decode is a finding too, and the chunks of the
    # documents that do decode are still checked
    docs = tmp_path / "docs"
    shutil.copytree(work / "docs", docs)
    (docs / "zz_bad.txt").write_bytes(b"ok\n\xff\n")
    result = check(["good.jsonl", "--docs", str(docs)], work)
    assert codes_at(result.stdout) == {(str(docs / "zz_bad.txt"), 2, "ST001")}


def test_bad_rows(work, good_rows, tmp_path):
    lines = [json.dumps(r) for r in good_rows]
    lines[2] = "not json"
    lines[4] = json.dumps({k: v for k, v in good_rows[4].items() if k != "doc_id"})
    lines[6] = json.dumps({**good_rows[6], "start": "12"})
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n")
    result = check(["bad.jsonl", "--select", "bad-chunk-row"], tmp_path)
    assert result.exit_code == 1
    assert _found(result, "bad.jsonl") == {(3, "ST002"), (5, "ST002"), (7, "ST002")}
    assert "no 'doc_id'" in result.stdout


def test_empty_chunk(work, good_rows):
    rows = copy.deepcopy(good_rows)
    rows[6]["text"] = ""
    rows[6]["end"] = rows[6]["start"]
    write_rows(work / "empty.jsonl", rows)
    result = check(["empty.jsonl", *DOCS, "--select", "empty-chunk"], work)
    assert _found(result, "empty.jsonl") == {(7, "ST003")}
    rows = copy.deepcopy(good_rows)
    rows[6]["text"] = "   \n"
    write_rows(work / "blank.jsonl", rows)
    result = check(["blank.jsonl", "--select", "ST003"], work)
    assert _found(result, "blank.jsonl") == {(7, "ST003")}
    assert "only whitespace" in result.stdout


def test_duplicate_id(work, good_rows, tmp_path):
    rows = copy.deepcopy(good_rows)
    rows[10]["id"] = rows[4]["id"]
    write_rows(work / "dup.jsonl", rows)
    result = check(["dup.jsonl", *DOCS], work)
    assert result.exit_code == 1
    assert _found(result, "dup.jsonl") == {(11, "ST004")}
    assert "already used on line 5" in result.stdout
    # in Parquet too: line = row number + 1
    table = pq.read_table(work / "good.parquet")
    ids = table.column("id").to_pylist()
    ids[10] = ids[4]
    pq.write_table(table.set_column(0, "id", pa.array(ids, pa.string())), tmp_path / "dup.parquet")
    result = check([str(tmp_path / "dup.parquet")], work)
    assert _found(result, str(tmp_path / "dup.parquet")) == {(11, "ST004")}


def test_max_tokens_reencodes_instead_of_trusting_n_tokens(work, good_rows):
    rows = copy.deepcopy(good_rows)
    a, b = rows[5], rows.pop(6)  # merge two Sherlock chunks (61 + 42 tokens, 102 together), keep a's n_tokens
    a["end"], a["text"], a["sent_end"] = b["end"], a["text"] + b["text"], b["sent_end"]
    write_rows(work / "long.jsonl", _renumber(rows))
    result = check(["long.jsonl", *DOCS, "--max-tokens", "64"], work)
    assert result.exit_code == 1
    assert _found(result, "long.jsonl") == {(6, "ST005"), (6, "ST007")}
    assert "102 tokens > max-tokens 64 (cl100k_base)" in result.stdout
    a["n_tokens"] = 102  # honest count: only the limit is broken
    write_rows(work / "long.jsonl", rows)
    assert _found(check(["long.jsonl", *DOCS, "--max-tokens", "64"], work),
                  "long.jsonl") == {(6, "ST005")}
    assert check(["long.jsonl", *DOCS, "--max-tokens", "102"], work).exit_code == 0


def test_min_tokens_spares_a_documents_only_chunk(work):
    result = check(["good.jsonl", "--min-tokens", "30"], work)
    # 4 tokens (On Liberty's last chunk) and 21 (Sherlock's last); the one-chunk
    # records (8, 24 and 21 tokens) cannot be merged anywhere and are not flagged
    assert _found(result, "good.jsonl") == {(4, "ST006"), (20, "ST006")}


def test_n_tokens_that_disagrees(work, good_rows):
    rows = copy.deepcopy(good_rows)
    rows[12]["n_tokens"] += 1
    write_rows(work / "count.jsonl", rows)
    result = check(["count.jsonl"], work)
    assert _found(result, "count.jsonl") == {(13, "ST007")}
    # another tokenizer counts differently: the stated counts are then all wrong
    result = check(["good.jsonl", "--tokenizer", "chars", "--select", "ST007"], work)
    assert len(_found(result, "good.jsonl")) == 29


def test_offsets_against_the_documents(work, good_rows):
    rows = copy.deepcopy(good_rows)
    rows[8]["text"] = rows[8]["text"].replace("a", "e", 1)  # same length, other text
    rows[23]["end"] = 10_000
    for r in rows[24:26]:
        r["doc_id"] = "docs/missing.txt"
    write_rows(work / "offsets.jsonl", rows)
    result = check(["offsets.jsonl", *DOCS], work)
    assert _found(result, "offsets.jsonl") == {(9, "ST008"), (24, "ST008"), (25, "ST008")}
    assert "not among the --docs" in result.stdout and "outside document" in result.stdout
    # without the documents only what the row itself says can be checked
    rows = copy.deepcopy(good_rows)
    rows[8]["end"] += 3
    rows[9]["start"] += 3
    write_rows(work / "offsets.jsonl", rows)
    result = check(["offsets.jsonl", "--select", "ST008"], work)
    assert _found(result, "offsets.jsonl") == {(9, "ST008"), (10, "ST008")}


def test_out_of_order(work, good_rows):
    rows = copy.deepcopy(good_rows)
    rows[5], rows[6] = rows[6], rows[5]
    write_rows(work / "order.jsonl", rows)
    result = check(["order.jsonl", *DOCS, "--select", "out-of-order"], work)
    assert _found(result, "order.jsonl") == {(6, "ST009"), (7, "ST009")}
    assert "before the previous chunk" in result.stdout


def test_gaps_in_the_middle_and_at_the_end(work, good_rows):
    rows = copy.deepcopy(good_rows)
    del rows[9]
    write_rows(work / "gap.jsonl", _renumber(rows))
    assert _found(check(["gap.jsonl", *DOCS], work), "gap.jsonl") == {(10, "ST010")}
    assert _found(check(["gap.jsonl"], work), "gap.jsonl") == {(10, "ST010")}
    rows = copy.deepcopy(good_rows)
    del rows[3]  # On Liberty's last chunk: only the documents can show it is missing
    write_rows(work / "tail.jsonl", rows)
    result = check(["tail.jsonl", *DOCS], work)
    assert _found(result, "tail.jsonl") == {(3, "ST010")}
    assert "at the end of the document" in result.stdout
    assert check(["tail.jsonl"], work).exit_code == 0


def test_overlap(work, good_rows):
    rows = copy.deepcopy(good_rows)
    r = rows[9]
    doc = _doc(work, r["doc_id"])
    r["start"] = doc.rindex(" ", 0, r["start"] - 5) + 1  # a word start inside the previous chunk
    r["text"] = doc[r["start"]:r["end"]]
    del r["n_tokens"]
    write_rows(work / "overlap.jsonl", rows)
    result = check(["overlap.jsonl", *DOCS], work)
    assert _found(result, "overlap.jsonl") == {(10, "ST011")}


def test_mid_word_cut_with_and_without_documents(work, good_rows):
    rows = copy.deepcopy(good_rows)
    a, b = rows[5], rows[6]
    doc = _doc(work, a["doc_id"])
    word = next(m for m in re.finditer(r"[A-Za-z]{5,}", b["text"]))
    cut = b["start"] + word.start() + 2
    assert doc[cut - 1].isalpha() and doc[cut].isalpha()
    a["end"] = b["start"] = cut
    a["text"], b["text"] = doc[a["start"]:cut], doc[cut:b["end"]]
    assert a["text"] + b["text"] == good_rows[5]["text"] + good_rows[6]["text"]
    del a["n_tokens"], b["n_tokens"]
    write_rows(work / "midword.jsonl", rows)
    for args in ([*DOCS], []):
        result = check(["midword.jsonl", *args], work)
        assert _found(result, "midword.jsonl") == {(6, "ST012")}, args
        assert "ends mid-word" in result.stdout


def test_text_only_chunks_of_another_tool(work, good_rows):
    rows = [{"doc_id": r["doc_id"], "text": r["text"].strip()} for r in good_rows]
    write_rows(work / "other.jsonl", rows)
    result = check(["other.jsonl", *DOCS, "--max-tokens", "64"], work)
    assert result.exit_code == 0, result.stdout  # stripped whitespace is no gap
    rows[14]["text"] = "Watson said: " + rows[14]["text"]
    write_rows(work / "other.jsonl", rows)
    result = check(["other.jsonl", *DOCS], work)
    assert _found(result, "other.jsonl") == {(15, "ST008")}
    assert "text not found" in result.stdout


def test_offset_only_chunks_take_their_text_from_the_documents(work, good_rows):
    rows = [{"doc_id": r["doc_id"], "start": r["start"], "end": r["end"]} for r in good_rows]
    write_rows(work / "spans.jsonl", rows)
    assert check(["spans.jsonl", *DOCS, "--max-tokens", "64"], work).exit_code == 0
    result = check(["spans.jsonl", *DOCS, "--max-tokens", "60"], work)
    assert {code for _, code in _found(result, "spans.jsonl")} == {"ST005"}


def test_locating_stops_after_many_misses_in_one_document(work):
    # each miss searches the rest of the document: a file made from another version of a
    # large document must not cost (chunks x document) — and 20 findings say enough
    rows = [{"doc_id": "docs/gutenberg_sherlock.txt", "text": f"no such text {i}"} for i in range(30)]
    write_rows(work / "misses.jsonl", rows)
    result = check(["misses.jsonl", *DOCS], work)
    found = _found(result, "misses.jsonl")
    assert found == {(line, "ST008") for line in range(1, 21)}
    assert "the document's other chunks are not located" in result.stdout.splitlines()[-1]
