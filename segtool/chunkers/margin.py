"""Margin-sampling chunker (Meta-Chunking, docs/algorithms.md "margin").

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
from typing import Annotated, Any, ClassVar

from segtool.chunkers.lm_chunker import LmChunker, LmOptions
from segtool.chunkers.metachunk import MarginThreshold
from segtool.options import Opt
from segtool.types import ChunkSpan, Span, UsageError

# docs/algorithms.md, verbatim ({cs} = "c s").
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


@dataclass(frozen=True)
class MarginOptions(LmOptions):
    margin_threshold: Annotated[float | None, Opt(
        "Fixed margin threshold (default: 0, then the mean of the last 5 margins).",
        ge=-1, le=1, group="Chunker")] = None
    margin_context: Annotated[str, Opt(
        "What the next sentence is compared with: the running chunk or the previous sentence.",
        choices=CONTEXTS, group="Chunker")] = "chunk"
    margin_context_tokens: Annotated[int, Opt(
        "Cap (LM tokens) on the running chunk shown to the model.", ge=1,
        group="Chunker")] = 256


class MarginChunker(LmChunker):
    name: ClassVar[str] = "margin"
    summary: ClassVar[str] = (
        "Meta-Chunking margin sampling: a causal LM decides split/keep for each sentence "
        "(batched across documents)"
    )

    Options = MarginOptions

    def setup(self) -> None:
        super().setup()
        o = self.options
        self.margin_threshold = o.margin_threshold
        self.margin_context = o.margin_context
        self.margin_context_tokens = o.margin_context_tokens
        self._answer_ids: list[int] = []
        self._prefix: list[int] = []
        self._ensure_loaded()

    # ----------------------------------------------------------- model setup
    def _prepare(self, lm: Any) -> None:
        answer_ids = lm.answer_token_ids(ANSWERS)
        overhead = len(lm.chat_prompt(MARGIN_PROMPT.format(cs="", c="", s="")))
        need = overhead + 6 * self.margin_context_tokens + 16
        if need > lm.max_context:
            raise UsageError(
                f"--margin-context-tokens {self.margin_context_tokens}: prompts could reach "
                f"{need} tokens but lm {self.lm_name!r} handles {lm.max_context} — use at "
                f"most {max(1, (lm.max_context - overhead - 16) // 6)}"
            )
        self._answer_ids = answer_ids
        self._prefix = _template_prefix(lm)

    @property
    def answer_ids(self) -> list[int]:
        """Token ids of "1" (split) and "2" (keep) in the loaded model's tokenizer."""
        self._ensure_loaded()
        return list(self._answer_ids)

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        traces = self.decide(texts, sentences)
        return self._chunks(texts, sentences, [t.breaks for t in traces])

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

