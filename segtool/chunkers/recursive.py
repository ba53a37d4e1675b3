"""Recursive chunker: split at the strongest structure that fits, then pack greedily.

A document is a sequence of *leaves* — whole blocks where a block fits the
limit, else its lines (code, tables, front matter) or its sentences, else
token-bounded pieces of those (:func:`segtool.chunkers.units.cut_sentence`).
Every boundary between two leaves has a *strength*: a section heading of
level 1–6, a block boundary, a line break inside code, a sentence end, a cut
inside a sentence.  A range of leaves that fits under ``max_tokens`` is one
chunk; one that does not is split at every boundary of the strongest kind it
contains, and each piece is handled the same way.  Neighbouring pieces that fit
are packed greedily (never across a piece that had to be split further), which
is the strategy of semchunk and chonkie's recursive chunker, but on block
spans rather than on separator strings, so a code block is only ever cut
between its lines and offsets are exact by construction.

Headings.  The boundary right after a heading is never used: a heading always
starts a chunk together with the first text under it.  A block that would fit
alone but not with the heading run glued to it is taken down to its lines or
sentences, so that the heading can keep the first of them.  Boundaries at
headings are hard (never packed across) by default, as every heading starts a
chunk in a run with ``--structure auto``; the run's ``--merge-sections`` and
``--section-level`` decide otherwise when the pipeline hands them over
(``structure_options``).

Counting once.  Blocks are counted first, in one batched tokenizer call for
the whole batch; only the blocks that do not fit have their lines or sentences
counted.  A chunk's exact size is then mostly known without encoding it again:
for cl100k_base and o200k_base, text that is cut right after a line break and
before a character that is not whitespace encodes to exactly the tokens of its
two sides (the tokenizers' pre-splitting pattern never joins across such a
point, so no token can), which :func:`additive_join` tests.  Block boundaries
are nearly always such points, so packing whole blocks costs no second pass;
a run of leaves joined elsewhere (sentences inside a paragraph) is encoded
once, and a chunk over the limit gives its last leaves to the next one, as in
:func:`segtool.chunkers.units.fit`.  ``n_tokens`` is always the chunk text's
own count.

Without structure (plain text, ``--structure off``) the blocks are paragraphs
separated by blank lines.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import Any, ClassVar

from segtool.chunkers.units import (
    COUNT_CHARS,
    COUNT_SLICE,
    LONG_SENTENCE_CHARS,
    cut_sentence,
    merge_adjacent,
    pack,
)
from segtool.component import Component
from segtool.models.tokens import TokenCounter, get_tokenizer
from segtool.options import MaxTokens, Tokenizer
from segtool.structure.blocks import LINE_KINDS, Block, paragraph_blocks
from segtool.types import ChunkSpan, Document, Span

# Boundary strengths: lower is stronger.  1–6 are section headings of that level.
HARD = 0  # never packed across (document start, a section boundary of the run)
BLOCK = 7
LINE = 8
SENTENCE = 9
TOKEN = 10
GLUE = 99  # right after a heading: never a chunk boundary
PENDING = -2  # a leaf whose count comes from the second counting call
SOFT_LEVELS = (1, 2, 3, 4, 5, 6, BLOCK, LINE, SENTENCE, TOKEN)
# A block this many characters per token of the limit is not counted whole: it
# cannot fit in practice, and its lines or sentences are counted instead.
CHARS_PER_TOKEN_BOUND = 8


@dataclass(frozen=True)
class RecursiveOptions:
    max_tokens: MaxTokens = 512
    tokenizer: Tokenizer = "cl100k_base"


def additive_join(tokenizer: TokenCounter) -> Callable[[str, int], bool]:
    """A test ``join(text, pos)``: is ``count(text[a:b]) == count(text[a:pos]) + count(text[pos:b])``
    for every ``a ≤ pos ≤ b``?

    Only answered yes where it is certain.  cl100k_base and o200k_base split text
    into pieces by a pattern before merging bytes, and no piece reaches across a
    point that follows ``\\r``/``\\n`` and precedes a character that is not
    whitespace: the line break ends a whitespace or punctuation piece that cannot
    extend into a visible character (o200k's punctuation piece may take a ``/``
    after line breaks, so that is excluded).  Characters always add up; words
    add up wherever either side is whitespace.  Any other tokenizer: never.
    """
    name = getattr(tokenizer, "name", "")
    family = type(tokenizer).__name__
    if family == "CharCounter":
        return lambda text, pos: True
    if family == "WordCounter":
        return lambda text, pos: text[pos - 1].isspace() or text[pos].isspace()
    if family == "TiktokenCounter" and name == "cl100k_base":
        return lambda text, pos: text[pos - 1] in "\r\n" and not text[pos].isspace()
    if family == "TiktokenCounter" and name == "o200k_base":
        return lambda text, pos: (text[pos - 1] in "\r\n" and not text[pos].isspace()
                                  and text[pos] != "/")
    return lambda text, pos: False


@dataclass(slots=True)
class _Doc:
    """One document's leaves: ``starts[k]`` … ``starts[k+1]`` (last: ``len(text)``)."""

    text: str
    starts: list[int]
    counts: list[int]
    strength: list[int]  # of the boundary before leaf k (strength[0] = HARD)


