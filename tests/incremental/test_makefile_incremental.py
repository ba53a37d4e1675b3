"""The README's output-directory Makefile (examples/Makefile.incremental), run with real ``make``.

What a user relies on: a second ``make`` starts nothing; after one input's content changed,
``make`` runs segtool once and only that input's shard is rewritten (the other shards keep
their inode and mtime); a deleted input's shard is pruned.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "SEGTOOL_DEBUG": "0", "NO_COLOR": "1"}

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", *args], cwd=cwd, capture_output=True, text=True, env=ENV,
                          check=False, timeout=300)


def _shards(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.parquet")}


def test_second_make_is_idle_and_one_changed_input_redoes_one_shard(tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "Makefile.incremental", tmp_path / "Makefile")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a", "b", "c"):
        (corpus / f"{name}.txt").write_text(f"Document {name}. It has two sentences.\n",
                                            encoding="utf-8")

    first = _make(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    out = tmp_path / "out"
    before = _shards(out)
    assert set(before) == {"a.txt.parquet", "b.txt.parquet", "c.txt.parquet"}

    again = _make(tmp_path)
    assert again.returncode == 0 and "segtool" not in again.stdout, again.stdout
    assert _shards(out) == before

    b_bytes = (out / "b.txt.parquet").read_bytes()
    with open(corpus / "b.txt", "a", encoding="utf-8") as fh:
        fh.write("One more line.\n")
    changed = _make(tmp_path)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert changed.stdout.count("segtool chunk") == 1
    assert "2 skipped, 1 redone" in changed.stderr, changed.stderr
    after = _shards(out)
    assert after["a.txt.parquet"] == before["a.txt.parquet"]
    assert after["c.txt.parquet"] == before["c.txt.parquet"]
    assert (out / "b.txt.parquet").read_bytes() != b_bytes

    (corpus / "c.txt").unlink()
    pruned = _make(tmp_path)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert set(_shards(out)) == {"a.txt.parquet", "b.txt.parquet"}
