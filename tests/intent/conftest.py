"""Fixtures for the intent chunker: real embedders only, and a small real corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from embedder_checks import minilm_missing, model2vec_missing


@pytest.fixture(scope="session")
def m2v_ready() -> None:
    reason = model2vec_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def minilm_ready() -> None:
    reason = minilm_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def sotu(dev_dir: Path) -> str:
    """The State of the Union address of the chunking dev set (real prose, ~48k characters)."""
    path = dev_dir / "chunking_chroma" / "corpora" / "state_of_the_union.md"
    if not path.is_file():
        pytest.fail(f"the chunking dev data is missing: expected {path}")
    return path.read_text(encoding="utf-8")


def run_cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``segtool ARGS`` in a subprocess, as a user runs it."""
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="session")
def sotu_sentences(sotu: str) -> list[str]:
    """The address's sentences as the rules splitter cuts them (each with its trailing space)."""
    from segtool.registry import create

    (spans,) = create("splitters", "rules", {}).split_batch([sotu])
    return [sotu[s.start : s.end] for s in spans]
