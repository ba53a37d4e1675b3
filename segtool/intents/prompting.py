"""Asking a language model for a document's intents, and reading its answer.

Both generators (the local causal LM and an OpenAI-compatible endpoint) share
this module, so they ask the same question and parse answers the same way:

* **How many.**  Short documents get 10–15 questions, scaled with their
  sentence count, and long ones more (:func:`intent_count`); a document of a
  few sentences gets at most one question per sentence, because asking a small
  model for ten questions about two sentences only produces repeats.
* **Sections.**  A long document does not fit one prompt (and small models
  lose track of long prompts), so it is cut into sections at paragraph, line or
  sentence ends (:func:`split_sections`), each asked for its share of the
  questions.  Sections are balanced: a document needing three sections gets
  three of about a third each, not two full ones and a scrap.
* **Parsing.**  Answers arrive as numbered lists, bullets, JSON arrays or
  loose lines with preambles ("Here are some questions:") and trailing
  commentary; :func:`parse_questions` keeps the questions and drops the rest.

Change :data:`PROMPT_VERSION` whenever the wording, the counts or the parsing
change: it is part of the configuration identity, so saved chunk ids change
with it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PROMPT_VERSION = "intents-prompt-1"  # bump on any change to wording, counts or parsing
ANSWER_PREFIX = "1."  # local models get the start of the list written for them (see generate.py)

# A sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace;
# or a blank line after a paragraph without terminal punctuation (a heading).
_SENTENCE_END = re.compile(
    r"[.!?…。！？][\"'”’)\]]*(?=\s)|(?<![.!?…。！？\"'”’)\]])[ \t]*\n[ \t]*\n(?=\S)")
# Preferred cut points inside a section, best first: paragraph break, line break, sentence end.
_CUTS = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"[.!?…。！？][\"'”’)\]]*\s+"))
_MARKER = re.compile(
    r"^\s*(?:(?:question|q)\s*\d*\s*[:.)-]\s*|\(?\d{1,3}\s*[.):\]-]\s*|[-*•·–—]\s+|#+\s*)+",
    re.IGNORECASE,
)
_INLINE_ITEM = re.compile(r"(?<=\?)\s+(?=\(?\d{1,3}[.)]\s)")  # "1. Why? 2. How?" on one line
_ANSWER_LINE = re.compile(r"^\s*(?:answer|a|explanation|context\w*|note|suggestion)\s*\d*\s*:",
                          re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
# Questions about the passage itself rather than its content ("What is the main idea of
# this passage?"): every text answers them, so they tell the chunker nothing.
_GENERIC = re.compile(
    r"^(?:what|which)(?:['’]s| is| are| was)? (?:the )?(?:main |central |key |overall )?"
    r"(?:purpose|point|idea|topic|theme|subject|message|takeaway|summary)s?\b.*\b(?:this|the) "
    r"(?:passage|text|article|excerpt|document)\b|^what (?:is|does) (?:this|the) "
    r"(?:passage|text|article|excerpt|document) (?:about|say)\b|\bthe answer to (?:this|the|that) "
    r"question\b",
    re.IGNORECASE,
)
MAX_QUESTION_CHARS = 300


@dataclass(frozen=True)
class Section:
    """One prompt's worth of a document: ``text`` and how many questions to ask for."""

    doc: int  # index of the document in the generator's input
    text: str
    n_questions: int


def estimate_sentences(text: str) -> int:
    """A rough sentence count (terminal punctuation or blank lines), at least 1 for any text.

    Generators see documents, not the pipeline's sentence spans; the count only
    scales how many questions are asked, so an estimate is enough.
    """
    if not text.strip():
        return 0
    return len(_SENTENCE_END.findall(text.rstrip())) + 1


def intent_count(n_sentences: int) -> int:
    """How many questions to ask of a document with ``n_sentences`` sentences.

    10 at the start of the range rising to 15 at 100 sentences, then one more
    per 20 sentences (capped at 200); never more than one per sentence, never
    fewer than 3 for a non-empty document.
    """
    if n_sentences <= 0:
        return 0
    if n_sentences < 100:
        base = 10 + (5 * n_sentences) // 100
    else:
        base = 15 + (n_sentences - 100) // 20
    return max(min(3, n_sentences), min(base, n_sentences, 200))


