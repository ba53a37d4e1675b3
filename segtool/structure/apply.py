"""Make any splitter and chunker respect document structure — one generic step.

The pipeline calls two functions here, so no splitter or chunker needs to know
about structure:

* :func:`cut_spans` after the splitter: sentence spans are cut at every block
  boundary (a sentence never crosses from a paragraph into a heading), and the
  lines of code blocks, tables and front matter replace whatever the splitter
  found there (a code line is never split, and every line break in it is a
  place a chunk may end).
* :func:`chunk_sections` around the chunker: each document is cut into
  sections at its headings and every section becomes a document of its own
  (a copy of the text slice with its blocks attached), all sections of the
  batch going to the chunker in one call, so model-based chunkers keep their
  cross-document batching.  A chunk therefore never spans two sections and
  every section starts a chunk with its heading.  Inside a section, a heading's
  sentence is glued to the unit after it, so no chunker can end a chunk on a
  heading.  Offsets and sentence indices are shifted back afterwards, small
  whole sections are optionally merged, and each chunk gets the heading path
  of the section it starts in.

A chunker that does structural chunking itself declares
``handles_structure = True`` and gets whole documents with their blocks; it
only has ``meta.headings`` added.  So does, by default, a chunker with
``chunk_documents`` (per-document data); it may declare
``handles_structure = False`` to be given sections after all.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from segtool.structure.blocks import LINE_KINDS, Block, document_blocks
from segtool.structure.options import StructureOptions
from segtool.types import BadInput, ChunkSpan, Document, Span

ChunkCall = Callable[[Sequence[Document], Sequence[list[Span]]], list[list[ChunkSpan] | BadInput]]
HEADING_MARKUPS = frozenset({"md", "html"})  # markups whose chunks carry meta.headings
CONTEXT_SEPARATOR = " > "


def blocks_of(docs: Sequence[Document], options: StructureOptions
              ) -> list[tuple[Block, ...] | None]:
    """Each document's blocks, or ``None`` where it has no structure (or it is off)."""
    if not options.on:
        return [None] * len(docs)
    return [document_blocks(d) or None for d in docs]


# ------------------------------------------------------------------ sentences


def _is_space(text: str, start: int, end: int) -> bool:
    return text[start:end].isspace()


def _line_pieces(text: str, start: int, end: int) -> list[int]:
    """Cut points of a code/table block: the start of every line that is not blank (a blank
    line stays with the line before, as trailing whitespace stays with its sentence)."""
    cuts = [start]
    pos = _next_break(text, start, end)
    while 0 <= pos < end:
        nxt = _next_break(text, pos, end)
        line_end = end if nxt < 0 else nxt
        if not _is_space(text, pos, line_end):
            cuts.append(pos)
        pos = nxt
    if len(cuts) > 1 and _is_space(text, cuts[0], cuts[1]):  # leading blank lines: not alone
        del cuts[1]
    return cuts


def _next_break(text: str, pos: int, end: int) -> int:
    """The start of the line after the one holding ``pos`` (``\\r\\n``, ``\\r``, ``\\n``), or -1."""
    n = text.find("\n", pos, end)
    r = text.find("\r", pos, end)
    if r >= 0 and (n < 0 or r < n):
        return r + 2 if r + 1 < len(text) and text[r + 1] == "\n" else r + 1
    return n + 1 if n >= 0 else -1


def already_cut(text: str, spans: Sequence[Span], blocks: Sequence[Block]) -> bool:
    """Would :func:`cut_spans` return ``spans`` unchanged?

    True when every block starts where a span starts and no span is whitespace
    only — the usual case for plain text, whose splitters already end a
    sentence at a blank line.  Checking costs a fraction of cutting, which
    rebuilds every span; the pipeline then keeps the splitter's spans.
    """
    starts = {s.start for s in spans}
    if any(b.start not in starts for b in blocks):
        return False
    return not any(text[s.start:s.end].isspace() for s in spans)


