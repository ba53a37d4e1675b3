"""The Markdown block parser (markdown-it.rs): exact character offsets whatever the text's
encoding, the same leaves as the markdown-it-py fallback, and no crash or hang on hostile input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from itertools import pairwise

from hypothesis import given, settings

from segtool.structure import markdown as md_parser
from segtool.structure.blocks import _line_starts, check_tiling, parse_blocks

from .strategies import markdown


def _blocks(text: str) -> list[tuple[str, int, str, str]]:
    blocks = parse_blocks(text, "md")
    check_tiling(text, blocks)
    return [(b.kind, b.level, b.title, text[b.start:b.end]) for b in blocks]


def test_offsets_are_characters_with_multibyte_text() -> None:
    """markdown-it.rs maps UTF-8 bytes; blocks must still cut the str at the right characters
    (CJK: 3 bytes, emoji: 4 bytes and a ZWJ sequence, combining marks, \\r\\n and \\r)."""
    text = ("# 日本語の見出し 👩\u200d👩\u200d👧\n\n"
            "本文です。e\u0301 combining.\r\n\r\n"
            "- 項目 😀\n- e\u0301\u0301 deux\n\n"
            "```\n🐍 = 1\n```\n"
            "| 列 | 😀 |\n|---|---|\n| é | 日 |\n\n"
            "## Ça *va* `😀`\r"
            "> 引用\r\r"
            "last 🎉")
    assert _blocks(text) == [
        ("heading", 1, "日本語の見出し 👩\u200d👩\u200d👧", "# 日本語の見出し 👩\u200d👩\u200d👧\n\n"),
        ("paragraph", 0, "", "本文です。e\u0301 combining.\r\n\r\n"),
        ("list_item", 0, "", "- 項目 😀\n"),
        ("list_item", 0, "", "- e\u0301\u0301 deux\n\n"),
        ("code", 0, "", "```\n🐍 = 1\n```\n"),
        ("table", 0, "", "| 列 | 😀 |\n|---|---|\n| é | 日 |\n\n"),
        ("heading", 2, "Ça va 😀", "## Ça *va* `😀`\r"),
        ("quote", 0, "", "> 引用\r\r"),
        ("paragraph", 0, "", "last 🎉"),
    ]


def test_line_starts_agree_between_characters_and_bytes() -> None:
    text = "a\r\n日本\r😀\n\ne\u0301\n"
    chars, raw = md_parser.line_starts(text), md_parser.line_starts(text.encode())
    assert len(chars) == len(raw) == 6
    data = text.encode()
    assert [text[a:b] for a, b in pairwise(chars)] == [
        data[a:b].decode() for a, b in pairwise(raw)]
    assert md_parser.line_starts("x\ny") == [0, 2] and md_parser.line_starts("") == [0]


def test_lone_surrogates_and_nul_keep_exact_offsets() -> None:
    """A str from JSON may hold "\\ud800" (no UTF-8 form) or NUL: both are read as U+FFFD,
    one character for one, so every offset still points into the original text."""
    text = "# Ti\ud800tle\n\npara \udfff end\n\n- a\x00b\n\n[ref]: http://x\x00\n"
    assert _blocks(text) == [
        ("heading", 1, "Ti\ufffdtle", "# Ti\ud800tle\n\n"),
        ("paragraph", 0, "", "para \udfff end\n\n"),
        ("list_item", 0, "", "- a\x00b\n\n"),
        ("reference", 0, "", "[ref]: http://x\x00\n"),
    ]


@settings(max_examples=60)
@given(markdown)
def test_markdown_it_rs_and_the_fallback_find_the_same_leaves(text: str) -> None:
    """The fallback (markdown-it-py) is what every text used before; on well-formed Markdown
    the two parsers agree line for line."""
    starts = _line_starts(text)
    covered_rs, covered_py = bytearray(len(starts) - 1), bytearray(len(starts) - 1)
    rs = md_parser.markdown_leaves(text, starts, covered_rs)
    py = list(md_parser._py_leaves(text, covered_py))
    assert rs == py


def test_guards_send_only_hostile_texts_to_the_fallback() -> None:
    assert md_parser.too_deep((">" * 150).encode(), ">" * 150)
    assert md_parser.too_deep(("1. " * 60).encode(), "1. " * 60)
    assert not md_parser.too_deep(("-" * 500).encode(), "-" * 500)  # a long rule, not a prefix
    assert not md_parser.too_deep(("x" + " " * 500).encode(), "x" + " " * 500)
    assert md_parser.too_slow("[a]:\n" * 3000)
    assert not md_parser.too_slow("[a]:\n\n" * 3000)  # blank lines end each scan
    assert not md_parser.too_slow("- [a](http://x)\n" * 3000)  # one list item each


HOSTILE = {
    "quotes": "'>' * 100_000",
    "quotes_spaced": "'> ' * 100_000 + 'x'",
    "bullets": "'- ' * 50_000",
    "ordered": "'1. ' * 50_000",
    "mixed": "'> - 1. ' * 30_000",
    "indented_lists": "''.join(' ' * (2 * i) + '- x\\n' for i in range(1500))",
    "brackets": "'[' * 100_000",
    "definitions": "'[a]:\\n' * 100_000",
    "quoted_definitions": "'> [a]: x\\n' * 50_000",
    "nul": "'\\x00' * 1000 + '# a\\x00b\\n\\x00\\n' * 1000",
    "surrogates": "'\\ud800' * 1000 + '\\n# \\udfff\\n' * 1000",
    "one_long_line": "'word ' * 4_000_000",
    "cr_only": "'# h\\rtext\\r\\r- a\\r> q\\r' * 20_000",
    "table": "'|' * 100_000 + '\\n' + '|-' * 50_000 + '\\n'",
}


def test_hostile_markdown_neither_crashes_nor_hangs() -> None:
    """Each input runs in a child process: a stack overflow in the Rust parser would be a
    segfault that no exception handler can catch.  Every one must give tiling blocks."""
    script = textwrap.dedent("""
        import json, sys
        from segtool.structure.blocks import check_tiling, parse_blocks
        cases = json.loads(sys.argv[1])
        for name, expr in cases.items():
            text = eval(expr)
            blocks = parse_blocks(text, "md")
            check_tiling(text, blocks)
            print(name, len(blocks), flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(HOSTILE)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    done = [line.split()[0] for line in proc.stdout.splitlines()]
    assert done == list(HOSTILE)


def test_without_markdown_it_pyrs_the_fixtures_parse_to_the_same_blocks() -> None:
    """Where markdown-it-pyrs has no wheel (CPython 3.13+) it is not installed: a process
    that cannot import it must still parse Markdown, to the same blocks."""
    from pathlib import Path

    fixtures = sorted((Path(__file__).resolve().parents[2] / "fixtures").rglob("*.md"))
    assert fixtures
    script = textwrap.dedent("""
        import json, sys
        sys.modules["markdown_it_pyrs"] = None  # as if it were not installed
        from segtool.structure.blocks import parse_blocks
        out = []
        for path in sys.argv[1:]:
            text = open(path, encoding="utf-8", newline="").read()
            out.append([[b.start, b.end, b.kind, b.level, list(b.headings), b.title]
                        for b in parse_blocks(text, "md")])
        print(json.dumps(out))
    """)
    proc = subprocess.run([sys.executable, "-c", script, *map(str, fixtures)],
                          capture_output=True, text=True, timeout=300, check=True)
    without = json.loads(proc.stdout)
    assert md_parser._rs_parser() is not None  # this process has it
    here = [[[b.start, b.end, b.kind, b.level, list(b.headings), b.title]
             for b in parse_blocks(p.read_bytes().decode("utf-8"), "md")]
            for p in fixtures]
    assert without == here
    assert sum(len(blocks) for blocks in here) > 40  # headings, lists, code, tables
