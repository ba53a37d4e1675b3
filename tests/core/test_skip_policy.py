"""``--on-error skip``: a skipped document is absent, ids stay unique, errors are not hoarded.

* A text file read in blocks (``--block-mib 1``) whose last block is invalid
  UTF-8 is reported as skipped, so none of its earlier blocks may be in the
  output — with one process or several.
* Two consecutive documents with the same id would continue each other's
  numbering and could share record ids: the second is bad input.
* Skipped documents are streamed to stderr and ``--errors-file``, never
  collected: memory does not grow with the number of bad records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segtool.pipeline import Pipeline
from segtool.selection import Selection, build
from segtool.types import BadInput, Document

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
PARAGRAPH = "This is a sentence in a paragraph. Another sentence follows it here.\n\n"


def segtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=300, check=False)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------ C13: skipped means absent
@pytest.fixture(scope="module")
def broken_late(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("late")
    data = (PARAGRAPH * 40000).encode()  # ~2.8 MB: three 1 MiB blocks
    cut = len(data) * 2 // 3  # the invalid byte is in the last block
    bad = root / "late.txt"
    bad.write_bytes(data[:cut] + b"\xff" + data[cut:])
    good = root / "good.txt"
    good.write_text(PARAGRAPH * 3, encoding="utf-8")
    return {"bad": bad, "good": good, "root": root}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_that_fails_in_a_late_block_leaves_nothing_behind(broken_late, tmp_path, jobs):
    out, errors = tmp_path / "chunks.jsonl", tmp_path / "errors.jsonl"
    result = segtool("chunk", str(broken_late["bad"]), str(broken_late["good"]),
                     "--block-mib", "1", "--on-error", "skip", "--errors-file", str(errors),
                     "-o", str(out), "--jobs", jobs)
    assert result.returncode == 0, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 1 and str(broken_late["bad"]) in skipped[0]
    assert [e["source"] for e in jsonl(errors)] == [str(broken_late["bad"])]
    recs = jsonl(out)
    assert {r["doc_id"] for r in recs} == {str(broken_late["good"])}
    assert "".join(r["text"] for r in recs) == PARAGRAPH * 3
    assert f"; {len(recs)} chunks" in result.stderr  # the summary counts only what was written


def test_without_the_bad_byte_every_block_is_written(broken_late, tmp_path):
    fixed = tmp_path / "fixed.txt"
    fixed.write_bytes(broken_late["bad"].read_bytes().replace(b"\xff", b""))
    out = tmp_path / "chunks.jsonl"
    result = segtool("chunk", str(fixed), "--block-mib", "1", "--on-error", "skip",
                     "-o", str(out))
    assert result.returncode == 0, result.stderr
    recs = jsonl(out)
    assert "".join(r["text"] for r in recs) == fixed.read_text(encoding="utf-8")
    assert [r["index"] for r in recs] == list(range(len(recs)))


def _parts(doc_id: str, text: str, pieces: int) -> list[Document]:
    """A document cut into consecutive parts the way a block reader delivers them."""
    size = -(-len(text) // pieces)
    cuts = [text[i:i + size] for i in range(0, len(text), size)]
    out, offset = [], 0
    for part, piece in enumerate(cuts):
        out.append(Document(id=doc_id, text=piece, source=doc_id, offset=offset, part=part))
        offset += len(piece)
    return out


def _pipeline(on_error: str, bad: list[BadInput], hold_chars: int) -> Pipeline:
    split, chunk = build(Selection("rules", "window", chunk_options={"max_tokens": 24}))
    return Pipeline(split, chunk, key="test", on_error=on_error, on_bad=bad.append,
                    hold_chars=hold_chars)


def test_held_records_spill_to_disk_and_come_back_unchanged():
    text = PARAGRAPH * 400
    items = [*_parts("big.txt", text, 5), Document(id="small", text=PARAGRAPH, source="s")]
    reference = list(_pipeline("stop", [], 10**9).run(items))
    bad: list[BadInput] = []
    pipe = _pipeline("skip", bad, hold_chars=500)  # a few records in memory, the rest spooled
    held = list(pipe.run(items))
    assert held == reference and not bad
    assert pipe.stats.records == len(held)
    assert "".join(r["text"] for r in held if r["doc_id"] == "big.txt") == text


def test_a_rejected_multi_part_document_is_dropped_whole_even_when_spooled():
    text = PARAGRAPH * 400
    failure = BadInput("big.txt", "byte 99999", "invalid UTF-8")
    items = [*_parts("big.txt", text, 5), failure,
             Document(id="after", text=PARAGRAPH, source="after")]
    bad: list[BadInput] = []
    pipe = _pipeline("skip", bad, hold_chars=500)
    recs = list(pipe.run(items))
    assert bad == [failure]
    assert {r["doc_id"] for r in recs} == {"after"}
    assert pipe.stats.records == len(recs) and pipe.stats.skipped == 1


def test_a_record_level_error_does_not_reject_the_record_before_it():
    # JSONL: document 0 is fine, line 2 of the same file is broken — two separate things.
    items = [Document(id="f.jsonl#0", text=PARAGRAPH, source="f.jsonl"),
             BadInput("f.jsonl", "line 2", "invalid JSON")]
    bad: list[BadInput] = []
    recs = list(_pipeline("skip", bad, 10**9).run(items))
    assert len(bad) == 1 and {r["doc_id"] for r in recs} == {"f.jsonl#0"}


# ------------------------------------------------------------ C14: duplicate ids
@pytest.fixture
def duplicates(tmp_path: Path) -> Path:
    path = tmp_path / "dup.jsonl"
    rows = [{"id": "x", "text": PARAGRAPH}, {"id": "x", "text": PARAGRAPH},
            {"id": "y", "text": PARAGRAPH}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_repeated_document_id_stops_the_run(duplicates, tmp_path):
    out = tmp_path / "out.jsonl"
    result = segtool("chunk", str(duplicates), "--id-field", "id", "-o", str(out))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "duplicate document id 'x'" in lines[0]
    assert str(duplicates) in lines[0]
    assert not out.exists()


def test_skip_mode_drops_the_repeat_and_keeps_numbering_and_ids_unique(duplicates, tmp_path):
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    result = segtool("sentences", str(duplicates), "--id-field", "id", "--on-error", "skip",
                     "--errors-file", str(errors), "-o", str(out))
    assert result.returncode == 0, result.stderr
    recs = jsonl(out)
    assert [r["doc_id"] for r in recs] == ["x", "x", "y", "y"]
    assert [r["index"] for r in recs] == [0, 1, 0, 1]
    assert len({r["id"] for r in recs}) == len(recs)
    assert [e["reason"] for e in jsonl(errors)] == [
        "duplicate document id 'x' (the previous document has the same id)"]


# ------------------------------------------------------------ D21: errors are streamed
_MEASURED = """
import atexit, sys
from segtool.cli import main

