"""``eval sentences`` and ``eval chunks`` without the CLI: read, run, score.

Gold files and corpora are read through :mod:`segtool.readers` and components
run through :class:`segtool.pipeline.Pipeline`, exactly as in ``segtool
sentences``/``chunk``: the same decoding rules and errors, the same
cross-document batching, the same records.  What is scored is what a user
would get from the command.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from segtool.pipeline import Pipeline, Record
from segtool.quality.retrieval import ChunkRecord
from segtool.quality.sbd import GoldDoc, parse_gold, score
from segtool.readers import ReadOptions, expand_inputs, read_documents
from segtool.selection import Selection, build, identity, identity_key, route
from segtool.types import BadInput, Document, InputError, Span, UsageError


def _documents(paths: Sequence[str], options: ReadOptions) -> list[Document]:
    """Every document of ``paths``, parts of a huge file joined; bad input stops (exit 1)."""
    docs: list[Document] = []
    for item in read_documents(paths, options):
        if isinstance(item, BadInput):
            raise InputError(item.message())
        if item.part and docs and docs[-1].id == item.id:
            last = docs[-1]
            docs[-1] = Document(last.id, last.text + item.text, last.source, last.meta)
        else:
            docs.append(item)
    return docs


def _run(selection: Selection, docs: Iterable[Document], jobs: int = 1) -> tuple[list[Record], Any]:
    from segtool import executor

    split, chunk = build(selection)
    pipe = Pipeline(split, chunk, key=identity_key(selection, split, chunk),
                    structure=selection.structure)
    records = list(executor.run(pipe, docs, selection=selection, jobs=jobs))
    return records, (split, chunk)


def _values_for(values: Mapping[str, Any], splitters: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Split the given values between several splitters compared in one run.

    Each splitter gets the values it declares; a value none of them takes is
    the usual usage error (raised by routing it to the first splitter).
    """
    from segtool import registry
    from segtool.options import specs_of

    per: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for name in splitters:
        declared = {s.name for s in specs_of(registry.resolve("splitters", name))}
        mine = {k: v for k, v in values.items()
                if k in declared or (k.startswith("split_") and k[6:] in declared)}
        per[name] = mine
        taken |= set(mine)
    leftover = {k: v for k, v in values.items() if k not in taken and v is not None}
    if leftover:
        route(leftover, splitters[0], None)  # raises, naming the components that take it
    return per


# ---------------------------------------------------------------- sentences


def expand_gold(paths: Sequence[str]) -> list[str]:
    """Files as given; directories → their ``*.jsonl`` (sorted); globs expanded (sorted)."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):  # the directory's own gold files, not its sub-folders
            out.extend(sorted(str(f) for f in Path(p).glob("*.jsonl") if f.is_file()))
        else:
            out.extend(expand_inputs([p]))
    if not out:
        raise UsageError(f"--gold {' '.join(paths)}: no gold .jsonl files found — check the path")
    return out


def read_gold(path: str) -> list[GoldDoc]:
    """A gold file read as JSONL documents; each record's spans checked (exit 1 if bad)."""
    docs = _documents([path], ReadOptions(input_format="jsonl", text_field="text"))
    return [parse_gold({"text": d.text, **d.meta}, where=d.id) for d in docs]


