"""Sentence units and the size rules every chunker shares.

A chunker decides *where* to break; this module makes sure whatever it decided
respects the hard limit.  Sentences are first turned into units that each fit
``max_tokens`` (an over-long sentence is cut at token boundaries), with their
token counts computed once.  A chunking is then a list of ``(i, j)`` ranges over
units; because units tile the text, any list of consecutive ranges tiles it too,
and a chunk's size is a sum looked up in cumulative counts — nothing is
re-tokenised as a chunk grows (DESIGN.md §6.3).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from segtool.models.tokens import TokenCounter, count_in, cut_points
from segtool.types import ChunkSpan, Span, UsageError

Group = tuple[int, int]  # half-open range of unit indices
COUNT_SLICE = 4096  # sentences per tokenizer call in batch_units (bounds the copies held)


@dataclass(slots=True)
class Unit:
    """A sentence, or a token-bounded piece of an over-long one (treat as immutable).

    Not frozen for the same reason as :class:`segtool.types.Span`: one is made
    per sentence, and a frozen dataclass's ``__init__`` costs several times more.
    """

    start: int
    end: int
    n_tokens: int
    sent: int  # index of the sentence this unit belongs to


def check_max_tokens(max_tokens: int) -> int:
    if max_tokens < 1:
        raise UsageError(f"--max-tokens {max_tokens}: must be at least 1")
    return max_tokens


def sentence_units(
    text: str, spans: Sequence[Span], counts: Sequence[int], tokenizer: TokenCounter,
    max_tokens: int,
) -> list[Unit]:
    """One unit per sentence; a sentence over ``max_tokens`` becomes several pieces."""
    if not counts or max(counts) <= max_tokens:  # the common case, without the loop below
        return [Unit(span.start, span.end, n, k)
                for k, (span, n) in enumerate(zip(spans, counts, strict=True))]
    units: list[Unit] = []
    for k, (span, n) in enumerate(zip(spans, counts, strict=True)):
        if n <= max_tokens:
            units.append(Unit(span.start, span.end, n, k))
            continue
        piece = text[span.start : span.end]
        offsets = tokenizer.offsets(piece)
        bounds = [0, *cut_points(offsets, 0, len(piece), max_tokens), len(piece)]
        for a, b in pairwise(bounds):
            units.append(Unit(span.start + a, span.start + b, count_in(offsets, a, b), k))
    return units


def cumulative(units: Sequence[Unit]) -> list[int]:
    """``cum[i]`` = tokens in units ``[0, i)``."""
    return [0, *accumulate(u.n_tokens for u in units)]


def pack(cum: Sequence[int], lo: int, hi: int, max_tokens: int) -> list[Group]:
    """Greedy packing of units ``[lo, hi)`` into ranges of ≤ ``max_tokens`` (bisection)."""
    groups: list[Group] = []
    i = lo
    while i < hi:
        # largest j with cum[j] - cum[i] <= max_tokens, at least one unit
        j = bisect.bisect_right(cum, cum[i] + max_tokens, i + 1, hi + 1) - 1
        j = max(j, i + 1)
        groups.append((i, j))
        i = j
    return groups


def enforce_max(cum: Sequence[int], groups: Sequence[Group], max_tokens: int) -> list[Group]:
    """Re-pack any group over the limit; groups within it are kept as they are."""
    out: list[Group] = []
    for i, j in groups:
        if cum[j] - cum[i] <= max_tokens:
            out.append((i, j))
        else:
            out.extend(pack(cum, i, j, max_tokens))
    return out


def merge_adjacent(cum: Sequence[int], groups: Sequence[Group], target: int) -> list[Group]:
    """Greedily merge neighbouring groups while the merged size stays ≤ ``target``."""
    out: list[Group] = []
    for i, j in groups:
        if out and cum[j] - cum[out[-1][0]] <= target:
            out[-1] = (out[-1][0], j)
        else:
            out.append((i, j))
    return out


def groups_from_breaks(n_units: int, breaks: Sequence[int]) -> list[Group]:
    """Ranges between sorted break positions (a break ``b`` starts a new group at unit b)."""
    edges = [0, *sorted({b for b in breaks if 0 < b < n_units}), n_units]
    return [(a, b) for a, b in pairwise(edges) if b > a]


def unit_breaks_from_sentence_breaks(units: Sequence[Unit], sentence_breaks: Sequence[int]) -> list[int]:
    """Map "a new chunk starts at sentence k" to "…at the first unit of sentence k"."""
    first_unit: dict[int, int] = {}
    for idx, u in enumerate(units):
        first_unit.setdefault(u.sent, idx)
    return [first_unit[k] for k in sentence_breaks if k in first_unit]


def to_chunks(units: Sequence[Unit], cum: Sequence[int], groups: Sequence[Group]) -> list[ChunkSpan]:
    return [
        ChunkSpan(
            start=units[i].start,
            end=units[j - 1].end,
            n_tokens=cum[j] - cum[i],
            sent_start=units[i].sent,
            sent_end=units[j - 1].sent + 1,
        )
        for i, j in groups
    ]


def with_context(
    text: str, chunks: Sequence[ChunkSpan], tokenizer: TokenCounter, overlap_tokens: int
) -> list[ChunkSpan]:
    """Set ``ctx_start`` so that ``text[ctx_start:start]`` holds ≤ N preceding tokens.

    Only the text just before each chunk is tokenised, growing backwards one
    chunk at a time until it holds enough tokens; ``start`` never changes.
    """
    if overlap_tokens <= 0:
        return list(chunks)
    out: list[ChunkSpan] = []
    for k, chunk in enumerate(chunks):
        if k == 0:
            out.append(_replace_ctx(chunk, chunk.start))
            continue
        back = k - 1
        while True:
            lo = chunks[back].start
            offsets = tokenizer.offsets(text[lo : chunk.start])
            if len(offsets) >= overlap_tokens or back == 0:
                break
            back -= 1
        ctx = lo + offsets[-overlap_tokens] if len(offsets) >= overlap_tokens else lo
        out.append(_replace_ctx(chunk, ctx))
    return out


def _replace_ctx(chunk: ChunkSpan, ctx_start: int) -> ChunkSpan:
    return ChunkSpan(chunk.start, chunk.end, chunk.n_tokens, chunk.sent_start, chunk.sent_end,
                     ctx_start, chunk.meta)


def batch_units(
    texts: Sequence[str], sentences: Sequence[Sequence[Span]], tokenizer: TokenCounter,
    max_tokens: int,
) -> list[list[Unit]]:
    """Units for many documents, counting their sentences in shared calls.

    Sentences of many short documents go to the tokenizer together (one batched
    call for a Hugging Face tokenizer), but never more than ``COUNT_SLICE`` at a
    time: the sentence strings are copies of the text, and holding all of a
    64 MiB block's at once would double its memory (bounded-RSS promise of the
    block reader).
    """
    counts: list[int] = []
    pending: list[str] = []
    for text, spans in zip(texts, sentences, strict=True):
        for lo in range(0, len(spans), COUNT_SLICE):
            pending.extend([text[s.start : s.end] for s in spans[lo : lo + COUNT_SLICE]])
            if len(pending) >= COUNT_SLICE:
                counts.extend(tokenizer.counts(pending))
                pending = []
    if pending:
        counts.extend(tokenizer.counts(pending))
    out: list[list[Unit]] = []
    pos = 0
    for text, spans in zip(texts, sentences, strict=True):
        n = len(spans)
        out.append(sentence_units(text, spans, counts[pos : pos + n], tokenizer, max_tokens))
        pos += n
    return out

