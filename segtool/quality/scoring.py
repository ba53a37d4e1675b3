"""``segtool score`` without the CLI: gather chunkings, measure them, rank them.

A *chunking* is one set of chunks of some documents: a chunk file (segtool's
own, or another tool's with ``doc_id`` plus offsets and/or text) or the output
of a segtool chunker run on ``--docs``.  Each gets the model-free statistics
of :mod:`segtool.quality.structural` and, with models, the measures of
:mod:`segtool.quality.chunkscore`; several chunkings of the same documents are
ranked by ChunkScore over the documents they share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from segtool.quality import chunkscore as cs
from segtool.quality.structural import Chunk, structural_stats
from segtool.types import InputError, UsageError


@dataclass
class Chunking:
    """One candidate: a name, its chunks in document order, and the texts of its documents."""

    name: str
    chunks: list[Chunk]
    docs: Mapping[str, str] | None = None
    config: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- inputs


def chunking_from_file(path: str, docs: Mapping[str, str] | None) -> Chunking:
    """Read a chunk file; text-only rows are located in ``docs``, offset-only rows sliced from it."""
    from segtool.quality.chunk_files import locate_chunks, read_chunk_rows, resolve_doc_id

    rows = list(read_chunk_rows(path))
    if not rows:
        raise InputError(f"no chunks — {path} — the file is empty")
    aliases: dict[str, str | None] = {}
    by_doc: dict[str, list[Any]] = {}
    for row in rows:
        doc_id = row.doc_id
        if docs is not None:
            found = resolve_doc_id(doc_id, docs, aliases)
            if found is None:
                raise InputError(f"document {doc_id!r} is not among --docs — {row.where} — pass "
                                 "the document the chunks were made from with --docs")
            doc_id = found
        elif not row.has_text:
            raise UsageError(f"chunk rows carry only offsets — {row.where} — pass the source "
                             "documents with --docs so their text can be read")
        by_doc.setdefault(doc_id, []).append(row)
    chunks: list[Chunk] = []
    for doc_id, items in by_doc.items():
        text_only = [r for r in items if r.start is None]
        spans: dict[int, tuple[int, int]] = {}
        if text_only and docs is not None:
            spans = dict(zip((id(r) for r in text_only), locate_chunks(text_only, docs[doc_id]),
                             strict=True))
        doc_chunks = []
        for r in items:
            start, end = (r.start, r.end) if r.start is not None else spans.get(id(r), (None, None))
            text = r.text
            if not r.has_text and docs is not None and start is not None and end is not None:
                text = docs[doc_id][start:end]
            doc_chunks.append(Chunk(doc_id, start, end, text, r.n_tokens, r.where))
        if all(c.start is not None for c in doc_chunks):
            doc_chunks.sort(key=lambda c: (c.start, c.end))
        chunks.extend(doc_chunks)
    return Chunking(path, chunks, docs, {"chunks_file": path})


def parse_chunker_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``NAME`` or ``NAME:key=value,key=value`` → name and raw overrides (typed later)."""
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise UsageError(f"--chunker {spec!r}: give a chunker name, e.g. window or "
                         "window:max_tokens=400")
    overrides: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq:
            raise UsageError(f"--chunker {spec!r}: {part!r} is not key=value — e.g. "
                             "window:max_tokens=400")
        overrides[key.strip().replace("-", "_")] = value.strip()
    return name, overrides


def typed_overrides(chunker: str, overrides: Mapping[str, str], spec: str) -> dict[str, Any]:
    from segtool import registry
    from segtool.options import specs_of

    declared = {s.name: s for s in specs_of(registry.resolve("chunkers", chunker))}
    out: dict[str, Any] = {}
    for key, raw in overrides.items():
        opt = declared.get(key)
        if opt is None:
            raise UsageError(f"--chunker {spec!r}: chunker {chunker!r} has no option {key!r} — "
                             "see segtool list --kind chunkers")
        try:
            if opt.type is bool:
                if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                    raise ValueError(raw)
                out[key] = raw.lower() in {"true", "1", "yes"}
            else:
                out[key] = opt.type(raw)
        except ValueError:
            raise UsageError(f"--chunker {spec!r}: {key}={raw!r} is not a "
                             f"{opt.type.__name__}") from None
    return out


