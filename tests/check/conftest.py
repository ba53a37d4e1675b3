"""Shared material for the ``segtool check`` tests: real ``segtool chunk`` output of the fixtures.

The "good" chunk files are made by the real command (not written by hand), so
the tests also guard that segtool's own output passes its own linter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from segtool.cli import app

REPO = Path(__file__).resolve().parents[2]
# A fixed set, so fixtures other tests add later do not change the expected findings.
FIXTURES = ("gutenberg_on_liberty.txt", "gutenberg_sherlock.txt", "legal_memo.md",
            "multilingual.txt", "records.jsonl")
ENV = {**os.environ, "SEGTOOL_DEBUG": "0", "NO_COLOR": "1"}


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    """docs/ (the fixture documents) and good.jsonl / good.parquet chunked from them."""
    d = tmp_path_factory.mktemp("check")
    (d / "docs").mkdir()
    for name in FIXTURES:
        shutil.copy(REPO / "fixtures" / "docs" / name, d / "docs" / name)
    subprocess.run(["segtool", "chunk", "docs", "--max-tokens", "64", "-q", "-o", "good.jsonl"],
                   cwd=d, check=True, env=ENV)
    subprocess.run(["segtool", "chunk", "docs", "--max-tokens", "64", "-q", "-o",
                    "good.parquet"], cwd=d, check=True, env=ENV)
    return d


@pytest.fixture(scope="session")
def good_rows(work) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (work / "good.jsonl").read_text().splitlines()]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def check(args: list[str], cwd: Path) -> Any:
    """``segtool check ARGS`` in-process (the real Typer app) from ``cwd``; stdout/stderr apart."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, ["check", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def codes_at(stdout: str) -> set[tuple[str, int, str]]:
    """``{(file, line, code)}`` of the ruff-style finding lines."""
    out = set()
    for line in stdout.splitlines():
        where, _, rest = line.partition(": ")
        path, _, lineno = where.rpartition(":")
        out.add((path, int(lineno), rest.split(" ", 1)[0]))
    return out
