"""What the two Meta-Chunking chunkers share: options, the causal LM, the last step.

``margin`` and ``perplexity`` differ only in how they find sentence breaks.
Both take an LM by name (loaded when the chunker is built, never pickled into
worker processes), validate the same size options, and turn their breaks into chunks
the same way: dynamic merging up to ``merge_to_tokens``, then the hard
``max_tokens`` limit (:func:`segtool.chunkers.metachunk.chunks_from_sentence_breaks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from segtool.chunkers.metachunk import chunks_from_sentence_breaks
from segtool.chunkers.units import batch_units
from segtool.component import Component
from segtool.models.tokens import get_tokenizer
from segtool.options import BatchSize, Device, Dtype, MaxTokens, Opt, Tokenizer
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


@dataclass(frozen=True)
class LmOptions:
    """Options both Meta-Chunking chunkers take (each extends this declaration)."""

    lm: Annotated[str, Opt("Causal LM: smollm2, a hub id, a local directory or a .gguf file.",
                           group="Chunker")] = "smollm2"
    lm_gguf: Annotated[str | None, Opt("GGUF file inside --lm (a directory).",
                                       group="Chunker")] = None
    max_tokens: MaxTokens = 512
    merge_to_tokens: Annotated[int | None, Opt(
        "Merge adjacent chunks while the merged size stays within N tokens (0: no merging).",
        ge=0, group="Chunker")] = None
    tokenizer: Tokenizer = "cl100k_base"
    device: Device = "auto"
    dtype: Dtype = "auto"
    batch_size: BatchSize = 16

    def __post_init__(self) -> None:
        check_merge(self.merge_to_tokens, self.max_tokens)


class LmChunker(Component):
    """Base of the causal-LM chunkers; subclasses extend :class:`LmOptions`."""

    kind = "chunker"
    extra: ClassVar[str | None] = "llm"
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")

    def setup(self) -> None:
        """Validate the shared options; an absent extra or model fails here, before any work."""
        from segtool.models.lm_loading import check_requirements, resolve_source

        o = self.options
        self.max_tokens = o.max_tokens
        self.merge_to_tokens = check_merge(o.merge_to_tokens, o.max_tokens)
        self.batch_size = o.batch_size
        self.lm_name, self.lm_gguf = o.lm, o.lm_gguf
        self.device, self.dtype = o.device, o.dtype
        self._source = resolve_source(o.lm, o.lm_gguf)
        check_requirements(self._source)
        self.tokenizer = get_tokenizer(o.tokenizer)
        self._lm: Any = None

    def fingerprint(self) -> dict[str, str]:
        """The LM's files (or hub id) and the counting tokenizer."""
        from segtool.models.lm_loading import source_fingerprint

        model = source_fingerprint(self._source)
        return {"lm": model, "tokenizer": self.tokenizer.fingerprint}

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

    def _chunks(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]],
                breaks: Sequence[Sequence[int]]) -> list[list[ChunkSpan]]:
        """Chunks from "a new chunk starts at sentence k" lists, one per document."""
        units = batch_units(texts, sentences, self.tokenizer, self.max_tokens)
        return [chunks_from_sentence_breaks(u, b, max_tokens=self.max_tokens,
                                            merge_to_tokens=self.merge_to_tokens, text=text,
                                            tokenizer=self.tokenizer)
                for text, u, b in zip(texts, units, breaks, strict=True)]
