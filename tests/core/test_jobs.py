"""``--jobs N``: worker processes must not change a single byte of the output.

Real subprocesses (the workers are spawned processes), real Gutenberg text from
the fixtures, a multi-part document (``--block-mib 1``) and bad input in the
middle, so numbering across blocks, the error policy and ordering are all
exercised under the parallel executor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docs"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def segtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=300, check=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("jobs")
    books = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("gutenberg_*.txt"))]
    paragraphs = [p for b in books for p in b.split("\n\n") if p.strip()]
    records = root / "records.jsonl"
    with open(records, "w", encoding="utf-8") as fh:
        for i in range(400):  # many small documents: many batches in flight
            fh.write(json.dumps({"id": f"r{i}", "text": paragraphs[i % len(paragraphs)]}) + "\n")
    broken = root / "broken.jsonl"
    lines = records.read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join([*lines[:150], "{not json", *lines[150:300]]) + "\n",
                      encoding="utf-8")
    big = root / "big.txt"  # > 1 MiB: read in blocks that share one document id
    big.write_text("\n\n".join(books * 400), encoding="utf-8")
    assert big.stat().st_size > 1.5 * 2**20  # at least two blocks
    return {"records": records, "broken": broken, "big": big, "dir": FIXTURES}


def test_chunks_are_identical_for_any_number_of_jobs(corpus: dict[str, Path]) -> None:
    inputs = [str(corpus["records"]), str(corpus["big"]), str(corpus["dir"])]
    args = ["chunk", *inputs, "--block-mib", "1", "--max-tokens", "128", "--overlap-tokens", "16"]
    one = segtool(*args, "--jobs", "1")
    two = segtool(*args, "--jobs", "2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and two.stderr == one.stderr
    recs = [json.loads(line) for line in one.stdout.splitlines()]
    big = [r for r in recs if r["doc_id"] == str(corpus["big"])]
    assert [r["index"] for r in big] == list(range(len(big)))  # numbering runs across blocks
    assert big[-1]["end"] == len(corpus["big"].read_text(encoding="utf-8"))


def test_sentences_with_one_job_per_core_match(corpus: dict[str, Path]) -> None:
    one = segtool("sentences", str(corpus["records"]), "-q")
    every = segtool("sentences", str(corpus["records"]), "-q", "--jobs", "0")
    assert one.returncode == every.returncode == 0, every.stderr
    assert every.stdout == one.stdout and len(one.stdout.splitlines()) > 1000


def test_skip_mode_reports_the_same_bad_line_in_the_same_place(corpus: dict[str, Path],
                                                              tmp_path: Path) -> None:
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"chunks{jobs}.parquet"
        res = segtool("chunk", str(corpus["broken"]), "--on-error", "skip", "-f", "parquet",
                      "-o", str(out), "--jobs", jobs)
        assert res.returncode == 0, res.stderr
        assert res.stderr.count("skipped: ") == 1 and f"{corpus['broken']}:line 151" in res.stderr
        outs[jobs] = pq.read_table(out)
    assert outs["2"].equals(outs["1"])


def test_stop_mode_fails_the_same_way_and_leaves_no_file(corpus: dict[str, Path],
                                                         tmp_path: Path) -> None:
    out = tmp_path / "chunks.jsonl"
    one = segtool("chunk", str(corpus["broken"]), "-o", str(out))
    two = segtool("chunk", str(corpus["broken"]), "-o", str(out), "--jobs", "2")
    assert one.returncode == two.returncode == 1
    assert two.stderr == one.stderr and len(two.stderr.strip().splitlines()) == 1
    assert "line 151" in two.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_metadata_too_deep_to_pickle_is_handled_the_same_with_workers(tmp_path: Path) -> None:
    """Workers never receive ``meta``: nesting that JSON parses but pickle cannot is fine."""
    depth = 800  # json.loads accepts it; pickling it for a worker overflowed the stack
    nested = "[" * depth + "]" * depth
    src = tmp_path / "deep.jsonl"
    src.write_text("".join(f'{{"text": "Deep meta {i}. Second sentence.", "m": {nested}}}\n'
                           for i in range(5)), encoding="utf-8")
    one = segtool("chunk", str(src), "--jobs", "1")
    two = segtool("chunk", str(src), "--jobs", "2")
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and two.stderr == one.stderr
    recs = [json.loads(line) for line in one.stdout.splitlines()]
    assert len(recs) == 5 and json.dumps(recs[0]["meta"]["m"]).count("[") == depth


def test_a_model_that_cannot_load_fails_once_without_a_traceback(corpus: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    """Workers start while the command builds its own components: a broken model must
    still give the command's one-line error, and no worker may print a traceback."""
    model = tmp_path / "not-a-model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "out" / "chunks.jsonl"
    out.parent.mkdir()
    args = ["chunk", str(corpus["records"]), "-c", "semantic", "--embedder", f"st:{model}",
            "-o", str(out)]
    one = segtool(*args)
    two = segtool(*args, "--jobs", "2")
    assert one.returncode == two.returncode != 0
    assert two.stderr == one.stderr and len(two.stderr.strip().splitlines()) == 1
    assert str(model) in two.stderr and "Traceback" not in two.stderr
    assert not list(out.parent.iterdir())
