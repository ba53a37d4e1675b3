"""HTML: visible text only, block structure as line breaks."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from segtool.readers.html_text import html_to_text

from .conftest import COMPRESSORS, only_bad, only_docs, read_all, write

PAGE = """<!DOCTYPE html>
<html><head><title>  The   Title </title>
<style>body { color: red }</style><script>var x = "<p>not text</p>";</script>
</head>
<body>
  <h1>Heading</h1>
  <p>First   paragraph
     spans lines &amp; has <b>bold</b>, <a href="#">a link</a>.</p>
  <p>Second<br>line break</p>
  <ul><li>one</li><li>two</li></ul>
  <table><tr><td>c1</td><td>c2</td></tr><tr><td>c3</td><td>c4</td></tr></table>
  <pre>  keep   this
    layout</pre>
  <div>caf&eacute; &#x1F600; &nbsp;end</div>
  <noscript>enable JS</noscript><template><p>hidden</p></template>
  <!-- a comment -->
</body></html>
"""

EXPECTED = (
    "Heading\n\n"
    "First paragraph spans lines & has bold, a link.\n\n"
    "Second\nline break\n\n"
    "one\ntwo\n\n"
    "c1 c2\nc3 c4\n\n"
    "  keep   this\n    layout\n\n"
    "café 😀 \u00a0end"
)


def test_visible_text_and_title(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", PAGE)
    [doc] = only_docs(read_all(path))
    assert doc.text == EXPECTED
    assert doc.meta == {"title": "The Title"}
    assert (doc.id, doc.source) == (path, path)


def test_compressed_html_and_htm(tmp_path: Path) -> None:
    for suffix in COMPRESSORS:
        path = write(tmp_path / f"page.htm{suffix}", PAGE)
        assert only_docs(read_all(path))[0].text == EXPECTED


def test_html_fed_in_tiny_pieces_gives_the_same_text() -> None:
    from segtool.readers.html_text import HtmlTextExtractor

    parser = HtmlTextExtractor()
    for ch in PAGE:
        parser.feed(ch)
    parser.close()
    assert parser.text() == EXPECTED


def test_double_br_is_a_paragraph_break() -> None:
    assert html_to_text("a<br><br>b<br/>c<br><br><br>d") == "a\n\nb\nc\n\nd"


def test_empty_and_invalid_html(tmp_path: Path) -> None:
    [doc] = only_docs(read_all(write(tmp_path / "empty.html", "")))
    assert doc.text == "" and doc.meta == {}
    bad = only_bad(read_all(write(tmp_path / "latin.html", "<p>caf\xe9</p>".encode("latin-1"))))
    assert bad.location == "line 1, byte 6"


@given(st.lists(st.sampled_from(["<p>", "</p>", "<br>", "word", " ", "\n", "<b>", "</b>",
                                 "<div>", "&amp;", "<script>x</script>", "<pre> a\n</pre>"]),
                max_size=40).map("".join))
def test_output_is_normalised(html: str) -> None:
    text = html_to_text(html)
    assert text == text.strip(" \n") or "<pre>" in html
    assert "\n\n\n" not in text
    assert "<script>" not in text and "x" not in text.replace("\n", "")
