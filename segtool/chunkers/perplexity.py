"""Perplexity chunker (Meta-Chunking PPL chunking, docs/algorithms.md "perplexity").

One causal-LM pass over each document (sliding windows of ``lm_window_tokens``
with carried context for long texts; windows of all documents in the
``chunk_batch`` call are batched together) gives every token's negative
log-likelihood given all preceding text.  A sentence's score is the mean over
its tokens (a token belongs to the sentence holding its last character; the
document's very first token has no context and is skipped, as in the
reference).  Sentences at local minima of that curve — exactly the reference
rule, :func:`segtool.chunkers.metachunk.ppl_boundaries` — end their chunks.

``ppl_dynamic`` is a segtool extension (the reference has none; its "dynamic"
refers to merging and to KV-cache batching of long texts): each document gets
θ = the median depth of its candidate minima, floored at ``ppl_threshold``.

Differences from the reference: the document is tokenised as one text (the
reference tokenises sentences separately and concatenates the ids), long texts
use sliding windows instead of a truncated KV cache, and after the meta-chunks
come optional dynamic merging (``merge_to_tokens``, counted in ``tokenizer``
tokens instead of whitespace words) and the hard ``max_tokens`` limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

if TYPE_CHECKING:
    import numpy as np

from segtool.chunkers.lm_chunker import LmChunker, LmOptions
from segtool.chunkers.metachunk import (
    dynamic_ppl_threshold,
    ppl_boundaries,
    ppl_sentence_breaks,
)
from segtool.options import Opt
from segtool.types import ChunkSpan, Span


@dataclass(frozen=True)
class PerplexityOptions(LmOptions):
    ppl_threshold: Annotated[float, Opt(
        "Perplexity boundary threshold θ (a local minimum must be θ below a neighbour).",
        ge=0, group="Chunker")] = 0.0
    ppl_dynamic: Annotated[bool, Opt(
        "Per-document dynamic perplexity threshold.", group="Chunker")] = False
    lm_window_tokens: Annotated[int, Opt(
        "LM sliding-window size in tokens (capped at the model's context).", ge=16,
        group="Chunker")] = 1024


class PerplexityChunker(LmChunker):
    name: ClassVar[str] = "perplexity"
    summary: ClassVar[str] = (
        "Meta-Chunking PPL chunking: break after sentences at local minima of causal-LM "
        "perplexity"
    )

    Options = PerplexityOptions

    def setup(self) -> None:
        super().setup()
        o = self.options
        self.ppl_threshold = o.ppl_threshold
        self.ppl_dynamic = o.ppl_dynamic
        self.lm_window_tokens = o.lm_window_tokens
        self._ensure_loaded()

    @property
    def window_tokens(self) -> int:
        """The window actually used: ``lm_window_tokens`` capped at the model's context."""
        return min(self.lm_window_tokens, self._ensure_loaded().max_context)

    def sentence_scores(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[np.ndarray]:
        """Mean token NLL of every sentence given all preceding text (one pass per document)."""
        from segtool.models.causal_lm import mean_per_span

        lm = self._ensure_loaded()
        scores = lm.token_nll(texts, window_tokens=self.window_tokens, batch_size=self.batch_size)
        return [mean_per_span(sc, [(s.start, s.end) for s in spans])
                for sc, spans in zip(scores, sentences, strict=True)]

    def boundaries(self, values: Sequence[float]) -> list[int]:
        theta = dynamic_ppl_threshold(values, self.ppl_threshold) if self.ppl_dynamic \
            else self.ppl_threshold
        return ppl_boundaries(values, theta)

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        values = self.sentence_scores(texts, sentences)
        return self._chunks(texts, sentences,
                            [ppl_sentence_breaks(self.boundaries(v.tolist())) for v in values])
