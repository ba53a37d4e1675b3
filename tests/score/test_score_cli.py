"""``segtool score`` as a user runs it: subprocess, files on disk, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.score.conftest import one_line_error, run_cli


def _chunk(docs: Path, out: Path, *flags: str) -> list[dict]:
    proc = run_cli("chunk", str(docs), "-q", "-o", str(out), *flags)
    assert proc.returncode == 0, proc.stderr
    if out.suffix == ".parquet":
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_segtool_chunks_get_structural_stats(real_docs: Path, tmp_path: Path) -> None:
    rows = _chunk(real_docs, tmp_path / "c.jsonl", "--max-tokens", "60")
    _chunk(real_docs, tmp_path / "c.parquet", "--max-tokens", "60")
    proc = run_cli("score", str(tmp_path / "c.jsonl"), str(tmp_path / "c.parquet"), "--docs",
                   str(real_docs), "--max-tokens", "50", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    st = result["chunkings"][0]["structural"]
    parquet = result["chunkings"][1]["structural"]
    def same(stats: dict) -> dict:  # examples name their own file; timing differs
        return {k: v for k, v in stats.items() if k != "seconds" and not k.endswith("examples")}

    assert same(parquet) == same(st) and parquet["over_limit_examples"][0].startswith(
        f"{tmp_path / 'c.parquet'}:")
    n_tokens = sorted(r["n_tokens"] for r in rows)
    assert st["chunks"] == len(rows) and st["documents"] == 2
    assert st["tokens"]["max"] == n_tokens[-1] and st["tokens"]["min"] == n_tokens[0]
    assert st["over_limit"] == sum(n > 50 for n in n_tokens) > 0
    assert st["offsets"] and st["offset_errors"] == 0 and st["gaps"] == 0 and st["overlaps"] == 0
    # the window chunker cuts between sentences, except inside sentences over the limit
    cut_in_words = sum(r["text"].rstrip()[-1:].isalnum() for r in rows)
    assert cut_in_words > 0
    assert st["sentence_end_share"] == pytest.approx(1 - cut_in_words / len(rows))
    assert sum(st["histogram"]["counts"]) == len(rows)
    assert "ChunkScore" in proc.stderr  # the table went to stderr
    assert result["ranking"][0]["chunk_score"] is None  # no models, no ChunkScore


def test_text_only_chunks_of_another_tool_are_located(real_docs: Path, tmp_path: Path) -> None:
    rows = _chunk(real_docs, tmp_path / "c.jsonl", "--max-tokens", "40")
    theirs = tmp_path / "theirs.jsonl"
    theirs.write_text("".join(json.dumps({"doc_id": Path(r["doc_id"]).stem, "text": r["text"]}) + "\n"
                              for r in rows), encoding="utf-8")
    proc = run_cli("score", str(theirs), "--docs", str(real_docs), "--json")
    assert proc.returncode == 0, proc.stderr
    st = json.loads(proc.stdout)["chunkings"][0]["structural"]
    assert st["offsets"] and st["offset_errors"] == 0 and st["gaps"] == 0 and st["coverage"] == 1.0
    # a chunk whose text is not in the document: one line naming file:line, exit 1
    bad = [json.loads(line) for line in theirs.read_text().splitlines()]
    bad[3]["text"] = "text no document holds"
    theirs.write_text("".join(json.dumps(r) + "\n" for r in bad), encoding="utf-8")
    proc = run_cli("score", str(theirs), "--docs", str(real_docs), "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 1
    assert f"{theirs}:4" in one_line_error(proc)
    assert list(tmp_path.glob("*.html")) == [] and list(tmp_path.glob(".r.html*")) == []


def test_usage_errors_exit_2(real_docs: Path, tmp_path: Path) -> None:
    offsets = tmp_path / "offsets.jsonl"
    offsets.write_text('{"doc_id": "a", "start": 0, "end": 5}\n', encoding="utf-8")
    proc = run_cli("score", str(offsets))
    assert proc.returncode == 2 and "--docs" in one_line_error(proc)
    proc = run_cli("score", str(offsets), "--boundary-metrics")
    assert proc.returncode == 2 and "--lm" in one_line_error(proc)
    proc = run_cli("score", str(real_docs / "chatlogs.txt"))
    assert proc.returncode == 2 and "--chunker" in one_line_error(proc)
    proc = run_cli("score", str(real_docs), "--chunker", "window:nope=1")
    assert proc.returncode == 2 and "nope" in one_line_error(proc)
    proc = run_cli("score", str(real_docs), "--chunker", "window", "--html",
                   str(tmp_path / "missing" / "r.html"))
    assert proc.returncode == 2 and "does not exist" in one_line_error(proc)


def test_chunker_configurations_are_ranked(real_docs: Path, tiny_lm: str, tmp_path: Path) -> None:
    """Two window sizes scored with a (tiny, real) LM and model2vec: ranked by ChunkScore."""
    proc = run_cli("score", str(real_docs), "--chunker", "window:max_tokens=30", "--chunker",
                   "window", "--max-tokens", "80", "--lm", tiny_lm, "--embedder", "model2vec",
                   "--device", "cpu", "--boundary-metrics", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    names = [c["name"] for c in result["chunkings"]]
    assert names[0] == "window:max_tokens=30" and names[1].startswith("window ")
    small, large = result["chunkings"]
    assert small["structural"]["tokens"]["max"] <= 30 < large["structural"]["tokens"]["max"] <= 80
    assert large["structural"]["over_limit"] == 0
    for c in result["chunkings"]:
        for d in c["documents_scores"]:
            assert d["chunk_score"] == pytest.approx(0.3 * d["li"] + 0.7 * d["sd"], abs=1e-5)
            assert d["bc"] is not None and d["cs"] is not None
        assert c["scores"]["chunk_score"] == pytest.approx(
            sum(d["chunk_score"] for d in c["documents_scores"]) / 2, abs=1e-5)
        ratios = [w["ratio"] for w in c["worst_boundaries"]]
        assert ratios == sorted(ratios) and len(ratios) == min(8, c["structural"]["chunks"] - 2)
    ranked = [r["chunk_score"] for r in result["ranking"]]
    assert ranked == sorted(ranked, reverse=True) and [r["rank"] for r in result["ranking"]] == [1, 2]
