"""Meta-Chunking decision rules, free of any model (docs/algorithms.md, "margin" and "perplexity").

Keeping the rules pure means they can be tested against hand-computed
sequences ("faithful" tests) and reused by both LM chunkers, whatever produced
the numbers.  Conventions:

* **margin**: ``margins[j]`` is the margin for sentence ``j + 1`` joining the
  chunk that precedes it (sentence 0 always opens the first chunk).  ``True`` =
  keep (append), ``False`` = split (sentence ``j + 1`` starts a new chunk).
* **perplexity**: ``values[i]`` is sentence ``i``'s mean token NLL; a returned
  index ``i`` is a sentence that *ends* its chunk (the next chunk starts at
  ``i + 1``).

Dynamic merging and the hard token limit are applied afterwards with the
shared machinery in :mod:`segtool.chunkers.units` (``merge_adjacent`` is
exactly the reference's greedy merge, counted in tokens instead of words; the
exact check of every chunk's own encoding comes last).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

from segtool.chunkers.units import (
    Unit,
    chunks_by_sums,
    cumulative,
    enforce_max,
    groups_from_breaks,
    merge_adjacent,
    to_chunks,
    unit_breaks_from_sentence_breaks,
)
from segtool.models.tokens import TokenCounter
from segtool.types import ChunkSpan

MARGIN_HISTORY = 5  # the reference averages the last five margins


class MarginThreshold:
    """θ for margin decisions, fed one margin at a time (documents are sequential).

    Fixed θ when ``fixed`` is given.  Otherwise θ = 0 until five margins have
    been seen, then θ = mean of the last five — as in the reference code, where
    the threshold is updated *after* each decision, so decision ``j`` uses the
    margins ``j-5 … j-1``.
    """

    def __init__(self, fixed: float | None = None, history: int = MARGIN_HISTORY) -> None:
        self.fixed = fixed
        self._recent: deque[float] = deque(maxlen=history)

    @property
    def value(self) -> float:
        if self.fixed is not None:
            return self.fixed
        if len(self._recent) < (self._recent.maxlen or 0):
            return 0.0
        return math.fsum(self._recent) / len(self._recent)

    def decide(self, margin: float) -> bool:
        """``True`` (keep) iff ``margin > θ``; then record the margin."""
        keep = margin > self.value
        self._recent.append(float(margin))
        return keep


def margin_decisions(margins: Sequence[float], threshold: float | None = None) -> list[bool]:
    """Keep/split for a whole sequence of margins (see :class:`MarginThreshold`)."""
    rule = MarginThreshold(threshold)
    return [rule.decide(m) for m in margins]


def margin_sentence_breaks(decisions: Sequence[bool]) -> list[int]:
    """Sentences that start a new chunk: ``j + 1`` for every split decision ``j``."""
    return [j + 1 for j, keep in enumerate(decisions) if not keep]


def ppl_boundaries(values: Sequence[float], threshold: float = 0.0) -> list[int]:
    """Sentences ``i`` (1 ≤ i ≤ n−2) at a local minimum of perplexity deep enough.

    Exactly the reference rule: ``v[i] < v[i−1]`` and ``v[i] < v[i+1]`` and one
    of the two drops ≥ θ; or the plateau case ``v[i] < v[i−1]``, ``v[i] ==
    v[i+1]`` and ``v[i−1] − v[i] ≥ θ``.  NaN compares false, so an unscored
    sentence is never a boundary and never makes a neighbour one.
    """
    out = []
    v = values
    for i in range(1, len(v) - 1):
        if v[i] < v[i - 1] and v[i] < v[i + 1]:
            if v[i - 1] - v[i] >= threshold or v[i + 1] - v[i] >= threshold:
                out.append(i)
        elif v[i] < v[i - 1] and v[i] == v[i + 1]:
            if v[i - 1] - v[i] >= threshold:
                out.append(i)
    return out


def minima_depths(values: Sequence[float]) -> list[float]:
    """Depth of every candidate minimum (the rule with θ = 0): its larger qualifying drop."""
    v = values
    depths = []
    for i in range(1, len(v) - 1):
        if v[i] < v[i - 1] and v[i] < v[i + 1]:
            depths.append(max(v[i - 1] - v[i], v[i + 1] - v[i]))
        elif v[i] < v[i - 1] and v[i] == v[i + 1]:
            depths.append(v[i - 1] - v[i])
    return depths


def dynamic_ppl_threshold(values: Sequence[float], floor: float = 0.0) -> float:
    """Per-document θ for ``--ppl-dynamic`` (a segtool extension, not in the reference).

    The median depth of the document's candidate minima, never below ``floor``:
    the shallower half of the local minima — the ones most likely to be noise in
    a small LM's perplexity curve — stop being boundaries, and the threshold
    adapts to each document's perplexity scale instead of being one number for
    all texts.
    """
    depths = sorted(minima_depths(values))
    if not depths:
        return floor
    mid = len(depths) // 2
    median = depths[mid] if len(depths) % 2 else (depths[mid - 1] + depths[mid]) / 2
    return max(floor, median)


def ppl_sentence_breaks(boundaries: Sequence[int]) -> list[int]:
    """Sentences that start a new chunk: the one after each boundary sentence."""
    return [i + 1 for i in boundaries]


def chunks_from_sentence_breaks(
    units: Sequence[Unit], sentence_breaks: Sequence[int], *, max_tokens: int,
    merge_to_tokens: int | None = None, text: str | None = None,
    tokenizer: TokenCounter | None = None,
) -> list[ChunkSpan]:
    """Meta-chunks → optional dynamic merging → hard ``max_tokens`` (always last).

    Units tile the document, so any grouping of consecutive units tiles it too;
    ``enforce_max`` re-packs the groups whose sums are over the limit, and with
    the document's ``text`` and ``tokenizer`` (as the chunkers pass them) every
    chunk is then encoded once, so the limit and ``n_tokens`` hold on the real
    text.  Without them (hand-made units in rule tests) sizes are sums.
    """
    if not units:
        return []
    cum = cumulative(units)
    groups = groups_from_breaks(len(units), unit_breaks_from_sentence_breaks(units, sentence_breaks))
    if merge_to_tokens:
        groups = merge_adjacent(cum, groups, merge_to_tokens)
    groups = enforce_max(cum, groups, max_tokens)
    if text is None or tokenizer is None:
        return chunks_by_sums(units, cum, groups)
    return to_chunks(text, units, cum, groups, tokenizer, max_tokens)
