"""Embedders: normalised float32 rows, independent of batch size, cached on disk on request."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from segtool.models.embedders import (
    CachedEmbedder,
    distilled_model_dir,
    get_embedder,
    resolve_spec,
)
from segtool.types import UsageError

TEXTS = [
    "The committee approved the budget on Tuesday.",
    "",
    "Budget approved.",
    "A completely unrelated sentence about penguins swimming in icy water near the pole.",
    "The committee approved the budget on Tuesday.",  # duplicate of the first
    "日本語の文です。",
    "x" * 2000,  # longer than any model's input: truncated, still one row
]


def _check_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0))


def test_minilm_rows_are_normalised_and_batch_size_independent(minilm, real_sentences):
    texts = TEXTS + real_sentences[:40]
    ref = minilm.embed(texts)
    _check_rows(ref, len(texts), 384)
    assert np.array_equal(ref[0], ref[4])  # a duplicate is embedded once
    for bs in (1, 7):
        other = get_embedder("minilm", device="cpu", batch_size=bs).embed(texts)
        # padding reorders float sums inside the transformer: measured ≤ 3e-7
        assert np.abs(other - ref).max() < 1e-5
    sims = ref @ ref.T
    # meaning, not bytes: the paraphrase is closer than the unrelated sentence
    assert sims[0, 2] > sims[0, 3] + 0.2


def test_model2vec_rows_are_exactly_batch_size_independent(m2v, real_sentences):
    texts = TEXTS + real_sentences[:200]
    ref = m2v.embed(texts)
    _check_rows(ref, len(texts), m2v.dim)
    assert m2v.dim == 128  # pca_dims of the distillation
    for bs in (1, 7, 64):
        assert np.array_equal(get_embedder("model2vec", batch_size=bs).embed(texts), ref)
    sims = ref @ ref.T
    assert sims[0, 2] > sims[0, 3]


def test_empty_input_gives_an_empty_matrix(m2v):
    out = m2v.embed([])
    assert out.shape == (0, m2v.dim) and out.dtype == np.float32


def test_embedding_cache_returns_the_stored_vectors(m2v, tmp_path, real_sentences):
    cached = get_embedder("model2vec", cache_dir=str(tmp_path))
    assert isinstance(cached, CachedEmbedder)
    first = cached.embed(real_sentences[:50])
    assert cached.misses == len(set(real_sentences[:50])) and cached.hits == 0
    # a second embedder on the same directory: everything known, one new text
    again = get_embedder("model2vec", cache_dir=str(tmp_path))
    second = again.embed([*real_sentences[:50], "a brand new sentence"])
    assert again.hits == len(set(real_sentences[:50])) and again.misses == 1
    assert np.array_equal(second[:50], first)
    assert np.array_equal(second[:50], m2v.embed(real_sentences[:50]))
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM vectors").fetchone()
    assert rows == len(set(real_sentences[:50])) + 1


def test_cache_is_keyed_by_model(m2v, minilm, tmp_path):
    a = get_embedder("model2vec", cache_dir=str(tmp_path)).embed(["same text"])
    b = get_embedder("minilm", device="cpu", cache_dir=str(tmp_path)).embed(["same text"])
    assert a.shape[1] == 128 and b.shape[1] == 384


def test_spec_resolution_without_loading(tmp_path):
    kind, source = resolve_spec("minilm")
    assert kind == "st" and source
    m2v_dir = tmp_path / "static"
    m2v_dir.mkdir()
    (m2v_dir / "config.json").write_text(json.dumps({"model_type": "model2vec"}))
    assert resolve_spec(str(m2v_dir)) == ("model2vec", str(m2v_dir))
    assert resolve_spec(f"st:{m2v_dir}") == ("st", str(m2v_dir))
    assert resolve_spec("someone/some-model") == ("st", "someone/some-model")


@pytest.mark.parametrize("spec, message", [
    ("no-such-embedder", "unknown embedder: 'no-such-embedder'"),
    ("st:", "no model given"),
    ("st:/no/such/dir", "is not a directory — pass a local directory"),
    ("someone/some-model", "pass a local directory, e.g. --embedder st:/path"),
    ("model2vec:someone/static", "pass a local directory"),
])
def test_bad_specs_are_usage_errors(spec, message, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if spec.startswith("model2vec:"):
        pytest.importorskip("model2vec")
    if spec == "someone/some-model":
        pytest.importorskip("sentence_transformers")
    with pytest.raises(UsageError) as info:
        get_embedder(spec, device="cpu")
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_missing_distilled_model_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGTOOL_CACHE_DIR", str(tmp_path))
    assert not any(distilled_model_dir().iterdir())
    with pytest.raises(UsageError, match=r"scripts/distill_model2vec\.py"):
        get_embedder("model2vec")


def test_hub_id_without_network_fails_fast_with_a_local_directory_hint(tmp_path):
    """A hub embedder on a machine that cannot reach the hub: one line in seconds, not a minute."""
    from offline_cli import assert_quick_local_dir_hint, run_without_hub

    proc, seconds = run_without_hub(["chunk", "-c", "semantic", "--embedder", "st:org/name"], tmp_path)
    line = assert_quick_local_dir_hint(proc, seconds)
    assert "'org/name'" in line
