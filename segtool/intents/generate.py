"""Generated intents: the questions a language model expects readers to ask of each document.

Two generators share one interface (:class:`IntentGenerator`) and one way of
asking (:mod:`segtool.intents.prompting`):

* :class:`LocalGenerator` runs the local causal LM (``--lm``, default
  SmolLM2-135M-Instruct) with greedy decoding, prompts of all documents and
  sections batched together.  The answer is started for the model with "1."
  (the list's first marker): small instruction models otherwise often answer
  with a paragraph or a single generic question.
* :class:`~segtool.intents.endpoint.EndpointGenerator` asks an
  OpenAI-compatible chat-completions server (``--intents-endpoint``).

Both return raw questions per document (parsed, exact duplicates and junk
removed); removing near-duplicates by embedding is the chunker's job.  Their
``identity`` names what decides the questions — the model (its files'
fingerprint, or endpoint URL and model name) and :data:`PROMPT_VERSION` — so
it can enter the configuration identity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from segtool.intents.answers import answer_budget, collect, describe, warn_empty
from segtool.intents.options import IntentSourceOptions
from segtool.intents.prompting import (
    ANSWER_PREFIX,
    PROMPT_VERSION,
    build_prompt,
    plan_sections,
)
from segtool.models.lm_loading import source_fingerprint
from segtool.types import Document, SegtoolError, UsageError

log = logging.getLogger("segtool")

SECTION_TOKENS = 512  # a local section: small models lose track of longer passages
LOCAL_MAX_PER_PROMPT = 6  # ...and repeat themselves when asked for many questions at once


class IntentGenerator(Protocol):
    """Generates each document's intents; ``identity`` names everything that decides them."""

    identity: str

    def generate(self, docs: Sequence[Document]) -> list[list[str]]: ...


class LocalGenerator:
    """Intents from the local causal LM, batched across documents and sections."""

    def __init__(self, lm: str, lm_gguf: str | None, *, device: str, dtype: str, batch_size: int) -> None:
        from segtool.models.lm_loading import check_requirements, resolve_source

        self.lm_name, self.lm_gguf = lm, lm_gguf
        self.device, self.dtype, self.batch_size = device, dtype, max(1, int(batch_size))
        self._source = resolve_source(lm, lm_gguf)
        check_requirements(self._source)
        self.identity = f"lm={source_fingerprint(self._source)};prompt={PROMPT_VERSION};greedy"
        self._lm: Any = None

    def __getstate__(self) -> dict[str, Any]:
        """Workers (``--jobs``) get the settings, never a loaded model; each loads its own."""
        return {**self.__dict__, "_lm": None}

    def _load(self) -> Any:
        if self._lm is None:
            from segtool.models.causal_lm import load_causal_lm

            lm = load_causal_lm(self.lm_name, gguf_file=self.lm_gguf, device=self.device,
                                dtype=self.dtype)
            if not getattr(lm.tokenizer, "chat_template", None):
                raise UsageError(
                    f"lm {self.lm_name!r} has no chat template — generating intents needs an "
                    "instruction-tuned model whose tokenizer defines one (e.g. --lm smollm2), "
                    "or give intents with --intents FILE / --intents-endpoint URL"
                )
            self._lm = lm
        return self._lm

    def generate(self, docs: Sequence[Document]) -> list[list[str]]:
        """Raw questions per document (see the module docstring)."""
        from segtool.models.generation import generate_greedy

        if not any(d.text.strip() for d in docs):
            return [[] for _ in docs]  # nothing to ask: do not load the model
        lm = self._load()
        overhead = len(lm.chat_prompt(build_prompt("", LOCAL_MAX_PER_PROMPT))) + 8
        budget = min(SECTION_TOKENS, lm.max_context - overhead - answer_budget(LOCAL_MAX_PER_PROMPT))
        if budget < 32:
            raise UsageError(f"lm {self.lm_name!r}: its context of {lm.max_context} tokens is too short "
                             "to generate intents — use a model with a longer context")
        sections = plan_sections([d.text for d in docs], max_units=budget,
                                 max_per_prompt=LOCAL_MAX_PER_PROMPT, measure=lambda t: len(lm.encode(t)))
        prompts = [lm.encode(lm.chat_prompt_text(build_prompt(s.text, s.n_questions)) + ANSWER_PREFIX)
                   for s in sections]
        try:
            answers = generate_greedy(
                lm, prompts, max_new_tokens=[answer_budget(s.n_questions) for s in sections],
                batch_size=self.batch_size, stop_after_items=[s.n_questions for s in sections],
                text_prefixes=[ANSWER_PREFIX] * len(sections),
            )
        except SegtoolError:
            raise
        except Exception as exc:  # out of memory, a model that cannot generate: one line
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            where = "; ".join(describe(d) for d in docs[:3]) + (" …" if len(docs) > 3 else "")
            raise SegtoolError(
                f"generating intents with lm {self.lm_name!r} failed: {type(exc).__name__}: {first} — "
                f"{where} — try a smaller --batch-size, or --device cpu"
            ) from exc
        result = collect(len(docs), sections,
                         [(ANSWER_PREFIX + a.text, not a.truncated) for a in answers])
        warn_empty(docs, result, f"lm {self.lm_name!r}")
        return result


def make_generator(options: IntentSourceOptions, *, device: str, dtype: str,
                   batch_size: int) -> IntentGenerator:
    """The endpoint generator when ``--intents-endpoint`` is set, else the local causal LM."""
    if options.intents_endpoint:
        from segtool.intents.endpoint import EndpointGenerator

        return EndpointGenerator(
            options.intents_endpoint, model=options.intents_model, key_env=options.intents_key_env,
            timeout=options.intents_timeout, retries=options.intents_retries,
        )
    return LocalGenerator(options.lm, options.lm_gguf, device=device, dtype=dtype, batch_size=batch_size)
