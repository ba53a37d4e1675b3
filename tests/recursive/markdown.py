"""Hypothesis strategies for Markdown documents: headings, paragraphs, lists, fences, tables."""

from __future__ import annotations

from hypothesis import strategies as st

# Arbitrary Unicode inside a line: no line breaks (those shape the blocks) and no lone surrogates.
_inline_chars = st.characters(blacklist_categories=("Cs",),
                              blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_words = st.sampled_from([
    "Hello world.", "Dr. Smith went to Washington.", "It cost $3.50!", "Really?", "日本語の文です。",
    "“Quoted.” Next.", "e\u0301 combining.", "👩‍👩‍👧 family.", "x" * 120, "U.S.C. § 1983 applies.",
    "`code span`", "[a link](https://example.com/x)", "**bold** text.",
])
_line = st.lists(st.one_of(_words, st.text(_inline_chars, min_size=1, max_size=25)),
                 min_size=1, max_size=6).map(" ".join).map(lambda s: s.strip() or "word")

heading = st.tuples(st.integers(1, 6), _line).map(lambda t: "#" * t[0] + " " + t[1] + "\n")
paragraph = st.lists(_line, min_size=1, max_size=4).map(lambda ls: "\n".join(ls) + "\n")
bullets = st.lists(_line, min_size=1, max_size=4).map(
    lambda ls: "".join(f"- {line}\n" for line in ls))
fence = st.tuples(st.sampled_from(["", "python", "bash"]),
                  st.lists(st.text(_inline_chars, max_size=60), min_size=1, max_size=8)).map(
    lambda t: f"```{t[0]}\n" + "".join(line + "\n" for line in t[1]) + "```\n")
table = st.lists(st.tuples(st.text(_inline_chars.filter(lambda c: c not in "|\\"), max_size=12),
                           st.text(_inline_chars.filter(lambda c: c not in "|\\"), max_size=12)),
                 min_size=1, max_size=6).map(
    lambda rows: "| a | b |\n|---|---|\n" + "".join(f"| {x} | {y} |\n" for x, y in rows))
quote = _line.map(lambda s: f"> {s}\n")

block = st.one_of(heading, paragraph, bullets, fence, table, quote)
separator = st.sampled_from(["\n", "\n", "\n\n", ""])

documents = st.lists(st.tuples(block, separator), min_size=1, max_size=14).map(
    lambda parts: "".join(b + s for b, s in parts))
