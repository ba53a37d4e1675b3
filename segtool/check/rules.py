"""The rules of ``segtool check``: a code, a name and one line on what each guards.

Codes are stable (scripts and ``--ignore`` lists rely on them); names are what
people remember.  Either selects a rule, and so does a code prefix (``ST0``)
or ``ALL``.  Some rules only make sense with a setting — a token limit, a
minimum score — and are inactive until it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from segtool.types import UsageError


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    needs: str | None = None  # the setting without which the rule is inactive


RULES: tuple[Rule, ...] = (
    Rule("ST001", "unreadable-input",
         "an input document or file that cannot be read or decoded (every reader error)"),
    Rule("ST002", "bad-chunk-row",
         "a chunk-file row that is not a chunk (invalid JSON, no doc_id, neither text nor offsets)"),
    Rule("ST003", "empty-chunk", "a chunk that is empty or only whitespace"),
    Rule("ST004", "duplicate-id", "a chunk id used twice in one file"),
    Rule("ST005", "max-tokens", "a chunk longer than --max-tokens (text re-encoded)", "max_tokens"),
    Rule("ST006", "min-tokens",
         "a chunk shorter than --min-tokens (a document's only chunk is exempt)", "min_tokens"),
    Rule("ST007", "token-count", "an n_tokens field that disagrees with the re-encoded text"),
    Rule("ST008", "offset-mismatch",
         "offsets that are invalid, outside the document, or whose text is not document[start:end]"),
    Rule("ST009", "out-of-order", "a chunk that starts before the previous chunk of its document"),
    Rule("ST010", "gap", "document text that no chunk covers (whitespace-only gaps pass with --docs)"),
    Rule("ST011", "overlap", "a chunk that starts inside the previous chunk of its document"),
    Rule("ST012", "mid-word", "a chunk boundary with a letter or digit on both sides"),
    Rule("ST013", "min-chunkscore", "a document whose ChunkScore is below --min-chunkscore",
         "min_chunkscore"),
)

BY_CODE = {rule.code: rule for rule in RULES}
BY_NAME = {rule.name: rule for rule in RULES}


def exact(item: str) -> str | None:
    """The code of the one rule ``item`` names by code or name, else None (``ALL``, prefixes)."""
    item = item.strip()
    if item.upper() in BY_CODE:
        return item.upper()
    rule = BY_NAME.get(item.lower())
    return rule.code if rule else None


def resolve(selectors: Iterable[str], what: str) -> set[str]:
    """Codes named by ``selectors``: codes, names, code prefixes or ``ALL``.

    An entry matching nothing is a usage error (exit 2): a typo in an
    ``--ignore`` list must not silently keep a rule on.
    """
    codes: set[str] = set()
    for raw in selectors:
        item = raw.strip()
        if not item:
            continue
        upper = item.upper()
        if upper == "ALL":
            codes.update(BY_CODE)
        elif item.lower() in BY_NAME:
            codes.add(BY_NAME[item.lower()].code)
        elif upper.startswith("ST") and any(code.startswith(upper) for code in BY_CODE):
            codes.update(code for code in BY_CODE if code.startswith(upper))
        else:
            raise UsageError(
                f"unknown rule {item!r} in {what} — use a code (ST001…ST{len(RULES):03d}), a "
                "name such as max-tokens, or ALL; `segtool check --list-rules` shows them")
    return codes
