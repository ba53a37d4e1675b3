"""Golden fixtures: real small documents and their committed expected output.

A failure means segtool's output changed.  If that is intended, regenerate
with ``python3 scripts/regen_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = json.loads((REPO / "fixtures" / "cases.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_output_matches_the_golden_file(case):
    expected = (REPO / "fixtures" / "expected" / f"{case['name']}.jsonl").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *case["args"], "-q"], cwd=REPO,
                          capture_output=True, check=True)
    assert proc.stdout == expected, f"golden output changed: {case['name']}"
    source = {}
    for line in proc.stdout.decode().splitlines():
        rec = json.loads(line)
        if rec["source"] not in source:
            path = REPO / rec["source"]
            source[rec["source"]] = (path.read_bytes().decode("utf-8")
                                     if path.suffix != ".jsonl" else None)
        if source[rec["source"]] is not None:
            assert source[rec["source"]][rec["start"] : rec["end"]] == rec["text"]
