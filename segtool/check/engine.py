"""Running the rules over corpora and chunk files: one streaming pass per file.

Chunk files are read row by row (:func:`segtool.quality.chunk_files.read_chunk_rows`);
per document only the previous chunk's position is kept, so the structural
rules cost one look at each row, and the token rules re-encode the texts in
batches (the tokenizer's batch call is much faster than one call per chunk).
Corpus files go through segtool's own readers, so a file that ``check``
passes is a file ``segtool chunk`` reads.

Findings of a file are sorted by line before they are returned, like a
compiler's; the order of files is the order given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from segtool.check.config import CheckConfig
from segtool.check.rules import BY_CODE
from segtool.quality.chunk_files import (
    ChunkLocator,
    ChunkRow,
    DocResolver,
    chunk_file_format,
    looks_like_chunks,
    read_chunk_rows,
)
from segtool.types import BadInput, Document, InputError, UsageError

_TOKEN_BATCH = 2048
_MAX_MISSES = 20  # text-only chunks not found in one document before its locating stops
_CONTEXT = 12
_LOCATION_LINE = re.compile(r"\b(line|row) (\d+)")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at ``path:line``; ``code`` is a rule code such as ``ST005``."""

    path: str
    line: int
    code: str
    message: str

    @property
    def rule(self) -> str:
        return BY_CODE[self.code].name

    def render(self) -> str:
        """``file:line: CODE rule-name: message`` (the format of ruff and compilers)."""
        return f"{self.path}:{self.line}: {self.code} {self.rule}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "code": self.code, "rule": self.rule,
                "message": self.message}


