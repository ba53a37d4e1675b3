"""``-o DIR/``: one shard per input, and a re-run redoes exactly what changed.

Every run is the real CLI in a subprocess; what is checked is what a user
(or ``make``) sees: the summary line's counters, the shards' bytes, their
inodes and modification times, and the manifest.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docs"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
MANIFEST = ".segtool-manifest.json"
SUMMARY = re.compile(r"segtool: (\d+) inputs?: (\d+) skipped, (\d+) redone, (\d+) removed.*?; "
                     r"([\d,]+) documents?.*; ([\d,]+) chunks → ")


def segtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=300, check=False, cwd=cwd)


def counts(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The summary line's counters: inputs, skipped, redone, removed, documents, chunks."""
    assert proc.returncode == 0, proc.stderr
    found = SUMMARY.search(proc.stderr)
    assert found, proc.stderr
    keys = ("inputs", "skipped", "redone", "removed", "documents", "chunks")
    return {k: int(v.replace(",", "")) for k, v in zip(keys, found.groups(), strict=True)}


def write_corpus(root: Path) -> Path:
    """Nested text, Markdown and JSONL inputs cut from the fixture books."""
    corpus = root / "corpus"
    lines = "\n".join(p.read_text(encoding="utf-8")
                      for p in sorted(FIXTURES.glob("gutenberg_*.txt"))).splitlines()
    step = len(lines) // 6
    for i in range(6):
        path = corpus / ("part1" if i < 3 else "part2") / f"doc{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines[i * step:(i + 1) * step]) + "\n", encoding="utf-8")
    (corpus / "memo.md").write_text((FIXTURES / "legal_memo.md").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    (corpus / "records.jsonl").write_text(
        (FIXTURES / "records.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    return corpus


def shards(out: Path) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*")) if p.is_file()
            and not p.name.startswith(".")}


def state(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every shard: a rewritten shard gets a new inode (rename)."""
    return {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in shards(out).items()}


def content(out: Path) -> dict[str, object]:
    """Every shard's bytes and the manifest without the shards' modification times."""
    found: dict[str, object] = {name: p.read_bytes() for name, p in shards(out).items()}
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    for entry in manifest["inputs"].values():
        del entry["shard_mtime_ns"]
    found[MANIFEST] = manifest
    return found


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    write_corpus(tmp_path)
    return tmp_path


def test_shards_mirror_the_input_tree_and_match_single_file_runs(work: Path) -> None:
    first = counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    assert first["inputs"] == first["redone"] == 8 and first["skipped"] == 0
    assert sorted(shards(work / "out")) == [
        "memo.md.jsonl", "part1/doc0.txt.jsonl", "part1/doc1.txt.jsonl", "part1/doc2.txt.jsonl",
        "part2/doc3.txt.jsonl", "part2/doc4.txt.jsonl", "part2/doc5.txt.jsonl",
        "records.jsonl.jsonl"]
    # a shard holds exactly what a run on that input alone writes
    alone = segtool("chunk", "corpus/part2/doc4.txt", "-o", "alone.jsonl", cwd=work)
    assert alone.returncode == 0, alone.stderr
    assert (work / "out/part2/doc4.txt.jsonl").read_bytes() == (work / "alone.jsonl").read_bytes()
    manifest = json.loads((work / "out" / MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["inputs"]["part2/doc4.txt"]
    assert entry["source"] == "corpus/part2/doc4.txt"
    assert entry["records"] == len((work / "alone.jsonl").read_text().splitlines())
    assert first["chunks"] == sum(e["records"] for e in manifest["inputs"].values())


def test_unchanged_rerun_does_no_work_and_touches_no_shard(work: Path) -> None:
    counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    before = state(work / "out")
    again = counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    assert again == {"inputs": 8, "skipped": 8, "redone": 0, "removed": 0, "documents": 0,
                     "chunks": 0}
    assert state(work / "out") == before
    # touching an input without changing it: its hash decides, nothing is redone
    os.utime(work / "corpus/part1/doc1.txt", ns=(time.time_ns(), time.time_ns()))
    touched = counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    assert touched["redone"] == 0 and touched["documents"] == 0
    assert state(work / "out") == before


def test_one_changed_input_rewrites_exactly_its_shard(work: Path) -> None:
    counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    before = state(work / "out")
    old = (work / "out/part1/doc1.txt.jsonl").read_bytes()
    with open(work / "corpus/part1/doc1.txt", "a", encoding="utf-8") as fh:
        fh.write("\n\nA new closing paragraph. It was added later.\n")
    again = counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    assert (again["skipped"], again["redone"], again["documents"]) == (7, 1, 1)
    after = state(work / "out")
    assert [name for name in before if before[name] != after[name]] == ["part1/doc1.txt.jsonl"]
    new = (work / "out/part1/doc1.txt.jsonl").read_bytes()
    assert new != old and b"It was added later." in new


def test_force_and_a_changed_option_redo_everything(work: Path) -> None:
    counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    before = content(work / "out")
    inodes = state(work / "out")
    forced = counts(segtool("chunk", "corpus/", "-o", "out/", "--force", cwd=work))
    assert (forced["skipped"], forced["redone"]) == (0, 8)
    assert content(work / "out") == before  # rewritten, byte for byte the same
    assert all(state(work / "out")[name][0] != inodes[name][0] for name in inodes)
    again = counts(segtool("chunk", "corpus/", "-o", "out/", "--max-tokens", "128", cwd=work))
    assert (again["skipped"], again["redone"]) == (0, 8)
    after = content(work / "out")
    assert all(after[name] != before[name] for name in before)  # other chunks, other ids


def test_prune_removes_the_shard_of_a_deleted_input(work: Path) -> None:
    counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    (work / "corpus/part2/doc5.txt").unlink()
    kept = segtool("chunk", "corpus/", "-o", "out/", cwd=work)
    assert counts(kept)["removed"] == 0 and "--prune removes them" in kept.stderr
    assert (work / "out/part2/doc5.txt.jsonl").exists()
    pruned = counts(segtool("chunk", "corpus/", "-o", "out/", "--prune", cwd=work))
    assert (pruned["inputs"], pruned["skipped"], pruned["removed"]) == (7, 7, 1)
    assert not (work / "out/part2/doc5.txt.jsonl").exists()
    manifest = json.loads((work / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert "part2/doc5.txt" not in manifest["inputs"] and len(manifest["inputs"]) == 7
    # a whole folder gone: its shards and the emptied folder go
    for path in (work / "corpus/part1").iterdir():
        path.unlink()
    (work / "corpus/part1").rmdir()
    counts(segtool("chunk", "corpus/", "-o", "out/", "--prune", cwd=work))
    assert not (work / "out/part1").exists()


def test_format_change_replaces_the_shards(work: Path) -> None:
    counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    again = counts(segtool("chunk", "corpus/", "-o", "out/", "--format", "parquet", cwd=work))
    assert again["redone"] == 8
    assert sorted(p.suffix for p in shards(work / "out").values()) == [".parquet"] * 8


def test_stdin_is_refused_with_an_output_directory(work: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", "-", "-o", "out/"],
                          input="Some text.", capture_output=True, text=True, env=ENV,
                          cwd=work, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: -o DIR/ writes one shard per input file")
    assert not (work / "out").exists()


def test_prune_without_an_output_directory_is_a_usage_error(work: Path) -> None:
    proc = segtool("chunk", "corpus/memo.md", "-o", "x.jsonl", "--prune", cwd=work)
    assert proc.returncode == 2 and "--prune and --force apply to an output directory" \
        in proc.stderr


def test_bad_input_stops_but_keeps_finished_shards(work: Path) -> None:
    (work / "corpus/zz_bad.jsonl").write_text('{"text": "Fine. Yes."}\n{broken\n')
    proc = segtool("chunk", "corpus/", "-o", "out/", cwd=work)
    assert proc.returncode == 1 and "zz_bad.jsonl" in proc.stderr
    assert len(shards(work / "out")) == 8  # every other input's shard, none for the bad one
    (work / "corpus/zz_bad.jsonl").unlink()
    again = counts(segtool("chunk", "corpus/", "-o", "out/", cwd=work))
    assert (again["skipped"], again["redone"]) == (8, 0)


def test_jobs_give_the_same_directory(work: Path) -> None:
    counts(segtool("chunk", "corpus/", "-o", "one/", cwd=work))
    for jobs in ("2", "3"):  # whole files in workers (and in this process)
        many = counts(segtool("chunk", "corpus/", "-o", f"j{jobs}/", "-j", jobs, cwd=work))
        assert many["redone"] == 8
        assert content(work / f"j{jobs}") == content(work / "one")


def test_sigkill_midway_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    books = "\n\n".join(p.read_text(encoding="utf-8")
                        for p in sorted(FIXTURES.glob("gutenberg_*.txt")))
    for i in range(30):  # ~3.5 MB: enough work that the kill lands midway
        (corpus / f"book{i:02d}.txt").write_text(f"Copy {i}.\n\n" + books * 28,
                                                 encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "segtool.cli", "chunk", "corpus/", "-o",
                             "out/"], cwd=tmp_path, env=ENV, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("*.jsonl")):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = len(list(out.glob("*.jsonl")))
    assert 1 <= finished < 30, "kill came too late to test resuming"
    journal = out / ".segtool-journal.jsonl"
    journaled = len(journal.read_text().splitlines()) if journal.exists() else 0
    resumed = counts(segtool("chunk", "corpus/", "-o", "out/", cwd=tmp_path))
    assert resumed["skipped"] == journaled >= finished - 1  # every journaled shard is kept
    assert resumed["skipped"] + resumed["redone"] == 30
    assert not journal.exists() and not list(out.glob(".*.tmp"))
    clean = counts(segtool("chunk", "corpus/", "-o", "clean/", cwd=tmp_path))
    assert clean["redone"] == 30
    assert content(out) == content(tmp_path / "clean")
