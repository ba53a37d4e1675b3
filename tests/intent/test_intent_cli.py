"""The intent chunker from the command line: intents from files and record fields, identity,
determinism across --batch-size and --jobs, output formats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segtool.models.tokens import get_tokenizer

from .conftest import run_cli

QUESTIONS = ["What does the speaker say about the economy?",
             "Which foreign policy issues are mentioned?",
             "What is promised about health care?",
             "How will taxes change?"]


@pytest.fixture(scope="module")
def corpus(sotu_sentences, tmp_path_factory) -> Path:
    """Eight documents of real prose, each carrying its own questions in a record field."""
    root = tmp_path_factory.mktemp("intent-cli")
    lines, keyed = [], []
    for k in range(8):
        text = "".join(sotu_sentences[k * 25 : k * 25 + 20 + k])
        questions = QUESTIONS[k % 4 :] + QUESTIONS[: k % 4]
        lines.append(json.dumps({"id": f"doc{k}", "text": text, "questions": questions[:3]}))
        keyed.append(json.dumps({"doc_id": f"doc{k}", "intents": questions[:3]}))
    (root / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "keyed.jsonl").write_text("\n".join(keyed) + "\n", encoding="utf-8")
    (root / "q.txt").write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    return root


BASE = ("chunk", "-c", "intent", "--embedder", "model2vec", "--max-tokens", "120",
        "--intent-beta", "0.3", "--id-field", "id", "-q")


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_records(corpus: Path, recs: list[dict], max_tokens: int, allowed: set[str]) -> None:
    """Chunks tile each input document, fit the limit re-encoded, and name one of its intents."""
    docs = {d["id"]: d["text"] for d in map(json.loads, (corpus / "docs.jsonl").open())}
    tok = get_tokenizer("cl100k_base")
    by_doc: dict[str, list[dict]] = {}
    for r in recs:
        by_doc.setdefault(r["doc_id"], []).append(r)
        assert r["n_tokens"] == tok.counts([r["text"]])[0] <= max_tokens
        assert r["meta"]["intent"] in allowed and -1 <= r["meta"]["intent_score"] <= 1
    assert set(by_doc) == set(docs)
    for doc_id, rs in by_doc.items():
        assert "".join(r["text"] for r in rs) == docs[doc_id]
        assert all(docs[doc_id][r["start"] : r["end"]] == r["text"] for r in rs)


def test_intents_file_text_parquet_and_identity(m2v_ready, corpus, tmp_path):
    run_cli(*BASE, "--intents", "q.txt", "docs.jsonl", "-o", str(tmp_path / "a.jsonl"),
            cwd=corpus)
    first = records(tmp_path / "a.jsonl")
    check_records(corpus, first, 120, set(QUESTIONS))
    assert len({r["meta"]["intent"] for r in first}) > 1  # chunks serve different questions
    # the intents file edited under the same name, output to Parquet: every record id
    # changes, and the intent metadata is in the meta column
    import pyarrow.parquet as pq

    edited = corpus / "edited"
    edited.mkdir()
    (edited / "q.txt").write_text("\n".join(QUESTIONS[:3]) + "\n", encoding="utf-8")
    (edited / "docs.jsonl").write_bytes((corpus / "docs.jsonl").read_bytes())
    run_cli(*BASE, "--intents", "q.txt", "docs.jsonl", "-o", str(tmp_path / "b.parquet"),
            cwd=edited)
    second = pq.read_table(tmp_path / "b.parquet").to_pylist()
    for r in second:
        r["meta"] = json.loads(r["meta"])
    check_records(corpus, second, 120, set(QUESTIONS[:3]))
    assert all(isinstance(r["meta"]["intent_score"], float) for r in second)
    assert not {r["id"] for r in first} & {r["id"] for r in second}


def test_record_field_and_keyed_file_agree_across_jobs_and_batch_sizes(m2v_ready, corpus,
                                                                        tmp_path):
    one = tmp_path / "one.jsonl"
    run_cli(*BASE, "--intents-field", "questions", "--jobs", "1", "--batch-size", "64",
            "docs.jsonl", "-o", str(one), cwd=corpus)
    check_records(corpus, records(one), 120, set(QUESTIONS))
    two = tmp_path / "two.jsonl"
    saved = tmp_path / "saved.jsonl"
    run_cli(*BASE, "--intents-field", "questions", "--jobs", "2", "--batch-size", "3",
            "--save-intents", str(saved), "docs.jsonl", "-o", str(two), cwd=corpus)
    assert two.read_bytes() == one.read_bytes()  # byte for byte, ids included
    # workers saved every document's intents, in the form --intents reads back
    assert records(saved) == records(corpus / "keyed.jsonl")
    keyed = tmp_path / "keyed-out.jsonl"
    run_cli(*BASE, "--intents", str(saved), "docs.jsonl", "-o", str(keyed), cwd=corpus)
    same = [(r["doc_id"], r["start"], r["end"], r["meta"]) for r in records(keyed)]
    assert same == [(r["doc_id"], r["start"], r["end"], r["meta"]) for r in records(one)]
    assert records(keyed)[0]["id"] != records(one)[0]["id"]  # another source, another identity


def test_a_document_without_intents_is_bad_input(m2v_ready, corpus, tmp_path):
    partial = tmp_path / "partial.jsonl"
    partial.write_text("".join(line + "\n" for line in
                               (corpus / "keyed.jsonl").read_text().splitlines()
                               if '"doc3"' not in line), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_cli(*BASE, "--intents", str(partial), "docs.jsonl", "-o", str(out), cwd=corpus,
                   check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: ") and "no intents for document 'doc3'" in lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_minilm_through_the_python_api(minilm_ready, corpus):
    """MiniLM, in-process through segtool.chunk_documents (the CLI's pipeline and identity)."""
    import segtool

    rows = [json.loads(line) for line in (corpus / "docs.jsonl").open(encoding="utf-8")]
    recs = [r.to_dict() for r in segtool.chunk_documents(
        rows, chunker="intent", id_field="id", embedder="minilm", device="cpu", max_tokens=150,
        intents_field="questions")]
    check_records(corpus, recs, 150, set(QUESTIONS))
    sizes = [r["sent_end"] - r["sent_start"] for r in recs]
    assert max(sizes) <= 15 and len(recs) < sum(sizes)  # some chunks hold several sentences
