"""Hypothesis strategies for Markdown documents: headings, lists, fences, tables, quotes,
front matter and link definitions, mixed with arbitrary Unicode text."""

from __future__ import annotations

from hypothesis import strategies as st

# No lone surrogates (no reader produces them); no line breaks inside a "word".
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d"
                       "\x1e\x85\u2028\u2029")
_words = st.sampled_from([
    "Hello world.", "Dr. Smith went to Washington.", "It cost $3.50!", "Really?", "日本語の文です。",
    "👩‍👩‍👧 family.", "e\u0301 combining.", "U.S.C. § 1983 applies.", "“Quoted.” Next.",
    "*emph* and `code`", "[a link](http://x.y)", "नमस्ते।", "مرحبا؟", "...", "a" * 40,
])
_phrase = st.lists(st.one_of(_words, st.text(_chars, min_size=1, max_size=12)), min_size=1,
                   max_size=6).map(" ".join)
_eol = st.sampled_from(["\n", "\n", "\r\n"])


def _line(text: str) -> str:
    """A phrase that starts with a letter, so it cannot open another block by accident."""
    return "W " + text.strip()


headings = st.builds(lambda level, title, eol: "#" * level + " " + _line(title) + eol,
                     st.integers(1, 6), _phrase, _eol)
paragraphs = st.builds(lambda lines, eol: eol.join(_line(x) for x in lines) + eol,
                       st.lists(_phrase, min_size=1, max_size=4), _eol)
lists = st.builds(lambda items, marker: "".join(f"{marker} {_line(x)}\n" for x in items),
                  st.lists(_phrase, min_size=1, max_size=5), st.sampled_from(["-", "*", "1."]))
fences = st.builds(lambda lang, lines: f"```{lang}\n" + "".join(f"{x}\n" for x in lines) + "```\n",
                   st.sampled_from(["", "python", "sh"]),
                   st.lists(st.one_of(_phrase, st.just(""), st.just("# not a heading"),
                                      st.just("    indented = 1")), min_size=1, max_size=8))
tables = st.builds(lambda rows: "| a | b |\n|---|---|\n" + "".join(
    f"| {_line(x)} | {_line(y)} |\n" for x, y in rows),
    st.lists(st.tuples(_phrase, _phrase), min_size=1, max_size=6))
quotes = st.builds(lambda lines: "".join(f"> {_line(x)}\n" for x in lines),
                   st.lists(_phrase, min_size=1, max_size=3))
references = st.builds(lambda names: "".join(f"[{n}]: http://example.org/{k}\n"
                                             for k, n in enumerate(names)),
                       st.lists(st.sampled_from(["a", "b", "ref", "x y"]), min_size=1,
                                max_size=3))
_block = st.one_of(headings, headings, paragraphs, paragraphs, lists, fences, tables, quotes,
                   references, st.just("---\n"), st.just("<div>\nraw html\n</div>\n"))
_front = st.sampled_from(["", "", "---\ntitle: x\n---\n"])
_gap = st.sampled_from(["\n", "\n", "\n\n", "\n  \n", "\r\n"])
_noise = st.text(_chars, max_size=20)  # arbitrary Unicode between blocks


markdown = st.builds(
    lambda front, lead, blocks, tail: front + lead + "".join(b + g for b, g in blocks) + tail,
    _front, st.sampled_from(["", "\n\n", "  \n"]),
    st.lists(st.tuples(st.one_of(_block, _block, _block, _noise.map(lambda t: _line(t) + "\n")),
                       _gap), min_size=1, max_size=14),
    st.sampled_from(["", "\n", "\n\n", "trailing text without newline"]))
