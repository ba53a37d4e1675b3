"""Sentence units and the size rules every chunker shares.

A chunker decides *where* to break; this module makes sure whatever it decided
respects the hard limit, measured the way users measure it: **a chunk's text,
encoded on its own, never has more than ``max_tokens`` tokens, and its
``n_tokens`` is exactly that count.**

Sentences are first turned into units that each fit ``max_tokens``, with their
token counts computed once.  A chunking is a list of ``(i, j)`` ranges over
units; because units tile the text, any list of consecutive ranges tiles it
too.  Sums of unit counts (cumulative sums, looked up by bisection) are cheap
and good enough to *propose* a chunk, but they are not the chunk's count: BPE
merges across a sentence join (``"she.  “And"`` is not the tokens of ``"she.  "``
plus those of ``"“And"``).  So every chunk of several units is encoded once
before it is emitted (:func:`fit`); when it is over the limit its last units
move to the next chunk, and ``n_tokens`` is always the exact count.

An over-long sentence is cut at token boundaries (:func:`cut_sentence`)
without ever handing the tokenizer more than a bounded window of it, so time
stays linear and memory bounded for any input, one giant line included; each
piece is re-encoded on its own to be exact.  The one case the limit cannot
hold: a single character that by itself encodes to more than ``max_tokens``
tokens (``"𝔘"`` is three cl100k tokens).  It becomes a unit, and a chunk, of its
own with its real count; :func:`over_limit_message` words the warning the
pipeline prints for it.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from segtool.models.tokens import TokenCounter
from segtool.types import ChunkSpan, Span

Group = tuple[int, int]  # half-open range of unit indices
COUNT_SLICE = 4096  # sentences per tokenizer call in batch_units (bounds the copies held)
COUNT_CHARS = 1 << 22  # …and characters: long sentences flush the batch sooner
COUNT_STEP = 256  # sentences copied at a time between those checks
# A sentence longer than this (in characters) is never encoded whole: it goes
# straight to the windowed cutter.  Below it, one tokenizer call per sentence is
# cheap whatever the text (tiktoken stays near-linear up to ~64k-character pieces).
LONG_SENTENCE_CHARS = 1 << 15
# The largest window the cutter hands the tokenizer.  Only text whose tokens are
# extraordinarily long (a "words" word or a Hugging Face [UNK] of megabytes) gets
# near it; there a piece is cut at a token start inside the window, or at its end.
WINDOW_CAP = 1 << 20

log = logging.getLogger("segtool")


@dataclass(slots=True)
class Unit:
    """A sentence, or a token-bounded piece of an over-long one (treat as immutable).

    ``n_tokens`` is the exact count of the unit's own text.  Not frozen for the
    same reason as :class:`segtool.types.Span`: one is made per sentence, and a
    frozen dataclass's ``__init__`` costs several times more.
    """

    start: int
    end: int
    n_tokens: int
    sent: int  # index of the sentence this unit belongs to


def count(tokenizer: TokenCounter, text: str) -> int:
    """Tokens in ``text`` encoded on its own."""
    return tokenizer.counts([text])[0]


def cut_sentence(
    text: str, start: int, end: int, tokenizer: TokenCounter, max_tokens: int, sent: int
) -> list[Unit]:
    """Cut ``text[start:end]`` into pieces that each encode, alone, to ≤ ``max_tokens``.

    The cutter walks through the span in windows a little larger than one
    piece: it encodes the window, proposes the cut at the start of token
    ``max_tokens + 1`` (mapped to a character offset), and re-encodes the piece
    on its own — the window's tokenisation near a cut is not the piece's — moving
    the cut back by the excess until the piece fits.  The window starts at a
    few characters per token and doubles only while it holds too few tokens, so
    no tokenizer call sees more than about twice a piece (or ``WINDOW_CAP``).
    A character that alone needs more than ``max_tokens`` tokens becomes a
    piece of its own, with its real count.
    """
    units: list[Unit] = []
    pos = start
    width = min(WINDOW_CAP, 4 * max_tokens + 64)
    while pos < end:
        hi = min(end, pos + width)
        offsets = tokenizer.offsets(text[pos:hi])
        if len(offsets) <= max_tokens:
            if hi == end:  # the rest fits, and this was its own encoding: exact
                units.append(Unit(pos, end, len(offsets), sent))
                break
            if width < WINDOW_CAP:
                width = min(WINDOW_CAP, 2 * width)
                continue
            # a window of WINDOW_CAP characters with ≤ max_tokens tokens: cut at
            # the last token start inside it, or (one giant token) at its end
            k = len(offsets) - 1
            cut = pos + offsets[k] if k > 0 and offsets[k] > 0 else hi
        else:
            k = max_tokens
            cut = pos + max(1, offsets[k])
        n = count(tokenizer, text[pos:cut])
        while n > max_tokens and cut - pos > 1:
            k = max(0, min(k - 1, k - (n - max_tokens)))
            cut = pos + max(1, offsets[k]) if k < len(offsets) else pos + 1
            n = count(tokenizer, text[pos:cut])
        units.append(Unit(pos, cut, n, sent))
        # next window: about 1.25 pieces at the density just seen
        per_token = (hi - pos) / max(1, len(offsets))
        width = max(16, min(WINDOW_CAP, int(per_token * max_tokens * 1.25) + 16))
        pos = cut
    return units


def sentence_units(
    text: str, spans: Sequence[Span], counts: Sequence[int], tokenizer: TokenCounter,
    max_tokens: int,
) -> list[Unit]:
    """One unit per sentence; a sentence over ``max_tokens`` becomes several pieces.

    ``counts[k] < 0`` marks a sentence too long to have been encoded whole.
    """
    if not counts or (max(counts) <= max_tokens and min(counts) >= 0):  # the common case
        return [Unit(span.start, span.end, n, k)
                for k, (span, n) in enumerate(zip(spans, counts, strict=True))]
    units: list[Unit] = []
    for k, (span, n) in enumerate(zip(spans, counts, strict=True)):
        if 0 <= n <= max_tokens:
            units.append(Unit(span.start, span.end, n, k))
        else:
            units.extend(cut_sentence(text, span.start, span.end, tokenizer, max_tokens, k))
    return units


def cumulative(units: Sequence[Unit]) -> list[int]:
    """``cum[i]`` = sum of the counts of units ``[0, i)`` (a proposal, not a chunk's count)."""
    return [0, *accumulate(u.n_tokens for u in units)]


def pack(cum: Sequence[int], lo: int, hi: int, max_tokens: int) -> list[Group]:
    """Greedy packing of units ``[lo, hi)`` into ranges whose sums are ≤ ``max_tokens``."""
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
    """Re-pack any group whose sum is over the limit; the others are kept as they are.

    Strategies use this on sums while they shape their groups; :func:`to_chunks`
    then checks the real counts.
    """
    out: list[Group] = []
    for i, j in groups:
        if cum[j] - cum[i] <= max_tokens:
            out.append((i, j))
        else:
            out.extend(pack(cum, i, j, max_tokens))
    return out


def merge_adjacent(cum: Sequence[int], groups: Sequence[Group], target: int) -> list[Group]:
    """Greedily merge neighbouring groups while the merged sum stays ≤ ``target``."""
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


def fit(
    text: str, units: Sequence[Unit], cum: Sequence[int], lo: int, hi: int,
    tokenizer: TokenCounter, max_tokens: int,
) -> Iterator[tuple[int, int, int]]:
    """Cover units ``[lo, hi)`` with ranges whose text encodes, alone, to ≤ ``max_tokens``.

    Yields ``(i, j, n)`` with ``n`` the exact count of the range's text.  Each
    range is proposed greedily from the sums, then encoded once; one over the
    limit gives back units from its end — as many as the excess suggests, which
    is nearly always one — and is encoded again.  A single unit needs no check:
    its count is already its own text's.
    """
    i = lo
    while i < hi:
        j = max(i + 1, bisect.bisect_right(cum, cum[i] + max_tokens, i + 1, hi + 1) - 1)
        n = units[i].n_tokens if j - i == 1 else count(
            tokenizer, text[units[i].start : units[j - 1].end])
        while n > max_tokens and j - i > 1:
            # what joining added beyond the sum, assumed alike for a shorter range
            room = max_tokens - (n - (cum[j] - cum[i]))
            shorter = bisect.bisect_right(cum, cum[i] + room, i + 1, j) - 1
            j = max(i + 1, min(j - 1, shorter))
            n = units[i].n_tokens if j - i == 1 else count(
                tokenizer, text[units[i].start : units[j - 1].end])
        yield i, j, n
        i = j


def to_chunks(
    text: str, units: Sequence[Unit], cum: Sequence[int], groups: Sequence[Group],
    tokenizer: TokenCounter, max_tokens: int,
) -> list[ChunkSpan]:
    """The chunks of a grouping, each checked against its exact count (:func:`fit`).

    A group that fits is one chunk; one that does not (its sum was under the
    limit, its text is not) is split where :func:`fit` says.
    """
    out: list[ChunkSpan] = []
    for lo, hi in groups:
        for i, j, n in fit(text, units, cum, lo, hi, tokenizer, max_tokens):
            out.append(ChunkSpan(units[i].start, units[j - 1].end, n, units[i].sent,
                                 units[j - 1].sent + 1))
    return out


def chunks_by_sums(units: Sequence[Unit], cum: Sequence[int], groups: Sequence[Group]
                   ) -> list[ChunkSpan]:
    """Chunks whose ``n_tokens`` is the sum of their units' counts (no text at hand).

    Only for callers that work on hand-made units without the text they came
    from (rule tests); the chunkers use :func:`to_chunks`.
    """
    return [ChunkSpan(units[i].start, units[j - 1].end, cum[j] - cum[i], units[i].sent,
                      units[j - 1].sent + 1) for i, j in groups]


def over_limit_message(source: str, doc_id: str, offset: int, n_tokens: int, max_tokens: int
                       ) -> str:
    """The one-line warning for a chunk over the limit (a single character; see above)."""
    return (f"warning: a single character needs {n_tokens} tokens, over --max-tokens {max_tokens} "
            f"— {source}: document {doc_id}, offset {offset} — emitted as a chunk of its own "
            f"(n_tokens {n_tokens}); raise --max-tokens to avoid this")


def warn_over_limit(source: str, doc_id: str, offset: int, n_tokens: int, max_tokens: int) -> None:
    """Report a chunk over the limit through the ``segtool`` logger.

    Without any logging set up, Python prints a warning record as its bare
    message on stderr, so a CLI user sees exactly one line per case; a library
    user can route or silence it like any other log record.
    """
    log.warning(over_limit_message(source, doc_id, offset, n_tokens, max_tokens))


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
    time, nor much more than ``COUNT_CHARS`` characters: the sentence strings
    are copies of the text, and holding all of a 64 MiB block's at once would
    double its memory (bounded-RSS promise of the block reader).  A sentence
    longer than ``LONG_SENTENCE_CHARS`` is not counted at all (an empty string
    stands in; its count is marked ``-1``): the windowed cutter measures it
    piece by piece.
    """
    counts: list[int] = []
    pending: list[str] = []
    chars = 0
    limit = LONG_SENTENCE_CHARS
    for text, spans in zip(texts, sentences, strict=True):
        for lo in range(0, len(spans), COUNT_STEP):
            pending.extend([text[s.start : s.end] if s.end - s.start <= limit else ""
                            for s in spans[lo : lo + COUNT_STEP]])
            chars += spans[min(lo + COUNT_STEP, len(spans)) - 1].end - spans[lo].start
            if len(pending) >= COUNT_SLICE or chars >= COUNT_CHARS:
                counts.extend(tokenizer.counts(pending))
                pending, chars = [], 0
    if pending:
        counts.extend(tokenizer.counts(pending))
    out: list[list[Unit]] = []
    pos = 0
    for text, spans in zip(texts, sentences, strict=True):
        n = len(spans)
        own = counts[pos : pos + n]
        if 0 in own:  # the stand-ins for long sentences counted 0
            for k, s in enumerate(spans):
                if s.end - s.start > limit:
                    own[k] = -1
        out.append(sentence_units(text, spans, own, tokenizer, max_tokens))
        pos += n
    return out
