"""Every chunker respects the structure: properties on generated Markdown.

The pipeline is run in this process exactly as the CLI runs it; each property
is checked the way a user would check it: re-encoding chunk text, comparing
offsets with the blocks of the document.
"""

from __future__ import annotations

import bisect
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from segtool.models.tokens import get_tokenizer
from segtool.pipeline import Pipeline
from segtool.selection import Selection, build
from segtool.structure.blocks import LINE_KINDS, Block, parse_blocks
from segtool.structure.options import StructureOptions
from segtool.types import Document

from .strategies import markdown

LIMITS = st.sampled_from([24, 64, 200])


@cache
def _components(chunker: str, max_tokens: int) -> tuple[object, object]:
    return build(Selection("rules", chunker, {}, {"max_tokens": max_tokens}))


def _run(text: str, max_tokens: int, structure: StructureOptions, chunker: str = "window"
         ) -> list[dict]:
    split, chunk = _components(chunker, max_tokens)
    pipe = Pipeline(split, chunk, structure=structure)
    return list(pipe.run([Document("doc", text, "doc", markup="md")]))


def _count(text: str) -> int:
    return get_tokenizer("cl100k_base").counts([text])[0]


def _line_at(text: str, block: Block, pos: int) -> tuple[int, int]:
    """The line of ``block`` holding ``pos`` (start, end), line breaks as in the parser."""
    start = pos
    while start > block.start and text[start - 1] not in "\n\r":
        start -= 1
    end = pos
    while end < block.end and text[end] not in "\n\r":
        end += 1
    return start, end


def _over(text: str, blocks: list[Block], k: int, hi: int, max_tokens: int) -> bool:
    """Is the unit ending at ``hi`` in block ``k`` over the limit?  The unit is the line (with
    the blank lines after it), or — for the first line of a block after headings — the
    headings and that line (the chunker gets them as one unit: only the token fallback can
    cut it)."""
    line_start = hi
    while line_start > blocks[k].start and text[line_start - 1] not in "\n\r":
        line_start -= 1
    while hi < blocks[k].end and text[hi].isspace():  # a unit keeps its trailing whitespace
        hi += 1
    if _count(text[line_start:hi]) > max_tokens:
        return True
    if line_start != blocks[k].start:
        return False
    first = k
    while first > 0 and blocks[first - 1].kind == "heading":
        first -= 1
    return first < k and _count(text[blocks[first].start:hi]) > max_tokens


def _check(text: str, records: list[dict], max_tokens: int) -> list[Block]:
    """The invariants every structured chunking keeps; returns the blocks for more checks."""
    blocks = parse_blocks(text, "md")
    starts = [b.start for b in blocks]
    pos = 0
    for rec in records:  # tiling and exact text
        assert rec["start"] == pos and rec["text"] == text[rec["start"]:rec["end"]]
        pos = rec["end"]
        assert _count(rec["text"]) == rec["n_tokens"] <= max_tokens  # limit, re-encoded
    assert pos == len(text) or text.isspace()
    for rec in records[:-1]:
        end = rec["end"]
        k = bisect.bisect_right(starts, end) - 1
        block = blocks[k]
        inside = block.start < end
        if inside and block.kind in LINE_KINDS:  # a code line / table row is never split…
            lo, hi = _line_at(text, block, end)
            if lo < end:  # …unless it does not fit: alone, or glued after its heading
                assert _over(text, blocks, k, hi, max_tokens), (block.kind, text[lo:hi])
        if inside and block.kind == "heading":  # cut inside a heading: only when the heading
            # (with the headings glued before it) does not fit in one chunk
            assert _count(text[rec["start"]:block.end]) > max_tokens
        if not inside and k > 0 and blocks[k - 1].kind == "heading":
            # a heading never ends a chunk, unless the heading and the first line under it
            # (one unit for the chunker) do not fit together, and the fallback cut fell there
            lo, hi = _line_at(text, block, block.start)
            assert _over(text, blocks, k, hi, max_tokens), text[rec["start"]:end]
    return blocks


def _sections_crossed(rec: dict, blocks: list[Block], level: int) -> bool:
    """Does the chunk hold a heading of level ≤ ``level`` after some body text?"""
    body = False
    for block in blocks:
        if block.end <= rec["start"] or block.start >= rec["end"]:
            continue
        if 0 < block.level <= level and block.start > rec["start"] and body:
            return True
        if block.level == 0 and block.kind != "blank":
            body = True
    return False


