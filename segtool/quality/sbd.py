"""Sentence-boundary detection (SBD) quality: precision / recall / F1 over end offsets.

docs/algorithms.md defines the metric: compare predicted sentence *end* offsets with
gold end offsets, leave out each document's final end (trivially a boundary),
and compare offsets after stripping trailing whitespace.  Whether a splitter
puts the space after a full stop into the sentence or into the next one is a
convention, not an error, so every end ``e`` is mapped to the position just
after the last non-whitespace character before ``e``.

Details that the one-line definition leaves open, and what this module does:

* "Final end": the gold document's last sentence end (normalised).  Predicted
  ends at that position, and at the end of the text, are ignored in both
  directions.  In the legal files text may lie outside every gold span (headers,
  trailing page furniture); the metric still only compares end positions, so a
  predicted boundary inside such text counts as a false positive.
* Ends are compared as sets: duplicates (two gold spans that normalise to the
  same end) count once, and ends that normalise to 0 are dropped.
* Empty denominators: precision is 1.0 when nothing was predicted, recall is 1.0
  when there is nothing to find (no prediction / no gold is no error); F1 is 0.0
  when both are 0.
* ``exact_docs`` counts documents whose whole boundary set (after the
  exclusions above) equals the gold set; a one-sentence document is exact when
  the splitter proposes no internal boundary.

Standard library only, so the metric can run anywhere the data can.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segtool.types import InputError, Span


@dataclass(frozen=True, slots=True)
class GoldDoc:
    """One annotated document: text and its gold sentence spans (sorted)."""

    id: str
    text: str
    sentences: tuple[Span, ...]
    paragraphs: tuple[Span, ...] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SbdScore:
    """Micro-averaged boundary counts over a set of documents."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    docs: int
    exact_docs: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1,
            "docs": self.docs, "exact_docs": self.exact_docs,
        }


def _spans(raw: Any, *, n: int, where: str, what: str) -> tuple[Span, ...]:
    if not isinstance(raw, list):
        raise InputError(f"'{what}' is not a list — {where} — expected [[start, end], ...]")
    spans = []
    for item in raw:
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            raise InputError(
                f"bad span {item!r} in '{what}' — {where} — expected [start, end] integers"
            )
        start, end = item
        if not 0 <= start <= end <= n:
            raise InputError(
                f"span {item!r} in '{what}' lies outside the text (length {n}) — {where} — "
                "offsets are code-point offsets into 'text'"
            )
        spans.append(Span(start, end))
    return tuple(spans)


def parse_gold(record: Mapping[str, Any], *, where: str = "<record>") -> GoldDoc:
    """Validate one JSON object of a gold file and turn it into a :class:`GoldDoc`."""
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(f"record has no string 'text' — {where} — add the document text")
    if "sentences" not in record:
        raise InputError(f"record has no 'sentences' — {where} — add gold [[start, end], ...]")
    sentences = _spans(record["sentences"], n=len(text), where=where, what="sentences")
    paragraphs = None
    if record.get("paragraphs") is not None:
        paragraphs = _spans(record["paragraphs"], n=len(text), where=where, what="paragraphs")
    meta = record.get("meta") or {}
    return GoldDoc(
        id=str(record.get("id", where)),
        text=text,
        sentences=tuple(sorted(sentences, key=lambda s: (s.start, s.end))),
        paragraphs=paragraphs,
        meta=meta if isinstance(meta, Mapping) else {"meta": meta},
    )


def load_gold(path: str | Path) -> list[GoldDoc]:
    """Read a gold JSONL file (``{"id", "text", "sentences": [[s, e], ...]}`` per line)."""
    path = Path(path)
    docs: list[GoldDoc] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read gold file: {exc.strerror} — {path} — check the path") from exc
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON ({exc.msg}) — {where} — one object per line") from exc
            if not isinstance(record, dict):
                raise InputError(f"line is not a JSON object — {where} — one object per line")
            docs.append(parse_gold(record, where=where))
    return docs


def normalise_end(text: str, end: int) -> int:
    """Move ``end`` back over whitespace: the position after the last non-space before it."""
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


def _end_of(span: Any) -> int:
    if isinstance(span, Span):
        return span.end
    end = getattr(span, "end", None)
    if isinstance(end, int):
        return end
    return int(span[1])  # a (start, end) pair


def boundary_sets(doc: GoldDoc, predicted: Iterable[Any]) -> tuple[set[int], set[int]]:
    """Normalised (gold, predicted) internal end sets of one document, as scored."""
    text = doc.text
    gold = {normalise_end(text, s.end) for s in doc.sentences}
    ignore = {0, normalise_end(text, len(text))}
    if doc.sentences:
        ignore.add(normalise_end(text, doc.sentences[-1].end))
    pred = {normalise_end(text, min(max(_end_of(s), 0), len(text))) for s in predicted}
    return gold - ignore, pred - ignore


def _ratios(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(gold_docs: Sequence[GoldDoc], predicted: Sequence[Sequence[Any]]) -> SbdScore:
    """Micro P/R/F1 of predicted sentence spans (one list per gold doc, same order)."""
    if len(gold_docs) != len(predicted):
        raise ValueError(
            f"score(): {len(gold_docs)} gold documents but {len(predicted)} predictions"
        )
    tp = fp = fn = exact = 0
    for doc, spans in zip(gold_docs, predicted, strict=True):
        gold, pred = boundary_sets(doc, spans)
        hit = len(gold & pred)
        tp += hit
        fp += len(pred) - hit
        fn += len(gold) - hit
        exact += gold == pred
    precision, recall, f1 = _ratios(tp, fp, fn)
    return SbdScore(tp, fp, fn, precision, recall, f1, len(gold_docs), exact)
