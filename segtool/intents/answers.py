"""What both intent generators do with answers: budgets, parsing per section, naming documents.

Shared by the local generator (:mod:`segtool.intents.generate`) and the
endpoint client (:mod:`segtool.intents.endpoint`), so neither imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from segtool.intents.prompting import Section, parse_questions
from segtool.types import Document

log = logging.getLogger("segtool")

TOKENS_PER_QUESTION = 32  # answer budget per requested question (plus a little slack)
MAX_ANSWER_TOKENS = 640


def answer_budget(n_questions: int) -> int:
    """Token budget for an answer with ``n_questions`` questions."""
    return min(MAX_ANSWER_TOKENS, TOKENS_PER_QUESTION * n_questions + 16)


def collect(n_docs: int, sections: Sequence[Section], answers: Sequence[tuple[str, bool]]) -> list[list[str]]:
    """Per-document questions from per-section ``(answer, complete)`` pairs, in section order."""
    out: list[list[str]] = [[] for _ in range(n_docs)]
    seen: list[set[str]] = [set() for _ in range(n_docs)]
    for section, (answer, complete) in zip(sections, answers, strict=True):
        for q in parse_questions(answer, section.n_questions, complete=complete):
            key = q.casefold().rstrip("?. ")
            if key not in seen[section.doc]:
                seen[section.doc].add(key)
                out[section.doc].append(q)
    return out


def describe(doc: Document) -> str:
    """How an error names a document: its id, where it came from, and its record id if any."""
    where = doc.id if doc.source and doc.id.startswith(doc.source) else f"{doc.id} in {doc.source}"
    record = doc.meta.get("id") if doc.meta else None
    return f"document {where}" + (f" (record id {record})" if record is not None and
                                   str(record) not in where else "")


def warn_empty(docs: Sequence[Document], result: Sequence[Sequence[str]], who: str) -> None:
    """A warning per non-empty document for which the model produced no usable question."""
    for doc, questions in zip(docs, result, strict=True):
        if doc.text.strip() and not questions:
            log.warning(f"warning: {who} produced no usable question for {describe(doc)} — "
                        "it gets no generated intents")
