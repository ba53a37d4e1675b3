"""Shared by the Ray tests (no conftest here: this directory cannot be a package named
``ray`` without hiding Ray itself, so fixtures are imported by name).

One local Ray instance per test module (starting Ray takes seconds), and a CLI runner.

The instance is started by the test with 2 CPUs, no dashboard and no network
beyond this machine; the CLI's ``--executor ray`` joins it instead of
starting its own, so every case pays Ray's start-up once.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="Ray Data is not installed — pip install 'segtool[ray]'")
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The fixture documents (text, Markdown, JSONL records) in a directory of their own."""
    target = tmp_path / "corpus"
    shutil.copytree(REPO / "fixtures" / "docs", target)
    return target


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """``segtool ARGS`` in this process (so it joins the test's Ray instance): (exit, stderr)."""
    from segtool.cli import app

    capsys.readouterr()
    try:
        app([*args], prog_name="segtool")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err
