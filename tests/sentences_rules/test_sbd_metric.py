"""The SBD metric on hand-built cases whose P/R/F1 are computed by hand."""

from __future__ import annotations

import json

import pytest

from segtool.quality.sbd import GoldDoc, boundary_sets, load_gold, normalise_end, score
from segtool.types import InputError, Span


def doc(text: str, spans: list[tuple[int, int]], doc_id: str = "d") -> GoldDoc:
    return GoldDoc(id=doc_id, text=text, sentences=tuple(Span(s, e) for s, e in spans))


def spans(pairs: list[tuple[int, int]]) -> list[Span]:
    return [Span(s, e) for s, e in pairs]


TEXT = "Aa. Bb. Cc."  # gold sentences end at 3, 7 (and 11, the final end, left out)
GOLD = doc(TEXT, [(0, 4), (4, 8), (8, 11)])


def test_normalise_end_moves_back_over_whitespace() -> None:
    assert normalise_end("Aa. \n Bb.", 6) == 3
    assert normalise_end("Aa. Bb.", 3) == 3
    assert normalise_end("   ", 3) == 0


def test_perfect_prediction() -> None:
    s = score([GOLD], [spans([(0, 4), (4, 8), (8, 11)])])
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert (s.docs, s.exact_docs) == (1, 1)


def test_whitespace_side_of_the_end_is_not_an_error() -> None:
    # ends before the space (3, 7) instead of after it (4, 8): same boundaries
    s = score([GOLD], [spans([(0, 3), (3, 7), (7, 11)])])
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)
    assert s.exact_docs == 1


def test_one_missed_boundary() -> None:
    # predicted ends {3}; gold {3, 7}: tp=1 fp=0 fn=1 -> P=1, R=1/2, F1=2/3
    s = score([GOLD], [spans([(0, 4), (4, 11)])])
    assert (s.tp, s.fp, s.fn) == (1, 0, 1)
    assert s.precision == 1.0
    assert s.recall == 0.5
    assert s.f1 == pytest.approx(2 / 3)
    assert s.exact_docs == 0


def test_one_false_boundary() -> None:
    # predicted ends {1, 3, 7}: tp=2 fp=1 fn=0 -> P=2/3, R=1, F1=0.8
    s = score([GOLD], [spans([(0, 1), (1, 4), (4, 8), (8, 11)])])
    assert (s.tp, s.fp, s.fn) == (2, 1, 0)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)


def test_micro_average_over_documents() -> None:
    other = doc("Xx yy. Zz.", [(0, 7), (7, 10)], "e")  # gold internal end: 6
    # doc 1: ends {3} -> tp1 fn1; doc 2: ends {2, 6} -> tp1 fp1
    s = score([GOLD, other], [spans([(0, 4), (4, 11)]), spans([(0, 3), (3, 7), (7, 10)])])
    assert (s.tp, s.fp, s.fn) == (2, 1, 1)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    assert (s.docs, s.exact_docs) == (2, 0)


def test_one_sentence_document_exact_only_without_internal_boundaries() -> None:
    one = doc("Just one sentence here.", [(0, 23)])
    good = score([one], [spans([(0, 23)])])
    assert (good.tp, good.fp, good.fn, good.exact_docs) == (0, 0, 0, 1)
    assert (good.precision, good.recall, good.f1) == (1.0, 1.0, 1.0)
    bad = score([one], [spans([(0, 5), (5, 23)])])
    assert (bad.tp, bad.fp, bad.fn, bad.exact_docs) == (0, 1, 0, 0)
    assert bad.precision == 0.0
    assert bad.f1 == 0.0


def test_no_prediction_at_all() -> None:
    s = score([GOLD], [spans([(0, 11)])])
    assert (s.tp, s.fp, s.fn) == (0, 0, 2)
    assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)


def test_text_outside_gold_spans_only_end_positions_count() -> None:
    # legal files: a header and a page footer lie outside every gold sentence
    text = "HEADER\nAa. Bb.\n\nPage 2"
    legal = doc(text, [(7, 10), (11, 14)])  # final gold end 14 is left out
    gold_set, pred_set = boundary_sets(legal, spans([(0, 7), (7, 11), (11, 16), (16, 22)]))
    assert gold_set == {10}
    assert pred_set == {6, 10}  # 14 (gold's final end) and 22 (text end) are ignored
    s = score([legal], [spans([(0, 7), (7, 11), (11, 16), (16, 22)])])
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)


def test_tuple_spans_are_accepted() -> None:
    s = score([GOLD], [[(0, 4), (4, 8), (8, 11)]])
    assert s.f1 == 1.0


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 predictions"):
        score([GOLD], [[], []])


def test_load_gold_reads_jsonl(tmp_path) -> None:
    path = tmp_path / "g.jsonl"
    rows = [
        {"id": "a", "text": "Aa. Bb.", "sentences": [[4, 7], [0, 3]], "meta": {"k": 1}},
        {"id": "b", "text": "X", "sentences": [[0, 1]], "paragraphs": [[0, 1]]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    docs = load_gold(path)
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[0].sentences == (Span(0, 3), Span(4, 7))  # sorted
    assert docs[0].meta == {"k": 1}
    assert docs[1].paragraphs == (Span(0, 1),)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a"]', "not a JSON object"),
        ('{"id": "x", "sentences": []}', "no string 'text'"),
        ('{"id": "x", "text": "ab"}', "no 'sentences'"),
        ('{"id": "x", "text": "ab", "sentences": [[0, 5]]}', "outside the text"),
        ('{"id": "x", "text": "ab", "sentences": [[0]]}', "bad span"),
    ],
)
def test_load_gold_rejects_bad_records(tmp_path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_gold(path)


def test_load_gold_missing_file(tmp_path) -> None:
    with pytest.raises(InputError, match="cannot read gold file"):
        load_gold(tmp_path / "nope.jsonl")
