"""The dynamic programme of intent-driven chunking: the best cuts, exactly, in O(N·L).

A document is a sequence of ``N`` units (sentences, or token-bounded pieces of
an over-long sentence; :mod:`segtool.chunkers.units`), each with a vector and a
token count.  A chunk ``C`` is a run of consecutive units; its vector is the
mean of theirs and its relevance is how well it answers the best of the
document's intents::

    R(C) = max_q cos(mean(C), q)        (0 when there is no intent)

The segmentation maximises ``Σ_C R(C) − λ·|C|² − β`` over chunks of at most
``L`` units whose token sum is within ``max_tokens`` (a single unit is always
allowed, so a solution always exists).  ``λ`` punishes long chunks
quadratically, ``β`` charges every chunk a fixed price — without it, since
each chunk adds its relevance to the sum, cutting after every sentence would
nearly always win.

The optimum is found by the recurrence
``f(j) = max_{j−L ≤ i < j, C=(i, j] allowed} f(i) + R(C) − λ·|C|² − β`` with
``f(0) = 0``.  Every candidate chunk's relevance comes from prefix sums of the
unit vectors (the cosine of a mean is the cosine of the sum, so no division by
the length is needed): O(N·(m + L)·d + N·L²) for the table with ``m`` intents,
O(N·L) for the recursion.  Ties go to the shorter last chunk, so the
result is a function of the inputs alone.

Pure numpy and the standard library: the chunker and the optimality tests use
these functions on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

Group = tuple[int, int]  # half-open range of unit indices


@dataclass(frozen=True)
class Relevance:
    """``score[ℓ−1, i]`` = R of the chunk of units ``[i, i+ℓ)``; ``intent`` its best intent.

    Entries past the end of the document are ``-inf`` (score) and ``-1`` (intent);
    so is ``intent`` wherever the document has no intent at all.
    """

    score: np.ndarray  # (L, N) float64
    intent: np.ndarray  # (L, N) int64


def relevance_table(unit_vectors: np.ndarray, intent_vectors: np.ndarray, max_len: int
                    ) -> Relevance:
    """R of every chunk of 1…``max_len`` consecutive units, and the intent that achieves it.

    Vectors need not be normalised: chunk sums and intents are compared by
    cosine, and a zero sum or a zero intent counts as cosine 0.  Nothing of
    size ``N × d`` is computed per chunk length: the dot products of chunk sums
    with the intents are differences of one prefix-sum projection, and the
    squared norm of a chunk sum grows from the previous length's by the new
    unit's dot products with the ones before it (a band of the Gram matrix).
    """
    import numpy as np

    e = np.asarray(unit_vectors, dtype=np.float64)
    n = e.shape[0]
    length = max(1, min(max_len, n))
    score = np.full((length, n), -np.inf)
    best = np.full((length, n), -1, dtype=np.int64)
    if n == 0:
        return Relevance(score, best)
    q = np.asarray(intent_vectors, dtype=np.float64).reshape(-1, e.shape[1])
    if q.shape[0] == 0:
        for ell in range(1, length + 1):
            score[ell - 1, : n - ell + 1] = 0.0
        return Relevance(score, best)
    q_norm = np.linalg.norm(q, axis=1)
    q_unit = np.divide(q, q_norm[:, None], out=np.zeros_like(q), where=q_norm[:, None] > 0)
    proj = np.vstack([np.zeros((1, q.shape[0])), np.cumsum(e @ q_unit.T, axis=0)])
    band = [np.einsum("ij,ij->i", e[: n - k], e[k:]) for k in range(length)]  # e_a · e_(a+k)
    sq = band[0].copy()  # squared norm of the sum of units [i, i+ell)
    for ell in range(1, length + 1):
        m = n - ell + 1
        if ell > 1:
            last = ell - 1  # the unit added at offset ell-1 of every chunk
            cross = np.zeros(m)
            for k in range(1, ell):
                cross += band[k][last - k : last - k + m]
            sq = sq[:m] + 2.0 * cross + band[0][last : last + m]
        norms = np.sqrt(np.maximum(sq, 0.0))
        dots = proj[ell:] - proj[:-ell]
        cos = np.divide(dots, norms[:, None], out=np.zeros_like(dots), where=norms[:, None] > 0)
        idx = np.argmax(cos, axis=1)  # first best intent on ties: stable
        score[ell - 1, :m] = np.clip(cos[np.arange(m), idx], -1.0, 1.0)
        best[ell - 1, :m] = idx
    return Relevance(score, best)


def segment(
    table: Relevance, tokens: Sequence[int], *, lam: float, beta: float, max_len: int,
    max_tokens: int | None,
) -> tuple[list[Group], float]:
    """The optimal chunks (half-open unit ranges, in order) and their objective value.

    ``tokens[k]`` is unit ``k``'s token count; a chunk of several units is a
    candidate only when the sum of its counts is within ``max_tokens`` (None:
    no limit).  A lone unit is always a candidate, even one over the limit (a
    character that alone needs more tokens), so every document has a solution.
    """
    n = len(tokens)
    if n == 0:
        return [], 0.0
    length = min(max_len, n)
    cum = [0] * (n + 1)
    for k, t in enumerate(tokens):
        cum[k + 1] = cum[k] + t
    score = table.score[:length].tolist()
    penalty = [lam * ell * ell + beta for ell in range(length + 1)]
    f = [0.0] + [float("-inf")] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        best_val = float("-inf")
        best_i = j - 1
        for ell in range(1, min(length, j) + 1):
            i = j - ell
            if ell > 1 and max_tokens is not None and cum[j] - cum[i] > max_tokens:
                break  # longer chunks only add tokens
            val = f[i] + score[ell - 1][i] - penalty[ell]
            if val > best_val:  # strict: the shorter chunk keeps a tie
                best_val, best_i = val, i
        f[j] = best_val
        back[j] = best_i
    groups: list[Group] = []
    j = n
    while j > 0:
        groups.append((back[j], j))
        j = back[j]
    groups.reverse()
    return groups, f[n]


def chunk_relevance(table: Relevance, i: int, j: int) -> tuple[float, int]:
    """``(R, best intent index)`` of units ``[i, j)``.

    Every chunk the chunker emits is a DP chunk or a piece of one (the final
    token check only shortens), so its length is always within the table.
    """
    return float(table.score[j - i - 1, i]), int(table.intent[j - i - 1, i])
