"""The README's Makefile recipe (examples/Makefile) builds, gates, and then rests.

Run with real ``make`` on a tiny corpus: the first ``make`` chunks to Parquet,
scores (when ``segtool score`` is installed) and passes the ``segtool check``
gate; a second ``make`` must do no work — ``make -q`` reports everything up to
date and no output's mtime moves — and editing a document makes it stale again.
A chunk limit the gate rejects fails the build without leaving a stamp.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.check.conftest import ENV, REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _has_score() -> bool:
    proc = subprocess.run(["segtool", "score", "--help"], capture_output=True, env=ENV, check=False)
    return proc.returncode == 0


def _make(cwd, *args):
    return subprocess.run(["make", *args], cwd=cwd, capture_output=True, text=True, env=ENV,
                          check=False)


def test_make_builds_once_and_then_does_nothing(tmp_path):
    shutil.copy(REPO / "examples" / "Makefile", tmp_path / "Makefile")
    (tmp_path / "corpus").mkdir()
    for name in ("gutenberg_sherlock.txt", "legal_memo.md"):
        shutil.copy(REPO / "fixtures" / "docs" / name, tmp_path / "corpus" / name)
    targets = ["all"] if _has_score() else ["check.ok"]  # score arrives with `segtool score`
    outputs = ["chunks.parquet", "check.ok"] + (["score.json"] if targets == ["all"] else [])

    first = _make(tmp_path, *targets)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "segtool chunk corpus" in first.stdout and "segtool check chunks.parquet" in first.stdout
    assert all((tmp_path / name).is_file() for name in outputs)
    if "score.json" in outputs:
        assert json.loads((tmp_path / "score.json").read_text())  # the JSON of segtool score
    stamps = {name: (tmp_path / name).stat().st_mtime_ns for name in outputs}

    assert _make(tmp_path, "-q", *targets).returncode == 0  # up to date: nothing would run
    again = _make(tmp_path, *targets)
    assert again.returncode == 0 and "segtool" not in again.stdout, again.stdout
    assert {name: (tmp_path / name).stat().st_mtime_ns for name in outputs} == stamps

    doc = tmp_path / "corpus" / "legal_memo.md"
    later = stamps["chunks.parquet"] + 10**9
    os.utime(doc, ns=(later, later))
    assert _make(tmp_path, "-q", *targets).returncode == 1  # an edited document is noticed

    # a gate the chunks do not pass fails the build and leaves no stamp
    bad = _make(tmp_path, "check.ok", "CHECK_FLAGS=--max-tokens 20")
    assert bad.returncode != 0
    assert "ST005 max-tokens" in bad.stdout
    assert not (tmp_path / "check.ok").exists()