@settings(max_examples=40)
@given(markdown, LIMITS)
def test_window_chunks_respect_blocks_headings_and_sections(text: str, max_tokens: int) -> None:
    records = _run(text, max_tokens, StructureOptions())
    blocks = _check(text, records, max_tokens)
    # default: every heading starts a chunk, so no chunk holds a heading after body text
    assert not any(_sections_crossed(r, blocks, 6) for r in records)
    heading_starts = {b.start for b in blocks if b.level}
    for rec in records:  # the heading path is the one of the block the chunk starts in
        block = blocks[bisect.bisect_right([b.start for b in blocks], rec["start"]) - 1]
        if block.kind == "blank" and block.end < len(text):
            block = next(b for b in blocks if b.start == block.end)
        path = [*block.headings, block.title] if block.level else list(block.headings)
        assert rec["meta"]["headings"] == path
        if block.level:
            assert block.start in heading_starts


@settings(max_examples=30)
@given(markdown, LIMITS, st.integers(0, 6), st.booleans())
def test_section_level_and_merging_hold_the_limits(text: str, max_tokens: int, level: int,
                                                   merge: bool) -> None:
    options = StructureOptions(section_level=level, merge_sections=merge)
    records = _run(text, max_tokens, options)
    blocks = _check(text, records, max_tokens)
    assert not any(_sections_crossed(r, blocks, level) for r in records)
    if merge:  # merging only joins whole sections: every chunk still starts on a block
        starts = {b.start for b in blocks}
        default = _run(text, max_tokens, StructureOptions())
        assert len(records) <= len(default)
        assert {r["start"] for r in records} <= {r["start"] for r in default} | starts


@settings(max_examples=30)
@given(markdown)
def test_sentences_never_cross_a_block_and_code_lines_are_units(text: str) -> None:
    split, _ = _components("window", 64)
    records = list(Pipeline(split, None).run([Document("doc", text, "doc", markup="md")]))
    blocks = parse_blocks(text, "md")
    starts = [b.start for b in blocks]
    assert "".join(r["text"] for r in records) == text or text.isspace()
    for rec in records:
        inner = [s for s in starts if rec["start"] < s < rec["end"]]
        assert not inner, (rec["text"], inner)
        block = blocks[bisect.bisect_right(starts, rec["start"]) - 1]
        if block.kind in LINE_KINDS:  # one line (and the blank lines after it) per sentence
            body = rec["text"].rstrip()
            assert "\n" not in body and "\r" not in body, rec["text"]


def test_structure_off_is_the_flat_chunking() -> None:
    text = "# Title\nIntro text here. More text.\n\n## Next\n```\ncode = 1\n```\n"
    flat = _run(text, 64, StructureOptions("off"))
    assert [r["text"] for r in flat] == [text] and "headings" not in flat[0]["meta"]
    structured = _run(text, 64, StructureOptions())
    assert [r["text"] for r in structured] == ["# Title\nIntro text here. More text.\n\n",
                                               "## Next\n```\ncode = 1\n```\n"]
    assert [r["meta"]["headings"] for r in structured] == [["Title"], ["Title", "Next"]]


def test_a_heading_glues_to_its_text_even_when_the_chunk_is_full() -> None:
    # the paragraph fills most of the limit: flat chunking lets the heading end chunk 1
    text = "Some words here. " * 7 + "\n\n### Deep heading\n\nText under it.\n"
    flat = [r["text"] for r in _run(text, 40, StructureOptions("off"))]
    assert flat[0].endswith("### Deep heading\n\n")  # what the glue prevents
    records = _run(text, 40, StructureOptions(section_level=2))  # h3 is not a section cut
    assert [r["text"] for r in records] == [
        "Some words here. " * 7 + "\n\n", "### Deep heading\n\nText under it.\n"]


def test_heading_context_is_the_path_not_in_the_text() -> None:
    text = "# A\n\nIntro.\n\n## B\n\n" + "Body sentence number one. " * 12 + "\n"
    records = _run(text, 40, StructureOptions(heading_context=True))
    assert [r["context"] for r in records] == ["", "A", "A > B"]
    assert [r["meta"]["headings"] for r in records] == [["A"], ["A", "B"], ["A", "B"]]
    assert all(r["text"] == text[r["start"]:r["end"]] for r in records)


def test_every_chunker_gets_sections(tmp_path) -> None:
    """The mechanism is generic: a chunker that knows nothing of structure (semantic with the
    offline model2vec embedder) still never crosses a section and never ends on a heading."""
    text = ("# One\n\nAlpha beta gamma. Delta epsilon.\n\n## Two\n\nZeta eta theta. Iota kappa.\n\n"
            "```\nline one\nline two\n```\n\n## Three\n\nLambda mu. Nu xi omicron.\n")
    split, chunk = build(Selection("rules", "semantic", {},
                                   {"max_tokens": 64, "embedder": "model2vec"}))
    records = list(Pipeline(split, chunk).run([Document("d", text, "d", markup="md")]))
    starts = {r["start"] for r in records}
    assert {text.index(h) for h in ("# One", "## Two", "## Three")} <= starts
    _check(text, records, 64)
