"""Worked examples, declared once for ``--help`` epilogs and the man page.

Each command's help ends with a few commands a user can paste and adapt; the
man page's EXAMPLES section is generated from the same table, so the two never
disagree.  Every example is run by the test suite (in a directory holding the
files they name), so an example that stops working fails a test instead of
misleading a reader.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Example:
    """One example: what it does (a sentence) and the shell command line."""

    what: str
    command: str


_SENTENCES = (
    Example("One JSON record per sentence of a text file, on stdout.",
            "segtool sentences report.txt"),
    Example("Text piped on stdin, split by nupunkt; no summary on stderr.",
            "cat report.txt | segtool sentences -s nupunkt -q"),
    Example('JSON Lines records whose text is in "body" and id in "url", written to a file.',
            "segtool sentences articles.jsonl --text-field body --id-field url "
            "-o sentences.jsonl"),
)

_CHUNK = (
    Example("Every file under docs/ (recursively) in chunks of at most 512 cl100k_base "
            "tokens, written as Parquet.",
            "segtool chunk docs/ -o chunks.parquet"),
    Example("Chunks of at most 200 o200k_base tokens, each with 32 tokens of preceding "
            "context (ctx_start).",
            "segtool chunk report.txt --max-tokens 200 --overlap-tokens 32 "
            "--tokenizer o200k_base"),
    Example("Semantic chunks (breaks where the topic shifts) with the static model2vec "
            "embedder.",
            "segtool chunk articles.jsonl --text-field body -c semantic "
            "--embedder model2vec --max-tokens 256"),
    Example("One worker per CPU core; bad documents are skipped and listed in bad.jsonl.",
            "segtool chunk docs/ -j 0 --on-error skip --errors-file bad.jsonl "
            "-o chunks.jsonl"),
)

_LIST = (
    Example("Every component, its options, and whether its extra is installed.",
            "segtool list"),
    Example("Only the chunkers (singular and plural kind names both work).",
            "segtool list --kind chunker"),
    Example("The same as JSON, for scripts.", "segtool list --kind splitters --json"),
)

_EVAL_SENTENCES = (
    Example("Compare two splitters on a gold file; the table goes to stderr.",
            "segtool eval sentences -g gold.jsonl -s rules -s nupunkt"),
    Example("Per-file precision, recall and F1 as JSON on stdout.",
            "segtool eval sentences -g gold.jsonl -s rules --json"),
)

_EVAL_CHUNKS = (
    Example("Retrieval quality of 200-token window chunks at k = 1, 5 and 10 (model2vec "
            "embedder).",
            "segtool eval chunks -Q questions.jsonl --corpus corpora/ --max-tokens 200 "
            "--embedder model2vec"),
    Example("Score chunks made earlier by segtool chunk; one JSON record per question.",
            "segtool eval chunks -Q questions.jsonl --corpus corpora/ --chunks chunks.jsonl "
            "--embedder model2vec --k 1,5 --per-question per-question.jsonl"),
)

_CHECK = (
    Example("Lint chunks against their source documents with a 512-token limit; findings as "
            "JSON.",
            "segtool check chunks.jsonl --docs corpora/ --max-tokens 512 --format json"),
    Example("Every rule: its code, name and what it checks.", "segtool check --list-rules"),
)

_SCORE = (
    Example("Structural stats of a chunk file checked against its documents, with an HTML "
            "report; JSON on stdout.",
            "segtool score chunks.jsonl --docs corpora/ --max-tokens 200 --html report.html --json"),
    Example("Rank two chunker configurations of the same documents by ChunkScore (the models "
            "score each document's first 20,000 characters).",
            "segtool score corpora/ --chunker window --chunker window:max_tokens=400 --lm smollm2 "
            "--embedder minilm --sample-chars 20000 --json"),
)

#: Examples by command path ("" is ``segtool`` itself), in the order they are shown.
EXAMPLES: dict[str, tuple[Example, ...]] = {
    "": (_SENTENCES[0], _CHUNK[0], _LIST[0]),
    "list": _LIST,
    "sentences": _SENTENCES,
    "chunk": _CHUNK,
    "eval": (_EVAL_SENTENCES[0], _EVAL_CHUNKS[0]),
    "eval sentences": _EVAL_SENTENCES,
    "eval chunks": _EVAL_CHUNKS,
    "check": _CHECK,
    "score": _SCORE,
}

_WIDTH = 78  # what click's help formatter uses at most


def command_lines(command: str, width: int) -> list[str]:
    """``command`` in lines of at most ``width``, continued with `` \\`` as a shell reads them.

    Lines break only before an option, so a flag stays with its value and the
    lines can be pasted into a shell as they are.
    """
    lines: list[str] = []
    for part in re.split(r" (?=-)", command):
        if lines and len(lines[-1]) + 1 + len(part) + 2 <= width:
            lines[-1] += " " + part
        else:
            lines.append(part if not lines else "  " + part)
    return [line + " \\" for line in lines[:-1]] + lines[-1:]


def epilog(path: str) -> str:
    """The ``Examples:`` block that ends ``segtool PATH --help``.

    The help formatter prints this text as it is, without re-wrapping: a
    description line, then the command, indented.
    """
    lines = ["Examples:"]
    for n, ex in enumerate(EXAMPLES[path]):
        if n:
            lines.append("")
        lines += textwrap.wrap(ex.what, _WIDTH - 2, initial_indent="  ", subsequent_indent="  ")
        lines += ["    " + line for line in command_lines(ex.command, _WIDTH - 4)]
    return "\n".join(lines)
