"""What the two Meta-Chunking chunkers share: options, the causal LM, the last step.

``margin`` and ``perplexity`` differ only in how they find sentence breaks.
Both take an LM by name (loaded lazily, once, and never pickled into worker
processes), validate the same size options, and turn their breaks into chunks
the same way: dynamic merging up to ``merge_to_tokens``, then the hard
``max_tokens`` limit (:func:`segtool.chunkers.metachunk.chunks_from_sentence_breaks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from segtool.chunkers.metachunk import chunks_from_sentence_breaks
from segtool.chunkers.units import batch_units, check_max_tokens
from segtool.models.tokens import get_tokenizer
from segtool.types import ChunkSpan, Span, UsageError


def check_merge(merge_to_tokens: int | None, max_tokens: int) -> int | None:
    """``--merge-to-tokens``: None/0 = no merging; never above the hard limit."""
    if merge_to_tokens is None or merge_to_tokens == 0:
        return None
    if merge_to_tokens < 0:
        raise UsageError(f"--merge-to-tokens {merge_to_tokens}: must be ≥ 1 (or 0 for no merging)")
    if merge_to_tokens > max_tokens:
        raise UsageError(
            f"--merge-to-tokens {merge_to_tokens} exceeds --max-tokens {max_tokens} — raise "
            "--max-tokens or lower the merge target"
        )
    return int(merge_to_tokens)


class LmChunker:
    """Base of the causal-LM chunkers; subclasses declare their own keyword options."""

    name: ClassVar[str] = ""
    extra: ClassVar[str | None] = "llm"
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")

    def _setup(self, *, lm: str, lm_gguf: str | None, max_tokens: int,
               merge_to_tokens: int | None, tokenizer: str, device: str, dtype: str,
               batch_size: int) -> None:
        """Validate the shared options; an absent extra or model fails here, before any work."""
        from segtool.models.lm_loading import check_requirements, resolve_source

        self.max_tokens = check_max_tokens(max_tokens)
        self.merge_to_tokens = check_merge(merge_to_tokens, self.max_tokens)
        if batch_size < 1:
            raise UsageError(f"--batch-size {batch_size}: must be ≥ 1")
        self.batch_size = int(batch_size)
        self.lm_name, self.lm_gguf = lm, lm_gguf
        self.device, self.dtype = device, dtype
        self._source = resolve_source(lm, lm_gguf)
        check_requirements(self._source)
        self.tokenizer = get_tokenizer(tokenizer)
        self._lm: Any = None

    def _ensure_loaded(self) -> Any:
        if self._lm is None:
            from segtool.models.causal_lm import load_causal_lm

            lm = load_causal_lm(self.lm_name, gguf_file=self.lm_gguf, device=self.device,
                                dtype=self.dtype)
            self._prepare(lm)
            self._lm = lm
        return self._lm

    def _prepare(self, lm: Any) -> None:
        """Per-model set-up a subclass needs once the LM is loaded (answer ids, checks)."""

    def __getstate__(self) -> dict[str, Any]:  # ship options, not the model, to workers
        state = self.__dict__.copy()
        state["_lm"] = None
        return state

    def _config(self, **specific: object) -> dict[str, object]:
        return {"chunker": self.name, "lm": self.lm_name, "lm_gguf": self.lm_gguf, **specific,
                "max_tokens": self.max_tokens, "merge_to_tokens": self.merge_to_tokens,
                "tokenizer": self.tokenizer.name}

    def _chunks(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]],
                breaks: Sequence[Sequence[int]]) -> list[list[ChunkSpan]]:
        """Chunks from "a new chunk starts at sentence k" lists, one per document."""
        units = batch_units(texts, sentences, self.tokenizer, self.max_tokens)
        return [chunks_from_sentence_breaks(u, b, max_tokens=self.max_tokens,
                                            merge_to_tokens=self.merge_to_tokens)
                for u, b in zip(units, breaks, strict=True)]
