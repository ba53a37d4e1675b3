"""The semantic chunker: breakpoint rules, hard limits, min-size merging, determinism."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from core.strategies import texts as arbitrary_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from segtool.chunkers.semantic import (
    SemanticChunker,
    merge_small,
    sentence_breaks,
    sentence_distances,
    split_oversize,
)
from segtool.models.tokens import get_tokenizer
from segtool.registry import create
from segtool.sentences.base import spans_from_ends
from segtool.types import Span, UsageError

_END = re.compile(r"[.!?。！？]+\s*|\n\n")


def naive_sentences(text: str) -> list[Span]:
    return spans_from_ends(text, (m.end() for m in _END.finditer(text)))


def check_chunks(text, chunks, max_tokens):
    assert "".join(text[c.start : c.end] for c in chunks) == text
    assert all(c.start < c.end for c in chunks)
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert all(c.n_tokens <= max_tokens for c in chunks), [c.n_tokens for c in chunks]


# ---------------------------------------------------------------- breakpoint rules, by hand

D = np.array([0.1, 0.2, 0.9, 0.1, 0.15])


@pytest.mark.parametrize("mode, amount, expected", [
    # sorted d = .1 .1 .15 .2 .9; 95th pct at rank 3.8: .2 + .8·.7 = .76 → only d[2]
    ("percentile", 95, [3]),
    # 50th pct = .15 → d[1] = .2 and d[2] = .9 exceed it
    ("percentile", 50, [2, 3]),
    # mean .29, population std .30725 → threshold .597
    ("stddev", 1, [3]),
    # mean .29 − 1·std = −.017: every distance exceeds it
    ("stddev", -1, [1, 2, 3, 4, 5]),
    # Q1 .1, Q3 .2 → mean + 1.5·.1 = .44 (langchain uses the mean, not Q3)
    ("iqr", 1.5, [3]),
    # gradient = [.1, .4, −.05, −.375, .05]; 95th pct .34 → index 1: break *before* the jump
    ("gradient", 95, [2]),
])
def test_breakpoint_rules_match_hand_computed_thresholds(mode, amount, expected):
    assert sentence_breaks(D, mode, amount) == expected


def test_breakpoint_rules_on_degenerate_input():
    assert sentence_breaks(np.array([]), "percentile", 95) == []
    assert sentence_breaks(np.array([0.7]), "percentile", 95) == []  # 1 distance = threshold
    assert sentence_breaks(np.array([0.7]), "gradient", 95) == []
    assert sentence_breaks(np.array([0.3, 0.3, 0.3]), "stddev", 0) == []  # strict >


def test_sentence_distances_neighbour_and_window():
    e = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    assert np.allclose(sentence_distances(e, 1), [0.0, 1.0, 0.0])
    # window 2: sentence 3 vs mean(e1, e2) = (.5, .5) → cos = .7071
    assert np.allclose(sentence_distances(e, 2), [0.0, 1.0, 1 - np.sqrt(0.5)])
    assert sentence_distances(e[:1], 1).shape == (0,)
    zero = np.zeros((2, 2), dtype=np.float32)
    assert np.allclose(sentence_distances(zero, 1), [1.0])  # no direction: maximally distant


def test_split_oversize_cuts_at_the_weakest_link_first():
    cum = [0, 10, 20, 30, 40, 50]
    boundary = np.array([-np.inf, 0.2, 0.9, 0.1, 0.5])
    # 50 tokens > 30: cut before unit 2 (.9) → (0,2)=20 fits, (2,5)=30 fits
    assert split_oversize(cum, [(0, 5)], boundary, 30) == [(0, 2), (2, 5)]
    # 20 allowed: (2,5) is cut again at its highest inner boundary, unit 4 (.5)
    assert split_oversize(cum, [(0, 5)], boundary, 20) == [(0, 2), (2, 4), (4, 5)]
    # no sentence boundary inside (pieces of one long sentence): greedy packing
    inner = np.array([-np.inf] * 5)
    assert split_oversize(cum, [(0, 5)], inner, 20) == [(0, 2), (2, 4), (4, 5)]


def test_merge_small_picks_the_more_similar_neighbour_within_the_limit():
    cum = [0, 50, 55, 105, 110]
    # unit vectors: group 1 (unit 1) points like group 2, not like group 0
    units = np.array([[1, 0], [0, 1], [0, 1], [1, 0]], dtype=np.float64)
    csum = np.vstack([np.zeros((1, 2)), np.cumsum(units, axis=0)])
    groups = [(0, 1), (1, 2), (2, 3), (3, 4)]
    merged = merge_small(cum, groups, csum, min_tokens=10, max_tokens=100)
    # (1,2) joins (2,3) — more similar; (3,4) can only join (1,3)=55 → 60 ≤ 100
    assert merged == [(0, 1), (1, 4)]
    # a tight limit forbids every merge of the tail group: it stays small
    assert merge_small(cum, groups, csum, min_tokens=10, max_tokens=56) == [(0, 1), (1, 3),
                                                                           (3, 4)]


# ---------------------------------------------------------------- the chunker, real models


def test_options_are_validated(m2v):
    for kwargs, flag in [({"breakpoint": "median"}, "--breakpoint"),
                         ({"breakpoint_amount": 120}, "--breakpoint-amount"),
                         ({"semantic_window": 0}, "--semantic-window"),
                         ({"min_tokens": 600}, "--min-tokens"),
                         ({"max_tokens": 0}, "--max-tokens")]:
        with pytest.raises(UsageError, match=flag):
            SemanticChunker(embedder="model2vec", **kwargs)
    ch = SemanticChunker(embedder="model2vec", breakpoint="standard_deviation")
    assert ch.breakpoint == "stddev" and ch.breakpoint_amount == 3.0


def test_registry_builds_it_with_the_options_it_declares(m2v):
    ch = create("chunkers", "semantic", {"embedder": "model2vec", "max_tokens": 100,
                                         "breakpoint": "iqr"})
    assert ch.options.max_tokens == 100 and ch.breakpoint == "iqr"
    assert ch.fingerprint()["embedder"].startswith("model2vec:model2vec-minilm@")
    with pytest.raises(TypeError, match="chunker 'semantic' takes no option 'overlap_tokens'"):
        create("chunkers", "semantic", {"embedder": "model2vec", "overlap_tokens": 5})


def test_empty_and_one_sentence_documents(m2v):
    ch = SemanticChunker(embedder="model2vec", max_tokens=50)
    one = "Just one sentence here, nothing else.  "
    out = ch.chunk_batch(["", one, "   "], [[], [Span(0, len(one))], [Span(0, 3)]])
    assert out[0] == []
    assert [(c.start, c.end) for c in out[1]] == [(0, len(one))]
    assert [(c.start, c.end) for c in out[2]] == [(0, 3)]


def test_one_sentence_longer_than_the_limit_is_cut(m2v, real_sentences):
    long_sentence = " ".join(s.strip().rstrip(".") for s in real_sentences[:60]) + ". "
    text = real_sentences[100] + long_sentence + real_sentences[101]
    spans = [Span(0, len(real_sentences[100])),
             Span(len(real_sentences[100]), len(real_sentences[100]) + len(long_sentence)),
             Span(len(text) - len(real_sentences[101]), len(text))]
    tok = get_tokenizer("cl100k_base")
    assert tok.counts([long_sentence])[0] > 500
    for max_tokens in (40, 128):
        (chunks,) = SemanticChunker(embedder="model2vec", max_tokens=max_tokens,
                                    min_tokens=10).chunk_batch([text], [spans])
        check_chunks(text, chunks, max_tokens)
        assert len(chunks) >= tok.counts([long_sentence])[0] // max_tokens
        for c in chunks:  # the guarantee users rely on: each chunk encoded alone fits
            assert tok.counts([text[c.start : c.end]])[0] <= max_tokens


def _document(pool: list[str], picks: list[int], extra: str) -> tuple[str, list[Span]]:
    text = "".join(pool[i % len(pool)] for i in picks) + extra
    return text, naive_sentences(text)


@settings(max_examples=25)
@given(
    picks=st.lists(st.integers(0, 10_000), max_size=60),
    extra=arbitrary_texts,
    max_tokens=st.integers(8, 300),
    min_frac=st.sampled_from([0.0, 0.3, 0.7]),
    mode=st.sampled_from(["percentile", "stddev", "iqr", "gradient"]),
    window=st.integers(1, 4),
)
def test_tiles_and_never_exceeds_the_limit(m2v, real_sentences, picks, extra, max_tokens,
                                           min_frac, mode, window):
    text, spans = _document(real_sentences, picks, extra)
    min_tokens = int(min_frac * max_tokens)
    ch = SemanticChunker(embedder="model2vec", max_tokens=max_tokens, min_tokens=min_tokens,
                         breakpoint=mode, semantic_window=window)
    (chunks,) = ch.chunk_batch([text], [spans])
    if not text:
        assert chunks == []
        return
    check_chunks(text, chunks, max_tokens)
    # a chunk under the minimum could not have merged with either neighbour
    for i, c in enumerate(chunks):
        if c.n_tokens < min_tokens:
            for j in (i - 1, i + 1):
                if 0 <= j < len(chunks):
                    assert c.n_tokens + chunks[j].n_tokens > max_tokens
    # sentence ranges are consistent with the offsets
    assert chunks[0].sent_start == 0 and chunks[-1].sent_end == len(spans)


@settings(max_examples=8)
@given(docs=st.lists(st.lists(st.integers(0, 10_000), min_size=0, max_size=40), min_size=1,
                     max_size=5),
       max_tokens=st.integers(30, 200))
def test_batching_changes_nothing(m2v, real_sentences, docs, max_tokens):
    """Same chunks whatever the embedder batch size and whichever documents share a batch."""
    pairs = [_document(real_sentences, picks, "") for picks in docs]
    texts = [t for t, _ in pairs]
    spans = [s for _, s in pairs]
    results = [
        SemanticChunker(embedder="model2vec", max_tokens=max_tokens, min_tokens=20,
                        batch_size=bs).chunk_batch(texts, spans)
        for bs in (1, 7, 64)
    ]
    assert results[0] == results[1] == results[2]
    alone = [SemanticChunker(embedder="model2vec", max_tokens=max_tokens, min_tokens=20)
             .chunk_batch([t], [s])[0] for t, s in pairs]
    assert alone == results[0]


def test_min_tokens_reduces_small_chunks_on_real_text(m2v, chroma_dir):
    text = (chroma_dir / "corpora" / "state_of_the_union.md").read_text(encoding="utf-8")
    (spans,) = create("splitters", "rules", {}).split_batch([text])
    plain = SemanticChunker(embedder="model2vec", max_tokens=300, breakpoint_amount=80)
    merged = SemanticChunker(embedder="model2vec", max_tokens=300, min_tokens=100,
                             breakpoint_amount=80)
    (a,) = plain.chunk_batch([text], [spans])
    (b,) = merged.chunk_batch([text], [spans])
    check_chunks(text, a, 300)
    check_chunks(text, b, 300)
    small_a = sum(c.n_tokens < 100 for c in a)
    small_b = sum(c.n_tokens < 100 for c in b)
    assert small_a > 10 and small_b < small_a / 3
    assert len(b) < len(a)
    # a lower percentile means more breaks, hence more (smaller) chunks
    (c,) = SemanticChunker(embedder="model2vec", max_tokens=300,
                           breakpoint_amount=50).chunk_batch([text], [spans])
    assert len(c) > len(a)


def test_minilm_chunker_on_real_text(minilm, real_sentences):
    """The default embedder end to end; the topic shift is where a break lands."""
    sotu = "".join(real_sentences[200:215])
    cooking = ("Preheat the oven to two hundred degrees. Whisk the eggs with the sugar until "
               "pale. Fold in the flour gently. Bake the cake for forty minutes. ")
    text = sotu + cooking
    spans = naive_sentences(text)
    ch = SemanticChunker(embedder="minilm", device="cpu", max_tokens=2000,
                         breakpoint="percentile", breakpoint_amount=90)
    (chunks,) = ch.chunk_batch([text], [spans])
    check_chunks(text, chunks, 2000)
    assert len(sotu) in {c.start for c in chunks}
    # and with another batch size the same chunks
    again = SemanticChunker(embedder="minilm", device="cpu", max_tokens=2000,
                            breakpoint="percentile", breakpoint_amount=90, batch_size=3)
    assert again.chunk_batch([text], [spans]) == [chunks]
