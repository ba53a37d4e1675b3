"""The dynamic programme: exactly the best segmentation, checked against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segtool.chunkers.idc import relevance_table, segment


def direct_relevance(vectors: np.ndarray, intents: np.ndarray) -> float:
    """R of one chunk from its definition: cosine of the *mean* vector with each intent."""
    mean = vectors.mean(axis=0)
    best = 0.0 if len(intents) == 0 else -np.inf
    for q in intents:
        denom = np.linalg.norm(mean) * np.linalg.norm(q)
        best = max(best, float(mean @ q / denom) if denom > 0 else 0.0)
    return best


def direct_objective(vectors, intents, groups, lam, beta) -> float:
    return sum(direct_relevance(vectors[i:j], intents) - lam * (j - i) ** 2 - beta
               for i, j in groups)


def all_segmentations(n: int):
    for cuts in itertools.product((False, True), repeat=n - 1):
        edges = [0, *[k + 1 for k, c in enumerate(cuts) if c], n]
        yield list(itertools.pairwise(edges))


def brute_force(vectors, intents, tokens, lam, beta, max_len, max_tokens):
    """(best objective, one best segmentation) over every segmentation that is allowed."""
    best, best_groups = -np.inf, None
    for groups in all_segmentations(len(tokens)):
        allowed = all(j - i <= max_len and (j - i == 1 or max_tokens is None
                                            or sum(tokens[i:j]) <= max_tokens)
                      for i, j in groups)
        if allowed:
            value = direct_objective(vectors, intents, groups, lam, beta)
            if value > best:
                best, best_groups = value, groups
    return best, best_groups


def random_case(rng: np.random.Generator, n: int):
    d = int(rng.integers(2, 5))
    vectors = rng.normal(size=(n, d))
    vectors[rng.random(n) < 0.1] = 0.0  # a sentence the embedder knows nothing of
    intents = rng.normal(size=(int(rng.integers(0, 4)), d))
    tokens = [int(t) for t in rng.integers(1, 12, size=n)]
    lam = float(rng.choice([0.0, 0.0005, 0.01, 0.1]))
    beta = float(rng.choice([0.0, 0.2, 0.5, 1.0, 2.0]))
    max_len = int(rng.integers(1, n + 2))
    return vectors, intents, tokens, lam, beta, max_len


def check_optimal(vectors, intents, tokens, lam, beta, max_len, max_tokens):
    table = relevance_table(vectors, intents, max_len)
    groups, value = segment(table, tokens, lam=lam, beta=beta, max_len=max_len,
                            max_tokens=max_tokens)
    best, _ = brute_force(vectors, intents, tokens, lam, beta, max_len, max_tokens)
    # the DP's groups tile 0..n, obey both limits, and score the brute-force optimum
    assert groups[0][0] == 0 and groups[-1][1] == len(tokens)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(groups))
    for i, j in groups:
        assert j - i <= max_len
        assert j - i == 1 or max_tokens is None or sum(tokens[i:j]) <= max_tokens
    assert value == pytest.approx(best, abs=1e-9)
    assert direct_objective(vectors, intents, groups, lam, beta) == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("seed", range(120))
def test_dp_equals_brute_force_without_a_token_limit(seed):
    rng = np.random.default_rng(seed)
    case = random_case(rng, int(rng.integers(1, 10)))
    check_optimal(*case, max_tokens=None)


def test_dp_equals_brute_force_when_the_token_limit_binds():
    """Many cases where the unconstrained optimum breaks the limit: the DP still finds the best."""
    binding = 0
    for seed in range(200):
        rng = np.random.default_rng(10_000 + seed)
        vectors, intents, tokens, lam, beta, max_len = random_case(rng, int(rng.integers(2, 10)))
        max_tokens = int(rng.integers(5, 25))
        _, free = brute_force(vectors, intents, tokens, lam, beta, max_len, None)
        if any(j - i > 1 and sum(tokens[i:j]) > max_tokens for i, j in free):
            binding += 1
        check_optimal(vectors, intents, tokens, lam, beta, max_len, max_tokens)
    assert binding >= 40, f"only {binding} cases had the limit binding: the test is too weak"


@settings(max_examples=150)
@given(n=st.integers(1, 9), seed=st.integers(0, 2**32 - 1),
       max_tokens=st.one_of(st.none(), st.integers(1, 30)),
       oversize=st.booleans())
def test_dp_equals_brute_force_property(n, seed, max_tokens, oversize):
    rng = np.random.default_rng(seed)
    vectors, intents, tokens, lam, beta, max_len = random_case(rng, n)
    if oversize and max_tokens is not None:  # a unit alone over the limit (one huge character)
        tokens[int(rng.integers(0, n))] = max_tokens + 5
    check_optimal(vectors, intents, tokens, lam, beta, max_len, max_tokens)


def test_relevance_table_matches_the_definition():
    rng = np.random.default_rng(7)
    vectors, intents = rng.normal(size=(12, 5)), rng.normal(size=(4, 5))
    table = relevance_table(vectors, intents, 6)
    for ell in range(1, 7):
        for i in range(12):
            if i + ell > 12:
                assert table.score[ell - 1, i] == -np.inf and table.intent[ell - 1, i] == -1
                continue
            mean = vectors[i : i + ell].mean(axis=0)
            cos = intents @ mean / (np.linalg.norm(intents, axis=1) * np.linalg.norm(mean))
            assert table.score[ell - 1, i] == pytest.approx(cos.max(), abs=1e-12)
            assert table.intent[ell - 1, i] == int(np.argmax(cos))


def test_beta_and_lambda_move_chunk_sizes_the_documented_way():
    """β is the price of a chunk (higher: fewer), λ the price of length (higher: shorter)."""
    rng = np.random.default_rng(3)
    vectors, intents = rng.normal(size=(60, 8)), rng.normal(size=(5, 8))
    table = relevance_table(vectors, intents, 15)
    counts = [len(segment(table, [1] * 60, lam=0.0005, beta=b, max_len=15, max_tokens=None)[0])
              for b in (0.0, 0.2, 0.5, 1.0, 3.0)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    assert counts[-1] == 4  # a high β: as few chunks as L = 15 allows
    # no relevance at all: the length that balances β against λ·|C|² is about √(β/λ)
    empty = relevance_table(vectors, np.zeros((0, 8)), 60)
    groups, _ = segment(empty, [1] * 60, lam=0.01, beta=0.36, max_len=60, max_tokens=None)
    assert {j - i for i, j in groups} == {6}
