"""Retrieval evaluation with gold spans (Chroma's "Evaluating Chunking Strategies").

Each question comes with reference spans of one corpus text.  Questions and
chunks are embedded, every question retrieves its top-k chunks by cosine
similarity, and the retrieved character ranges are compared with the
reference ranges.

Definitions (all sets are sets of *character positions* of one corpus):

* ``H`` = union of the question's reference spans; ``R`` = the retrieved
  chunks (a list: a chunk retrieved twice, or two overlapping chunks, count
  twice in ``Σ|R|``); ``∪R`` their union.
* ``overlap = |H ∩ ∪R|``
* ``recall = overlap / |H|``
* ``precision = overlap / Σ|R|``
* ``IoU = overlap / (Σ|R| + |H \\ ∪R|)``
* ``precision-Ω`` = ``|H ∩ ∪R*| / Σ|R*|`` where ``R*`` is *every* chunk of the
  corpus that shares at least one character with ``H``: the precision a
  retriever that finds all the reference text, and nothing else, would get with
  this chunking (the best the chunking allows at full recall).  It does not
  depend on ``k`` or on the embedder.

Choices where the one-line definitions leave room, and where segtool differs
from the reference code (``brandonstarxel/chunking_evaluation``):

* **Characters, not tokens.**  The report speaks of token-level relevance, but
  its code compares character ranges; so does segtool, because character
  offsets are exact for any tokenizer, while token ranges would make the score
  depend on the tokenizer used to count.  With a fixed tokenizer the two differ
  only by the varying characters-per-token ratio.
* **Retrieval scope.**  The reference code queries one collection holding the
  chunks of *all* corpora; a chunk from another corpus never counts as
  relevant but its length still enters ``Σ|R|``.  segtool by default retrieves
  among the chunks of the question's own corpus (``retrieve_from="corpus"``),
  which isolates the chunking from cross-corpus confusion;
  ``retrieve_from="all"`` reproduces the reference set-up.
* **Touching is not overlapping.**  The reference treats a chunk that ends
  exactly where a reference starts as "containing" it (an empty intersection)
  and adds its length to the Ω denominator; segtool requires at least one
  shared character.
* ``|H|`` is the size of the union of the references (the reference code sums
  their lengths; the dev set has no overlapping references, so both agree).
* Ω's denominator is ``Σ|R*|``, as in precision; the reference code takes the
  union of ``R*`` plus reference text no chunk covers.  For chunkings that tile
  the corpus without overlap the two are equal.
* A chunk with an overlap context (``ctx_start``) is retrieved and scored as
  ``[ctx_start, end)`` — the text a RAG system would embed and hand on.

Standard library plus numpy; embedding goes through :mod:`segtool.models.embedders`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segtool.types import InputError, UsageError

Interval = tuple[int, int]


# --------------------------------------------------------------------------- intervals


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-empty intervals covering the same positions (touching ones join)."""
    out: list[Interval] = []
    for a, b in sorted((a, b) for a, b in intervals if b > a):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def size(intervals: Iterable[Interval]) -> int:
    """Σ lengths (callers pass a union when they want covered positions)."""
    return sum(b - a for a, b in intervals)


def intersect(xs: Sequence[Interval], ys: Sequence[Interval]) -> list[Interval]:
    """Intersection of two *unions* (sorted, disjoint), by a two-pointer sweep."""
    out: list[Interval] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a = max(xs[i][0], ys[j][0])
        b = min(xs[i][1], ys[j][1])
        if b > a:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def overlaps(interval: Interval, union_: Sequence[Interval]) -> bool:
    """True when ``interval`` shares at least one position with the union."""
    return bool(intersect([interval], union_)) if interval[1] > interval[0] else False


def retrieval_scores(references: Sequence[Interval], retrieved: Sequence[Interval],
                     foreign_chars: int = 0) -> dict[str, float]:
    """recall, precision and IoU of one question's retrieved chunks (module docstring).

    ``foreign_chars`` is the length of retrieved chunks from *other* corpora
    (``retrieve_from="all"``): never relevant, but part of ``Σ|R|``.
    """
    gold = union(references)
    gold_size = size(gold)
    hit = size(intersect(gold, union(retrieved)))
    total = size(retrieved) + foreign_chars
    missed = gold_size - hit
    return {
        "recall": hit / gold_size if gold_size else 0.0,
        "precision": hit / total if total else 0.0,
        "iou": hit / (total + missed) if total + missed else 0.0,
    }


def precision_omega(references: Sequence[Interval], chunks: Sequence[Interval]) -> float:
    """Precision when every chunk sharing a character with a reference is retrieved."""
    gold = union(references)
    relevant = [c for c in chunks if overlaps(c, gold)]
    total = size(relevant)
    return size(intersect(gold, union(relevant))) / total if total else 0.0


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    corpus_id: str
    question: str
    references: tuple[Interval, ...]
    contents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    corpus_id: str
    start: int  # where the retrievable text starts (ctx_start when there is context)
    end: int
    text: str
    context: str = ""  # heading path embedded before the text (--heading-context), not scored

    def embed_text(self) -> str:
        """What the embedder sees: the heading context, if any, then the chunk's text."""
        return f"{self.context}\n\n{self.text}" if self.context else self.text


