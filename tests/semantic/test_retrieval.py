"""Retrieval evaluation: interval metrics by hand, the real dev set end to end, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from segtool.quality.evaluate import evaluate_chunks as run
from segtool.quality.retrieval import (
    ChunkRecord,
    Question,
    evaluate,
    intersect,
    precision_omega,
    retrieval_scores,
    union,
)
from segtool.types import InputError

# ---------------------------------------------------------------- intervals and metrics


def test_union_and_intersection():
    assert union([(5, 9), (0, 3), (3, 4), (8, 12), (20, 20)]) == [(0, 4), (5, 12)]
    assert intersect([(0, 4), (5, 12)], [(2, 6), (10, 30)]) == [(2, 4), (5, 6), (10, 12)]
    assert intersect([(0, 4)], [(4, 8)]) == []  # touching shares no character


REFS = [(10, 20), (30, 40)]  # |H| = 20


def test_scores_by_hand():
    # retrieved [0,15) and [35,60): overlap 5 + 5 = 10, Σ|R| = 15 + 25 = 40, missed 10
    s = retrieval_scores(REFS, [(0, 15), (35, 60)])
    assert s == {"recall": 10 / 20, "precision": 10 / 40, "iou": 10 / (40 + 10)}
    # a chunk retrieved twice counts twice in Σ|R| but once in the overlap
    s = retrieval_scores(REFS, [(5, 25), (5, 25)])
    assert s == {"recall": 10 / 20, "precision": 10 / 40, "iou": 10 / (40 + 10)}
    # everything found exactly: all ones
    assert retrieval_scores(REFS, [(10, 20), (30, 40)]) == {"recall": 1.0, "precision": 1.0,
                                                            "iou": 1.0}
    # nothing relevant: recall 0, IoU 0
    assert retrieval_scores(REFS, [(50, 70)]) == {"recall": 0.0, "precision": 0.0, "iou": 0.0}
    # foreign (other-corpus) characters enter Σ|R| only: 10 / (15 + 5)
    s = retrieval_scores(REFS, [(0, 15)], foreign_chars=5)
    assert s["precision"] == 5 / 20 and s["recall"] == 5 / 20 and s["iou"] == 5 / (20 + 15)


def test_precision_omega_by_hand():
    tiling = [(0, 15), (15, 35), (35, 60), (60, 100)]
    # R* = the first three (each shares characters with H): Σ = 15 + 20 + 25 = 60, H all found
    assert precision_omega(REFS, tiling) == 20 / 60
    # a chunk that only touches a reference ([40, 60) starts where [30, 40) ends) is not in R*
    assert precision_omega(REFS, [(0, 10), (10, 20), (20, 30), (30, 40), (40, 60)]) == 1.0
    assert precision_omega(REFS, [(50, 60)]) == 0.0


class _Fixed:
    """A stand-in *retriever input*, not for the code under test: fixed unit vectors."""

    identity, dim, max_input_tokens = "fixed", 2, None

    def __init__(self, table):
        self.table = table

    def embed(self, texts):
        import numpy as np

        return np.asarray([self.table[t] for t in texts], dtype=np.float32)


def test_evaluate_ranks_within_the_corpus_and_scores_each_k():
    q = Question("q1", "a", "where?", ((10, 20),), ("x" * 10,))
    chunks = [ChunkRecord("a", 0, 12, "a0"), ChunkRecord("a", 12, 30, "a1"),
              ChunkRecord("b", 0, 50, "b0")]
    emb = _Fixed({"where?": [1, 0], "a0": [0.6, 0.8], "a1": [0.8, 0.6], "b0": [1, 0]})
    summary, per_q = evaluate([q], chunks, emb, ks=[1, 2])
    # own corpus only: a1 ([12,30), 8 relevant of 18) first, then a0 (2 of 12)
    assert [(r["start"], r["end"]) for r in per_q[0]["retrieved"]] == [(12, 30), (0, 12)]
    assert per_q[0]["at_k"]["1"] == {"recall": 0.8, "precision": 8 / 18, "iou": 8 / (18 + 2)}
    assert per_q[0]["at_k"]["2"] == {"recall": 1.0, "precision": 10 / 30, "iou": 10 / 30}
    assert per_q[0]["precision_omega"] == 10 / 30
    assert summary["overall"]["at_k"]["1"]["recall"] == 0.8
    # the reference set-up: one pool; b0 wins, is never relevant, and costs precision
    _, per_all = evaluate([q], chunks, emb, ks=[1, 2], retrieve_from="all")
    assert per_all[0]["retrieved"][0]["corpus_id"] == "b"
    assert per_all[0]["at_k"]["1"] == {"recall": 0.0, "precision": 0.0, "iou": 0.0}
    assert per_all[0]["at_k"]["2"]["precision"] == 8 / (50 + 18)


# ---------------------------------------------------------------- the real dev set


def _run(chroma_dir, **kw):
    args = dict(questions=chroma_dir / "questions.jsonl", corpus=[chroma_dir / "corpora"],
                chunks=None, splitter="rules", chunker="window", embedder="model2vec",
                ks="1,5,10", retrieve_from="corpus", tokenizer="cl100k_base", device="cpu",
                batch_size=64, embed_cache=None,
                values={"max_tokens": 200, "tokenizer": "cl100k_base"})
    args.update(kw)
    return run(**args)


def test_window_chunks_on_the_dev_set(m2v, chroma_dir):
    result, per_q = _run(chroma_dir)
    assert result["questions"] == 132 and result["references"] == 203
    assert set(result["per_corpus"]) == {"chatlogs", "state_of_the_union"}
    stats = result["chunks"]
    assert 60 <= stats["count"] <= 200 and stats["max"] <= 200
    assert stats["min"] <= stats["p50"] <= stats["p95"] <= stats["max"]
    overall = result["overall"]
    r = [overall["at_k"][k]["recall"] for k in ("1", "5", "10")]
    p = [overall["at_k"][k]["precision"] for k in ("1", "5", "10")]
    assert 0.15 < r[0] <= r[1] <= r[2] <= 1.0 and r[2] > 0.6
    assert p[0] >= p[1] >= p[2] > 0.0
    assert 0.1 < overall["precision_omega"] < 0.5
    for k in ("1", "5", "10"):  # IoU is never above recall or precision
        m = overall["at_k"][k]
        assert m["iou"] <= min(m["recall"], m["precision"]) + 1e-12
    assert len(per_q) == 132 and all(len(q["retrieved"]) == 10 for q in per_q)
    # bigger windows: fewer chunks, lower Ω (more irrelevant text per relevant chunk)
    bigger, _ = _run(chroma_dir, values={"max_tokens": 400, "tokenizer": "cl100k_base"})
    assert bigger["chunks"]["count"] < stats["count"]
    assert bigger["overall"]["precision_omega"] < overall["precision_omega"]


def test_chunks_file_gives_the_same_scores_as_the_chunker(m2v, chroma_dir, tmp_path):
    from segtool.quality.evaluate import chunk_corpora, load_corpora
    from segtool.selection import Selection

    corpora = load_corpora([chroma_dir / "corpora"])
    records, _ = chunk_corpora(corpora, Selection("rules", "window",
                                                  chunk_options={"max_tokens": 200}))
    path = tmp_path / "chunks.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i, c in enumerate(records):
            fh.write(json.dumps({"doc_id": f"corpora/{c.corpus_id}.md#0", "index": i,
                                 "start": c.start, "end": c.end, "text": c.text}) + "\n")
    from_file, _ = _run(chroma_dir, chunks=path, values={})
    from_chunker, _ = _run(chroma_dir)
    assert from_file["overall"] == from_chunker["overall"]
    assert from_file["config"]["chunks_file"] == str(path)


# ---------------------------------------------------------------- CLI and bad input


@pytest.fixture()
def cli_app():
    from segtool.cli import app

    return app


def _args(chroma_dir, *extra):
    return ["eval", "chunks", "--questions", str(chroma_dir / "questions.jsonl"),
            "--corpus", str(chroma_dir / "corpora"), *extra]


def test_cli_json_and_per_question(m2v, cli_app, chroma_dir, tmp_path):
    out = tmp_path / "per_q.jsonl"
    res = CliRunner().invoke(cli_app, _args(chroma_dir, "--max-tokens", "300", "--embedder",
                                            "model2vec", "--json", "--per-question", str(out)))
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["config"]["max_tokens"] == 300 and data["config"]["k"] == [1, 5, 10]
    assert "precision-Ω" in res.stderr and "state_of_the_union" in res.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 132
    first = json.loads(lines[0])
    assert first["id"] == "q0000" and set(first["at_k"]) == {"1", "5", "10"}


def test_cli_reference_mismatch_names_the_question(cli_app, chroma_dir, tmp_path):
    rows = (chroma_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(rows[3])
    bad["references"][0]["content"] = "This sentence is not in the corpus."
    rows[3] = json.dumps(bad)
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli_app, ["eval", "chunks", "--questions", str(qfile),
                                       "--corpus", str(chroma_dir / "corpora")])
    assert res.exit_code == 1
    assert res.stderr.startswith(f"Error: question {bad['id']}: reference 0 ")
    assert len(res.stderr.strip().splitlines()) == 1


def test_corpus_file_changed_under_the_questions(cli_app, chroma_dir, tmp_path):
    corpora = tmp_path / "corpora"
    shutil.copytree(chroma_dir / "corpora", corpora)
    p = corpora / "chatlogs.md"
    p.write_text("PREFIX " + p.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match=r"^question q\d+: reference 0 .*'chatlogs'"):
        _run(chroma_dir, corpus=[corpora])
    res = CliRunner().invoke(cli_app, ["eval", "chunks", "--questions",
                                       str(chroma_dir / "questions.jsonl"), "--corpus",
                                       str(corpora / "state_of_the_union.md")])
    assert res.exit_code == 1 and "unknown corpus 'chatlogs'" in res.stderr


def test_cli_usage_errors_exit_2(cli_app, chroma_dir):
    res = CliRunner().invoke(cli_app, _args(chroma_dir, "--embedder", "no-such-model"))
    assert res.exit_code == 2
    assert res.stderr.strip() == ("Error: unknown embedder: 'no-such-model' — available: "
                                  "minilm, model2vec, st:ID_OR_PATH, model2vec:ID_OR_PATH, "
                                  "or a local model directory")
    res = CliRunner().invoke(cli_app, _args(chroma_dir, "--k", "0,5"))
    assert res.exit_code == 2 and "--k '0,5'" in res.stderr
    res = CliRunner().invoke(cli_app, _args(chroma_dir, "--retrieve-from", "everything"))
    assert res.exit_code == 2 and "--retrieve-from" in res.stderr
