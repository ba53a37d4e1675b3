"""The structure options as a user meets them: flags, output fields, files, errors, ids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import segtool

REPO = Path(__file__).resolve().parents[2]
README = REPO / "fixtures" / "docs" / "structure" / "markdown-it-py-README.md"
DOC = ("# Guide\n\nIntro sentence one. Intro sentence two.\n\n## Install\n\nRun it:\n\n"
       "```sh\npip install thing\npip install other\n```\n\n## Use\n\nCall it. Done.\n")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args, "-q"], cwd=REPO,
                          capture_output=True, text=True, input=stdin)


def records(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture()
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "guide.md"
    path.write_bytes(DOC.encode())
    return path


def test_heading_context_field_and_headings_column(doc: Path, tmp_path: Path) -> None:
    recs = records(run("chunk", str(doc), "--max-tokens", "64", "--heading-context"))
    assert [r["text"] for r in recs] == [
        "# Guide\n\nIntro sentence one. Intro sentence two.\n\n",
        "## Install\n\nRun it:\n\n```sh\npip install thing\npip install other\n```\n\n",
        "## Use\n\nCall it. Done.\n"]
    assert [r["meta"]["headings"] for r in recs] == [["Guide"], ["Guide", "Install"],
                                                     ["Guide", "Use"]]
    assert [r["context"] for r in recs] == ["", "Guide", "Guide"]
    assert all(DOC[r["start"]:r["end"]] == r["text"] for r in recs)
    out = tmp_path / "out.parquet"
    run("chunk", str(doc), "--max-tokens", "64", "--heading-context", "-o", str(out))
    table = pq.read_table(out)
    assert table.column("headings").to_pylist() == [r["meta"]["headings"] for r in recs]
    assert table.column("context").to_pylist() == ["", "Guide", "Guide"]
    kind = table.schema.field("headings").type
    assert pa.types.is_list(kind) and pa.types.is_string(kind.value_type)


def test_structure_off_restores_flat_text_and_ids_follow_the_options() -> None:
    # through the Python API: the same selection, identity and pipeline as the CLI
    def chunk(**options: object) -> list[dict]:
        return [c.to_dict() for c in segtool.chunk(DOC, max_tokens=64, **options)]

    flat = chunk(structure="off")
    assert len(flat) == 1 and "headings" not in flat[0]["meta"]
    default = chunk(structure="md")
    merged = chunk(structure="md", merge_sections=True)
    assert [r["text"] for r in merged] == [DOC]  # all three sections fit in 64 tokens
    assert merged[0]["meta"]["headings"] == ["Guide"]
    assert flat[0]["id"] != merged[0]["id"]  # same span, other configuration: other id
    level = chunk(structure="md", section_level=6)
    assert [r["text"] for r in level] == [r["text"] for r in default]
    assert [r["id"] for r in level] != [r["id"] for r in default]  # an option given: new ids


def test_sentences_stop_at_headings_on_stdin_and_records(tmp_path: Path) -> None:
    text = "# Title\nFirst line without a stop\n```\na = 1\nb = 2\n```\n"
    got = [r["text"] for r in records(run("sentences", "--input-format", "md", stdin=text))]
    assert got == ["# Title\n", "First line without a stop\n", "```\n", "a = 1\n", "b = 2\n",
                   "```\n"]
    data = tmp_path / "r.jsonl"
    data.write_text(json.dumps({"text": text}) + "\n", encoding="utf-8")
    plain = [r["text"] for r in records(run("sentences", str(data)))]
    assert "```\na = 1\nb = 2\n" in plain  # record text is plain text: no code lines
    forced = [r["text"] for r in records(run("sentences", str(data), "--structure", "md"))]
    assert forced == got


@pytest.mark.parametrize(("args", "words"), [
    (["chunk", "--section-level", "7"], "--section-level"),
    (["chunk", "--heading-context", "--structure", "off"], "needs --structure auto"),
    (["chunk", "--structure", "xml"], "--structure"),
    (["sentences", "--merge-sections"], "--merge-sections"),
    (["chunk", "--heading-context", "--columns", "context"], "--columns context"),
])
def test_bad_structure_options_are_usage_errors(doc: Path, args: list[str], words: str) -> None:
    proc = run(*args, str(doc))
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


def test_workers_give_the_same_structured_chunks() -> None:
    args = ("chunk", str(README), "--max-tokens", "96", "--merge-sections", "--section-level",
            "2", "--heading-context")
    one = run(*args)
    two = run(*args, "--jobs", "2")
    assert records(one) == records(two) and len(records(one)) > 5


def test_python_api_takes_the_structure_options() -> None:
    chunks = segtool.chunk(DOC, structure="md", max_tokens=64, heading_context=True)
    assert [c.meta["headings"] for c in chunks] == [["Guide"], ["Guide", "Install"],
                                                    ["Guide", "Use"]]
    assert [c.context for c in chunks] == ["", "Guide", "Guide"]
    assert chunks[1].to_dict()["context"] == "Guide"
    assert len(segtool.chunk(DOC, max_tokens=64)) == 1  # a str has no known format
    with pytest.raises(TypeError, match="section_level"):
        segtool.chunk(DOC, structure="md", section_level=9)


def _expected_path(blocks: list, pos: int) -> list[str]:
    """The heading path at ``pos`` of the whole file, from one parse of all of it."""
    import bisect

    k = max(0, bisect.bisect_right([b.start for b in blocks], pos) - 1)
    block = blocks[k]
    if block.kind == "blank" and k + 1 < len(blocks):
        block = blocks[k + 1]
    return [*block.headings, block.title] if block.level > 0 else list(block.headings)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_heading_paths_go_on_across_the_parts_of_a_huge_markdown_file(tmp_path: Path,
                                                                       jobs: str) -> None:
    """A Markdown file over --block-mib is read and parsed in parts; a chunk's heading path
    must still name the sections opened in earlier parts, as one parse of the whole file
    gives them."""
    from segtool.structure.blocks import parse_blocks

    rows = []
    for top in range(3):
        rows.append(f"# Book {top}\n\nOpening words of book {top}. They are short.\n\n")
        for sec in range(60):
            rows.append(f"## Chapter {top}.{sec}\n\n")
            for par in range(40):
                rows.append(f"Paragraph {par} of chapter {sec} in book {top} says a few "
                            f"things at length, one after another, for a while. " * 4 + "\n\n")
    text = "".join(rows)
    assert len(text.encode()) > 2.5 * 2**20  # three or more parts of 1 MiB
    path = tmp_path / "huge.md"
    path.write_bytes(text.encode())
    recs = records(run("chunk", str(path), "--block-mib", "1", "--max-tokens", "200",
                       "--heading-context", "-j", jobs))
    blocks = parse_blocks(text, "md")
    late = [r for r in recs if r["start"] > 2**20]  # in the second part or later
    assert late and all(r["text"] == text[r["start"]:r["end"]] for r in recs)
    for r in recs:
        expected = _expected_path(blocks, r["start"])
        assert r["meta"]["headings"] == expected, (r["start"], r["meta"]["headings"])
        own = text[r["start"]:].startswith("#")
        context = expected[:-1] if own else expected
        assert r["context"] == " > ".join(context)
    assert any(r["meta"]["headings"][0] != "Book 0" for r in late)  # books 1, 2 seen later