def split_sections(text: str, max_units: int, measure: Callable[[str], int], *,
                   min_sections: int = 1) -> list[str]:
    """Cut ``text`` into balanced sections of at most ``max_units`` (by ``measure``).

    A text needing ``k`` sections (at least ``min_sections``) is cut near every ``1/k`` of its length, at
    the best boundary within a fifth of a section of that point (paragraph,
    line, sentence end, whitespace, any character); a section still over the
    budget (dense text) is shortened.  The sections concatenate back to the
    stripped text up to the whitespace at the cuts.  ``measure`` is the LM
    tokenizer's length, or an estimate for a remote model.
    """
    text = text.strip()
    if not text:
        return []
    total = measure(text)
    k = max(math.ceil(total / max_units), min_sections)
    if k == 1:
        return [text]
    sections: list[str] = []
    pos = 0
    while pos < len(text):
        left = max(1, k - len(sections))
        if left == 1 and measure(text[pos:]) <= max_units:
            sections.append(text[pos:])
            break
        size = max(1, (len(text) - pos) // left)
        end = _cut(text, pos, pos + size, max(1, size // 5))
        while end - pos > 1 and measure(text[pos:end]) > max_units:  # dense text: shorten
            end = _cut(text, pos, pos + (end - pos) * 4 // 5, max(1, (end - pos) // 10))
        sections.append(text[pos:end])
        pos = end
    return [s.strip() for s in sections if s.strip()]


def _cut(text: str, start: int, target: int, slack: int) -> int:
    """The best boundary within ``slack`` characters of ``target`` (``target`` if none), > ``start``."""
    if target >= len(text):
        return len(text)
    lo, hi = max(start + 1, target - slack), min(len(text), target + slack)
    window = text[lo:hi]
    for pattern in _CUTS:
        ends = [lo + m.end() for m in pattern.finditer(window)]
        if ends:
            return min(ends, key=lambda e: (abs(e - target), e))
    spaces = [lo + m.end() for m in re.finditer(r"\s+", window)]
    return min(spaces, key=lambda e: (abs(e - target), e)) if spaces else target


def plan_sections(texts: Sequence[str], *, max_units: int, max_per_prompt: int,
                  measure: Callable[[str], int]) -> list[Section]:
    """Every prompt needed for ``texts``: sections with their share of the questions.

    A document is cut into enough sections that each fits ``max_units`` and
    asks for at most ``max_per_prompt`` questions; its question count is shared
    among them by estimated sentences (largest remainder, at least one each).
    """
    out: list[Section] = []
    for i, text in enumerate(texts):
        wanted = intent_count(estimate_sentences(text))
        if wanted == 0:
            continue
        size = measure(text.strip())
        k = max(math.ceil(size / max_units), math.ceil(wanted / max_per_prompt), 1)
        parts = split_sections(text, max_units, measure, min_sections=k)
        for part, n in zip(parts, share(wanted, [estimate_sentences(p) for p in parts]), strict=True):
            out.append(Section(i, part, min(n, max_per_prompt)))
    return out


def share(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each part ≥ 1."""
    if not weights:
        return []
    w = [max(1, x) for x in weights]
    raw = [total * x / sum(w) for x in w]
    parts = [max(1, math.floor(r)) for r in raw]
    order = sorted(range(len(w)), key=lambda j: (-(raw[j] - math.floor(raw[j])), j))
    for j in order[: max(0, total - sum(parts))]:
        parts[j] += 1
    return parts


def build_prompt(section: str, n: int) -> str:
    """The user message asking for ``n`` questions that ``section`` answers."""
    what = "1 question" if n == 1 else f"{n} questions"
    them = "question" if n == 1 else "questions"
    return (f"Read this passage:\n\n{section}\n\nWrite {what} about facts stated in the passage. "
            f"Give only the {them}, as a numbered list.")


def parse_questions(answer: str, limit: int | None = None, *, complete: bool = True) -> list[str]:
    """The questions in a model's ``answer``, in order, without duplicates or junk.

    Accepts a JSON array (of strings, or of objects with a ``question`` field),
    a numbered or bulleted list, or plain lines.  Lines that are clearly not
    questions — a preamble ending in ":", "Answer: ..." lines, fragments with
    fewer than three words — are dropped; if some lines end in "?", only those
    are kept.  ``complete=False`` (the answer hit the token limit) drops a last
    item that was cut mid-sentence.  At most ``limit`` questions are returned.
    """
    items = _json_items(answer)
    if items is None:
        items = _line_items(answer, complete)
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        q = " ".join(item.split()).strip().strip("\"'`“”").strip()
        if len(q) > MAX_QUESTION_CHARS or len(q.split()) < 3 or not _LETTER.search(q):
            continue
        if _GENERIC.search(q):
            continue
        key = q.casefold().rstrip("?. ")
        if key in seen:
            continue
        seen.add(key)
        out.append(q)
    if any(q.endswith("?") for q in out):
        out = [q for q in out if q.endswith("?")]
    return out[:limit] if limit is not None else out


def _json_items(answer: str) -> list[str] | None:
    start, end = answer.find("["), answer.rfind("]")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(answer[start : end + 1])
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    items = []
    for v in value:
        if isinstance(v, dict):
            v = v.get("question") or v.get("intent") or ""
        if isinstance(v, str):
            items.append(v)
    return items if items else None


def _line_items(answer: str, complete: bool) -> list[str]:
    lines = [part for line in answer.splitlines() for part in _INLINE_ITEM.split(line)]
    lines = [line for line in lines if line.strip()]
    if not complete and lines and not lines[-1].rstrip().endswith(("?", ".", "!")):
        lines = lines[:-1]
    items = []
    for line in lines:
        if _ANSWER_LINE.match(line):
            continue
        text = _MARKER.sub("", line).strip()
        if not text or text.endswith(":"):
            continue
        items.append(text)
    return items
