"""Faithful tests of the Meta-Chunking decision rules on hand-computed sequences.

No model involved: the expected boundaries below were worked out by hand from
the definitions in docs/algorithms.md (and the reference code's update order for the
dynamic margin threshold).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segtool.chunkers.metachunk import (
    MarginThreshold,
    chunks_from_sentence_breaks,
    dynamic_ppl_threshold,
    margin_decisions,
    margin_sentence_breaks,
    minima_depths,
    ppl_boundaries,
    ppl_sentence_breaks,
)
from segtool.chunkers.units import Unit


def test_margin_dynamic_threshold_hand_computed() -> None:
    margins = [0.5, -0.25, 0.75, 0.125, -0.5, 0.25, 0.0, 0.5, -0.125]
    # decisions 0-4 use θ = 0; decision j ≥ 5 uses the mean of margins j-5 … j-1:
    # j=5: mean(0.5,-0.25,0.75,0.125,-0.5) = 0.125   → 0.25 > 0.125  keep
    # j=6: mean(-0.25,0.75,0.125,-0.5,0.25) = 0.075  → 0.0  ≤ 0.075  split
    # j=7: mean(0.75,0.125,-0.5,0.25,0.0) = 0.125    → 0.5  > 0.125  keep
    # j=8: mean(0.125,-0.5,0.25,0.0,0.5) = 0.075     → -0.125 ≤      split
    expected = [True, False, True, True, False, True, False, True, False]
    assert margin_decisions(margins) == expected
    # sentence j+1 starts a new chunk after a split decision j
    assert margin_sentence_breaks(expected) == [2, 5, 7, 9]


def test_margin_threshold_sequence_values() -> None:
    rule = MarginThreshold()
    seen = []
    for m in [0.5, -0.25, 0.75, 0.125, -0.5, 0.25, 0.0]:
        seen.append(rule.value)
        rule.decide(m)
    assert seen[:5] == [0.0] * 5
    assert seen[5] == pytest.approx(0.125)
    assert seen[6] == pytest.approx(0.075)


def test_margin_equal_to_threshold_splits() -> None:
    # keep only when margin > θ (strictly)
    assert margin_decisions([0.0, 0.0, 1e-9]) == [False, False, True]
    assert margin_decisions([0.25, 0.3, 0.2], threshold=0.25) == [False, True, False]


def test_margin_fixed_threshold_ignores_history() -> None:
    margins = [-0.9] * 5 + [-0.5, -0.95]
    # dynamic: after five margins of -0.9, θ = -0.9, so -0.5 keeps and -0.95 splits
    assert margin_decisions(margins)[5:] == [True, False]
    # fixed θ = 0 splits everything here
    assert margin_decisions(margins, threshold=0.0) == [False] * 7


def test_ppl_boundaries_hand_computed() -> None:
    v = [5.0, 3.0, 4.0, 2.0, 2.0, 6.0, 1.0, 7.0]
    # i=1: strict minimum, drops 2 and 1; i=3: plateau (2 < 4, 2 == 2), drop 2;
    # i=4: not below its left neighbour; i=6: strict minimum, drops 5 and 6.
    assert ppl_boundaries(v, 0.0) == [1, 3, 6]
    assert ppl_boundaries(v, 2.0) == [1, 3, 6]  # ≥ θ counts
    assert ppl_boundaries(v, 2.5) == [6]
    assert ppl_boundaries(v, 6.0) == [6]
    assert ppl_boundaries(v, 6.5) == []


def test_ppl_boundaries_either_drop_suffices() -> None:
    # i=1 drops 0.5 on the left, 3 on the right: passes θ=1 through the right drop
    assert ppl_boundaries([2.0, 1.5, 4.5, 5.0], 1.0) == [1]
    # the plateau case uses only the left drop
    assert ppl_boundaries([2.0, 1.5, 1.5, 9.0], 1.0) == []
    assert ppl_boundaries([2.0, 1.5, 1.5, 9.0], 0.5) == [1]


def test_ppl_boundaries_edges_and_short_inputs() -> None:
    assert ppl_boundaries([], 0) == []
    assert ppl_boundaries([1.0], 0) == []
    assert ppl_boundaries([3.0, 1.0], 0) == []  # index 1 = n-1 is never a boundary
    assert ppl_boundaries([1.0, 5.0, 1.0], 0) == []  # 0 and n-1 excluded
    assert ppl_boundaries([3.0, 1.0, 3.0], 0) == [1]


def test_ppl_boundaries_nan_never_counts() -> None:
    nan = math.nan
    assert ppl_boundaries([nan, 2.0, 3.0, 1.0, 4.0], 0) == [3]
    assert ppl_boundaries([3.0, nan, 1.0, 2.0], 0) == []


def test_ppl_boundary_sentence_ends_its_chunk() -> None:
    # 8 sentences of 10 tokens, boundaries 1, 3, 6 → chunks [0-1] [2-3] [4-6] [7]
    units = [Unit(10 * i, 10 * i + 10, 10, i) for i in range(8)]
    breaks = ppl_sentence_breaks([1, 3, 6])
    assert breaks == [2, 4, 7]
    chunks = chunks_from_sentence_breaks(units, breaks, max_tokens=100)
    assert [(c.sent_start, c.sent_end) for c in chunks] == [(0, 2), (2, 4), (4, 7), (7, 8)]
    assert [c.n_tokens for c in chunks] == [20, 20, 30, 10]


def test_dynamic_merging_then_hard_limit() -> None:
    # meta-chunks of 20, 20, 30, 10 tokens; merge target 45 → [20+20] [30+10]
    units = [Unit(10 * i, 10 * i + 10, 10, i) for i in range(8)]
    chunks = chunks_from_sentence_breaks(units, [2, 4, 7], max_tokens=100, merge_to_tokens=45)
    assert [(c.sent_start, c.sent_end) for c in chunks] == [(0, 4), (4, 8)]
    # a 50-token meta-chunk over max_tokens=25 is re-packed greedily
    chunks = chunks_from_sentence_breaks(units, [5], max_tokens=25)
    assert [c.n_tokens for c in chunks] == [20, 20, 10, 20, 10]
    assert all(c.n_tokens <= 25 for c in chunks)


def test_dynamic_ppl_threshold_is_median_depth() -> None:
    v = [5.0, 3.0, 4.0, 2.0, 2.0, 6.0, 1.0, 7.0]
    assert minima_depths(v) == [2.0, 2.0, 6.0]
    assert dynamic_ppl_threshold(v) == 2.0
    assert dynamic_ppl_threshold(v, floor=3.0) == 3.0
    w = [4.0, 3.0, 4.0, 1.0, 4.0, 3.5, 4.0, 0.0, 4.0]  # depths 1, 3, 0.5, 4 → median 2
    assert dynamic_ppl_threshold(w) == 2.0
    assert ppl_boundaries(w, dynamic_ppl_threshold(w)) == [3, 7]
    assert dynamic_ppl_threshold([1.0, 2.0, 3.0]) == 0.0


@given(st.lists(st.floats(-5, 5, allow_nan=False), max_size=30), st.floats(0, 3))
def test_ppl_boundaries_properties(values: list[float], theta: float) -> None:
    found = ppl_boundaries(values, theta)
    assert all(1 <= i <= len(values) - 2 for i in found)
    assert all(values[i] < values[i - 1] for i in found)
    # a larger θ only removes boundaries
    assert set(ppl_boundaries(values, theta + 0.5)) <= set(found)
    assert set(found) <= set(ppl_boundaries(values, 0.0))


@given(st.lists(st.floats(-1, 1, allow_nan=False), max_size=40))
def test_margin_rule_matches_definition(margins: list[float]) -> None:
    got = margin_decisions(margins)
    for j, m in enumerate(margins):
        theta = 0.0 if j < 5 else math.fsum(margins[j - 5 : j]) / 5
        assert got[j] == (m > theta)
