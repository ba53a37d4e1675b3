#!/usr/bin/env python3
"""Regenerate the golden outputs in fixtures/expected/ — only on purpose.

Run from anywhere: ``python3 scripts/regen_golden.py``.  Review the diff before
committing: a changed golden file is a behaviour change users will see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_case(args: list[str]) -> bytes:
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args, "-q"], cwd=REPO,
                          capture_output=True, check=True)
    return proc.stdout


def main() -> None:
    cases = json.loads((REPO / "fixtures" / "cases.json").read_text())
    out_dir = REPO / "fixtures" / "expected"
    out_dir.mkdir(exist_ok=True)
    for case in cases:
        (out_dir / f"{case['name']}.jsonl").write_bytes(run_case(case["args"]))
        print(f"wrote fixtures/expected/{case['name']}.jsonl")


if __name__ == "__main__":
    main()