class RecursiveChunker(Component):
    name: ClassVar[str] = "recursive"
    kind = "chunker"
    summary: ClassVar[str] = (
        "split at the strongest structure that fits (section, block, line, sentence, token), "
        "then pack neighbours greedily up to --max-tokens"
    )
    Options = RecursiveOptions
    # The pipeline hands whole documents with their blocks; the heading rules are kept here.
    handles_structure: ClassVar[bool] = True
    # The run's structure options (segtool.structure.options.StructureOptions) when the
    # pipeline passes them; None: every heading starts a chunk, sections are not merged.
    structure_options: Any = None

    def setup(self) -> None:
        self.max_tokens = self.options.max_tokens
        self.tokenizer = get_tokenizer(self.options.tokenizer)
        self._join = additive_join(self.tokenizer)

    def fingerprint(self) -> dict[str, str]:
        return {"tokenizer": self.tokenizer.fingerprint}

    # ------------------------------------------------------------------ entry points
    def chunk_documents(
        self, docs: Sequence[Document], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        """Chunks of each document, using its blocks when it has them (else paragraphs)."""
        return self._chunk([d.text for d in docs], sentences,
                           [getattr(d, "blocks", None) for d in docs])

    def chunk_batch(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
    ) -> list[list[ChunkSpan]]:
        """Chunks of plain texts: paragraphs (blank lines) are the only structure."""
        return self._chunk(texts, sentences, [None] * len(texts))

    # ------------------------------------------------------------------ the steps
    def _chunk(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]],
               blocks: Sequence[Sequence[Block] | None]) -> list[list[ChunkSpan]]:
        all_blocks = [list(b) if b else (paragraph_blocks(t) if t else [])
                      for t, b in zip(texts, blocks, strict=True)]
        docs = self._leaves(texts, sentences, all_blocks)
        out: list[list[ChunkSpan]] = []
        for doc, spans in zip(docs, sentences, strict=True):
            if not doc.starts:
                out.append([])
                continue
            cum = [0, *accumulate(doc.counts)]
            groups = self._split(doc, cum)
            out.append(self._exact(doc, cum, groups, spans))
        return out

    def _hard_level(self, level: int) -> bool:
        """Is a heading of this level a boundary no chunk crosses?"""
        opts = self.structure_options
        if opts is None:
            return True
        if getattr(opts, "merge_sections", False):
            return level <= opts.merge_barrier()
        return level <= opts.boundary_level()

    def _block_strengths(self, blocks: Sequence[Block]) -> list[int]:
        out = []
        for k, block in enumerate(blocks):
            if k == 0:
                out.append(HARD)
            elif blocks[k - 1].level > 0 or blocks[k - 1].kind == "blank":
                out.append(GLUE)
            elif block.level > 0:
                out.append(HARD if self._hard_level(block.level) else block.level)
            else:
                out.append(BLOCK)
        return out

    def _leaves(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]],
                all_blocks: Sequence[list[Block]]) -> list[_Doc]:
        """Leaves of every document: blocks that fit, else their lines/sentences/pieces.

        Two batched counting calls for the whole batch: every block short enough
        to possibly fit, then the lines or sentences of the blocks that did not.
        """
        max_tokens = self.max_tokens
        bound = CHARS_PER_TOKEN_BOUND * max_tokens + 64
        # 1. count the blocks that may fit (headings always: they are never split)
        wanted: list[tuple[int, int]] = []
        for d, blocks in enumerate(all_blocks):
            for k, b in enumerate(blocks):
                size = b.end - b.start
                if (size <= bound or b.level > 0) and size <= LONG_SENTENCE_CHARS:
                    wanted.append((d, k))
        counted = self._counts([texts[d][all_blocks[d][k].start:all_blocks[d][k].end]
                                for d, k in wanted])
        block_counts: list[list[int]] = [[-1] * len(b) for b in all_blocks]
        for (d, k), n in zip(wanted, counted, strict=True):
            block_counts[d][k] = n
        # 2. plan the leaves: (start, end, strength, count or PENDING, budget); the blocks
        # that do not fit, alone or with the heading run glued before them, go down a level
        plans: list[list[tuple[int, int, int, int, int]]] = []
        pending: list[str] = []
        for d, (text, blocks) in enumerate(zip(texts, all_blocks, strict=True)):
            strengths = self._block_strengths(blocks)
            plan: list[tuple[int, int, int, int, int]] = []
            ends: list[int] | None = None
            glued = 0  # tokens of the heading run glued before block k
            for k, b in enumerate(blocks):
                n = block_counts[d][k]
                if strengths[k] != GLUE:
                    glued = 0
                # a heading run that fills a chunk alone cannot keep anything: no need to try
                room = max_tokens - glued if glued < max_tokens else max_tokens
                if b.level > 0 and not 0 <= n <= max_tokens:
                    # a heading over the limit alone: only its last piece is glued onward
                    pieces = cut_sentence(text, b.start, b.end, self.tokenizer, max_tokens, 0)
                    for i, u in enumerate(pieces):
                        plan.append((u.start, u.end, strengths[k] if i == 0 else TOKEN,
                                     u.n_tokens, max_tokens))
                    glued = pieces[-1].n_tokens
                    continue
                if b.level > 0 or b.kind == "blank" or 0 <= n <= room:
                    plan.append((b.start, b.end, strengths[k], n, max_tokens))
                else:
                    if ends is None:
                        ends = [s.end for s in sentences[d]]
                    lines = b.kind in LINE_KINDS
                    for i, (a, e) in enumerate(self._sub_leaves(text, b, ends)):
                        # the first sentence under a heading is cut to what the heading leaves;
                        # a code or table line never is (it may then start the next chunk)
                        budget = room if i == 0 and not lines else max_tokens
                        plan.append((a, e, strengths[k] if i == 0 else (LINE if lines else SENTENCE),
                                     PENDING, budget))
                        pending.append(text[a:e] if e - a <= LONG_SENTENCE_CHARS else "")
                glued += max(n, 0) if b.level > 0 or b.kind == "blank" else 0
            plans.append(plan)
        sub_counts = iter(self._counts(pending))
        # 3. the leaves; one over its budget is cut at token boundaries
        docs: list[_Doc] = []
        for text, plan in zip(texts, plans, strict=True):
            starts: list[int] = []
            counts: list[int] = []
            strength: list[int] = []
            for a, e, s, n, budget in plan:
                if n == PENDING:
                    n = next(sub_counts)
                if 0 <= n <= budget:
                    starts.append(a)
                    counts.append(n)
                    strength.append(s)
                    continue
                for i, u in enumerate(cut_sentence(text, a, e, self.tokenizer, budget, 0)):
                    starts.append(u.start)
                    counts.append(u.n_tokens)
                    strength.append(s if i == 0 else TOKEN)
            if starts:
                strength[0] = HARD
            docs.append(_Doc(text, starts, counts, strength))
        return docs

    def _sub_leaves(self, text: str, block: Block, ends: Sequence[int]) -> list[tuple[int, int]]:
        """A block's lines (code, tables, front matter) or sentences, never whitespace alone."""
        start, end = block.start, block.end
        if block.kind in LINE_KINDS:
            # a cut at every line start, except before a whitespace-only line (it stays
            # with the line above, as a blank line in code belongs to what precedes it)
            cuts = [start]
            pos = _next_line(text, start, end)
            while pos < end:
                nxt = _next_line(text, pos, end)
                if not text[pos:nxt].isspace():
                    cuts.append(pos)
                pos = nxt
        else:
            lo = bisect.bisect_right(ends, start)
            hi = bisect.bisect_left(ends, end)
            cuts = [start]
            for cut in ends[lo:hi]:
                if not text[cuts[-1]:cut].isspace():
                    cuts.append(cut)
        if len(cuts) > 1 and text[cuts[-1]:end].isspace():
            cuts.pop()
        return list(zip(cuts, [*cuts[1:], end], strict=True))

    def _counts(self, texts: list[str]) -> list[int]:
        """Token counts in slices (bounded copies, as in units.batch_units); '' counts -1."""
        out: list[int] = []
        i = 0
        while i < len(texts):
            j, chars = i, 0
            while j < len(texts) and j - i < COUNT_SLICE and chars < COUNT_CHARS:
                chars += len(texts[j])
                j += 1
            out.extend(self.tokenizer.counts(texts[i:j]))
            i = j
        return [n if t else -1 for n, t in zip(out, texts, strict=True)]

    # ------------------------------------------------------------------ splitting
    def _split(self, doc: _Doc, cum: list[int]) -> list[tuple[int, int]]:
        """Groups of leaves: hard sections first, each split recursively."""
        n = len(doc.starts)
        by_level: dict[int, list[int]] = {s: [] for s in SOFT_LEVELS}
        hard = [0]
        for k in range(1, n):
            s = doc.strength[k]
            if s == HARD:
                hard.append(k)
            elif s != GLUE:
                by_level[s].append(k)
        hard.append(n)
        groups: list[tuple[int, int]] = []
        for lo, hi in pairwise(hard):
            self._recurse(cum, by_level, lo, hi, 0, groups)
        return groups

    def _recurse(self, cum: list[int], by_level: dict[int, list[int]], lo: int, hi: int,
                 depth: int, out: list[tuple[int, int]]) -> None:
        """Append the groups of leaves ``[lo, hi)`` to ``out``.

        A range that fits is one group.  Otherwise it is cut at every boundary of
        the strongest level it contains; pieces that do not fit are cut further;
        then neighbouring pieces are packed greedily while their sum fits (a piece
        that came out of a deeper cut can take small neighbours on either side).
        """
        max_tokens = self.max_tokens
        if cum[hi] - cum[lo] <= max_tokens or hi - lo == 1:
            out.append((lo, hi))
            return
        for level in SOFT_LEVELS[depth:]:
            cuts = by_level[level]
            a = bisect.bisect_right(cuts, lo)
            b = bisect.bisect_left(cuts, hi)
            if a < b:
                break
            depth += 1
        else:  # only glued boundaries left: pack leaf by leaf (the glue cannot hold)
            out.extend(pack(cum, lo, hi, max_tokens))
            return
        pieces: list[tuple[int, int]] = []
        for p, q in pairwise([lo, *cuts[a:b], hi]):
            if cum[q] - cum[p] <= max_tokens:
                pieces.append((p, q))
            else:
                self._recurse(cum, by_level, p, q, depth + 1, pieces)
        out.extend(merge_adjacent(cum, pieces, max_tokens))

    # ------------------------------------------------------------------ exact sizes
    def _count_range(self, doc: _Doc, cum: list[int], i: int, j: int) -> int:
        """Exact tokens of leaves ``[i, j)``: runs between additive joins, each encoded once."""
        if j - i == 1:
            return doc.counts[i]
        text, starts, join = doc.text, doc.starts, self._join
        total = 0
        run = i
        for k in range(i + 1, j + 1):
            if k == j or join(text, starts[k]):
                if k - run == 1:
                    total += doc.counts[run]
                else:
                    end = starts[k] if k < len(starts) else len(text)
                    total += self.tokenizer.counts([text[starts[run]:end]])[0]
                run = k
        return total

    def _exact(self, doc: _Doc, cum: list[int], groups: Sequence[tuple[int, int]],
               spans: Sequence[Span]) -> list[ChunkSpan]:
        """Chunks with exact counts; a group over the limit gives leaves to the next chunk."""
        max_tokens = self.max_tokens
        starts, strength, text = doc.starts, doc.strength, doc.text
        sent_starts = [s.start for s in spans]
        out: list[ChunkSpan] = []
        for lo, hi in groups:
            i = lo
            while i < hi:
                j = max(i + 1, bisect.bisect_right(cum, cum[i] + max_tokens, i + 1, hi + 1) - 1)
                j = _unglue(strength, i, j, hi)
                n = self._count_range(doc, cum, i, j)
                while n > max_tokens and j - i > 1:
                    room = max_tokens - (n - (cum[j] - cum[i]))
                    shorter = bisect.bisect_right(cum, cum[i] + room, i + 1, j) - 1
                    j = _unglue(strength, i, max(i + 1, min(j - 1, shorter)), hi)
                    n = self._count_range(doc, cum, i, j)
                start = starts[i]
                end = starts[j] if j < len(starts) else len(text)
                first = max(0, bisect.bisect_right(sent_starts, start) - 1)
                last = max(first + 1, bisect.bisect_left(sent_starts, end))
                out.append(ChunkSpan(start, end, n, first, last))
                i = j
        return out


def _next_line(text: str, pos: int, end: int) -> int:
    """Where the line after the one holding ``pos`` starts (``\\r\\n``, ``\\r``, ``\\n``), or ``end``."""
    nl = text.find("\n", pos, end)
    cr = text.find("\r", pos, end)
    if cr >= 0 and (nl < 0 or cr < nl):
        return cr + 2 if cr + 1 < end and text[cr + 1] == "\n" else cr + 1
    return nl + 1 if nl >= 0 else end


def _unglue(strength: Sequence[int], i: int, j: int, hi: int) -> int:
    """An end ``j`` right after a heading moves back before the heading, if that leaves
    anything in ``[i, j)``; a heading run that fills a chunk alone cannot be helped."""
    if j >= hi or strength[j] != GLUE:
        return j
    k = j - 1
    while k > i and strength[k] == GLUE:
        k -= 1
    return k if k > i else j