@dataclass
class Report:
    """What a run found and how much it looked at."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    chunk_files: int = 0
    corpus_files: int = 0
    chunks: int = 0
    documents: int = 0  # documents the chunk files refer to
    corpus_documents: int = 0  # documents read from corpus files
    rules: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.code] = counts.get(f.code, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "summary": {"findings": len(self.findings), "by_rule": self.by_rule(),
                        "files": self.files, "chunk_files": self.chunk_files,
                        "corpus_files": self.corpus_files, "chunks": self.chunks,
                        "documents": self.documents, "corpus_documents": self.corpus_documents,
                        "rules": list(self.rules)},
        }


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _preview(text: str, limit: int = 40) -> str:
    return _quote(text if len(text) <= limit else text[:limit] + "…")


def _is_word(ch: str) -> bool:
    """A letter or digit of a script that separates words with spaces.

    Chinese and Japanese characters are letters too, but text in those scripts
    has no spaces, so a cut between two of them is not a cut inside a word.
    """
    if not ch.isalnum():
        return False
    code = ord(ch)
    return not (0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
                or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x3FFFF)


def _cut(doc: str, at: int) -> str:
    """``…before|after…`` around a cut, for mid-word messages."""
    return _quote(doc[max(0, at - _CONTEXT):at] + "|" + doc[at:at + _CONTEXT])


class _Doc:
    """What is remembered about one document while its chunks stream past."""

    __slots__ = ("count", "key", "locator", "lost", "max_index", "min_findings", "misses",
                 "prev_end", "prev_last", "prev_line", "prev_start", "reported_missing", "text",
                 "texts")

    def __init__(self, key: str | None, text: str | None) -> None:
        self.key = key
        self.text = text
        self.reported_missing = False
        self.lost = False  # the previous chunk could not be placed
        self.misses = 0  # text-only chunks not found in the document
        self.count = 0
        self.prev_start = -1  # -1: no chunk with offsets seen yet
        self.prev_end = 0
        self.prev_line = 0
        self.max_index: int | None = None
        self.prev_last = ""  # last character of the previous chunk's text
        self.locator = ChunkLocator(text) if text is not None else None
        self.min_findings: list[Finding] = []
        self.texts: list[str] = []


class _ChunkFileCheck:
    """The rules over one chunk file; ``run`` returns the findings sorted by line."""

    def __init__(self, path: str, cfg: CheckConfig, active: set[str], docs: dict[str, str] | None,
                 resolver: DocResolver | None, counter: Any,
                 scorer: Callable[..., Any] | None) -> None:
        self.path = path
        self.cfg = cfg
        self.active = active
        self.docs = docs
        self.resolver = resolver
        self.counter = counter
        self.scorer = scorer
        self.findings: list[Finding] = []
        self.ids: dict[str, int] = {}
        self.states: dict[str, _Doc] = {}
        self.batch: list[tuple[ChunkRow, str, _Doc]] = []
        self.rows = 0
        self.tokens = counter is not None and bool({"ST005", "ST006", "ST007"} & active)

    def add(self, line: int, code: str, message: str) -> None:
        if code in self.active:
            self.findings.append(Finding(self.path, line, code, message))

    def run(self) -> list[Finding]:
        try:
            for row in read_chunk_rows(self.path, lambda _p, line, why: self.add(line, "ST002", why)):
                self.rows += 1
                self.row(row)
                if len(self.batch) >= _TOKEN_BATCH:
                    self.flush()
        except InputError as exc:  # the file itself (corrupt Parquet, broken compression)
            self.add(1, "ST001", str(exc))
        self.flush()
        for st in self.states.values():
            self.finish(st)
        if self.scorer is not None:
            self.findings.extend(self.scorer(self.path, self.states))
        self.findings.sort(key=lambda f: (f.line, f.code))
        return self.findings

    # -------------------------------------------------------------- per row

    def state(self, doc_id: str) -> _Doc:
        st = self.states.get(doc_id)
        if st is None:
            key = self.resolver.resolve(doc_id) if self.resolver is not None else None
            text = self.docs[key] if self.docs is not None and key is not None else None
            st = self.states[doc_id] = _Doc(key, text)
        return st

    def row(self, row: ChunkRow) -> None:
        st = self.state(row.doc_id)
        st.count += 1
        if self.docs is not None and st.key is None and not st.reported_missing:
            st.reported_missing = True
            self.add(row.line, "ST008", f"document {row.doc_id!r} is not among the --docs "
                     f"({len(self.docs)} documents) — check --docs or the doc_id")
        if row.id is not None:
            first = self.ids.setdefault(row.id, row.line)
            if first != row.line:
                self.add(row.line, "ST004", f"id {row.id!r} was already used on line {first}")
        text = self.place(row, st)
        if text is not None:
            if not text.strip():
                self.add(row.line, "ST003", "chunk is empty" if not text else
                         f"chunk is only whitespace ({len(text)} characters)")
            if self.tokens:
                self.batch.append((row, text, st))
            if self.scorer is not None:
                st.texts.append(text)
        elif row.start is not None and row.start == row.end:
            self.add(row.line, "ST003", "chunk is empty (start == end)")

    def place(self, row: ChunkRow, st: _Doc) -> str | None:
        """Check the offsets and the order; return the chunk's text (None when unknown)."""
        doc = st.text
        start, end = row.start, row.end
        if start is None or end is None:  # text only: find it in the document, in order
            if st.locator is None or st.misses >= _MAX_MISSES:
                return row.text
            span = st.locator.place(row.text)
            if span is None:
                st.misses += 1
                more = ""
                if st.misses == _MAX_MISSES:  # each miss searches the rest of the document
                    more = f"; {_MAX_MISSES} chunks not found, the document's other chunks are not located"
                self.add(row.line, "ST008", f"text not found in document {row.doc_id!r} after "
                         f"offset {st.locator.prev_end}: {row.preview()} — made from another "
                         f"version of the document?{more}")
                st.lost = True  # the text it should have covered is not a second finding
                return row.text
            start, end = span
            text: str | None = row.text
        else:
            if start < 0 or end < start:
                self.add(row.line, "ST008", f"invalid span [{start}, {end})")
                return row.text if row.has_text else None
            if doc is not None:
                if end > len(doc):
                    self.add(row.line, "ST008", f"[{start}, {end}) is outside document "
                             f"{row.doc_id!r} ({len(doc)} characters)")
                    # the tiling goes on from the part inside, so the next rules do not
                    # report the same defect again as a gap
                    self.order(row, st, min(start, len(doc)), len(doc), None)
                    return row.text if row.has_text else None
                if row.has_text and (len(row.text) != end - start
                                     or not doc.startswith(row.text, start)):
                    self.add(row.line, "ST008", self.mismatch(row, doc, start, end))
                text = row.text if row.has_text else doc[start:end]
            else:
                if row.has_text and len(row.text) != end - start:
                    self.add(row.line, "ST008", f"text has {len(row.text)} characters but "
                             f"[{start}, {end}) spans {end - start}")
                text = row.text if row.has_text else None
            if row.ctx_start is not None and not 0 <= row.ctx_start <= start:
                self.add(row.line, "ST008", f"ctx_start {row.ctx_start} is not within [0, {start}]")
        self.order(row, st, start, end, text)
        return text

    def mismatch(self, row: ChunkRow, doc: str, start: int, end: int) -> str:
        """Where the stated text first differs from the document's span."""
        actual = doc[start:end]
        at = next((i for i, (a, b) in enumerate(zip(row.text, actual, strict=False)) if a != b),
                  min(len(row.text), len(actual)))
        return (f"text is not document[{start}:{end}]: differs at offset {start + at} "
                f"(file {_preview(row.text[at:at + 20])}, document {_preview(actual[at:at + 20])})")

    def order(self, row: ChunkRow, st: _Doc, start: int, end: int, text: str | None) -> None:
        """Order, gaps, overlaps and mid-word cuts against the previous chunk of the document."""
        doc = st.text
        if st.max_index is not None and row.index is not None:
            if row.index != st.max_index + 1:
                self.add(row.line, "ST009", f"index {row.index} where {st.max_index + 1} was "
                         "expected after the document's previous chunks")
            st.max_index = max(st.max_index, row.index)
        elif row.index is not None:
            st.max_index = row.index
        first = st.prev_start < 0
        prev_end = 0 if first else st.prev_end
        checked_start = False
        if not first and start < st.prev_start:
            self.add(row.line, "ST009", f"starts at {start}, before the previous chunk of "
                     f"{row.doc_id!r} (line {st.prev_line}, start {st.prev_start})")
        elif start > prev_end:
            gap = doc[prev_end:start] if doc is not None else None
            if st.lost:
                pass
            elif gap is None:
                self.add(row.line, "ST010", f"characters [{prev_end}, {start}) are in no chunk "
                         "(pass --docs to let whitespace-only gaps pass)")
            elif gap.strip():
                self.add(row.line, "ST010", f"characters [{prev_end}, {start}) are in no chunk: "
                         f"{_preview(gap.strip())}")
        elif start < prev_end:
            self.add(row.line, "ST011", f"overlaps the previous chunk (line {st.prev_line}) by "
                     f"{prev_end - start} characters")
        elif not first:
            checked_start = True  # contiguous: the cut was checked as the previous chunk's end
            if doc is None and text and st.prev_last and _is_word(st.prev_last) and _is_word(text[0]):
                self.add(st.prev_line, "ST012", "ends mid-word: "
                         f"{_quote(st.prev_last + '|' + text[:_CONTEXT])}")
        if doc is not None and end >= start:
            if not checked_start and 0 < start < len(doc) and _is_word(doc[start - 1]) \
                    and _is_word(doc[start]):
                self.add(row.line, "ST012", f"starts mid-word: {_cut(doc, start)}")
            if start < end < len(doc) and _is_word(doc[end - 1]) and _is_word(doc[end]):
                self.add(row.line, "ST012", f"ends mid-word: {_cut(doc, end)}")
        if first or start >= st.prev_start:
            st.prev_start, st.prev_end = start, max(end, prev_end) if not first else end
        st.prev_line = row.line
        st.lost = False
        st.prev_last = text[-1] if text else ""

    # -------------------------------------------------------------- tokens, end of file

    def flush(self) -> None:
        if not self.batch:
            return
        cfg = self.cfg
        counts = self.counter.counts([text for _, text, _ in self.batch])
        name = cfg.tokenizer
        for (row, _, st), n in zip(self.batch, counts, strict=True):
            if cfg.max_tokens is not None and n > cfg.max_tokens:
                self.add(row.line, "ST005", f"{n} tokens > max-tokens {cfg.max_tokens} ({name})")
            if cfg.min_tokens is not None and n < cfg.min_tokens and "ST006" in self.active:
                st.min_findings.append(Finding(self.path, row.line, "ST006",
                                               f"{n} tokens < min-tokens {cfg.min_tokens} ({name})"))
            if row.n_tokens is not None and row.n_tokens != n:
                self.add(row.line, "ST007", f"n_tokens is {row.n_tokens} but {name} counts {n} — "
                         "made with another tokenizer? pass --tokenizer")
        self.batch.clear()

    def finish(self, st: _Doc) -> None:
        if st.count > 1:  # a document's only chunk cannot be merged anywhere
            self.findings.extend(st.min_findings)
        doc = st.text
        if doc is not None and st.prev_start >= 0 and st.prev_end < len(doc):
            rest = doc[st.prev_end:]
            if rest.strip():
                self.add(st.prev_line, "ST010", f"characters [{st.prev_end}, {len(doc)}) at the "
                         f"end of the document are in no chunk: {_preview(rest.strip())}")


