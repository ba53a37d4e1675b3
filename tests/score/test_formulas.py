"""ChunkScore, BC and stickiness formulas on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segtool.models.causal_lm import TokenScores
from segtool.quality import chunkscore as cs


def test_mean_nll_skips_the_first_token_and_unscored_ones() -> None:
    assert cs.mean_nll(np.array([np.nan, 1.0, 3.0])) == 2.0
    # the first token is skipped even when it was scored (a conditional pass scores it)
    assert cs.mean_nll(np.array([9.0, 1.0, np.nan, 3.0])) == 2.0
    assert math.isnan(cs.mean_nll(np.array([np.nan])))


def test_logical_independence_is_the_mean_perplexity_ratio() -> None:
    # PPL(c|prev)/PPL(c) = exp(mean NLL given prev − mean NLL alone)
    assert cs.logical_independence([1.0, 2.0], [2.0, 2.0]) == pytest.approx((math.exp(-1) + 1) / 2)
    assert cs.logical_independence([1.0, math.nan], [2.0, 2.0]) == pytest.approx(math.exp(-1))
    assert math.isnan(cs.logical_independence([], []))


def test_boundary_clarity_is_the_mean_nll_ratio() -> None:
    assert cs.boundary_clarity([1.0, 3.0], [2.0, 4.0]) == pytest.approx((0.5 + 0.75) / 2)
    assert cs.boundary_clarity([2.0], [2.0]) == 1.0


def test_semantic_dispersion_on_a_known_matrix() -> None:
    alpha = 1e-3
    # rows e1, e2 in 3 dimensions: centred rows have |·|² = 2/3 and dot −1/3
    z = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    det = (2 / 3 + alpha) ** 2 - (1 / 3) ** 2
    assert cs.semantic_dispersion(z, alpha) == pytest.approx(math.log(det) / 2)
    # opposite vectors are perfectly (anti)correlated: only α keeps the determinant positive
    z = np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert cs.semantic_dispersion(z, alpha) == pytest.approx(math.log(4 * alpha + alpha**2) / 2)
    # one chunk: log(|z − mean(z)|² + α)
    assert cs.semantic_dispersion(np.array([[3.0, 1.0]]), alpha) == pytest.approx(math.log(2 + alpha))


def test_semantic_dispersion_matches_the_matrix_formula() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 7))  # K=5 chunks, d=7
    d, k = 7, 5
    zmat = z.T  # d × K as the formula writes it
    j = np.eye(d) - np.ones((d, d)) / d
    expected = np.log(np.linalg.det(zmat.T @ j @ zmat + 0.01 * np.eye(k))) / k
    assert cs.semantic_dispersion(z, 0.01) == pytest.approx(expected)


def test_dissimilar_chunks_disperse_more() -> None:
    same = np.array([[1.0, 0, 0, 0], [0.99, 0.01, 0, 0], [0.98, 0, 0.02, 0]])
    apart = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]])
    assert cs.semantic_dispersion(apart) > cs.semantic_dispersion(same)


def test_chunk_score_weights() -> None:
    assert cs.chunk_score(0.8, -2.0) == pytest.approx(0.3 * 0.8 + 0.7 * -2.0)
    assert cs.chunk_score(0.8, -2.0, lam=1.0) == pytest.approx(0.8)


def test_structural_entropy_of_known_graphs() -> None:
    star = np.zeros((4, 4), dtype=bool)
    star[0, 1:] = True  # degrees 3,1,1,1; 2m = 6
    assert cs.structural_entropy(star) == pytest.approx(0.5 + 0.5 * math.log2(6))
    triangle = np.ones((3, 3), dtype=bool)
    assert cs.structural_entropy(triangle) == pytest.approx(math.log2(3))
    assert cs.structural_entropy(np.zeros((3, 3), dtype=bool)) == 0.0


def test_stickiness_keeps_edges_above_k() -> None:
    assert cs.edge_strength(10.0, 1.0) == pytest.approx(0.9)
    strengths = {(0, 1): 0.9, (0, 2): 0.5, (1, 2): 0.85, (2, 3): math.nan}
    # edges 0–1 and 1–2: a path, degrees 1,2,1 → p = ¼, ½, ¼
    assert cs.stickiness(strengths, 4, k=0.8) == pytest.approx(1.5)
    assert cs.stickiness(strengths, 4, k=0.95) == 0.0


class _FixedLM:
    """Returns NLL 2.0 per token for a chunk alone and 1.0 given a prefix; records the calls."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def token_nll(self, texts, prefixes=None, **_: object) -> list[TokenScores]:  # type: ignore[no-untyped-def]
        out = []
        for n, text in enumerate(texts):
            prefix = prefixes[n] if prefixes else None
            k = len(text.split())
            nll = np.full(k, 1.0 if prefix else 2.0)
            if not prefix:
                nll[0] = np.nan
            else:
                self.pairs.append((prefix, text))
            out.append(TokenScores(nll, np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)))
        return out


class _AxisEmbedder:
    def embed(self, texts):  # type: ignore[no-untyped-def]
        return np.eye(8)[: len(texts)]


def test_score_documents_pairs_and_aggregates() -> None:
    docs = [("a", ["w1 w2 w3", "x1 x2", "y1 y2 y3", "z1 z2"]), ("b", ["only one chunk"])]
    lm = _FixedLM()
    out = cs.score_documents(docs, lm=lm, embedder=_AxisEmbedder(), boundary_metrics=True,
                             stickiness_k=0.5, stickiness_window=1)
    a, b = out
    assert lm.pairs == [("w1 w2 w3", "x1 x2"), ("x1 x2", "y1 y2 y3"), ("y1 y2 y3", "z1 z2")]
    assert a.li == pytest.approx(math.exp(-1.0)) and a.pair_ratios == pytest.approx([math.exp(-1)] * 3)
    assert a.bc == pytest.approx(0.5)
    # strength 1 − 1/e ≈ 0.63 > 0.5 for every adjacent pair: path 0–1–2–3
    assert a.cs == pytest.approx((1 / 3) * math.log2(6) + (2 / 3) * math.log2(3))
    assert a.sd == pytest.approx(cs.semantic_dispersion(np.eye(8)[:4]))
    assert a.chunk_score == pytest.approx(0.3 * a.li + 0.7 * a.sd)
    assert math.isnan(b.li) and math.isnan(b.chunk_score) and not math.isnan(b.sd)


def test_stickiness_window_zero_compares_every_pair() -> None:
    docs = [("a", ["w1 w2", "x1 x2", "y1 y2", "z1 z2"])]
    lm = _FixedLM()
    (a,) = cs.score_documents(docs, lm=lm, embedder=None, boundary_metrics=True,
                              stickiness_k=0.5, stickiness_window=0)
    assert len(lm.pairs) == 6
    assert a.cs == pytest.approx(2.0)  # complete graph on 4 nodes
    assert a.edges == 6 and math.isnan(a.sd) and math.isnan(a.chunk_score)


def test_without_boundary_metrics_only_adjacent_pairs_are_scored() -> None:
    lm = _FixedLM()
    (a,) = cs.score_documents([("a", ["w1 w2", "x1 x2", "y1 y2"])], lm=lm, embedder=None)
    assert len(lm.pairs) == 2 and math.isnan(a.bc) and math.isnan(a.cs)
