"""Semantic chunker: break where neighbouring sentences stop being similar.

1. Embed every sentence of every document in the batch with *one* embedder
   call (cross-document batching, docs/architecture.md).
2. Distance ``d_i = 1 − cos(e_i, mean(e_{i−k} … e_{i−1}))`` between sentence
   ``i`` and the mean of the ``k = semantic_window`` sentences before it
   (``k = 1``: plain neighbours).  ``d`` has one value per sentence boundary.
3. A boundary whose score exceeds a per-document threshold starts a new chunk.
   The four modes follow langchain-experimental's ``SemanticChunker``
   (re-implemented here, same semantics, strict ``>``):

   * ``percentile`` (default amount 95): ``percentile(d, amount)``, numpy's
     linear interpolation;
   * ``stddev`` (3): ``mean(d) + amount · std(d)``, population std;
   * ``iqr`` (1.5): ``mean(d) + amount · (Q3 − Q1)`` — the *mean*, as langchain
     does, not the box-plot ``Q3``;
   * ``gradient`` (95): ``percentile(g, amount)`` compared with
     ``g = np.gradient(d)``, not with ``d`` (so the break lands *before* a jump).

   ``standard_deviation`` and ``interquartile`` are accepted as aliases.
4. Hard limit: a group over ``max_tokens`` is split at its weakest internal
   link — the sentence boundary with the highest distance — again and again
   until every piece fits; a piece with no sentence boundary left (one long
   sentence, already cut into token-bounded units) is packed greedily.  Then
   :func:`segtool.chunkers.units.enforce_max` re-checks every group's sum.
5. ``min_tokens``: the smallest group under the minimum is merged with the
   neighbour whose centroid (mean sentence embedding) is more similar, as long
   as the merged group stays within ``max_tokens``; repeat until no small group
   can merge.  A small group whose both merges would break the limit stays.

Sizes in steps 4-5 are sums of per-sentence counts.  Last,
:func:`segtool.chunkers.units.to_chunks` encodes every group's text once: its
``n_tokens`` is the exact count, and a group whose joined text encodes to more
than ``max_tokens`` (BPE merges across sentence joins) gives its last units to
a chunk of their own — so the limit holds on the real text whatever the
strategy proposed.  Chunks are ranges of units, so they tile the text exactly.

Determinism: the same input and options give the same chunks.  With model2vec
the vectors are bit-identical for any ``batch_size``; with sentence-transformers
they agree to ~3e-7 across batch sizes (padding changes float summation order),
so a break decision could only differ for a distance within ~1e-6 of the
threshold — not seen in the tests, but keep ``--batch-size`` fixed when
byte-identical output across runs matters.
Differences from langchain-experimental: no ``buffer_size`` concatenation of
neighbouring sentence *texts* (``semantic_window`` averages embeddings
instead), sentences are given by segtool's splitter, and text is sliced from
offsets, never re-joined.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

from segtool.chunkers.units import (
    Group,
    Unit,
    batch_units,
    cumulative,
    enforce_max,
    groups_from_breaks,
    pack,
    to_chunks,
    unit_breaks_from_sentence_breaks,
)
from segtool.component import Component
from segtool.models.tokens import get_tokenizer
from segtool.options import BatchSize, Device, MaxTokens, Opt, Tokenizer
from segtool.types import ChunkSpan, Span, UsageError

if TYPE_CHECKING:
    import numpy as np

BREAKPOINT_DEFAULTS: dict[str, float] = {
    "percentile": 95.0,
    "stddev": 3.0,
    "iqr": 1.5,
    "gradient": 95.0,
}
_ALIASES = {"standard_deviation": "stddev", "interquartile": "iqr"}


def normalise_breakpoint(mode: str) -> str:
    key = (mode or "").strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in BREAKPOINT_DEFAULTS:
        raise UsageError(
            f"--breakpoint {mode!r}: unknown mode — use percentile, stddev, iqr or gradient"
        )
    return key


def sentence_distances(emb: np.ndarray, window: int = 1) -> np.ndarray:
    """``d[i-1] = 1 − cos(e_i, mean(e_{i−window} … e_{i−1}))`` for ``i = 1 … n−1``.

    ``emb`` rows are L2-normalised (or zero); a zero mean or a zero row gives
    cosine 0, i.e. distance 1.  Prefix sums keep this O(n·d) for any window.
    """
    import numpy as np

    n = emb.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.float64)
    e = emb.astype(np.float64)
    prefix = np.vstack([np.zeros((1, e.shape[1])), np.cumsum(e, axis=0)])
    idx = np.arange(1, n)
    lo = np.maximum(0, idx - window)
    means = prefix[idx] - prefix[lo]  # sum, not mean: cosine ignores the scale
    norms = np.linalg.norm(means, axis=1) * np.linalg.norm(e[idx], axis=1)
    dots = np.einsum("ij,ij->i", means, e[idx])
    cos = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return 1.0 - np.clip(cos, -1.0, 1.0)


def breakpoint_threshold(distances: np.ndarray, mode: str, amount: float
                         ) -> tuple[float, np.ndarray]:
    """``(threshold, scores)``: boundary ``i`` breaks when ``scores[i] > threshold``."""
    import numpy as np

    d = np.asarray(distances, dtype=np.float64)
    if mode == "percentile":
        return float(np.percentile(d, amount)), d
    if mode == "stddev":
        return float(np.mean(d) + amount * np.std(d)), d
    if mode == "iqr":
        q1, q3 = np.percentile(d, [25, 75])
        return float(np.mean(d) + amount * (q3 - q1)), d
    if mode == "gradient":
        g = np.gradient(d)
        return float(np.percentile(g, amount)), g
    raise UsageError(f"--breakpoint {mode!r}: unknown mode")  # pragma: no cover


def sentence_breaks(distances: np.ndarray, mode: str, amount: float) -> list[int]:
    """Sentence indices that start a new chunk (``k`` means a break before sentence k)."""
    n = len(distances)
    if n == 0 or (mode == "gradient" and n < 2):
        return []
    threshold, scores = breakpoint_threshold(distances, mode, amount)
    return [i + 1 for i in range(n) if scores[i] > threshold]


def split_oversize(
    cum: Sequence[int], groups: Sequence[Group], boundary: np.ndarray, max_tokens: int
) -> list[Group]:
    """Split every group over ``max_tokens`` at its highest-distance boundary, recursively.

    ``boundary[b]`` is the distance at the boundary before unit ``b`` (``-inf``
    inside a sentence, where cutting is the last resort).  A stack replaces
    recursion so a huge group cannot hit Python's recursion limit.
    """
    import numpy as np

    out: list[Group] = []
    for group in groups:
        stack = [group]
        done: list[Group] = []
        while stack:
            i, j = stack.pop()
            if cum[j] - cum[i] <= max_tokens or j - i < 2:
                done.append((i, j))
                continue
            inner = boundary[i + 1 : j]
            best = int(np.argmax(inner))
            if not np.isfinite(inner[best]):
                done.extend(pack(cum, i, j, max_tokens))
                continue
            b = i + 1 + best
            stack.append((b, j))  # popped after the left part: output stays in order
            stack.append((i, b))
        out.extend(sorted(done))
    return out


def merge_small(
    cum: Sequence[int], groups: Sequence[Group], centroid_sum: np.ndarray,
    min_tokens: int, max_tokens: int,
) -> list[Group]:
    """Merge groups under ``min_tokens`` into their more similar neighbour (≤ ``max_tokens``).

    Smallest group first (ties: leftmost).  ``centroid_sum[b] − centroid_sum[a]``
    is the summed unit embedding of units ``[a, b)``; cosine ignores scale.  A
    merge that would exceed ``max_tokens`` is never made; since neighbours only
    grow, a group that cannot merge now never can, and is left as it is.
    """
    import numpy as np

    if min_tokens <= 0 or len(groups) < 2:
        return list(groups)
    start = [g[0] for g in groups]
    end = [g[1] for g in groups]
    prev = list(range(-1, len(groups) - 1))
    nxt = [*range(1, len(groups)), -1]
    alive = [True] * len(groups)

    def size(g: int) -> int:
        return cum[end[g]] - cum[start[g]]

    def similarity(a: int, b: int) -> float:
        va = centroid_sum[end[a]] - centroid_sum[start[a]]
        vb = centroid_sum[end[b]] - centroid_sum[start[b]]
        denom = float(np.linalg.norm(va) * np.linalg.norm(vb))
        return float(va @ vb) / denom if denom > 0 else 0.0

    heap = [(size(g), start[g], g) for g in range(len(groups)) if size(g) < min_tokens]
    heapq.heapify(heap)
    while heap:
        tokens, _, g = heapq.heappop(heap)
        if not alive[g] or tokens != size(g):
            continue  # stale entry
        options = [n for n in (prev[g], nxt[g]) if n != -1 and tokens + size(n) <= max_tokens]
        if not options:
            continue
        # more similar neighbour; a tie goes to the previous one (listed first)
        other = max(options, key=lambda n: similarity(g, n))
        left, right = (other, g) if other == prev[g] else (g, other)
        end[left] = end[right]
        alive[right] = False
        nxt[left] = nxt[right]
        if nxt[right] != -1:
            prev[nxt[right]] = left
        if size(left) < min_tokens:
            heapq.heappush(heap, (size(left), start[left], left))
    return [(start[g], end[g]) for g in range(len(groups)) if alive[g]]


@dataclass(frozen=True)
class SemanticOptions:
    embedder: Annotated[str, Opt(
        "Sentence embedder: minilm, model2vec[:PATH], st:ID_OR_DIR.", group="Chunker")] = "minilm"
    breakpoint: Annotated[str, Opt(
        "How a break is decided: percentile, stddev, iqr or gradient.", group="Chunker",
        choices=("percentile", "stddev", "iqr", "gradient", "standard_deviation",
                 "interquartile"))] = "percentile"
    breakpoint_amount: Annotated[float | None, Opt(
        "Threshold for --breakpoint (default: percentile 95, stddev 3, iqr 1.5, gradient 95).",
        group="Chunker")] = None
    semantic_window: Annotated[int, Opt(
        "Compare each sentence with the mean of the previous K sentences.", ge=1,
        group="Chunker")] = 1
    max_tokens: MaxTokens = 512
    min_tokens: Annotated[int, Opt(
        "Merge chunks smaller than this into a neighbour (never past --max-tokens).", ge=0,
        group="Chunker")] = 0
    tokenizer: Tokenizer = "cl100k_base"
    device: Device = "auto"
    batch_size: BatchSize = 64
    embed_cache: Annotated[str | None, Opt(
        "Directory for an on-disk embedding cache (keyed by model identity and text).",
        runtime=True, group="Model")] = None

    def __post_init__(self) -> None:
        if self.min_tokens > self.max_tokens:
            raise UsageError(f"--min-tokens {self.min_tokens}: must be within 0..--max-tokens "
                             f"({self.max_tokens})")
        mode = normalise_breakpoint(self.breakpoint)
        if (self.breakpoint_amount is not None and mode in {"percentile", "gradient"}
                and not 0 <= self.breakpoint_amount <= 100):
            raise UsageError(f"--breakpoint-amount {self.breakpoint_amount:g}: a {mode} must "
                             "be within 0..100")


class SemanticChunker(Component):
    name: ClassVar[str] = "semantic"
    kind = "chunker"
    summary: ClassVar[str] = (
        "break where sentence embeddings drift apart (percentile/stddev/iqr/gradient), "
        "then enforce --max-tokens and --min-tokens"
    )
    extra: ClassVar[str | None] = "semantic"
    # the backend module (sentence_transformers or model2vec) depends on --embedder and
    # is checked when the embedder is built, with the same "pip install" hint
    requires: ClassVar[tuple[str, ...]] = ("numpy",)
    Options = SemanticOptions

    def setup(self) -> None:
        o = self.options
        self.breakpoint = normalise_breakpoint(o.breakpoint)
        self.breakpoint_amount = (BREAKPOINT_DEFAULTS[self.breakpoint]
                                  if o.breakpoint_amount is None else o.breakpoint_amount)
        self.semantic_window = o.semantic_window
        self.max_tokens = o.max_tokens
        self.min_tokens = o.min_tokens
        self.tokenizer = get_tokenizer(o.tokenizer)
        from segtool.models.embedders import get_embedder

        self.embedder_spec = o.embedder
        self.embedder = get_embedder(o.embedder, device=o.device, batch_size=o.batch_size,
                                     cache_dir=o.embed_cache)

    def fingerprint(self) -> dict[str, str]:
        return {"tokenizer": self.tokenizer.fingerprint, "embedder": self.embedder.identity}

    def embed_sentences(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[np.ndarray]:
        """One embedder call for all sentences of all documents; one array per document."""
        flat = [t[s.start : s.end].strip() for t, spans in zip(texts, sentences, strict=True)
                for s in spans]
        vectors = self.embedder.embed(flat)
        out = []
        pos = 0
        for spans in sentences:
            out.append(vectors[pos : pos + len(spans)])
            pos += len(spans)
        return out

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        all_units = batch_units(texts, sentences, self.tokenizer, self.max_tokens)
        embeddings = self.embed_sentences(texts, sentences)
        return [self._chunk_one(text, units, emb)
                for text, units, emb in zip(texts, all_units, embeddings, strict=True)]

    def _chunk_one(self, text: str, units: Sequence[Unit], emb: np.ndarray) -> list[ChunkSpan]:
        import numpy as np

        if not units:
            return []
        cum = cumulative(units)
        distances = sentence_distances(emb, self.semantic_window)
        breaks = sentence_breaks(distances, self.breakpoint, self.breakpoint_amount)
        groups = groups_from_breaks(len(units), unit_breaks_from_sentence_breaks(units, breaks))
        # distance at each unit boundary: the sentence distance, or -inf inside a sentence
        sent = np.fromiter((u.sent for u in units), dtype=np.int64, count=len(units))
        boundary = np.full(len(units), -np.inf)
        if len(units) > 1:
            new_sentence = sent[1:] != sent[:-1]
            idx = np.nonzero(new_sentence)[0] + 1
            boundary[idx] = distances[sent[idx] - 1]
        groups = split_oversize(cum, groups, boundary, self.max_tokens)
        groups = enforce_max(cum, groups, self.max_tokens)
        if self.min_tokens > 0 and len(groups) > 1:
            unit_emb = emb[sent].astype(np.float64)
            centroid_sum = np.vstack([np.zeros((1, emb.shape[1])), np.cumsum(unit_emb, axis=0)])
            groups = merge_small(cum, groups, centroid_sum, self.min_tokens, self.max_tokens)
        return to_chunks(text, units, cum, groups, self.tokenizer, self.max_tokens)