def chunkings_from_chunkers(specs: Sequence[str], *, splitter: str, values: Mapping[str, Any],
                            docs: Mapping[str, str]) -> list[Chunking]:
    """Run each chunker configuration on ``docs`` through segtool's pipeline."""
    from segtool import registry
    from segtool.options import specs_of
    from segtool.pipeline import Pipeline
    from segtool.selection import build, identity_key, route
    from segtool.types import Document

    if not docs:
        raise UsageError("--chunker needs documents — pass them as arguments or with --docs")
    split_names = {s.name for s in specs_of(registry.resolve("splitters", splitter))}
    parsed = [parse_chunker_spec(s) for s in specs]
    taken: set[str] = set()
    selections = []
    for spec, (name, raw) in zip(specs, parsed, strict=True):
        declared = {s.name for s in specs_of(registry.resolve("chunkers", name))} | split_names
        mine = {k: v for k, v in values.items()
                if k in declared or (k[:6] in ("split_", "chunk_") and k[6:] in declared)}
        taken |= set(mine)
        mine.update(typed_overrides(name, raw, spec))
        selections.append((spec, route(mine, splitter, name)))
    leftover = {k: v for k, v in values.items() if k not in taken and v is not None}
    if leftover:
        route(leftover, splitter, parsed[0][0])  # raises, naming who takes the option
    documents = [Document(id=doc_id, text=text, source=doc_id) for doc_id, text in docs.items()]
    out = []
    for spec, selection in selections:
        split, chunk = build(selection)
        pipe = Pipeline(split, chunk, key=identity_key(selection, split, chunk))
        chunks = [Chunk(r["doc_id"], r["start"], r["end"], r["text"], r.get("n_tokens"),
                        f"{spec}#{n}") for n, r in enumerate(pipe.run(documents))]
        label = spec if ":" in spec else " ".join(
            [spec, *(f"{k}={v}" for k, v in sorted(selection.chunk_options.items())
                     if k not in {"device", "batch_size", "dtype"})])
        out.append(Chunking(label, chunks, docs, {"chunker": selection.chunker,
                                                  **dict(selection.chunk_options)}))
    return out


# ----------------------------------------------------------------------------- scoring


@dataclass
class Models:
    """The scoring models (either may be None) and the ChunkScore settings."""

    lm: Any = None
    embedder: Any = None
    lam: float = cs.DEFAULT_LAMBDA
    alpha: float = cs.DEFAULT_ALPHA
    boundary_metrics: bool = False
    stickiness_k: float = cs.DEFAULT_STICKINESS_K
    stickiness_window: int = cs.DEFAULT_STICKINESS_WINDOW
    sample_chars: int | None = None
    batch_size: int = 8


def token_counts(chunking: Chunking, counter: Any | None) -> list[int]:
    """The file's ``n_tokens`` when every chunk has one and no tokenizer was chosen, else counted."""
    given = [c.n_tokens for c in chunking.chunks]
    if counter is None and all(n is not None for n in given):
        return [int(n) for n in given]  # type: ignore[arg-type]
    if counter is None:
        from segtool.models.tokens import get_tokenizer

        counter = get_tokenizer("cl100k_base")
    return list(counter.counts([c.text for c in chunking.chunks]))


