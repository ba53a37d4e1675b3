"""Intent sources: the intents file (both formats), record fields, dedupe, --save-intents."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from segtool.intents import dedupe
from segtool.intents.options import IntentSourceOptions
from segtool.intents.sources import FieldIntents, IntentSaver, make_source, read_intents_file
from segtool.types import BadInput, Document, UsageError


def doc(doc_id: str, **meta) -> Document:
    return Document(id=doc_id, text="Some text.", source="in.jsonl", meta=meta)


def test_plain_text_file_gives_every_document_the_same_intents(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("\ufeffWhat is it?\n\n  How much does it cost?  \n", encoding="utf-8")
    src = read_intents_file(str(path))
    assert src.lookup([doc("a"), doc("b")]) == [["What is it?", "How much does it cost?"]] * 2
    before = src.identity
    path.write_text("What is it?\n", encoding="utf-8")
    assert read_intents_file(str(path)).identity != before  # content, not the name, counts
    assert before.startswith("file:sha256:")


def test_jsonl_file_is_keyed_by_document_id(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"doc_id": "a", "intents": ["Who?", "Why?"]}\n\n'
                    '{"doc_id": 7, "intents": "One?\\nTwo?"}\n'
                    '{"doc_id": "empty", "intents": []}\n', encoding="utf-8")
    src = read_intents_file(str(path))
    got = src.lookup([doc("a"), doc("7"), doc("empty"), doc("missing")])
    assert got[:3] == [["Who?", "Why?"], ["One?", "Two?"], []]
    assert isinstance(got[3], BadInput)
    assert "no intents for document 'missing'" in got[3].message()


@pytest.mark.parametrize("content, words", [
    ("", "holds no intent"),
    ("\n  \n", "holds no intent"),
    ('{"doc_id": "a", "intents": ["x"]}\nplain line\n', ":2: not a JSON object"),
    ('{"intents": ["x"]}\n', ":1: no \"doc_id\""),
    ('{"doc_id": "a", "intents": [1, 2]}\n', "must be a list of strings"),
    ('{"doc_id": "a", "intents": []}\n{"doc_id": "a", "intents": []}\n', "listed twice"),
])
def test_bad_intents_files_are_one_line_usage_errors(tmp_path, content, words):
    path = tmp_path / "q"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=words) as err:
        read_intents_file(str(path))
    assert err.value.exit_code == 2 and "\n" not in str(err.value)


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(UsageError, match="cannot read it"):
        read_intents_file(str(tmp_path / "absent.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Qu'est-ce que c'est, caf\xe9 ?\n".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        read_intents_file(str(bad))


def test_record_field_source():
    src = FieldIntents("qs")
    got = src.lookup([doc("a", qs=["Q1?", "Q2?"]), doc("b", qs="Q3?\nQ4?"), doc("c", qs=None),
                      doc("d"), doc("e", qs=5)])
    assert got[:3] == [["Q1?", "Q2?"], ["Q3?", "Q4?"], []]
    assert isinstance(got[3], BadInput) and "has no field 'qs'" in got[3].message()
    assert isinstance(got[4], BadInput) and "is a int, not intents" in got[4].message()
    assert src.identity == "field:qs" and src.fields == ("qs",)


def test_conflicting_sources_are_refused(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Q?\n", encoding="utf-8")
    for kwargs in ({"intents": str(path), "intents_field": "qs"},
                   {"intents": str(path), "intents_endpoint": "http://127.0.0.1:9/v1"},
                   {"intents_field": "qs", "intents_endpoint": "http://127.0.0.1:9/v1"}):
        with pytest.raises(UsageError, match="choose one"):
            make_source(IntentSourceOptions(**kwargs), device="cpu", dtype="auto", batch_size=1)


def test_exact_dedupe_keeps_order_and_first_occurrence():
    assert dedupe.exact([" Why? ", "How?", "", "Why?", "  ", "how?"]) == ["Why?", "How?", "how?"]


def test_near_dedupe_drops_rows_too_close_to_an_earlier_kept_one():
    v = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.0, 0.0], [0.0, 2.0], [0.7, 0.7]])
    # row 1: cos .990 with row 0 → dropped; row 4 is row 2 scaled → dropped; the zero row
    # resembles nothing and stays; row 5: cos .707 with rows 0 and 2 → kept
    assert dedupe.near(v, 0.95) == [0, 2, 3, 5]
    assert dedupe.near(v, 1.0) == [0, 1, 2, 3, 5]  # only identical directions go
    assert dedupe.near(v, 0.5) == [0, 2, 3]


# ---------------------------------------------------------------- --save-intents


def read_saved(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_saver_merges_by_document_and_sorts(tmp_path):
    path = tmp_path / "saved.jsonl"
    saver = IntentSaver(str(path))
    saver.save([(doc("b"), ["B1?"]), (doc("a"), ["A1?"])])
    saver.save([(doc("c"), []), (doc("b"), ["B2?"])])  # b again: replaced
    part = Document(id="a", text="x", source="s", part=1)
    saver.save([(part, ["A1?", "A2?"])])  # a later block of document a: added to it
    assert read_saved(path) == [{"doc_id": "a", "intents": ["A1?", "A2?"]},
                                {"doc_id": "b", "intents": ["B2?"]},
                                {"doc_id": "c", "intents": []}]
    assert read_intents_file(str(path)).lookup([doc("b")]) == [["B2?"]]  # reusable as --intents
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.jsonl"]


def test_saver_never_leaves_a_half_written_file(tmp_path):
    path = tmp_path / "saved.jsonl"
    saver = IntentSaver(str(path))
    saver.save([(doc("a"), ["A?"])])
    before = path.read_bytes()
    with pytest.raises(TypeError):  # fails in the middle of writing the new content
        saver.save([(doc("b"), ["B?"]), (doc("c"), [object()])])  # type: ignore[list-item]
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.jsonl"]  # no temporary left


def test_saver_refuses_to_merge_into_a_file_that_is_not_intents(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my precious notes\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not an intents file"):
        IntentSaver(str(path))
    with pytest.raises(UsageError, match="does not exist"):
        IntentSaver(str(tmp_path / "no" / "such.jsonl"))


def test_concurrent_savers_in_several_processes_lose_nothing(tmp_path):
    """What --jobs N does: workers save their batches into one file at the same time."""
    path = tmp_path / "saved.jsonl"
    script = textwrap.dedent("""
        import sys
        from segtool.intents.sources import IntentSaver
        from segtool.types import Document
        worker, path = sys.argv[1], sys.argv[2]
        saver = IntentSaver(path)
        for k in range(25):
            docs = [Document(id=f"{worker}-{k}-{m}", text="x", source="s") for m in range(3)]
            saver.save([(d, [f"Question of {d.id}?"]) for d in docs])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w), str(path)])
             for w in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    saved = read_saved(path)
    ids = [r["doc_id"] for r in saved]
    assert len(ids) == 4 * 25 * 3 and ids == sorted(ids)
    assert all(r["intents"] == [f"Question of {r['doc_id']}?"] for r in saved)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.jsonl"]
