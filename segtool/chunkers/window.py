"""Token-window chunker: whole sentences packed greedily up to ``max_tokens``.

The RAG hyperparameter studies found small fixed windows with little overlap a
strong speed/quality trade-off, so this is the default chunker.  Sizes are sums
of per-sentence counts (one tokenizer call per sentence, batched across
documents); a sentence over the limit is cut at token boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from segtool.chunkers.units import (
    batch_units,
    check_max_tokens,
    cumulative,
    pack,
    to_chunks,
    with_context,
)
from segtool.models.tokens import get_tokenizer
from segtool.types import ChunkSpan, Span, UsageError


class WindowChunker:
    name: ClassVar[str] = "window"
    summary: ClassVar[str] = "pack whole sentences greedily up to --max-tokens (default)"
    extra: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, max_tokens: int = 512, tokenizer: str = "cl100k_base",
                 overlap_tokens: int = 0) -> None:
        self.max_tokens = check_max_tokens(max_tokens)
        if overlap_tokens < 0:
            raise UsageError(f"--overlap-tokens {overlap_tokens}: must be ≥ 0")
        self.overlap_tokens = overlap_tokens
        self.tokenizer = get_tokenizer(tokenizer)

    def config(self) -> dict[str, object]:
        return {"chunker": self.name, "max_tokens": self.max_tokens,
                "tokenizer": self.tokenizer.name, "overlap_tokens": self.overlap_tokens}

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        out = []
        for text, units in zip(texts, batch_units(texts, sentences, self.tokenizer,
                                                  self.max_tokens), strict=True):
            cum = cumulative(units)
            chunks = to_chunks(units, cum, pack(cum, 0, len(units), self.max_tokens))
            out.append(with_context(text, chunks, self.tokenizer, self.overlap_tokens))
        return out
