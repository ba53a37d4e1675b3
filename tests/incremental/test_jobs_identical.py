"""``--jobs N`` writes the same bytes for every N, whoever computes a batch.

With ``-j N`` the CLI process computes batches too (whenever its N - 1
workers have two each), so these inputs are large enough for batches to be
computed on both sides: 400 small records, a text file read in several
blocks (``--block-mib 1``: numbering continues across blocks computed by
different processes), and the fixture corpus, all in one multi-file run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docs"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def run(*args: str) -> bytes:
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args, "-q"],
                          capture_output=True, env=ENV, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("jobs3")
    books = "\n\n".join(p.read_text(encoding="utf-8")
                        for p in sorted(FIXTURES.glob("gutenberg_*.txt")))
    paragraphs = [p for p in books.split("\n") if p.strip()]
    records = root / "records.jsonl"
    with open(records, "w", encoding="utf-8") as fh:
        for i in range(400):
            fh.write(json.dumps({"id": f"r{i}", "text": paragraphs[i % len(paragraphs)] * 3,
                                 "n": i}) + "\n")
    big = root / "big.txt"
    big.write_text((books + "\n\n") * 600, encoding="utf-8")  # ~2.6 MB: three 1 MiB blocks
    return [str(FIXTURES), str(records), str(big)]


@pytest.mark.parametrize("kind", ["chunk", "sentences"])
def test_output_is_byte_identical_for_one_two_and_three_jobs(inputs: list[str], kind: str
                                                             ) -> None:
    outs = {jobs: run(kind, *inputs, "--block-mib", "1", "-j", jobs) for jobs in ("1", "2", "3")}
    assert outs["1"].count(b"\n") > 1000
    assert outs["2"] == outs["1"]
    assert outs["3"] == outs["1"]
