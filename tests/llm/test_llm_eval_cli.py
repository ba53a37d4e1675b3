"""``segtool eval chunks`` drives the LM chunkers with their own options (tiny LM, real data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segtool.cli import app

CHROMA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev" / "chunking_chroma"


@pytest.fixture(scope="module")
def chroma() -> Path:
    if not (CHROMA / "questions.jsonl").is_file():
        pytest.fail(f"the chunking dev data is missing: expected {CHROMA}/questions.jsonl")
    return CHROMA


def _eval(chroma: Path, *extra: str):
    from segtool.models.embedders import distilled_model_dir, is_distilled_model

    if not is_distilled_model(distilled_model_dir()):
        pytest.skip("the distilled model2vec model is not built — run python -m segtool.prepare")
    return CliRunner().invoke(app, ["eval", "chunks", "--questions", str(chroma / "questions.jsonl"),
                                    "--corpus", str(chroma / "corpora"), "--embedder", "model2vec",
                                    "--json", *extra])


def test_perplexity_options_reach_the_chunker(tiny_lm_dir: str, chroma: Path):
    res = _eval(chroma, "--chunker", "perplexity", "--lm", tiny_lm_dir, "--max-tokens", "120",
                "--merge-to-tokens", "90", "--ppl-threshold", "0.5", "--lm-window-tokens", "256")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    cfg = data["config"]
    assert (cfg["chunker"], cfg["max_tokens"], cfg["merge_to_tokens"]) == ("perplexity", 120, 90)
    assert cfg["ppl_threshold"] == 0.5
    assert data["chunks"]["max"] <= 120
    assert set(data["overall"]["at_k"]) == {"1", "5", "10"}


def test_margin_options_reach_the_chunker(tiny_lm_dir: str, chroma: Path):
    res = _eval(chroma, "--chunker", "margin", "--lm", tiny_lm_dir, "--max-tokens", "150",
                "--margin-context", "previous", "--margin-threshold", "0.0",
                "--margin-context-tokens", "32", "--batch-size", "4")
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.stdout)["config"]
    assert (cfg["chunker"], cfg["margin_context"], cfg["margin_threshold"]) == (
        "margin", "previous", 0.0)
    assert cfg["margin_context_tokens"] == 32


def test_bad_lm_option_is_a_one_line_usage_error(tiny_lm_dir: str, chroma: Path):
    res = _eval(chroma, "--chunker", "margin", "--lm", tiny_lm_dir, "--margin-context", "chapter")
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: --margin-context 'chapter'")
    assert len(res.stderr.strip().splitlines()) == 1
