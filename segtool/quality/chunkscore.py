"""Gold-free chunk quality: ChunkScore, boundary clarity and chunk stickiness.

Three model-based measures of a chunking that need no questions or reference
spans, so they can rank candidate chunkings of the same documents:

* **Logical independence** ``LI`` — mean over adjacent chunk pairs of
  ``PPL(c_i | c_{i-1}) / PPL(c_i)``.  Near 1 the previous chunk does not help
  to predict this one (a clean cut); near 0 the chunk reads as a continuation.
* **Semantic dispersion** ``SD = (1/K) · log det(Zᵀ J Z + α I)`` over the
  ``K`` chunk embeddings of a document, with ``J`` centring each embedding
  across its dimensions.  It is the (regularised) log-volume the chunks span:
  higher when chunks say different things, lower when they repeat each other.
* ``ChunkScore = λ · LI + (1 − λ) · SD`` (λ = 0.3, α = 1e-3 by default).

The QChunker paper that introduced ChunkScore ships no code; this form follows
transcriptions of the paper rather than its own text, so both weights are
options.  A score compares chunkings *of the same document*: SD depends on the
number of chunks and LI on the text, so values of different documents are not
comparable, and the overall score is the plain mean of per-document scores.

Two measures from the MoC paper ride on the same LM calls:

* **Boundary clarity** ``BC`` — the *ratio of mean token NLLs*
  ``NLL(c_i | c_{i-1}) / NLL(c_i)`` averaged over adjacent pairs (the variant
  of MoC's released code; the paper writes a perplexity ratio, which is what LI
  already is, so the NLL ratio adds information rather than repeating LI).
* **Chunk stickiness** ``CS`` — structural entropy
  ``−Σ_v (h_v / 2m) · log2(h_v / 2m)`` of a graph with one node per chunk and
  an edge between an earlier chunk ``d`` and a later chunk ``q`` when
  ``(PPL(q) − PPL(q | d)) / PPL(q) > K`` (K = 0.8), i.e. when reading ``d``
  first makes ``q`` much easier to predict.  This is the paper's direction
  (MoC's script keeps the pairs on the other side of K).  Lower is better: a
  chunking whose chunks stand alone has few edges.  Pairs are limited to chunks
  at most ``window`` apart (0: every pair), because each pair costs one LM call.

Token NLLs come from :meth:`segtool.models.causal_lm.CausalLM.token_nll`.  A
chunk's first token has no context when the chunk is scored alone, so both
the conditional and the unconditional perplexity are taken over the chunk's
tokens *after* the first: the two numbers then describe the same tokens and
differ only by the context.  A conditioning chunk longer than the LM window
contributes only its last ``window_tokens / 2`` tokens (the LM's sliding window).

The formula functions are pure numpy; :func:`score_documents` runs the models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_LAMBDA = 0.3
DEFAULT_ALPHA = 1e-3
DEFAULT_STICKINESS_K = 0.8
DEFAULT_STICKINESS_WINDOW = 2


# ----------------------------------------------------------------------------- formulas


def mean_nll(nll: np.ndarray) -> float:
    """Mean NLL (nats) of the scored tokens after the first; NaN when there are none.

    The first token is skipped because, scored alone, a chunk's first token has
    no context at all; see the module docstring.
    """
    values = np.asarray(nll, dtype=np.float64)[1:]
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


def perplexity_ratios(cond: Sequence[float], uncond: Sequence[float]) -> np.ndarray:
    """``PPL(c | prev) / PPL(c)`` per pair, from mean NLLs: ``exp(cond − uncond)``."""
    return np.exp(np.asarray(cond, dtype=np.float64) - np.asarray(uncond, dtype=np.float64))


def logical_independence(cond: Sequence[float], uncond: Sequence[float]) -> float:
    """LI: the mean perplexity ratio over adjacent pairs (NaN pairs skipped; NaN if none)."""
    ratios = perplexity_ratios(cond, uncond)
    ratios = ratios[~np.isnan(ratios)]
    return float(ratios.mean()) if ratios.size else math.nan


def boundary_clarity(cond: Sequence[float], uncond: Sequence[float]) -> float:
    """BC: mean over adjacent pairs of ``NLL(c | prev) / NLL(c)`` (mean token NLLs)."""
    c = np.asarray(cond, dtype=np.float64)
    u = np.asarray(uncond, dtype=np.float64)
    ok = ~(np.isnan(c) | np.isnan(u)) & (u > 0)
    return float((c[ok] / u[ok]).mean()) if ok.any() else math.nan


def semantic_dispersion(embeddings: np.ndarray, alpha: float = DEFAULT_ALPHA) -> float:
    """SD of one document: ``(1/K) · log det(Zᵀ J Z + α I_K)``.

    ``embeddings`` holds one chunk per *row* (``K × d``, i.e. ``Zᵀ``).
    ``J = I − 11ᵀ/d`` subtracts from each embedding the mean of its own
    components, so ``Zᵀ J Z`` is the Gram matrix of the centred rows.
    """
    z = np.asarray(embeddings, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        return math.nan
    k = z.shape[0]
    centred = z - z.mean(axis=1, keepdims=True)
    gram = centred @ centred.T + alpha * np.eye(k)
    sign, logdet = np.linalg.slogdet(gram)
    return float(logdet / k) if sign > 0 else math.nan


def chunk_score(li: float, sd: float, lam: float = DEFAULT_LAMBDA) -> float:
    """``λ · LI + (1 − λ) · SD``."""
    return lam * li + (1.0 - lam) * sd


def edge_strength(ppl_q: float, ppl_q_given_d: float) -> float:
    """How much chunk ``d`` helps predict ``q``: ``(PPL(q) − PPL(q|d)) / PPL(q)``."""
    return (ppl_q - ppl_q_given_d) / ppl_q


def structural_entropy(adjacency: np.ndarray) -> float:
    """``−Σ (h_v/2m) log2(h_v/2m)`` of an undirected graph (0 for a graph without edges)."""
    a = np.asarray(adjacency, dtype=bool)
    a = a | a.T
    np.fill_diagonal(a, False)
    degrees = a.sum(axis=1).astype(np.float64)
    two_m = degrees.sum()
    if two_m == 0:
        return 0.0
    p = degrees[degrees > 0] / two_m
    return float(-(p * np.log2(p)).sum())


def stickiness(strengths: dict[tuple[int, int], float], n_chunks: int,
               k: float = DEFAULT_STICKINESS_K) -> float:
    """CS from the edge strengths of chunk pairs ``(d, q)``: entropy of the pairs above ``k``."""
    adjacency = np.zeros((n_chunks, n_chunks), dtype=bool)
    for (i, j), s in strengths.items():
        if not math.isnan(s) and s > k:
            adjacency[i, j] = True
    return structural_entropy(adjacency)


# ----------------------------------------------------------------------------- models


@dataclass
class DocScore:
    """Scores of one document's chunking.

    ``pair_ratios[i]`` is LI's ratio at the boundary before chunk ``i + 1``.
    """

    doc_id: str
    n_chunks: int
    li: float = math.nan
    sd: float = math.nan
    chunk_score: float = math.nan
    bc: float = math.nan
    cs: float = math.nan
    pair_ratios: list[float] = field(default_factory=list)
    edges: int = 0


def _finite_mean(values: Sequence[float]) -> float:
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    return float(arr.mean()) if arr.size else math.nan


def overall(scores: Sequence[DocScore]) -> dict[str, float]:
    """Means over documents (a document whose value is undefined is left out)."""
    return {name: _finite_mean([getattr(s, name) for s in scores])
            for name in ("li", "sd", "chunk_score", "bc", "cs")}


def score_documents(
    chunks: Sequence[tuple[str, Sequence[str]]], *, lm: Any | None, embedder: Any | None,
    lam: float = DEFAULT_LAMBDA, alpha: float = DEFAULT_ALPHA, boundary_metrics: bool = False,
    stickiness_k: float = DEFAULT_STICKINESS_K, stickiness_window: int = DEFAULT_STICKINESS_WINDOW,
    batch_size: int = 8, window_tokens: int = 1024, log: Callable[[str], None] | None = None,
) -> list[DocScore]:
    """Score each ``(doc_id, chunk texts)``; LM and embedder calls are pooled across documents.

    ``lm=None`` leaves LI/BC/CS (and ChunkScore) NaN; ``embedder=None`` leaves
    SD (and ChunkScore) NaN.  A document with one chunk has no boundary, so its
    LI, BC and ChunkScore are NaN.
    """
    out = [DocScore(doc_id, len(texts)) for doc_id, texts in chunks]
    if embedder is not None:
        flat = [t for _, texts in chunks for t in texts]
        if log:
            log(f"embedding {len(flat):,} chunks")
        vectors = np.asarray(embedder.embed(flat)) if flat else np.zeros((0, 1))
        pos = 0
        for s, (_, texts) in zip(out, chunks, strict=True):
            s.sd = semantic_dispersion(vectors[pos : pos + len(texts)], alpha)
            pos += len(texts)
    if lm is not None:
        _lm_scores(chunks, out, lm, boundary_metrics=boundary_metrics, k=stickiness_k,
                   window=stickiness_window, batch_size=batch_size, window_tokens=window_tokens,
                   log=log)
    for s in out:
        s.chunk_score = chunk_score(s.li, s.sd, lam)
    return out


def _lm_scores(chunks: Sequence[tuple[str, Sequence[str]]], out: list[DocScore], lm: Any, *,
               boundary_metrics: bool, k: float, window: int, batch_size: int,
               window_tokens: int, log: Callable[[str], None] | None) -> None:
    """LI (and BC/CS) for every document: one pooled unconditional and one conditional pass."""
    flat = [t for _, texts in chunks for t in texts]
    starts = np.cumsum([0] + [len(texts) for _, texts in chunks])
    pairs: list[tuple[int, int, int]] = []  # (doc, earlier chunk d, later chunk q)
    for doc, (_, texts) in enumerate(chunks):
        n = len(texts)
        for j in range(1, n):
            if not boundary_metrics:
                lo = j - 1
            else:
                lo = 0 if window == 0 else max(0, j - window)
            pairs.extend((doc, i, j) for i in range(lo, j))
    if log:
        log(f"LM: {len(flat):,} chunks alone, {len(pairs):,} chunk pairs")
    alone = [mean_nll(s.nll) for s in lm.token_nll(flat, window_tokens=window_tokens,
                                                   batch_size=batch_size)]
    texts_q = [chunks[d][1][j] for d, _, j in pairs]
    prefixes = [chunks[d][1][i] for d, i, _ in pairs]
    given = [mean_nll(s.nll) for s in lm.token_nll(texts_q, prefixes, window_tokens=window_tokens,
                                                   batch_size=batch_size)] if pairs else []
    per_doc: list[dict[tuple[int, int], float]] = [{} for _ in chunks]
    for (d, i, j), c in zip(pairs, given, strict=True):
        per_doc[d][(i, j)] = c
    for d, s in enumerate(out):
        base = int(starts[d])
        u = [alone[base + j] for j in range(s.n_chunks)]
        adjacent = [(per_doc[d][(j - 1, j)], u[j]) for j in range(1, s.n_chunks)]
        cond = [c for c, _ in adjacent]
        unc = [x for _, x in adjacent]
        s.pair_ratios = [float(r) for r in perplexity_ratios(cond, unc)]
        s.li = logical_independence(cond, unc)
        if boundary_metrics:
            s.bc = boundary_clarity(cond, unc)
            strengths = {(i, j): edge_strength(math.exp(u[j]), math.exp(c))
                         for (i, j), c in per_doc[d].items()}
            s.cs = stickiness(strengths, s.n_chunks, k)
            s.edges = sum(1 for v in strengths.values() if not math.isnan(v) and v > k)
