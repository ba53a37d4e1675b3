"""Token-window chunker: whole sentences packed greedily up to ``max_tokens``.

The RAG hyperparameter studies found small fixed windows with little overlap a
strong speed/quality trade-off, so this is the default chunker.  Per-sentence
counts (batched across documents) propose each window by bisection over their
cumulative sums; the window's text is then encoded once, so ``n_tokens`` is its
exact count and a window that joined sentences into more tokens than the limit
gives its last sentence to the next one.  A sentence over the limit is cut at
token boundaries (:mod:`segtool.chunkers.units`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar

from segtool.chunkers.units import (
    batch_units,
    cumulative,
    to_chunks,
    with_context,
)
from segtool.component import Component
from segtool.models.tokens import get_tokenizer
from segtool.options import MaxTokens, Opt, Tokenizer
from segtool.types import ChunkSpan, Span, UsageError


@dataclass(frozen=True)
class WindowOptions:
    max_tokens: MaxTokens = 512
    tokenizer: Tokenizer = "cl100k_base"
    overlap_tokens: Annotated[int, Opt(
        "Tokens of preceding context reported as ctx_start (start is unchanged); "
        "less than --max-tokens.", ge=0, group="Chunker")] = 0

    def __post_init__(self) -> None:
        if self.overlap_tokens >= self.max_tokens:
            raise UsageError(f"--overlap-tokens {self.overlap_tokens}: must be less than "
                             f"--max-tokens ({self.max_tokens})")


class WindowChunker(Component):
    name: ClassVar[str] = "window"
    kind = "chunker"
    summary: ClassVar[str] = "pack whole sentences greedily up to --max-tokens (default)"
    Options = WindowOptions

    def setup(self) -> None:
        self.max_tokens = self.options.max_tokens
        self.overlap_tokens = self.options.overlap_tokens
        self.tokenizer = get_tokenizer(self.options.tokenizer)

    def fingerprint(self) -> dict[str, str]:
        return {"tokenizer": self.tokenizer.fingerprint}

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        out = []
        for text, units in zip(texts, batch_units(texts, sentences, self.tokenizer,
                                                  self.max_tokens), strict=True):
            cum = cumulative(units)
            chunks = to_chunks(text, units, cum, [(0, len(units))] if units else [],
                               self.tokenizer, self.max_tokens)
            out.append(with_context(text, chunks, self.tokenizer, self.overlap_tokens))
        return out