def cut_spans(text: str, spans: Sequence[Span], blocks: Sequence[Block]
              ) -> tuple[list[Span], list[int]]:
    """Sentence spans that never cross a block boundary, and the block index of each.

    Splitter boundaries inside a block are kept; a block boundary is added
    wherever the splitter had none.  In code, table and front-matter blocks
    every line is a span of its own.  A cut never leaves a whitespace-only
    piece: such a piece joins its neighbour inside the same block.
    """
    ends = sorted({s.end for s in spans})
    out: list[Span] = []
    owner: list[int] = []
    for k, block in enumerate(blocks):
        start, end = block.start, block.end
        if block.kind in LINE_KINDS:
            cuts = _line_pieces(text, start, end)
        else:
            lo = bisect.bisect_right(ends, start)
            hi = bisect.bisect_left(ends, end)
            cuts = [start]
            for cut in ends[lo:hi]:
                if not _is_space(text, cuts[-1], cut):
                    cuts.append(cut)
            if len(cuts) > 1 and _is_space(text, cuts[-1], end):
                cuts.pop()
        for a, b in zip(cuts, [*cuts[1:], end], strict=True):
            out.append(Span(a, b))
            owner.append(k)
    return out, owner


# ------------------------------------------------------------------ sections


@dataclass(slots=True)
class _Section:
    doc: int  # index of the document in the batch
    start: int  # character offset in the document
    end: int
    first_sent: int  # index of its first span in the document's spans
    units: list[tuple[int, int]]  # unit k covers the section's spans [a, b)
    level: int  # level of the heading that opens it (0: none)


def sections(blocks: Sequence[Block], boundary: int) -> list[tuple[int, int]]:
    """Half-open block-index ranges: a new section before each heading of level ≤ ``boundary``.

    A heading never ends a section: one with nothing under it before the next
    cut stays with what follows (no cut while the section so far holds only
    headings), and deeper headings right before a cut go with the new section.
    """
    cuts = [0]
    body = False
    for k, block in enumerate(blocks):
        if 0 < block.level <= boundary and k > cuts[-1] and body:
            j = k
            while j - 1 > cuts[-1] and (blocks[j - 1].level > 0 or blocks[j - 1].kind == "blank"):
                j -= 1
            cuts.append(j)
            body = False
        if block.level == 0 and block.kind != "blank":
            body = True
    return list(zip(cuts, [*cuts[1:], len(blocks)], strict=True))


def _glued_units(owner: Sequence[int], blocks: Sequence[Block], lo: int, hi: int,
                 lo_b: int, hi_b: int) -> list[tuple[int, int]]:
    """Units over spans ``[lo, hi)`` (those of blocks ``[lo_b, hi_b)``): a heading's span
    joins the span after it.  Headings are few, so every other span is a unit alone."""
    glued = []  # spans owned by a heading: no unit ends after them
    for k in range(lo_b, hi_b):
        if blocks[k].level > 0:
            glued.extend(range(bisect.bisect_left(owner, k, lo, hi),
                               bisect.bisect_left(owner, k + 1, lo, hi)))
    if not glued:
        return [(k, k + 1) for k in range(lo, hi)]
    drop = {g + 1 for g in glued}
    ends = [e for e in range(lo + 1, hi + 1) if e not in drop or e == hi]
    return list(zip([lo, *ends[:-1]], ends, strict=True))


def _remap(chunk: ChunkSpan, sec: _Section) -> ChunkSpan:
    units = sec.units
    last = len(units) - 1
    first = units[min(max(chunk.sent_start, 0), last)][0] if units else 0
    if chunk.sent_end > chunk.sent_start and units:
        end = units[min(chunk.sent_end - 1, last)][1]
    else:
        end = first
    if not units:
        first = end = sec.first_sent
    return ChunkSpan(
        start=chunk.start + sec.start, end=chunk.end + sec.start, n_tokens=chunk.n_tokens,
        sent_start=first, sent_end=end,
        ctx_start=None if chunk.ctx_start is None else chunk.ctx_start + sec.start,
        meta=chunk.meta)


