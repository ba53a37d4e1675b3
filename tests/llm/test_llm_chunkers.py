"""Margin and perplexity chunkers on a tiny real model: invariants and batching mechanics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segtool import registry
from segtool.chunkers.margin import MARGIN_PROMPT, MarginChunker
from segtool.chunkers.metachunk import margin_decisions, ppl_boundaries
from segtool.chunkers.perplexity import PerplexityChunker
from segtool.models.tokens import get_tokenizer
from segtool.types import UsageError

from .conftest import split_sentences

SENTENCES = [
    "The river rose in the night, and by morning the lower fields were under water.",
    "Farmers moved their cattle to the hills.", "Nobody had seen a flood like it in forty years.",
    "In 1848 the railway reached the town.", "Trade doubled within a decade.",
    "The old market square was paved.", "She opened the letter slowly.",
    "It was from her brother, who had not written for years.",
    "He asked whether she would come to the wedding in June.",
    "Photosynthesis converts light into chemical energy.", "The oxygen we breathe is a by-product.",
    "Prices fell by 2 percent in May and by 1 percent in June.",
    "A vote was postponed until the next meeting.", "Chapter 3. The return home.",
]


def make_docs(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    docs = []
    for _ in range(n):
        k = int(rng.integers(1, 12))
        picks = rng.choice(len(SENTENCES), size=k)
        seps = rng.choice([" ", " ", "\n", "\n\n"], size=k)
        docs.append("".join(SENTENCES[i] + str(s) for i, s in zip(picks, seps, strict=True)))
    return [*docs, "", "One sentence only."]


def chunk(chunker, texts):
    sentences = [split_sentences(t) for t in texts]
    return chunker.chunk_batch(texts, sentences)


def assert_valid(texts, results, max_tokens, tokenizer="cl100k_base"):
    counter = get_tokenizer(tokenizer)
    for text, chunks in zip(texts, results, strict=True):
        assert "".join(text[c.start : c.end] for c in chunks) == text
        assert all(c.start < c.end for c in chunks)
        for c in chunks:  # n_tokens is the chunk's own encoding, within the limit
            assert c.n_tokens == counter.counts([text[c.start : c.end]])[0] <= max_tokens


@pytest.fixture(scope="module")
def margin(tiny_lm_dir: str) -> MarginChunker:
    return MarginChunker(lm=tiny_lm_dir, device="cpu", margin_context_tokens=40, max_tokens=60)


@pytest.fixture(scope="module")
def ppl(tiny_lm_dir: str) -> PerplexityChunker:
    return PerplexityChunker(lm=tiny_lm_dir, device="cpu", max_tokens=60, lm_window_tokens=64)


def test_margin_wavefront_equals_one_document_at_a_time(margin: MarginChunker) -> None:
    texts = make_docs(12)
    sentences = [split_sentences(t) for t in texts]
    together = margin.decide(texts, sentences)
    alone = [margin.decide([t], [s])[0] for t, s in zip(texts, sentences, strict=True)]
    for a, b in zip(together, alone, strict=True):
        assert a.breaks == b.breaks
        np.testing.assert_allclose(a.margins, b.margins, rtol=1e-5, atol=1e-9)
    n_decisions = sum(len(t.margins) for t in together)
    n_splits = sum(len(t.breaks) for t in together)
    assert n_decisions > 40 and 0 < n_splits < n_decisions  # both outcomes occur
    assert chunk(margin, texts) == [chunk(margin, [t])[0] for t in texts]


def test_margin_output_does_not_depend_on_batch_size(tiny_lm_dir: str, margin) -> None:
    texts = make_docs(8, seed=1)
    small = MarginChunker(lm=tiny_lm_dir, device="cpu", margin_context_tokens=40,
                          max_tokens=60, batch_size=1)
    assert chunk(small, texts) == chunk(margin, texts)


def test_margin_is_p2_minus_p1_of_the_verbatim_prompt(margin, tiny_lm) -> None:
    text = " ".join(SENTENCES[:3])
    spans = split_sentences(text)
    trace = margin.decide([text], [spans])[0]
    assert margin.answer_ids == tiny_lm.tokenizer.convert_tokens_to_ids(["1", "2"])
    # decision for sentence 1 when sentence 0 opened the chunk
    c, s = text[: spans[0].end].strip(), text[spans[1].start : spans[1].end].strip()
    cs = text[: spans[1].end].strip()
    prompt = tiny_lm.chat_prompt(MARGIN_PROMPT.format(cs=cs, c=c, s=s))
    p1, p2 = tiny_lm.next_token_probs([prompt], margin.answer_ids)[0]
    assert trace.margins[0] == pytest.approx(p2 - p1, rel=1e-4, abs=1e-9)
    assert "Please answer 1 or 2." in tiny_lm.tokenizer.decode(prompt)
    # the rule applied to the recorded margins gives the recorded breaks
    decisions = margin_decisions(trace.margins)
    assert trace.breaks == [j + 1 for j, keep in enumerate(decisions) if not keep]


def test_margin_context_previous_and_fixed_threshold(tiny_lm_dir: str) -> None:
    texts = make_docs(5, seed=2)
    prev = MarginChunker(lm=tiny_lm_dir, device="cpu", margin_context="previous",
                         margin_context_tokens=40, margin_threshold=-1.0, max_tokens=60)
    traces = prev.decide(texts, [split_sentences(t) for t in texts])
    # θ = -1 < every margin: nothing is split by the LM (only the hard limit may cut)
    assert all(t.breaks == [] for t in traces)
    assert all(th == -1.0 for t in traces for th in t.thresholds)
    assert_valid(texts, chunk(prev, texts), 60)


@settings(max_examples=25)
@given(st.lists(st.sampled_from([*SENTENCES, "x" * 400 + ".", "Hmm?", "\n\n"]), max_size=10),
       st.sampled_from([1, 7, 25, 60]))
def test_margin_tiles_and_respects_the_hard_limit(margin: MarginChunker, pieces, limit) -> None:
    text = " ".join(pieces)
    chunker = MarginChunker(lm=margin.lm_name, device="cpu", margin_context_tokens=40,
                            max_tokens=limit)
    assert_valid([text], chunk(chunker, [text]), limit)


def test_merging_only_removes_boundaries(tiny_lm_dir: str, margin) -> None:
    texts = make_docs(6, seed=3)
    merged = MarginChunker(lm=tiny_lm_dir, device="cpu", margin_context_tokens=40,
                           max_tokens=60, merge_to_tokens=50)
    plain, big = chunk(margin, texts), chunk(merged, texts)
    assert_valid(texts, big, 60)
    for a, b in zip(plain, big, strict=True):
        assert {c.start for c in b} <= {c.start for c in a}
        for x, y in itertools.pairwise(b):  # greedy: the next one did not fit
            first_piece = next(c for c in a if c.start == y.start)
            assert x.n_tokens + first_piece.n_tokens > 50
    assert sum(map(len, big)) < sum(map(len, plain))


def test_perplexity_chunks_follow_the_rule_and_batching_is_invisible(tiny_lm_dir, ppl) -> None:
    texts = make_docs(10, seed=4)
    sentences = [split_sentences(t) for t in texts]
    values = ppl.sentence_scores(texts, sentences)
    got = ppl.chunk_batch(texts, sentences)
    assert_valid(texts, got, 60)
    for _text, spans, v, chunks in zip(texts, sentences, values, got, strict=True):
        ends = {c.end for c in chunks}
        for i in ppl_boundaries(v.tolist(), 0.0):  # each boundary sentence ends a chunk
            assert spans[i].end in ends
    one_by_one = [ppl.chunk_batch([t], [s])[0] for t, s in zip(texts, sentences, strict=True)]
    assert one_by_one == got
    small = PerplexityChunker(lm=tiny_lm_dir, device="cpu", max_tokens=60, lm_window_tokens=64,
                              batch_size=1)
    assert small.chunk_batch(texts, sentences) == got


def test_perplexity_on_a_document_longer_than_the_context(ppl, tiny_lm) -> None:
    text = " ".join(SENTENCES * 8)
    assert len(tiny_lm.encode(text)) > tiny_lm.max_context
    spans = split_sentences(text)
    values = ppl.sentence_scores([text], [spans])[0]
    assert len(values) == len(spans) and np.isfinite(values).all()
    assert_valid([text], ppl.chunk_batch([text], [spans]), 60)


def test_ppl_dynamic_keeps_a_subset_of_boundaries(tiny_lm_dir, ppl) -> None:
    texts = make_docs(6, seed=5)
    dyn = PerplexityChunker(lm=tiny_lm_dir, device="cpu", max_tokens=500, ppl_dynamic=True)
    static = PerplexityChunker(lm=tiny_lm_dir, device="cpu", max_tokens=500)
    for a, b in zip(chunk(dyn, texts), chunk(static, texts), strict=True):
        assert {c.start for c in a} <= {c.start for c in b}


def test_options_are_validated(tiny_lm_dir: str) -> None:
    with pytest.raises(UsageError, match="must be one of: chunk, previous"):
        MarginChunker(lm=tiny_lm_dir, margin_context="document")
    with pytest.raises(UsageError, match="exceeds --max-tokens"):
        MarginChunker(lm=tiny_lm_dir, margin_context_tokens=40, max_tokens=100,
                      merge_to_tokens=200)
    with pytest.raises(UsageError, match="margin-context-tokens 256"):
        MarginChunker(lm=tiny_lm_dir)  # 256 × 6 does not fit a 512-position model
    with pytest.raises(UsageError, match="max-tokens"):
        PerplexityChunker(lm=tiny_lm_dir, max_tokens=0)


def test_registry_builds_both_chunkers(tiny_lm_dir: str) -> None:
    shared = {"lm": tiny_lm_dir, "device": "cpu", "max_tokens": 80}
    m = registry.create("chunkers", "margin", {**shared, "margin_context_tokens": 40})
    p = registry.create("chunkers", "perplexity", {**shared, "lm_window_tokens": 128})
    assert m.margin_context_tokens == 40 and m.lm_name == tiny_lm_dir
    assert p.window_tokens == 128 and p.options.lm_window_tokens == 128
    with pytest.raises(TypeError, match="chunker 'margin' takes no option 'lm_window_tokens'"):
        registry.create("chunkers", "margin", {**shared, "lm_window_tokens": 128})
    texts = make_docs(3, seed=6)
    assert_valid(texts, chunk(m, texts), 80)
    assert_valid(texts, chunk(p, texts), 80)
    assert chunk(m, ["", "One."]) == [[], [chunk(m, ["One."])[0][0]]]
