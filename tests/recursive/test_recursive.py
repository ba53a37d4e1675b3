"""The recursive chunker: tiling, the hard limit on re-encoding, structure rules, determinism.

Documents go through the public API (``segtool.chunk_documents``) with their
Markdown structure, as a user's ``.md`` file does; every chunk is checked with
the tokenizer library itself (tests/core/exact_counts.py), never with
segtool's counters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise

from core.exact_counts import check_exact, encoder
from core.strategies import texts as plain_texts
from hypothesis import given, settings
from hypothesis import strategies as st

import segtool
from segtool.chunkers.recursive import RecursiveChunker, additive_join
from segtool.models.tokens import get_tokenizer
from segtool.structure.blocks import LINE_KINDS, parse_blocks
from segtool.types import Document, Span

from .markdown import documents


def chunk_md(text: str, **options):
    doc = Document(id="d", text=text, source="test.md", markup="md")
    return segtool.chunk_documents([doc], chunker="recursive", **options)


def line_starts_inside(text: str, block) -> set[int]:
    """Offsets inside ``block`` where a new line begins (allowed cuts in code and tables)."""
    return {i + 1 for i in range(block.start, block.end - 1) if text[i] in "\r\n"}


def check_structure(text: str, records, max_tokens: int) -> None:
    """No cut inside a code/table line unless that line alone is over the limit; no chunk
    ends right after a heading unless not even the first bit under it fits beside it."""
    encode = encoder("cl100k_base")
    blocks = parse_blocks(text, "md")
    ends = {r.end: r for r in records[:-1]}
    for k, b in enumerate(blocks):
        if b.kind in LINE_KINDS:
            lines = line_starts_inside(text, b)
            for c in (e for e in ends if b.start < e < b.end and e not in lines):
                line_end = text.find("\n", c)
                line = text[text.rfind("\n", 0, c) + 1 : line_end + 1 if line_end >= 0 else len(text)]
                assert encode(line) > max_tokens, ("cut inside a line", b, c, line)
        if b.level > 0 and b.end in ends:
            nxt = blocks[k + 1]
            if nxt.level > 0 or nxt.kind in LINE_KINDS:
                line_end = text.find("\n", nxt.start)
                first = text[nxt.start : line_end + 1 if line_end >= 0 else nxt.end]
            else:
                first = text[nxt.start]
            assert encode(ends[b.end].text + first) > max_tokens, ("chunk ends on a heading", b)


@settings(max_examples=60)
@given(documents, st.sampled_from([6, 16, 40, 120, 400]))
def test_markdown_tiles_fits_and_keeps_structure(text, max_tokens):
    records = chunk_md(text, max_tokens=max_tokens)
    check_exact(text, records, max_tokens, encoder("cl100k_base"))
    assert all(r.text == text[r.start : r.end] for r in records)
    check_structure(text, records, max_tokens)


@settings(max_examples=40)
@given(documents, st.sampled_from(["o200k_base", "chars", "words"]), st.sampled_from([5, 50]))
def test_exact_for_other_tokenizers(text, tokenizer, max_tokens):
    records = chunk_md(text, max_tokens=max_tokens, tokenizer=tokenizer)
    check_exact(text, records, max_tokens, encoder(tokenizer))


@settings(max_examples=60)
@given(plain_texts, st.sampled_from([3, 12, 64]))
def test_plain_text_without_blocks(text, max_tokens):
    """No structure given (plain text): paragraphs, then sentences, then token cuts."""
    if not text.strip():
        return
    records = segtool.chunk_documents([text], chunker="recursive", max_tokens=max_tokens)
    check_exact(text, records, max_tokens, encoder("cl100k_base"))


@settings(max_examples=30)
@given(documents)
def test_deterministic(text):
    first = [(r.start, r.end, r.n_tokens) for r in chunk_md(text, max_tokens=30)]
    again = [(r.start, r.end, r.n_tokens) for r in chunk_md(text, max_tokens=30)]
    assert first == again


@settings(max_examples=300)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
       st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
       st.sampled_from(["cl100k_base", "o200k_base", "chars", "words"]))
def test_additive_joins_really_add(left, right, name):
    """Where additive_join says yes, the two sides' counts sum to the whole's count —
    the shortcut that spares re-encoding packed blocks must never make n_tokens wrong."""
    text = left + "\n" + right
    join = additive_join(get_tokenizer(name))
    encode = encoder(name)
    pos = len(left) + 1
    if pos < len(text) and join(text, pos):
        assert encode(text) == encode(text[:pos]) + encode(text[pos:])


def test_additive_join_pieces_of_real_markdown():
    """Cut a real-looking document at every point the shortcut allows: the counts add up."""
    text = ("# Title\n\nSome text, with words.\n- item one\n- item two\n\n```\nx = 1\n```\n"
            "/path/after/newline\n| a | b |\n|---|---|\n\n  indented\nend.\n")
    for name in ("cl100k_base", "o200k_base"):
        join = additive_join(get_tokenizer(name))
        cuts = [0, *[p for p in range(1, len(text)) if join(text, p)], len(text)]
        encode = encoder(name)
        assert len(cuts) > 5
        assert sum(encode(text[a:b]) for a, b in pairwise(cuts)) == encode(text)


SECTIONS = """# Guide

