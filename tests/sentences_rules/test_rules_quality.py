"""Quality of the ``rules`` splitter on the real dev data, measured with the SBD metric.

Targets (docs/HELPERS + task brief): at least 40 of the 48 Golden Rules
documents exactly right, and an F1 at least nupunkt's on each of six dev files.
"""

from __future__ import annotations

import pytest

from segtool.quality.sbd import score

TARGET_FILES = [
    "en_general_ud.jsonl",
    "en_news_ersatz.jsonl",
    "en_wsj_ptb_sample.jsonl",
    "en_golden_rules.jsonl",
    "legal_en_savelka.jsonl",
    "legal_multi_multilegalsbd.jsonl",
]


def test_golden_rules_exact_documents(gold, rules) -> None:
    docs = gold("en_golden_rules.jsonl")
    assert len(docs) == 48
    result = score(docs, [rules.split(d.text) for d in docs])
    wrong = [
        d.id for d, pred in zip(docs, [rules.split(d.text) for d in docs], strict=True)
        if score([d], [pred]).exact_docs == 0
    ]
    assert result.exact_docs >= 40, f"only {result.exact_docs}/48 exact; wrong: {wrong}"


@pytest.mark.parametrize("name", TARGET_FILES)
def test_rules_f1_at_least_nupunkt(gold, rules, nupunkt_splitter, name: str) -> None:
    docs = gold(name)
    ours = score(docs, [rules.split(d.text) for d in docs])
    theirs = score(docs, [nupunkt_splitter.split(d.text) for d in docs])
    assert ours.f1 >= theirs.f1, (
        f"{name}: rules F1 {ours.f1:.4f} < nupunkt F1 {theirs.f1:.4f} "
        f"(rules tp={ours.tp} fp={ours.fp} fn={ours.fn})"
    )


@pytest.mark.parametrize("name", ["de_general.jsonl", "fr_general.jsonl", "es_general.jsonl"])
def test_other_languages_not_terrible(gold, rules, name: str) -> None:
    docs = gold(name)
    result = score(docs, [rules.split(d.text) for d in docs])
    assert result.f1 >= 0.9, f"{name}: F1 {result.f1:.3f}"
