"""Golden output on two real documents: a Markdown README and an HTML documentation page.

The expected files in fixtures/expected/structure.*.jsonl were reviewed by hand
(headings start chunks, code stays whole lines, heading paths are right).  If
segtool's output changes on purpose, regenerate them with
``SEGTOOL_REGEN_STRUCTURE=1 python3 -m pytest tests/structure/test_golden_structure.py``
and review the diff.  The documents and their licenses: fixtures/docs/structure/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segtool.readers.html_text import html_to_text

REPO = Path(__file__).resolve().parents[2]
DOCS = "fixtures/docs/structure"
README = f"{DOCS}/markdown-it-py-README.md"
PAGE = f"{DOCS}/what-is-rustdoc.html"
CASES = {
    "md.sentences": ["sentences", README],
    "md.chunks.w128": ["chunk", README, "--max-tokens", "128", "--heading-context"],
    "html.sentences": ["sentences", PAGE],
    "html.chunks.w200.merged": ["chunk", PAGE, "--max-tokens", "200", "--merge-sections",
                                "--section-level", "1"],
}


def _source_text(path: str) -> str:
    raw = (REPO / path).read_text(encoding="utf-8")
    return html_to_text(raw) if path.endswith(".html") else raw


@pytest.mark.parametrize("name", sorted(CASES))
def test_structured_output_matches_the_reviewed_golden_file(name: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *CASES[name], "-q"], cwd=REPO,
                          capture_output=True, check=True)
    golden = REPO / "fixtures" / "expected" / f"structure.{name}.jsonl"
    if os.environ.get("SEGTOOL_REGEN_STRUCTURE"):
        golden.write_bytes(proc.stdout)
    assert proc.stdout == golden.read_bytes(), f"golden output changed: {name}"
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    text = _source_text(CASES[name][1])
    assert "".join(r["text"] for r in records) == text  # tiling, exact offsets
    assert all(text[r["start"]:r["end"]] == r["text"] for r in records)


def test_the_readme_golden_chunks_keep_the_structure_rules() -> None:
    """What the review checked, kept as assertions: a Python comment line inside a fence is
    not a heading, a fence is cut only between lines, every section starts a chunk."""
    golden = REPO / "fixtures" / "expected" / "structure.md.chunks.w128.jsonl"
    records = [json.loads(line) for line in golden.read_text(encoding="utf-8").splitlines()]
    text = _source_text(README)
    starts = {r["start"] for r in records}
    for heading in ("## Installation", "### Conda", "## Usage", "### Command-line Usage",
                    "## References / Thanks"):
        assert text.index(f"\n{heading}\n") + 1 in starts, heading
    assert all("To export the html" not in "".join(r["meta"]["headings"]) for r in records)
    for r in records:  # every cut lands at a line start (code, reference lists, paragraphs)
        assert r["start"] == 0 or text[r["start"] - 1] in "\n " , r["text"][:40]
    assert [r["context"] for r in records if r["text"].startswith("### Conda")] == [
        "markdown-it-py > Installation"]