def load_questions(path: str | Path) -> list[Question]:
    """Read ``{"id", "corpus_id", "question", "references": [{"start","end","content"}]}`` lines.

    Reference ``content`` is checked later against the corpus text
    (:func:`check_references`); here only the shape is checked.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--questions {path}: no such file — pass a questions.jsonl")
    questions: list[Question] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
                qid = str(rec["id"])
                refs = rec["references"]
                if not isinstance(refs, list) or not refs:
                    raise ValueError("'references' must be a non-empty list")
                spans, contents = [], []
                for ref in refs:
                    a, b = int(ref["start"]), int(ref["end"])
                    if not 0 <= a < b:
                        raise ValueError(f"reference [{a}, {b}) is empty or negative")
                    if not isinstance(ref["content"], str):
                        raise ValueError("reference 'content' must be a string")
                    spans.append((a, b))
                    contents.append(ref["content"])
                q = Question(qid, str(rec["corpus_id"]), str(rec["question"]), tuple(spans),
                             tuple(contents))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"bad question record ({_describe(exc)}) — {where} — expected "
                    '{"id", "corpus_id", "question", "references": [{"start", "end", "content"}]}'
                ) from None
            if q.id in seen:
                raise InputError(f"duplicate question id {q.id!r} — {where}")
            seen.add(q.id)
            questions.append(q)
    if not questions:
        raise InputError(f"no questions — {path} — expected one JSON record per line")
    return questions


def check_references(questions: Sequence[Question], corpora: Mapping[str, str],
                     source: str = "questions") -> None:
    """Every reference must lie in its corpus and its ``content`` equal the corpus text there."""
    for q in questions:
        if q.corpus_id not in corpora:
            raise InputError(
                f"question {q.id}: unknown corpus {q.corpus_id!r} — {source} — available: "
                f"{', '.join(sorted(corpora)) or 'none'} (corpus id = file name without "
                "extension)"
            )
        text = corpora[q.corpus_id]
        for n, ((a, b), content) in enumerate(zip(q.references, q.contents, strict=True)):
            if b > len(text) or text[a:b] != content:
                raise InputError(
                    f"question {q.id}: reference {n} [{a}, {b}) does not match the text of "
                    f"corpus {q.corpus_id!r} — {source} — the corpus file differs from the one "
                    "the questions were written for (offsets are Python str indices)"
                )


def corpus_id_of(doc_id: str) -> str:
    """``"dir/state_of_the_union.md#0"`` → ``"state_of_the_union"`` (file stem, no ``#n``)."""
    base = doc_id.split("#", 1)[0]
    return Path(base).stem or base


def load_chunk_records(path: str | Path, corpora: Mapping[str, str]) -> list[ChunkRecord]:
    """Chunks from a segtool output file (JSONL or Parquet) with doc_id/start/end (+ text)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--chunks {path}: no such file")
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        rows: Iterable[tuple[str, Any]] = (
            (f"{path}:row {i}", r) for i, r in enumerate(pq.read_table(path).to_pylist()))
    else:
        rows = _jsonl_rows(path)
    out: list[ChunkRecord] = []
    for where, rec in rows:
        try:
            cid = corpus_id_of(str(rec["doc_id"]))
            start = rec.get("ctx_start")
            start = int(rec["start"]) if start is None else int(start)
            end = int(rec["end"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"bad chunk record ({_describe(exc)}) — {where} — expected "
                             "doc_id, start, end") from None
        if cid not in corpora:
            raise InputError(f"chunk of unknown corpus {cid!r} — {where} — available: "
                             f"{', '.join(sorted(corpora))}")
        text = corpora[cid]
        if not 0 <= start < end <= len(text):
            raise InputError(f"chunk [{start}, {end}) outside corpus {cid!r} "
                             f"({len(text)} characters) — {where}")
        given = rec.get("text")
        if given is not None and rec.get("ctx_start") is None and given != text[start:end]:
            raise InputError(f"chunk text differs from corpus {cid!r} [{start}, {end}) — "
                             f"{where} — the chunks were made from another version of the file")
        out.append(ChunkRecord(cid, start, end, text[start:end]))
    if not out:
        raise InputError(f"no chunks — {path}")
    return out


def _jsonl_rows(path: Path) -> Iterable[tuple[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{lineno}", json.loads(line)
            except ValueError as exc:
                raise InputError(f"invalid JSON ({_describe(exc)}) — {path}:{lineno}") from None


# --------------------------------------------------------------------------- evaluation


def parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.replace(" ", "").split(",") if x})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1:
        raise UsageError(f"--k {text!r}: expected positive integers, e.g. 1,5,10")
    return ks


def token_stats(counts: Sequence[int]) -> dict[str, float | int]:
    """count/min/p50/p95/max/mean; percentiles by numpy's default linear interpolation."""
    import numpy as np

    if not counts:
        return {"count": 0, "min": 0, "p50": 0.0, "p95": 0.0, "max": 0, "mean": 0.0}
    arr = np.asarray(counts, dtype=np.float64)
    return {
        "count": len(counts),
        "min": int(arr.min()),
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "max": int(arr.max()),
        "mean": float(arr.mean()),
    }


def evaluate(
    questions: Sequence[Question],
    chunks: Sequence[ChunkRecord],
    embedder: Any,
    *,
    ks: Sequence[int] = (1, 5, 10),
    retrieve_from: str = "corpus",
    token_counter: Any = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Scores per corpus and overall, plus one record per question.

    Questions and chunk texts go to the embedder in one call.  Ranking is by
    cosine similarity (rows are normalised), ties broken by chunk order, so the
    result is deterministic.
    """
    import numpy as np

    if retrieve_from not in {"corpus", "all"}:
        raise UsageError(f"--retrieve-from {retrieve_from!r}: use corpus or all")
    ks = sorted(set(ks))
    vectors = embedder.embed([q.question for q in questions] + [c.embed_text() for c in chunks])
    qv, cv = vectors[: len(questions)], vectors[len(questions) :]
    chunk_corpus = np.asarray([c.corpus_id for c in chunks], dtype=object)
    spans = [(c.start, c.end) for c in chunks]
    by_corpus: dict[str, np.ndarray] = {
        cid: np.nonzero(chunk_corpus == cid)[0] for cid in sorted(set(chunk_corpus.tolist()))}
    everything = np.arange(len(chunks))

    per_question: list[dict[str, Any]] = []
    for qi, q in enumerate(questions):
        pool = everything if retrieve_from == "all" else by_corpus.get(q.corpus_id,
                                                                       everything[:0])
        scores = cv[pool] @ qv[qi]
        order = np.argsort(-scores, kind="stable")[: ks[-1]]
        top = pool[order]
        # a chunk of another corpus never overlaps this question's references
        ranked = [spans[i] if chunks[i].corpus_id == q.corpus_id else None for i in top]
        at_k = {}
        for k in ks:
            same = [s for s in ranked[:k] if s is not None]
            other = sum(spans[i][1] - spans[i][0] for i in top[:k]
                        if chunks[i].corpus_id != q.corpus_id)
            at_k[str(k)] = retrieval_scores(q.references, same, other)
        own = [spans[i] for i in by_corpus.get(q.corpus_id, everything[:0])]
        per_question.append({
            "id": q.id,
            "corpus_id": q.corpus_id,
            "precision_omega": precision_omega(q.references, own),
            "at_k": at_k,
            "retrieved": [
                {"corpus_id": chunks[i].corpus_id, "start": spans[i][0], "end": spans[i][1],
                 "score": float(scores[o])}
                for i, o in zip(top.tolist(), order.tolist(), strict=True)
            ],
        })

    summary: dict[str, Any] = {
        "questions": len(questions),
        "references": sum(len(q.references) for q in questions),
        "overall": _aggregate(per_question, ks),
        "per_corpus": {
            cid: _aggregate([r for r in per_question if r["corpus_id"] == cid], ks)
            for cid in sorted({q.corpus_id for q in questions})
        },
        "chunks": _chunk_stats(chunks, token_counter, embedder),
    }
    return summary, per_question


def _aggregate(records: Sequence[Mapping[str, Any]], ks: Sequence[int]) -> dict[str, Any]:
    n = len(records)

    def mean(values: Iterable[float]) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    return {
        "questions": n,
        "precision_omega": mean(r["precision_omega"] for r in records),
        "at_k": {
            str(k): {m: mean(r["at_k"][str(k)][m] for r in records)
                     for m in ("recall", "precision", "iou")}
            for k in ks
        },
    }


def _chunk_stats(chunks: Sequence[ChunkRecord], counter: Any, embedder: Any) -> dict[str, Any]:
    texts = [c.text for c in chunks]
    counts = counter.counts(texts) if counter is not None else [len(t) for t in texts]
    stats: dict[str, Any] = {"unit": getattr(counter, "name", "chars"),
                             **token_stats(counts), "per_corpus": {}}
    for cid in sorted({c.corpus_id for c in chunks}):
        stats["per_corpus"][cid] = token_stats(
            [n for c, n in zip(chunks, counts, strict=True) if c.corpus_id == cid])
    limit = getattr(embedder, "max_input_tokens", None)
    lengths = getattr(embedder, "token_lengths", None)
    if limit and lengths is not None:
        try:
            stats["embedder_truncated"] = sum(n > limit for n in lengths(texts))
            stats["embedder_max_input_tokens"] = int(limit)
        except Exception:  # a backend without a usable tokenizer: leave the field out
            pass
    return stats


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