def evaluate_sentences(gold: Sequence[str], splitters: Sequence[str],
                       values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """SBD scores of each splitter on each gold file (one row per file and splitter)."""
    per = _values_for(values, splitters)
    selections = {name: route(per[name], name, None) for name in splitters}
    built = {name: build(sel)[0] for name, sel in selections.items()}  # fail fast, load once
    results = []
    for path in expand_gold(gold):
        gold_docs = read_gold(path)
        docs = [Document(id=str(i), text=g.text, source=path) for i, g in enumerate(gold_docs)]
        for name, splitter in built.items():
            started = time.perf_counter()
            records = Pipeline(splitter, None).run(docs)
            spans: list[list[Span]] = [[] for _ in docs]
            for r in records:
                spans[int(r["doc_id"])].append(Span(r["start"], r["end"]))
            seconds = time.perf_counter() - started
            s = score(gold_docs, spans)
            results.append({
                "file": path, "splitter": name, "docs": s.docs, "exact_docs": s.exact_docs,
                "tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4),
                "recall": round(s.recall, 4), "f1": round(s.f1, 4), "seconds": round(seconds, 3),
            })
    return results


# ---------------------------------------------------------------- chunks


def corpus_id(doc: Document) -> str:
    """A corpus is named by its file's stem: ``corpora/wikitexts.md`` → ``wikitexts``."""
    return Path(doc.source).stem or doc.source


def load_corpus_documents(paths: Sequence[str | Path]) -> dict[str, Document]:
    """Corpus files (or directories of them) → ``{file stem: document}``, read by the readers
    (so each keeps its markup: a ``.md`` corpus is chunked with its Markdown structure)."""
    docs = _documents([str(p) for p in paths], ReadOptions())
    corpora: dict[str, Document] = {}
    for doc in docs:
        cid = corpus_id(doc)
        if cid in corpora:
            raise UsageError(f"--corpus: two files named {cid!r} — corpus ids are file stems")
        corpora[cid] = doc
    if not corpora:
        raise UsageError("--corpus: no corpus files found — pass files or a directory")
    return corpora


def load_corpora(paths: Sequence[str | Path]) -> dict[str, str]:
    """Corpus files (or directories of them) → ``{file stem: text}``, read by the readers."""
    return {cid: doc.text for cid, doc in load_corpus_documents(paths).items()}


def chunk_corpora(corpora: Mapping[str, str], selection: Selection, jobs: int = 1,
                  markups: Mapping[str, str] | None = None
                  ) -> tuple[list[ChunkRecord], dict[str, Any]]:
    """Chunk every corpus through the pipeline; retrievable text includes any context.

    ``markups`` gives a corpus's markup (``"md"``…) so its structure is used;
    with ``selection.structure.heading_context`` each chunk is embedded after
    its heading path (the scored span is still the chunk's own).
    """
    ids = sorted(corpora)
    docs = [Document(id=cid, text=corpora[cid], source=cid,
                     markup=(markups or {}).get(cid, "")) for cid in ids]
    records, (split, chunk) = _run(selection, docs, jobs)
    out = []
    for r in records:
        text = corpora[r["doc_id"]]
        start = r["start"] if r.get("ctx_start") is None else r["ctx_start"]
        out.append(ChunkRecord(r["doc_id"], start, r["end"], text[start : r["end"]],
                               context=r.get("context") or ""))
    return out, identity(selection, split, chunk)


def evaluate_chunks(
    *, questions: str | Path, corpus: Sequence[str | Path], chunks: str | Path | None,
    splitter: str, chunker: str, values: Mapping[str, Any], embedder: str, ks: str,
    retrieve_from: str, tokenizer: str, device: str | None, batch_size: int | None,
    embed_cache: str | None, jobs: int = 1, structure: Any = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Load, validate, chunk (or read chunks), embed and score; no printing."""
    from segtool.models.embedders import get_embedder
    from segtool.models.tokens import get_tokenizer
    from segtool.quality import retrieval as rv

    cut_offs = rv.parse_ks(ks)
    if retrieve_from not in {"corpus", "all"}:
        raise UsageError(f"--retrieve-from {retrieve_from!r}: use corpus or all")
    selection = route(values, splitter, None if chunks is not None else chunker)
    if structure is not None:  # --structure …, --heading-context: embed with the heading path
        structure.check_chunking(chunks is None)
        selection = replace(selection, structure=structure)
    qs = rv.load_questions(questions)
    corpus_docs = load_corpus_documents(corpus)
    corpora = {cid: doc.text for cid, doc in corpus_docs.items()}
    rv.check_references(qs, corpora, str(questions))
    counter = get_tokenizer(tokenizer)
    # the retrieval embedder first: a bad --embedder fails fast (exit 2) before chunking
    retriever = get_embedder(embedder, device=device or "auto", batch_size=batch_size or 64,
                             cache_dir=embed_cache)
    if chunks is not None:
        records = rv.load_chunk_records(chunks, corpora)
        config: dict[str, Any] = {"chunks_file": str(chunks)}
    else:
        records, ident = chunk_corpora(corpora, selection, jobs,
                                       {cid: doc.markup for cid, doc in corpus_docs.items()})
        config = {"splitter": splitter, "chunker": chunker,
                  **ident["chunker"]["options"], "identity": ident}
    summary, per_question = rv.evaluate(qs, records, retriever, ks=cut_offs,
                                        retrieve_from=retrieve_from, token_counter=counter)
    result = {
        "config": {**config, "embedder": embedder, "embedder_identity": retriever.identity,
                   "k": cut_offs, "retrieve_from": retrieve_from, "unit": "characters",
                   "token_stats_tokenizer": counter.name},
        **summary,
    }
    return result, per_question