def whole_documents(chunker: Any) -> bool:
    """Does ``chunker`` get whole documents rather than sections?

    Yes when it says so (``handles_structure = True``: it chunks by structure itself), and
    by default for a chunker that reads per-document data through ``chunk_documents`` (the
    intent chunker looks up or generates intents per document: a section is not one).
    """
    handles = getattr(chunker, "handles_structure", None)
    if handles is None:
        return callable(getattr(chunker, "chunk_documents", None))
    return bool(handles)


def chunk_sections(call: ChunkCall, chunker: Any, docs: Sequence[Document],
                   spans: Sequence[list[Span]], owners: Sequence[list[int] | None],
                   blocks: Sequence[tuple[Block, ...] | None], options: StructureOptions
                   ) -> list[list[ChunkSpan] | BadInput]:
    """Chunk ``docs`` section by section through ``call`` (the pipeline's guarded chunker
    call) and return each document's chunks with document offsets and heading paths."""
    if whole_documents(chunker):
        if hasattr(chunker, "structure_options"):  # it keeps --section-level/--merge-sections itself
            chunker.structure_options = options
        whole = [replace(d, blocks=b) if b is not None else d
                 for d, b in zip(docs, blocks, strict=True)]
        results = call(whole, spans)
        return [r if isinstance(r, BadInput) or b is None else _with_headings(d, r, b, options)
                for d, r, b in zip(docs, results, blocks, strict=True)]
    sec_docs: list[Document] = []
    sec_units: list[list[Span]] = []
    secs: list[_Section] = []
    boundary = options.boundary_level()
    for i, (doc, sp, own, bl) in enumerate(zip(docs, spans, owners, blocks, strict=True)):
        if bl is None or own is None:
            sec = _Section(i, 0, len(doc.text), 0, [(k, k + 1) for k in range(len(sp))], 0)
            secs.append(sec)
            sec_docs.append(doc)
            sec_units.append(list(sp))
            continue
        for lo_b, hi_b in sections(bl, boundary):
            s, e = bl[lo_b].start, bl[hi_b - 1].end
            lo = bisect.bisect_left(own, lo_b)
            hi = bisect.bisect_left(own, hi_b)
            units = _glued_units(own, bl, lo, hi, lo_b, hi_b)
            level = next((b.level for b in bl[lo_b:hi_b] if b.level), 0)
            secs.append(_Section(i, s, e, lo, units, level))
            sec_docs.append(Document(
                id=doc.id, text=doc.text[s:e], source=doc.source, meta=doc.meta,
                offset=doc.offset + s, part=doc.part, markup=doc.markup,
                blocks=tuple(b.shifted(-s) for b in bl[lo_b:hi_b])))
            sec_units.append([Span(sp[a].start - s, sp[b - 1].end - s) for a, b in units])
    results = call(sec_docs, sec_units) if sec_docs else []
    out: list[list[ChunkSpan] | BadInput] = [[] for _ in docs]
    per_doc: list[list[tuple[_Section, list[ChunkSpan]]]] = [[] for _ in docs]
    for sec, res in zip(secs, results, strict=True):
        if isinstance(out[sec.doc], BadInput):
            continue
        if isinstance(res, BadInput):
            out[sec.doc] = res
            continue
        per_doc[sec.doc].append((sec, [_remap(c, sec) for c in res]))
    for i, doc in enumerate(docs):
        if isinstance(out[i], BadInput):
            continue
        parts = per_doc[i]
        if options.merge_sections and blocks[i] is not None:
            chunks = _merge(doc.text, parts, chunker, options.merge_barrier())
        else:
            chunks = [c for _, cs in parts for c in cs]
        bl = blocks[i]
        out[i] = chunks if bl is None else _with_headings(doc, chunks, bl, options)
    return out


def _count(chunker: Any, text: str, parts: Sequence[ChunkSpan]) -> int:
    tokenizer = getattr(chunker, "tokenizer", None)
    counts = getattr(tokenizer, "counts", None)
    if callable(counts):
        return int(counts([text])[0])
    return sum(c.n_tokens for c in parts)