# ------------------------------------------------------------------ corpora and docs


def _line_of(location: str) -> int:
    """The 1-based line a reader's location names (``line 3``, ``row 2`` → 3), else 1."""
    match = _LOCATION_LINE.search(location)
    if match is None:
        return 1
    n = int(match.group(2))
    return n + 1 if match.group(1) == "row" else n


def _bad_input(bad: BadInput) -> Finding:
    message = f"{bad.reason}{f' ({bad.location})' if bad.location else ''}"
    return Finding(bad.source, _line_of(bad.location), "ST001",
                   f"{message} — {bad.hint}" if bad.hint else message)


def _read(paths: Sequence[str], cfg: CheckConfig) -> Iterator[Document | BadInput]:
    from segtool.readers import ReadOptions, read_documents

    return read_documents(list(paths), ReadOptions(text_field=cfg.text_field, id_field=cfg.id_field))


def _load_docs(cfg: CheckConfig, report: Report) -> dict[str, str] | None:
    """``--docs`` as ``{doc_id: text}``; documents that fail to read become ST001 findings."""
    if not cfg.docs:
        return None
    docs: dict[str, str] = {}
    for item in _usage(lambda: _read(cfg.docs, cfg), "--docs"):
        if isinstance(item, BadInput):
            if "ST001" in cfg.active_rules():
                report.findings.append(_bad_input(item))
        elif item.part and item.id in docs:
            docs[item.id] += item.text
        else:
            docs[item.id] = item.text
    return docs


