"""The intent chunker in-process, with the real model2vec embedder."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from core.strategies import texts as arbitrary_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from segtool.chunkers.intent import IntentChunker
from segtool.intents.sources import GeneratedIntents
from segtool.models.tokens import get_tokenizer
from segtool.registry import create
from segtool.types import BadInput, Document, Span, UsageError

COOKING = ["Bring a large pot of salted water to the boil. ",
           "Add the pasta and stir so it does not stick. ",
           "Cook it for nine minutes, tasting near the end. ",
           "Drain the pasta and keep a cup of the cooking water. ",
           "Toss it with the tomato sauce and a little olive oil. "]
FOOTBALL = ["The home team scored twice in the first half. ",
            "Their striker headed in a corner in the tenth minute. ",
            "After the break the visitors pulled one goal back. ",
            "The goalkeeper saved a penalty in stoppage time. ",
            "The final whistle confirmed a two to one win for the home side. "]


def spans_of(sentences: list[str]) -> tuple[str, list[Span]]:
    text, spans, pos = "", [], 0
    for s in sentences:
        spans.append(Span(pos, pos + len(s)))
        text += s
        pos += len(s)
    return text, spans


@pytest.fixture(scope="session")
def question_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("intents") / "q.txt"
    path.write_text("How do I cook pasta?\nWho won the football match?\n", encoding="utf-8")
    return str(path)


def test_cuts_where_the_topic_and_the_question_change(m2v_ready, question_file):
    text, spans = spans_of(COOKING + FOOTBALL)
    ch = IntentChunker(embedder="model2vec", intents=question_file, intent_beta=0.6)
    (chunks,) = ch.chunk_documents([Document("d", text, "s")], [spans])
    assert 1 < len(chunks) < 10
    assert 5 in [c.sent_start for c in chunks]  # no chunk mixes the two topics
    for c in chunks:
        topic = "How do I cook pasta?" if c.sent_end <= 5 else "Who won the football match?"
        assert c.meta["intent"] == topic
        # intent_score is the cosine of the chunk's mean sentence vector with that intent
        vecs = ch.embedder.embed([s.strip() for s in (COOKING + FOOTBALL)[c.sent_start : c.sent_end]]
                                 + [topic])
        mean = vecs[:-1].mean(axis=0)
        cos = float(mean @ vecs[-1] / np.linalg.norm(mean) / np.linalg.norm(vecs[-1]))
        assert c.meta["intent_score"] == pytest.approx(cos, abs=1e-5)
    # a higher β makes every cut dearer: fewer, longer chunks
    fewer = IntentChunker(embedder="model2vec", intents=question_file, intent_beta=1.0)
    assert len(fewer.chunk_documents([Document("d", text, "s")], [spans])[0]) < len(chunks)


def test_options_are_validated(m2v_ready, question_file, tmp_path):
    for kwargs, flag in [({"intent_beta": -1}, "--intent-beta"),
                         ({"intent_lambda": -0.1}, "--intent-lambda"),
                         ({"intent_max_sentences": 0}, "--intent-max-sentences"),
                         ({"intent_dedupe": 0}, "--intent-dedupe"),
                         ({"max_tokens": 0}, "--max-tokens"),
                         ({"save_intents": question_file}, "--save-intents")]:
        with pytest.raises(UsageError, match=flag):
            IntentChunker(embedder="model2vec", intents=question_file, **kwargs)
    ch = create("chunkers", "intent", {"embedder": "model2vec", "intents": question_file})
    fp = ch.fingerprint()
    assert fp["intents"].startswith("file:sha256:") and fp["embedder"].startswith("model2vec")


def _document(pool: list[str], picks: list[int], extra: str) -> tuple[str, list[Span]]:
    return spans_of([pool[i % len(pool)] for i in picks] + ([extra] if extra else []))


@settings(max_examples=25)
@given(picks=st.lists(st.integers(0, 10_000), max_size=50), extra=arbitrary_texts,
       max_tokens=st.integers(4, 200), beta=st.sampled_from([0.0, 0.3, 0.6, 2.0]),
       lam=st.sampled_from([0.0, 0.0005, 0.05]), max_len=st.integers(1, 20))
def test_tiles_and_never_exceeds_the_limit_re_encoded(m2v_ready, sotu_sentences, question_file,
                                                      picks, extra, max_tokens, beta, lam,
                                                      max_len):
    text, spans = _document(sotu_sentences, picks, extra)
    if not text.strip():
        return
    ch = IntentChunker(embedder="model2vec", intents=question_file, max_tokens=max_tokens,
                       intent_beta=beta, intent_lambda=lam, intent_max_sentences=max_len)
    (chunks,) = ch.chunk_documents([Document("d", text, "s")], [spans])
    tok = get_tokenizer("cl100k_base")
    assert "".join(text[c.start : c.end] for c in chunks) == text
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    for c in chunks:  # what a user checks: each chunk, encoded on its own
        assert c.n_tokens == tok.counts([text[c.start : c.end]])[0] <= max_tokens
        assert c.sent_end - c.sent_start <= max_len
        assert c.meta["intent"] in ("How do I cook pasta?", "Who won the football match?")
        assert -1.0 <= c.meta["intent_score"] <= 1.0
    assert chunks[0].sent_start == 0 and chunks[-1].sent_end == len(spans)


def test_a_sentence_longer_than_the_limit_is_cut_first(m2v_ready, sotu_sentences, question_file):
    long_sentence = " ".join(s.strip().rstrip(".") for s in sotu_sentences[:40]) + ". "
    text, spans = spans_of([sotu_sentences[50], long_sentence, sotu_sentences[51]])
    tok = get_tokenizer("cl100k_base")
    ch = IntentChunker(embedder="model2vec", intents=question_file, max_tokens=60,
                       intent_beta=2.0)
    (chunks,) = ch.chunk_documents([Document("d", text, "s")], [spans])
    assert "".join(text[c.start : c.end] for c in chunks) == text
    assert len(chunks) >= tok.counts([long_sentence])[0] // 60
    assert all(tok.counts([text[c.start : c.end]])[0] == c.n_tokens <= 60 for c in chunks)


@settings(max_examples=6)
@given(docs=st.lists(st.lists(st.integers(0, 10_000), min_size=1, max_size=30), min_size=1,
                     max_size=5),
       batch_size=st.integers(1, 9))
def test_batch_size_and_batch_mates_change_nothing(m2v_ready, sotu_sentences, question_file,
                                                   docs, batch_size):
    pairs = [_document(sotu_sentences, picks, "") for picks in docs]
    documents = [Document(str(k), t, "s") for k, (t, _) in enumerate(pairs)]
    spans = [s for _, s in pairs]
    whole = IntentChunker(embedder="model2vec", intents=question_file, batch_size=64,
                          intent_beta=0.4).chunk_documents(documents, spans)
    small = IntentChunker(embedder="model2vec", intents=question_file, batch_size=batch_size,
                          intent_beta=0.4)
    alone = [small.chunk_documents([d], [s])[0] for d, s in zip(documents, spans, strict=True)]
    assert whole == alone


def test_documents_without_intents_are_bad_input_and_empty_lists_are_fine(m2v_ready, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"doc_id": "a", "intents": ["How do I cook pasta?"]}\n'
                    '{"doc_id": "b", "intents": []}\n', encoding="utf-8")
    text, spans = spans_of(COOKING)
    ch = IntentChunker(embedder="model2vec", intents=str(path), intent_beta=0.3,
                       intent_lambda=0.01)
    a, b, c = ch.chunk_documents([Document(i, text, "s") for i in "abc"], [spans] * 3)
    assert a[0].meta["intent"] == "How do I cook pasta?"
    # no intent: relevance 0 everywhere, sizes from β against λ·|C|² (√(0.3/0.01) ≈ 5.5)
    assert [(x.sent_start, x.sent_end) for x in b] == [(0, 5)]
    assert b[0].meta == {"intent": None, "intent_score": None}
    assert isinstance(c, BadInput) and "no intents for document 'c'" in c.message()


class _RepeatingGenerator:
    """A stand-in for a language model that phrases one question three ways (not under test)."""

    identity = "test:repeating"

    def generate(self, docs):
        return [["How do I cook pasta?", "How do I cook pasta ?", "how do i cook pasta?",
                 "Who won the football match?", "How do I cook pasta?"] for _ in docs]


def test_generated_intents_lose_near_duplicates_and_are_saved(m2v_ready, tmp_path, question_file):
    saved = tmp_path / "saved.jsonl"
    ch = IntentChunker(embedder="model2vec", intents=question_file, save_intents=str(saved),
                       intent_beta=0.4)
    ch.source = GeneratedIntents(_RepeatingGenerator())  # a generated source, as the LM gives
    text, spans = spans_of(COOKING + FOOTBALL)
    (chunks,) = ch.chunk_documents([Document("d", text, "s")], [spans])
    kept = json.loads(saved.read_text(encoding="utf-8"))["intents"]
    assert kept == ["How do I cook pasta?", "Who won the football match?"]
    assert {c.meta["intent"] for c in chunks} <= set(kept)
    # a person's repeated phrasings are all kept (exact repeats only are dropped)
    user = IntentChunker(embedder="model2vec", intents=question_file)
    user.source.common = _RepeatingGenerator().generate([None])[0]
    from segtool.intents import dedupe

    assert len(dedupe.exact(user.source.lookup([Document("d", text, "s")])[0])) == 4
