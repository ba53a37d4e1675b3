"""Model-free statistics of a chunking: sizes, boundaries, limits, tiling, duplicates.

Cheap enough to run on every chunk of a large corpus (one pass of plain
string operations per chunk plus numpy for the distribution), so ``segtool
score`` always reports them next to the model-based measures.

"Ends at a sentence boundary" is decided without a sentence splitter, so the
check means the same for chunks of any tool and stays fast: a chunk ends at
one when its last visible character (after closing quotes and brackets) is a
sentence terminator, when a line break follows its text (in the chunk's own
trailing whitespace or, with the document known, right after it), or when it
is the last chunk of its document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TERMINATORS = frozenset(".!?…。！？｡؟۔।॥")
CLOSERS = "\"'”’»)]}›」』）"


@dataclass(frozen=True)
class Chunk:
    """One chunk as scored: where it came from (``where`` = ``file:line`` or a config name)."""

    doc_id: str
    start: int | None
    end: int | None
    text: str
    n_tokens: int | None
    where: str = ""


def _ends_sentence(text: str, following: str) -> bool:
    body = text.rstrip()
    if len(body) < len(text) and "\n" in text[len(body):]:
        return True
    if following[:1] in ("\n", "\r"):
        return True
    body = body.rstrip(CLOSERS)
    return bool(body) and body[-1] in TERMINATORS


def percentiles(values: np.ndarray) -> dict[str, float]:
    """min / p5 / p50 / p95 / max / mean (zeros for an empty set)."""
    if values.size == 0:
        return {k: 0.0 for k in ("min", "p5", "p50", "p95", "max", "mean")}
    p = np.percentile(values, [0, 5, 50, 95, 100])
    return {"min": float(p[0]), "p5": float(p[1]), "p50": float(p[2]), "p95": float(p[3]),
            "max": float(p[4]), "mean": float(values.mean())}


def histogram(values: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    """Counts and bin edges of the token lengths (integer-friendly edges)."""
    if values.size == 0:
        return {"counts": [], "edges": []}
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        hi = lo + 1
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"counts": [int(c) for c in counts], "edges": [float(e) for e in edges]}


def structural_stats(chunks: Sequence[Chunk], tokens: Sequence[int], *,
                     docs: Mapping[str, str] | None = None, max_tokens: int | None = None,
                     bins: int = 20, examples: int = 5) -> dict[str, Any]:
    """All model-free statistics of one chunking (a JSON-ready dict).

    ``tokens[i]`` is the token count of ``chunks[i]``.  With ``docs`` (doc id →
    text) offsets are checked against the text; without, only against each
    other.  ``examples`` caps the ``file:line`` samples kept for each problem.
    """
    n = len(chunks)
    lengths = np.asarray(tokens, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    chars = sum(len(c.text) for c in chunks)
    empty: list[str] = []
    dup: list[str] = []
    seen: set[str] = set()
    ends = 0
    last_of_doc = _last_of_doc(chunks)
    for i, c in enumerate(chunks):
        text = c.text
        if not text or text.isspace():
            empty.append(c.where)
            continue
        if text in seen:
            dup.append(c.where)
        else:
            seen.add(text)
        following = ""
        if docs is not None and c.end is not None:
            doc = docs.get(c.doc_id)
            if doc is not None:
                following = doc[c.end : c.end + 1]
        if i in last_of_doc or _ends_sentence(text, following):
            ends += 1
    over = np.flatnonzero(lengths > max_tokens) if max_tokens is not None and n else np.zeros(0, int)
    tiling = tiling_check(chunks, docs, examples=examples)
    doc_ids = {c.doc_id for c in chunks}
    return {
        "chunks": n,
        "documents": len(doc_ids),
        "chars": chars,
        "tokens": {**percentiles(lengths), "total": int(lengths.sum()) if n else 0},
        "histogram": histogram(lengths, bins),
        "sentence_end_share": ends / max(1, n - len(empty)) if n else 0.0,
        "max_tokens": max_tokens,
        "over_limit": int(over.size),
        "over_limit_examples": [chunks[int(i)].where for i in over[:examples]],
        "empty": len(empty),
        "empty_examples": empty[:examples],
        "duplicates": len(dup),
        "duplicate_examples": dup[:examples],
        **tiling,
    }


def _last_of_doc(chunks: Sequence[Chunk]) -> set[int]:
    """Indices of the chunk that ends last in each document (by offset, else by order)."""
    best: dict[str, tuple[int, int]] = {}
    for i, c in enumerate(chunks):
        key = c.end if c.end is not None else i
        if c.doc_id not in best or key >= best[c.doc_id][0]:
            best[c.doc_id] = (key, i)
    return {i for _, i in best.values()}


def tiling_check(chunks: Sequence[Chunk], docs: Mapping[str, str] | None = None, *,
                 examples: int = 5) -> dict[str, Any]:
    """Offsets: in range, text equal to the document slice, gaps and overlaps per document.

    A *gap* is document text no chunk covers that is not only whitespace (a
    chunker may drop the whitespace between chunks); an *overlap* is a chunk
    starting before the previous one (in offset order) ended.  Without offsets
    nothing can be checked and ``offsets`` is ``False``.
    """
    with_offsets = [c for c in chunks if c.start is not None and c.end is not None]
    out: dict[str, Any] = {"offsets": bool(with_offsets) and len(with_offsets) == len(chunks),
                           "offset_errors": 0, "offset_error_examples": [], "gaps": 0,
                           "gap_chars": 0, "gap_examples": [], "overlaps": 0,
                           "overlap_examples": [], "coverage": None}
    if not out["offsets"]:
        return out
    bad: list[str] = []
    by_doc: dict[str, list[Chunk]] = {}
    for c in with_offsets:
        by_doc.setdefault(c.doc_id, []).append(c)
        assert c.start is not None and c.end is not None
        doc = docs.get(c.doc_id) if docs is not None else None
        if c.start < 0 or c.end < c.start or (doc is not None and (
                c.end > len(doc) or doc[c.start : c.end] != c.text)) or (
                doc is None and c.end - c.start != len(c.text)):
            bad.append(c.where)
    covered = total = 0
    gaps: list[str] = []
    overlaps: list[str] = []
    gap_chars = 0
    for doc_id, items in by_doc.items():
        items.sort(key=lambda c: (c.start, c.end))
        doc = docs.get(doc_id) if docs is not None else None
        pos = 0
        for c in items:
            assert c.start is not None and c.end is not None
            if c.start < pos:
                overlaps.append(c.where)
            elif c.start > pos and doc is not None and doc[pos : c.start].strip():
                gaps.append(c.where)
                gap_chars += c.start - pos
            covered += max(0, c.end - max(pos, c.start))
            pos = max(pos, c.end)
        if doc is not None:
            if doc[pos:].strip():
                gaps.append(f"{doc_id}: end")
                gap_chars += len(doc) - pos
            total += len(doc)
    out.update({"offset_errors": len(bad), "offset_error_examples": bad[:examples],
                "gaps": len(gaps), "gap_chars": gap_chars, "gap_examples": gaps[:examples],
                "overlaps": len(overlaps), "overlap_examples": overlaps[:examples],
                "coverage": covered / total if total else None})
    return out
