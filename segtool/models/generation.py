"""Greedy text generation with a loaded :class:`~segtool.models.causal_lm.CausalLM`.

Why greedy: generated text feeds the configuration identity and chunk ids,
so the same input must give the same text on every run; sampling would not.
A mild repetition penalty (deterministic too) keeps small models from
repeating one line until the token limit.

Prompts of many documents are generated together: padded on the left (so each
prompt's last token sits at the end of the row and new tokens follow it), with
an attention mask and position ids counted from each prompt's first real
token, and batched by length on CPU the way the scoring methods are (see
``CausalLM._run``).  A prompt therefore sees the same tokens at the same
positions whatever its batch-mates are.

``stop_after_items``: numbered-list answers can stop as soon as the model
starts item N+1, which saves the time a small model would spend repeating
itself up to ``max_new_tokens``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from segtool.models.causal_lm import CausalLM

REPETITION_PENALTY = 1.1
_ITEM = re.compile(r"(?:^|\n)\s*(\d{1,3})[.)]")


@dataclass(frozen=True)
class Generated:
    """The new text after one prompt; ``truncated`` when it ended at ``max_new_tokens``."""

    text: str
    truncated: bool


def generate_greedy(
    lm: CausalLM, prompts: Sequence[Sequence[int]], *, max_new_tokens: Sequence[int] | int,
    batch_size: int = 8, stop_after_items: Sequence[int | None] | None = None,
    text_prefixes: Sequence[str] | None = None, repetition_penalty: float = REPETITION_PENALTY,
) -> list[Generated]:
    """Greedy continuation of each token-id prompt, in input order.

    ``max_new_tokens`` (one value or one per prompt) bounds each answer; a
    batch runs until its longest budget or until every row has stopped.
    ``text_prefixes`` are the characters each prompt ends with that belong to
    the answer (a list start written for the model); they count when looking
    for list items.
    """
    n = len(prompts)
    budgets = [int(max_new_tokens)] * n if isinstance(max_new_tokens, int) else list(max_new_tokens)
    stops = list(stop_after_items) if stop_after_items is not None else [None] * n
    prefixes = list(text_prefixes) if text_prefixes is not None else [""] * n
    if not (len(budgets) == len(stops) == len(prefixes) == n):
        raise ValueError("max_new_tokens, stop_after_items and text_prefixes must match prompts")
    for k, p in enumerate(prompts):
        if not p:
            raise ValueError(f"prompt {k} is empty")
    jobs = list(range(n))
    return lm._run(  # the backend's own length-aware batching
        jobs, lambda batch: _generate_batch(lm, [list(prompts[k]) for k in batch],
                                            [budgets[k] for k in batch], [stops[k] for k in batch],
                                            [prefixes[k] for k in batch], repetition_penalty),
        lengths=[len(p) for p in prompts], batch_size=batch_size,
    )


def _generate_batch(lm: CausalLM, batch: list[list[int]], budgets: list[int],
                    stops: list[int | None], prefixes: list[str], penalty: float) -> list[Generated]:
    import torch
    from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

    input_ids, mask, _ = lm._pad(batch, left=True)
    width = input_ids.shape[1]
    budget = max(1, max(budgets))
    tokenizer = lm.tokenizer

    class _Stop(StoppingCriteria):
        """Per row: its own token budget spent, or item ``stop + 1`` of a numbered list begun."""

        def __call__(self, ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
            produced = ids.shape[1] - width
            for b in range(ids.shape[0]):
                if produced >= budgets[b]:
                    done[b] = True
                elif stops[b] is not None:
                    text = prefixes[b] + tokenizer.decode(ids[b, width:], skip_special_tokens=True)
                    done[b] = any(int(m.group(1)) > stops[b] for m in _ITEM.finditer(text))
            return done

    configured = lm.model.generation_config.eos_token_id
    eos = set(configured if isinstance(configured, list) else [configured])
    eos = {int(i) for i in eos | {tokenizer.eos_token_id} if i is not None}
    processors = LogitsProcessorList([_AnswerPenalty(width, penalty)]) if penalty != 1.0 else None
    with lm._lock, torch.inference_mode():
        out = lm.model.generate(
            input_ids=input_ids, attention_mask=mask, max_new_tokens=budget, do_sample=False,
            num_beams=1, pad_token_id=lm.pad_id, eos_token_id=sorted(eos) or None,
            stopping_criteria=StoppingCriteriaList([_Stop()]), logits_processor=processors,
            temperature=None, top_p=None, top_k=None,
        )
    results = []
    for b in range(len(batch)):
        # a row that stopped before the batch did is filled with padding (often the eos id):
        # its own budget first, then its own end
        new = out[b, width:].tolist()[: budgets[b]]
        ended = [j for j, t in enumerate(new) if t in eos]
        if ended:
            new = new[: ended[0]]
        truncated = not ended and len(new) >= budgets[b]
        while new and new[-1] == lm.pad_id:
            new.pop()
        results.append(Generated(tokenizer.decode(new, skip_special_tokens=True), truncated))
    return results


class _AnswerPenalty:
    """Repetition penalty over the answer's own tokens only (deterministic).

    transformers' built-in penalty also counts the prompt, padding included,
    so a row's scores would depend on how much padding its batch needed, and
    it would discourage the very names and terms a good question repeats from
    the passage.  Here only tokens generated so far are penalised: a positive
    logit is divided by ``penalty``, a negative one multiplied.
    """

    def __init__(self, prompt_width: int, penalty: float) -> None:
        self.width = prompt_width
        self.penalty = penalty

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        answer = input_ids[:, self.width:]
        if answer.shape[1] == 0:
            return scores
        picked = scores.gather(1, answer)
        picked = torch.where(picked < 0, picked * self.penalty, picked / self.penalty)
        return scores.scatter(1, answer, picked)