path = sys.argv.pop(1)

def report():  # this process's own peak (VmHWM): rusage would include the forking parent's
    with open("/proc/self/status") as fh, open(path, "w") as out:
        out.write(next(line for line in fh if line.startswith("VmHWM:")).split()[1])

atexit.register(report)
main()
"""


def _peak_rss_mib(args: list[str], report: Path) -> float:
    proc = subprocess.run([sys.executable, "-c", _MEASURED, str(report), *args], env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
                          check=False)
    assert proc.returncode == 0
    return int(report.read_text()) / 1024  # kB


def test_memory_does_not_grow_with_the_number_of_skipped_records(tmp_path):
    peaks = {}
    for n in (10_000, 150_000):
        src = tmp_path / f"bad{n}.jsonl"
        src.write_text("{not json\n" * n)
        errors = tmp_path / f"errors{n}.jsonl"
        peaks[n] = _peak_rss_mib(["chunk", str(src), "--on-error", "skip", "-q",
                                  "--errors-file", str(errors), "-o", str(tmp_path / "o.jsonl")],
                                 tmp_path / f"peak{n}")
        assert sum(1 for _ in open(errors)) == n  # every skipped line is still reported
    # collecting 140,000 more errors cost ~40 MiB before; streaming them costs nothing
    assert peaks[150_000] - peaks[10_000] < 15, peaks