Intro text that is short.

## Install

Run the installer. Then check the version.

## Usage

Call the tool with a file. It prints chunks.
"""


def test_a_section_that_fits_is_one_chunk():
    records = chunk_md(SECTIONS, max_tokens=30)
    texts = [r.text for r in records]
    assert "## Install\n\nRun the installer. Then check the version.\n\n" in texts
    assert "## Usage\n\nCall the tool with a file. It prints chunks.\n" in texts
    assert records[-1].meta["headings"] == ["Guide", "Usage"]


def test_a_small_document_is_one_chunk_per_section_and_a_large_limit_changes_nothing():
    assert len(chunk_md(SECTIONS, max_tokens=30)) == len(chunk_md(SECTIONS, max_tokens=4000)) == 3


NESTED = "# Guide\n\nIntro text.\n\n## A\n\nShort a.\n\n## B\n\nShort b.\n\n# Next\n\nMore.\n"


def test_run_structure_options_reach_the_chunker():
    """Every heading starts a chunk by default; --merge-sections packs whole sections up to the
    limit, never across a heading of level <= --section-level."""
    def texts(**options):
        doc = Document(id="d", text=NESTED, source="x.md", markup="md")
        return [r.text for r in segtool.chunk_documents([doc], chunker="recursive", max_tokens=100,
                                                        **options)]

    assert [t.split("\n")[0] for t in texts()] == ["# Guide", "## A", "## B", "# Next"]
    assert texts(merge_sections=True) == [NESTED]
    assert texts(merge_sections=True, section_level=1) == [NESTED[:NESTED.index("# Next")],
                                                           NESTED[NESTED.index("# Next"):]]


def test_oversized_code_block_is_cut_at_line_boundaries_only():
    lines = [f"    value_{i} = compute(alpha, beta, gamma, {i})  # step {i}\n" for i in range(40)]
    text = "## Code\n\nIntro.\n\n```python\n" + "".join(lines) + "```\n\nAfter the code.\n"
    records = chunk_md(text, max_tokens=60)
    check_exact(text, records, 60, encoder("cl100k_base"))
    code = next(b for b in parse_blocks(text, "md") if b.kind == "code")
    inside = [r.start for r in records if code.start < r.start < code.end]
    assert len(inside) >= 5  # the block had to be cut several times
    assert all(text[c - 1] == "\n" for c in inside)  # …and only ever at a line start
    assert not any(r.text.endswith("## Code\n\n") for r in records)


def test_a_paragraph_that_fits_is_never_split_in_plain_text():
    para = "One sentence here. Another one follows. A third closes it.\n\n"
    text = para * 12
    records = segtool.chunk_documents([text], chunker="recursive", max_tokens=50)
    assert all(r.start % len(para) == 0 and r.end % len(para) == 0 for r in records)
    assert max(r.n_tokens for r in records) <= 50


def test_cli_chunks_a_markdown_file(tmp_path):
    """The user's view: `segtool chunk FILE.md -c recursive`, output reopened and re-encoded."""
    text = SECTIONS + "\n```\n" + "".join(f"line {i} of code\n" for i in range(60)) + "```\n"
    path = tmp_path / "guide.md"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "chunks.jsonl"
    proc = subprocess.run([sys.executable, "-c", "from segtool.cli import main; main()",
                           "chunk", str(path), "-c", "recursive",
                           "--max-tokens", "40", "-q", "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert "".join(r["text"] for r in records) == text
    encode = encoder("cl100k_base")
    assert all(encode(r["text"]) == r["n_tokens"] <= 40 for r in records)
    assert records[1]["text"].startswith("## Install")


class _Measured:
    """The real cl100k counter, noting how many characters it is handed (not a stand-in)."""

    def __init__(self) -> None:
        self.real = get_tokenizer("cl100k_base")
        self.name, self.fingerprint = self.real.name, self.real.fingerprint
        self.chars = 0

    def counts(self, texts):
        self.chars += sum(map(len, texts))
        return self.real.counts(texts)

    def offsets(self, text):
        self.chars += len(text)
        return self.real.offsets(text)


def test_whole_blocks_are_encoded_once():
    """Packing blocks that fit costs one tokenizer pass, not two: a chunk of whole blocks gets
    its exact size as a sum (and the sizes are still exact)."""
    text = "".join(f"## Part {i}\n\nFirst line of part {i}.\nSecond line, with more words.\n\n"
                   f"- item {i}.a\n- item {i}.b\n\n```\ncode({i})\n```\n\n" for i in range(40))
    blocks = tuple(parse_blocks(text, "md"))
    doc = Document(id="d", text=text, source="x.md", markup="md", blocks=blocks)
    spans = [Span(b.start, b.end) for b in blocks]
    chunker = RecursiveChunker(max_tokens=60)
    measured = _Measured()
    chunker.tokenizer = measured
    chunks = chunker.chunk_documents([doc], [spans])[0]
    check_exact(text, chunks, 60, encoder("cl100k_base"))
    assert len(chunks) >= 40
    assert measured.chars <= 1.05 * len(text)