def _merge(text: str, parts: Sequence[tuple[_Section, list[ChunkSpan]]], chunker: Any,
           barrier: int) -> list[ChunkSpan]:
    """Merge runs of adjacent whole sections (one chunk each) while their text fits the
    chunker's limit, never across a heading of level ≤ ``barrier``."""
    limit = getattr(chunker, "max_tokens", None)
    out: list[ChunkSpan] = []
    open_whole = False  # is out[-1] made of whole sections only?
    for sec, chunks in parts:
        whole = len(chunks) == 1
        if (limit is not None and whole and open_whole and out and sec.level > barrier):
            prev, cur = out[-1], chunks[0]
            n = _count(chunker, text[prev.start:cur.end], (prev, cur))
            if n <= limit:
                out[-1] = ChunkSpan(prev.start, cur.end, n, prev.sent_start, cur.sent_end,
                                    prev.ctx_start, prev.meta)
                continue
        out.extend(chunks)
        open_whole = whole
    return out


def _with_headings(doc: Document, chunks: Sequence[ChunkSpan], blocks: Sequence[Block],
                   options: StructureOptions) -> list[ChunkSpan]:
    """Each chunk with ``meta.headings`` (the path of the section it starts in) and, with
    --heading-context, ``context`` (that path less a heading the chunk's text begins with)."""
    if doc.markup not in HEADING_MARKUPS and not options.heading_context:
        return list(chunks)
    starts = [b.start for b in blocks]
    out = []
    for c in chunks:
        k = max(0, bisect.bisect_right(starts, c.start) - 1)
        block = blocks[k]
        if block.kind == "blank" and k + 1 < len(blocks):  # leading blank lines: what follows
            block = blocks[k + 1]
        own = block.level > 0 and block.start >= c.start
        path = (*block.headings, block.title) if block.level > 0 else block.headings
        meta = dict(c.meta or {})
        meta["headings"] = list(path)
        context = CONTEXT_SEPARATOR.join(block.headings if own else path)
        out.append(ChunkSpan(c.start, c.end, c.n_tokens, c.sent_start, c.sent_end, c.ctx_start,
                             meta, context if options.heading_context else None))
    return out


# ------------------------------------------------------------ parts of a huge file


def continue_headings(chunks: Sequence[ChunkSpan], carried: Sequence[tuple[int, str]],
                      outline: Sequence[tuple[int, int, str]], heading_context: bool
                      ) -> list[ChunkSpan]:
    """The chunks of a later part of a file read in parts, with heading paths that go on
    from the sections the earlier parts left open (``carried``: level, title).

    A part is parsed on its own, so its chunks' paths hold only headings of the
    part.  A carried section stays open for a chunk unless a heading of the same
    or a higher level (a smaller number) comes before the chunk within the part
    (``outline``: start, level, title of the part's section headings).
    """
    out = []
    k = 0
    lowest = 7  # the smallest heading level seen in the part up to the chunk
    for c in chunks:
        while k < len(outline) and outline[k][0] <= c.start:
            lowest = min(lowest, outline[k][1])
            k += 1
        prefix = [title for level, title in carried if level < lowest]
        if not prefix:
            out.append(c)
            continue
        meta = dict(c.meta or {})
        meta["headings"] = [*prefix, *meta.get("headings", ())]
        context = c.context
        if heading_context:
            context = CONTEXT_SEPARATOR.join([*prefix, *([c.context] if c.context else [])])
        out.append(ChunkSpan(c.start, c.end, c.n_tokens, c.sent_start, c.sent_end, c.ctx_start,
                             meta, context))
    return out


def close_sections(carried: list[tuple[int, str]], outline: Sequence[tuple[int, int, str]]
                   ) -> None:
    """Update the open sections (``carried``, in place) with a part's section headings."""
    for _start, level, title in outline:
        while carried and carried[-1][0] >= level:
            carried.pop()
        carried.append((level, title))
