"""Shared fixtures: small real documents, a CLI runner, a tiny LM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SOTU = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev" / "chunking_chroma" \
    / "corpora"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    return lines[0]


@pytest.fixture(scope="session")
def real_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short real documents: the start of each dev chunking corpus (~1,500 characters)."""
    if not SOTU.is_dir():
        pytest.fail(f"the shared dev data is missing: expected {SOTU}")
    out = tmp_path_factory.mktemp("docs")
    for name in ("state_of_the_union.md", "chatlogs.md"):
        text = (SOTU / name).read_text(encoding="utf-8")
        cut = text.find(". ", 1500) + 1
        (out / f"{Path(name).stem}.txt").write_text(text[:cut], encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("transformers")
    from segtool.testing.tiny_lm import build_tiny_lm

    return str(build_tiny_lm(tmp_path_factory.mktemp("tiny-lm") / "model"))