def _usage(make: Callable[[], Any], what: str) -> Any:
    """Call ``make``; a path that does not exist is a usage error (exit 2), as for any linter."""
    try:
        return make()
    except InputError as exc:
        raise UsageError(f"{what}: {exc}") from None


def _check_corpus(path: str, cfg: CheckConfig, report: Report) -> list[Finding]:
    found: list[Finding] = []
    for item in _read([path], cfg):
        if isinstance(item, BadInput):
            found.append(_bad_input(item))
        elif not item.part:
            report.corpus_documents += 1
    return found


def _kind_of(path: str, cfg: CheckConfig) -> str:
    if cfg.kind != "auto":
        if cfg.kind == "chunks" and chunk_file_format(path) is None:
            raise UsageError(f"not a chunk file — {path} — chunk files are .jsonl or .parquet; "
                             "use --kind corpus or auto for corpus files")
        return cfg.kind
    return "chunks" if looks_like_chunks(path) else "corpus"


# ------------------------------------------------------------------ ChunkScore


def _chunkscore_rule(cfg: CheckConfig) -> Callable[..., list[Finding]] | None:
    """The ST013 check: score each document's chunks with the ChunkScore models.

    Needs :mod:`segtool.quality.chunkscore` (the ``segtool score`` machinery);
    the models load once per run, the first time a file has chunks to score.
    """
    try:
        from segtool.quality import chunkscore
    except ImportError:  # pragma: no cover - shipped together with this module
        raise UsageError("min-chunkscore needs segtool.quality.chunkscore, which is not "
                         "installed") from None
    models: dict[str, Any] = {}

    def load() -> tuple[Any, Any]:
        if not models:
            from segtool.models.causal_lm import load_causal_lm
            from segtool.models.embedders import get_embedder

            models["lm"] = load_causal_lm(cfg.lm)
            models["embedder"] = get_embedder(cfg.embedder)
        return models["lm"], models["embedder"]

    def score(path: str, states: dict[str, _Doc]) -> list[Finding]:
        docs = [(doc_id, st) for doc_id, st in states.items() if len(st.texts) > 1]
        if not docs:
            return []
        lm, embedder = load()
        scores = chunkscore.score_documents([(d, st.texts) for d, st in docs], lm=lm,
                                            embedder=embedder)
        found = []
        assert cfg.min_chunkscore is not None
        for (doc_id, st), s in zip(docs, scores, strict=True):
            if s.chunk_score == s.chunk_score and s.chunk_score < cfg.min_chunkscore:
                found.append(Finding(path, st.prev_line, "ST013",
                                     f"document {doc_id!r}: ChunkScore {s.chunk_score:.3f} < "
                                     f"{cfg.min_chunkscore} (LI {s.li:.3f}, SD {s.sd:.3f}, "
                                     f"{s.n_chunks} chunks)"))
        return found

    return score


# ------------------------------------------------------------------ entry point


def run_check(paths: Sequence[str], cfg: CheckConfig) -> Report:
    """Check every path (files, directories, globs) and return the findings.

    A path that does not exist, an unknown rule or a bad setting raises
    :class:`UsageError`; everything wrong *in* the files is a finding.
    """
    from segtool.readers import expand_inputs

    active = cfg.active_rules()
    report = Report(rules=tuple(sorted(active)))
    if not paths:
        raise UsageError("no paths to check — pass chunk files, corpus files or directories")
    files = _usage(lambda: expand_inputs(list(paths)), "check")
    docs = _load_docs(cfg, report)
    counter = None
    if {"ST005", "ST006", "ST007"} & active:
        from segtool.models.tokens import get_tokenizer

        counter = get_tokenizer(cfg.tokenizer)
    scorer = _chunkscore_rule(cfg) if "ST013" in active else None
    resolver = DocResolver(docs) if docs is not None else None
    for path in files:
        report.files += 1
        if _kind_of(path, cfg) == "chunks":
            report.chunk_files += 1
            check = _ChunkFileCheck(path, cfg, active, docs, resolver, counter, scorer)
            found = check.run()
            report.chunks += check.rows
            report.documents += len(check.states)
        else:
            report.corpus_files += 1
            found = _check_corpus(path, cfg, report)
        report.findings.extend(f for f in found if f.code in active)
    return report


__all__ = ["Finding", "Report", "run_check"]