def _model_input(chunking: Chunking, sample_chars: int | None) -> list[tuple[str, list[Chunk]]]:
    """Chunks per document, in order, cut to those ending within ``sample_chars`` if set."""
    per: dict[str, list[Chunk]] = {}
    for c in chunking.chunks:
        if c.text.strip():
            per.setdefault(c.doc_id, []).append(c)
    if sample_chars is not None:
        for doc_id, items in per.items():
            kept, pos = [], 0
            for c in items:
                pos = c.end if c.end is not None else pos + len(c.text)
                if pos > sample_chars:
                    break
                kept.append(c)
            per[doc_id] = kept
    return list(per.items())


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def score_chunkings(chunkings: Sequence[Chunking], *, models: Models, counter: Any | None,
                    max_tokens: int | None, worst: int = 8,
                    log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Structural stats and model scores of every chunking plus the ranking (JSON-ready)."""
    results = []
    for chunking in chunkings:
        started = time.perf_counter()
        tokens = token_counts(chunking, counter)
        stats = structural_stats(chunking.chunks, tokens, docs=chunking.docs,
                                 max_tokens=max_tokens)
        stats["seconds"] = round(time.perf_counter() - started, 4)
        entry: dict[str, Any] = {"name": chunking.name, "config": chunking.config,
                                 "structural": stats}
        if models.lm is not None or models.embedder is not None:
            entry.update(_model_scores(chunking, models, worst, log))
        results.append(entry)
    return {"chunkings": results, "ranking": ranking(results)}


def _model_scores(chunking: Chunking, models: Models, worst: int,
                  log: Callable[[str], None] | None) -> dict[str, Any]:
    per_doc = _model_input(chunking, models.sample_chars)
    started = time.perf_counter()
    scores = cs.score_documents(
        [(d, [c.text for c in items]) for d, items in per_doc], lm=models.lm,
        embedder=models.embedder, lam=models.lam, alpha=models.alpha,
        boundary_metrics=models.boundary_metrics, stickiness_k=models.stickiness_k,
        stickiness_window=models.stickiness_window, batch_size=models.batch_size,
        log=(lambda m: log(f"{chunking.name}: {m}")) if log else None)
    seconds = time.perf_counter() - started
    docs = [{"doc_id": s.doc_id, "chunks": s.n_chunks, "li": _num(s.li), "sd": _num(s.sd),
             "chunk_score": _num(s.chunk_score), "bc": _num(s.bc), "cs": _num(s.cs),
             "edges": s.edges if models.boundary_metrics else None} for s in scores]
    boundaries = []
    for (doc_id, items), s in zip(per_doc, scores, strict=True):
        for j, ratio in enumerate(s.pair_ratios, start=1):
            if not math.isnan(ratio):
                prev, cur = items[j - 1], items[j]
                boundaries.append({"doc_id": doc_id, "index": j, "where": cur.where,
                                   "start": cur.start, "end": cur.end, "ratio": round(ratio, 6),
                                   "before": prev.text[-400:], "text": cur.text[:600]})
    boundaries.sort(key=lambda b: b["ratio"])
    n_scored = sum(s.n_chunks for s in scores)
    return {
        "scores": {k: _num(v) for k, v in cs.overall(scores).items()},
        "documents_scores": docs,
        "worst_boundaries": boundaries[:worst],
        "model_chunks": n_scored,
        "model_seconds": round(seconds, 3),
    }


def ranking(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chunkings ordered by mean ChunkScore over the documents every chunking scored.

    Only documents all candidates share enter the comparison (a score is
    comparable across chunkings of one document, not across documents).
    Without ChunkScores the input order is kept and ``chunk_score`` is None.
    """
    common: set[str] | None = None
    for r in results:
        ids = {d["doc_id"] for d in r.get("documents_scores", []) if d["chunk_score"] is not None}
        common = ids if common is None else common & ids
    rows = []
    for r in results:
        vals = [d["chunk_score"] for d in r.get("documents_scores", [])
                if common and d["doc_id"] in common and d["chunk_score"] is not None]
        st = r["structural"]
        rows.append({"name": r["name"],
                     "chunk_score": round(sum(vals) / len(vals), 6) if vals else None,
                     "documents": len(vals), "chunks": st["chunks"],
                     "p50_tokens": st["tokens"]["p50"], "p95_tokens": st["tokens"]["p95"],
                     "sentence_end_share": round(st["sentence_end_share"], 4),
                     "over_limit": st["over_limit"], "empty": st["empty"],
                     "duplicates": st["duplicates"]})
    if any(r["chunk_score"] is not None for r in rows):
        rows.sort(key=lambda r: -r["chunk_score"] if r["chunk_score"] is not None else math.inf)
    for n, r in enumerate(rows, start=1):
        r["rank"] = n if r["chunk_score"] is not None else None
    return rows
