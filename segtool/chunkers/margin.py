"""Margin-sampling chunker (Meta-Chunking, ALGORITHMS.md "margin").

For each next sentence ``s`` and the text ``c`` of the chunk being built (or
only the previous sentence, ``margin_context="previous"``) a causal LM is asked,
through its chat template, whether to split ``c s`` into ``c`` and ``s`` (answer
1) or keep it whole (answer 2).  ``margin = P("2") − P("1")`` from the softmax
of the next token over the full vocabulary; the sentence joins the chunk iff
``margin > θ`` (θ fixed, or dynamic: 0, then the mean of the last five margins —
:class:`segtool.chunkers.metachunk.MarginThreshold`).

Within a document the decisions form a chain (the next prompt depends on the
chunk so far), so the LM cannot be batched *along* a document.  Instead every
forward pass carries the next pending decision of every unfinished document in
the ``chunk_batch`` call — a wavefront across documents — which keeps a GPU or
a many-core CPU busy even though each document is sequential.  The output is
the same as deciding one document at a time (each prompt is computed
independently of its batch-mates).

Deliberate differences from the reference code (documented in the README):

* ``c`` and ``s`` are slices of the original text (whitespace at their ends
  stripped), and ``c s`` is the original text spanning both — the reference
  re-joins sentences with one space, losing paragraph breaks.
* ``c`` is capped to its last ``margin_context_tokens`` LM tokens and ``s`` to
  its first ``margin_context_tokens``, so a prompt (which holds each of them
  three times) stays bounded however long a chunk grows.
* After the meta-chunks are found, optional dynamic merging (``merge_to_tokens``,
  counted with ``tokenizer`` rather than whitespace words) and then the hard
  ``max_tokens`` limit are applied, so no chunk ever exceeds it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from segtool.chunkers.metachunk import MarginThreshold, chunks_from_sentence_breaks
from segtool.chunkers.units import batch_units, check_max_tokens
from segtool.models.tokens import get_tokenizer
from segtool.types import ChunkSpan, Span, UsageError

# ALGORITHMS.md, verbatim ({cs} = "c s").
MARGIN_PROMPT = (
    "This is a text chunking task. You are a text analysis expert. Please choose one of the "
    "following two options based on the logical structure and semantic content of the provided "
    'sentence: 1. Split "{cs}" into "{c}" and "{s}" two parts; 2. Keep "{cs}" unsplit in its '
    "original form; Please answer 1 or 2."
)
ANSWERS = ("1", "2")  # split, keep
CONTEXTS = ("chunk", "previous")


@dataclass
class MarginTrace:
    """What the chunker decided for one document (for tests, benchmarks, debugging)."""

    margins: list[float] = field(default_factory=list)  # margin for sentences 1..n-1
    thresholds: list[float] = field(default_factory=list)  # θ each margin was compared with
    breaks: list[int] = field(default_factory=list)  # sentences that start a new chunk


@dataclass
class _DocState:
    text: str
    spans: Sequence[Span]
    lm_starts: list[int]
    rule: MarginThreshold
    trace: MarginTrace
    chunk_start: int = 0  # sentence index that opened the current chunk
    k: int = 1  # next sentence to decide


class MarginChunker:
    name: ClassVar[str] = "margin"
    summary: ClassVar[str] = (
        "Meta-Chunking margin sampling: a causal LM decides split/keep for each sentence "
        "(batched across documents)"
    )
    extra: ClassVar[str | None] = "llm"
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")

    def __init__(
        self, *, lm: str = "smollm2", lm_gguf: str | None = None,
        margin_threshold: float | None = None, margin_context: str = "chunk",
        margin_context_tokens: int = 256, max_tokens: int = 512,
        merge_to_tokens: int | None = None, tokenizer: str = "cl100k_base",
        device: str = "auto", dtype: str = "auto", batch_size: int = 16,
    ) -> None:
        from segtool.models.lm_loading import check_requirements, resolve_source

        self.max_tokens = check_max_tokens(max_tokens)
        self.merge_to_tokens = _check_merge(merge_to_tokens, self.max_tokens)
        if margin_context not in CONTEXTS:
            raise UsageError(f"--margin-context {margin_context!r}: unknown — use chunk or previous")
        if margin_context_tokens < 1:
            raise UsageError(f"--margin-context-tokens {margin_context_tokens}: must be ≥ 1")
        if batch_size < 1:
            raise UsageError(f"--batch-size {batch_size}: must be ≥ 1")
        self.margin_threshold = None if margin_threshold is None else float(margin_threshold)
        self.margin_context = margin_context
        self.margin_context_tokens = int(margin_context_tokens)
        self.batch_size = int(batch_size)
        self.lm_name, self.lm_gguf = lm, lm_gguf
        self.device, self.dtype = device, dtype
        self._source = resolve_source(lm, lm_gguf)
        check_requirements(self._source)
        self.tokenizer = get_tokenizer(tokenizer)
        self._lm: Any = None
        self._answer_ids: list[int] = []
        self._prefix: list[int] = []
        self._ensure_loaded()

    # ----------------------------------------------------------- model setup
    def _ensure_loaded(self) -> Any:
        if self._lm is None:
            from segtool.models.causal_lm import load_causal_lm

            lm = load_causal_lm(self.lm_name, gguf_file=self.lm_gguf, device=self.device,
                                dtype=self.dtype)
            self._answer_ids = lm.answer_token_ids(ANSWERS)
            self._prefix = _template_prefix(lm)
            overhead = len(lm.chat_prompt(MARGIN_PROMPT.format(cs="", c="", s="")))
            need = overhead + 6 * self.margin_context_tokens + 16
            if need > lm.max_context:
                raise UsageError(
                    f"--margin-context-tokens {self.margin_context_tokens}: prompts could reach "
                    f"{need} tokens but lm {self.lm_name!r} handles {lm.max_context} — use at "
                    f"most {max(1, (lm.max_context - overhead - 16) // 6)}"
                )
            self._lm = lm
        return self._lm

    def __getstate__(self) -> dict[str, Any]:  # ship options, not the model, to workers
        state = self.__dict__.copy()
        state["_lm"] = None
        return state

    @property
    def answer_ids(self) -> list[int]:
        """Token ids of "1" (split) and "2" (keep) in the loaded model's tokenizer."""
        self._ensure_loaded()
        return list(self._answer_ids)

    def config(self) -> dict[str, object]:
        return {
            "chunker": self.name, "lm": self.lm_name, "lm_gguf": self.lm_gguf,
            "margin_threshold": self.margin_threshold, "margin_context": self.margin_context,
            "margin_context_tokens": self.margin_context_tokens, "max_tokens": self.max_tokens,
            "merge_to_tokens": self.merge_to_tokens, "tokenizer": self.tokenizer.name,
        }

    # -------------------------------------------------------------- chunking
    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        traces = self.decide(texts, sentences)
        units = batch_units(texts, sentences, self.tokenizer, self.max_tokens)
        return [
            chunks_from_sentence_breaks(u, t.breaks, max_tokens=self.max_tokens,
                                        merge_to_tokens=self.merge_to_tokens)
            for u, t in zip(units, traces, strict=True)
        ]

    def decide(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]) -> list[MarginTrace]:
        """Run the decision chains of all documents as one wavefront."""
        lm = self._ensure_loaded()
        traces = [MarginTrace() for _ in texts]
        active: list[_DocState] = []
        for text, spans, trace in zip(texts, sentences, traces, strict=True):
            if len(spans) >= 2:
                _, starts, _ = lm.encode_offsets(text)
                active.append(_DocState(text, spans, starts, MarginThreshold(self.margin_threshold),
                                        trace))
        while active:
            prompts = [lm.chat_prompt(self._prompt(st)) for st in active]
            probs = lm.next_token_probs(prompts, self._answer_ids, batch_size=self.batch_size,
                                        shared_prefix=self._prefix)
            for st, (p_split, p_keep) in zip(active, probs, strict=True):
                margin = float(p_keep - p_split)
                st.trace.thresholds.append(st.rule.value)
                st.trace.margins.append(margin)
                if not st.rule.decide(margin):
                    st.trace.breaks.append(st.k)
                    st.chunk_start = st.k
                st.k += 1
            active = [st for st in active if st.k < len(st.spans)]
        return traces

    def _prompt(self, st: _DocState) -> str:
        """The user message for deciding sentence ``st.k`` (slices of the original text)."""
        first = st.chunk_start if self.margin_context == "chunk" else st.k - 1
        c_lo, c_hi = st.spans[first].start, st.spans[st.k - 1].end
        s_lo, s_hi = st.spans[st.k].start, st.spans[st.k].end
        cap, starts = self.margin_context_tokens, st.lm_starts
        i0, i1 = bisect.bisect_left(starts, c_lo), bisect.bisect_left(starts, c_hi)
        if i1 - i0 > cap:  # keep the chunk's tail
            c_lo = max(c_lo, starts[i1 - cap])
        j0, j1 = bisect.bisect_left(starts, s_lo), bisect.bisect_left(starts, s_hi)
        if j1 - j0 > cap:  # keep the sentence's head
            s_hi = min(s_hi, starts[j0 + cap])
        text = st.text
        return MARGIN_PROMPT.format(cs=text[c_lo:s_hi].strip(), c=text[c_lo:c_hi].strip(),
                                    s=text[s_lo:s_hi].strip())


def _template_prefix(lm: Any) -> list[int]:
    """Token ids every margin prompt starts with (system turn + instructions).

    The common prefix of two prompts with different contents, less two tokens
    so that a content starting with punctuation cannot merge with its end.
    """
    a = lm.chat_prompt(MARGIN_PROMPT.format(cs="A", c="A", s="A"))
    b = lm.chat_prompt(MARGIN_PROMPT.format(cs="B", c="B", s="B"))
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[: max(0, n - 2)]


def _check_merge(merge_to_tokens: int | None, max_tokens: int) -> int | None:
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
