"""Block spans: they tile the text exactly, and each is what the parser says it is."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segtool.readers.html_text import HtmlTextExtractor, html_to_text
from segtool.structure.blocks import Block, check_tiling, document_blocks, parse_blocks
from segtool.types import Document

from .strategies import markdown

_any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=60)
@given(markdown)
def test_markdown_blocks_tile_the_text_start_on_a_line_and_know_their_headings(text: str) -> None:
    blocks = parse_blocks(text, "md")
    check_tiling(text, blocks)
    stack: list[tuple[int, str]] = []
    for block in blocks:
        # every block starts at the start of a line (markdown-it's line maps, in characters)
        assert block.start == 0 or text[block.start - 1] in "\n\r"
        assert block.kind != "blank" or block.start == 0
        if block.kind == "heading":
            assert 1 <= block.level <= 6
            line = text[block.start:block.end].lstrip(" ")
            atx = re.match(r"(#{1,6})[ \t]", line)
            assert atx is None or len(atx.group(1)) == block.level
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            assert block.headings == tuple(t for _, t in stack)  # a heading: its parents
            stack.append((block.level, block.title))
        else:
            assert block.level == 0 and block.title == ""
            assert block.headings == tuple(t for _, t in stack)


@settings(max_examples=80)
@given(_any_text, st.sampled_from(["md", "text", "html"]))
def test_any_text_tiles(text: str, fmt: str) -> None:
    check_tiling(text, parse_blocks(text, fmt))


def test_markdown_kinds_offsets_and_titles() -> None:
    text = ("---\ntitle: x\n---\n# Top *title*\r\n\nPara one.\nstill one.\n\n- item a\n- item b\n\n"
            "```py\n# not a heading\nx = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n\n"
            "Setext `t`\n---\n\n[ref]: http://example.org\n")
    blocks = parse_blocks(text, "md")
    check_tiling(text, blocks)
    got = [(b.kind, b.level, text[b.start:b.end]) for b in blocks]
    assert got == [
        ("front_matter", 0, "---\ntitle: x\n---\n"),
        ("heading", 1, "# Top *title*\r\n\n"),
        ("paragraph", 0, "Para one.\nstill one.\n\n"),
        ("list_item", 0, "- item a\n"),
        ("list_item", 0, "- item b\n\n"),
        ("code", 0, "```py\n# not a heading\nx = 1\n```\n\n"),
        ("table", 0, "| a | b |\n|---|---|\n| 1 | 2 |\n\n"),
        ("quote", 0, "> quoted\n\n"),
        ("heading", 2, "Setext `t`\n---\n\n"),
        ("reference", 0, "[ref]: http://example.org\n"),
    ]
    assert [b.title for b in blocks if b.level] == ["Top title", "Setext t"]
    assert blocks[-1].headings == ("Top title", "Setext t")


def test_leading_blank_lines_are_a_blank_block() -> None:
    text = "\n \n# H\n\nbody\n"
    assert [(b.kind, text[b.start:b.end]) for b in parse_blocks(text, "md")] == [
        ("blank", "\n \n"), ("heading", "# H\n\n"), ("paragraph", "body\n")]
    assert [(b.kind, text[b.start:b.end]) for b in parse_blocks(text, "text")] == [
        ("blank", "\n \n"), ("paragraph", "# H\n\n"), ("paragraph", "body\n")]


def test_plain_text_paragraphs_break_at_blank_lines_only() -> None:
    text = "one\ntwo\n\n  three\r\n \r\nfour"
    spans = [text[b.start:b.end] for b in parse_blocks(text, "text")]
    assert spans == ["one\ntwo\n\n", "  three\r\n \r\n", "four"]


HTML = ("<html><head><title>T</title><script>x()</script></head><body>"
        "<h1>Main <b>title</b></h1><p>Hello world. Next one.</p>"
        "<ul><li>one</li><li><p>two</p></li></ul><h2>Sub</h2>"
        "<pre>\ncode line\n  more\n</pre><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>"
        "</table><blockquote>quoted</blockquote><h2>Other</h2><div>x</div></body></html>")


def test_html_extraction_records_blocks_of_the_extracted_text() -> None:
    parser = HtmlTextExtractor()
    for k in range(0, len(HTML), 7):  # fed in pieces, as the reader does
        parser.feed(HTML[k:k + 7])
    parser.close()
    text = parser.text()
    assert text == html_to_text(HTML)  # recording blocks leaves the text alone
    blocks = parser.blocks()
    check_tiling(text, blocks)
    got = [(b.kind, b.level, b.title, b.headings, text[b.start:b.end]) for b in blocks]
    assert got == [
        ("heading", 1, "Main title", (), "Main title\n\n"),
        ("paragraph", 0, "", ("Main title",), "Hello world. Next one.\n\n"),
        ("list_item", 0, "", ("Main title",), "one\n\n"),  # <p> in the next item: a blank line
        ("list_item", 0, "", ("Main title",), "two\n\n"),
        ("heading", 2, "Sub", ("Main title",), "Sub\n\n"),
        ("code", 0, "", ("Main title", "Sub"), "code line\n  more\n\n"),
        ("table", 0, "", ("Main title", "Sub"), "a b\nc\n\n"),
        ("quote", 0, "", ("Main title", "Sub"), "quoted\n\n"),
        ("heading", 2, "Other", ("Main title",), "Other\n\n"),
        ("paragraph", 0, "", ("Main title", "Other"), "x"),
    ]


@settings(max_examples=100)
@given(st.lists(st.sampled_from(["<h2>", "</h2>", "<p>", "</p>", "<li>", "<pre>", "</pre>",
                                 "<table><tr><td>", "</td></tr>", "</table>", "<br>", " ",
                                 "text. ", "\n", "More words! ", "日本語。"]), max_size=40))
def test_html_blocks_tile_whatever_the_markup(pieces: list[str]) -> None:
    parser = HtmlTextExtractor()
    parser.feed("".join(pieces))
    parser.close()
    text = parser.text()
    check_tiling(text, parser.blocks())


def test_document_blocks_prefers_recorded_blocks_and_parses_lazily() -> None:
    recorded = (Block(0, 3, "heading", 1, (), "abc"),)
    assert document_blocks(Document("d", "abc", "d", markup="html", blocks=recorded)) is recorded
    assert document_blocks(Document("d", "# a\n", "d")) is None  # unknown markup: no structure
    [block] = document_blocks(Document("d", "# a\n", "d", markup="md"))
    assert (block.kind, block.level, block.title) == ("heading", 1, "a")
    with pytest.raises(ValueError, match="unknown markup"):
        parse_blocks("x", "rst")


@st.composite
def _text_and_spans(draw: st.DrawFn) -> tuple[str, list]:
    """Plain text with blank lines, and sentence spans tiling it: cut at every paragraph
    start (as a splitter usually is) or not, with more cuts anywhere."""
    from segtool.structure.blocks import paragraph_blocks
    from segtool.types import Span

    pieces = draw(st.lists(st.sampled_from(["a", "b.", " ", "\t", "\n", "\r\n", "\r", "\n\n",
                                            " \n \n", "é", "\u3000"]), min_size=1, max_size=30))
    text = "".join(pieces)
    cuts = set(draw(st.lists(st.integers(1, len(text) - 1), max_size=6))) if len(text) > 1 \
        else set()
    if draw(st.booleans()):
        cuts |= {b.start for b in paragraph_blocks(text)[1:]}
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return text, [Span(a, b) for a, b in pairwise(bounds)]


@settings(max_examples=400, deadline=None)
@given(_text_and_spans())
def test_spans_already_cut_at_every_paragraph_are_exactly_what_cutting_gives(case) -> None:
    """The pipeline keeps a plain text's spans when ``already_cut`` says cutting would not
    change them: that must be true whenever it says so."""
    from segtool.structure.apply import already_cut, cut_spans
    from segtool.structure.blocks import paragraph_blocks

    text, spans = case
    blocks = paragraph_blocks(text)
    if already_cut(text, spans, blocks):
        assert cut_spans(text, spans, blocks)[0] == spans


def test_already_cut_holds_for_real_paragraphs_split_by_rules() -> None:
    from segtool import registry
    from segtool.structure.apply import already_cut, cut_spans
    from segtool.structure.blocks import paragraph_blocks

    text = ("The first paragraph. It has two sentences.\n\n"
            "The second one\nwraps a line.  \n \nAnd a third.\n")
    spans = registry.create("splitters", "rules", {}).split_batch([text])[0]
    blocks = paragraph_blocks(text)
    assert len(blocks) == 3
    assert already_cut(text, spans, blocks)
    assert cut_spans(text, spans, blocks)[0] == list(spans)
    merged = [type(spans[0])(0, len(text))]  # one span over three paragraphs: must be cut
    assert not already_cut(text, merged, blocks)
    assert len(cut_spans(text, merged, blocks)[0]) == 3
