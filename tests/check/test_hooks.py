"""The pre-commit hooks, run by ``pre-commit`` itself in a throw-away git repository.

The repository uses ``examples/pre-commit-config.yaml`` verbatim (a local hook
running the installed segtool, so nothing is downloaded); the shipped
``.pre-commit-hooks.yaml`` is validated by pre-commit and must agree with the
example on ids, entries and file patterns.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.check.conftest import ENV, REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _hooks_of_example() -> dict[str, dict]:
    config = yaml.safe_load((REPO / "examples" / "pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_manifest_and_example_are_valid_and_agree():
    for command, path in (("validate-manifest", ".pre-commit-hooks.yaml"),
                          ("validate-config", "examples/pre-commit-config.yaml")):
        proc = subprocess.run(["pre-commit", command, path], cwd=REPO, capture_output=True,
                              text=True, check=False, env=ENV)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(manifest) == {"segtool-check-chunks", "segtool-check-corpus"}
    example = _hooks_of_example()
    for hook_id, hook in manifest.items():
        assert hook["language"] == "python" and hook["entry"].startswith("segtool check")
        assert example[hook_id]["entry"] == hook["entry"]
        # the example narrows the manifest's pattern to a folder, same extensions
        assert example[hook_id]["files"].endswith(hook["files"].lstrip("\\"))
    assert re.search(manifest["segtool-check-chunks"]["files"], "out/chunks.parquet")
    assert not re.search(manifest["segtool-check-chunks"]["files"], "notes.txt")


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env,
                          check=False)


def test_a_commit_with_a_bad_chunk_file_fails_and_a_good_one_passes(tmp_path, work):
    repo = tmp_path / "repo"
    (repo / "corpus").mkdir(parents=True)
    for name in ("gutenberg_sherlock.txt", "legal_memo.md"):
        shutil.copy(REPO / "fixtures" / "docs" / name, repo / "corpus" / name)
    shutil.copy(REPO / "examples" / "pre-commit-config.yaml", repo / ".pre-commit-config.yaml")
    env = {**ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "HOME": str(tmp_path),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("GIT_DIR", None)
    assert _git(repo, "init", "-q", "-b", "main", env=env).returncode == 0
    subprocess.run(["pre-commit", "install"], cwd=repo, env=env, check=True, capture_output=True)
    (repo / "chunks").mkdir()
    subprocess.run(["segtool", "chunk", "corpus", "--max-tokens", "64", "-q", "-o",
                    "chunks/chunks.jsonl"], cwd=repo, env=env, check=True)

    _git(repo, "add", "-A", env=env)
    good = _git(repo, "commit", "-q", "-m", "corpus and chunks", env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    out = good.stdout + good.stderr  # pre-commit reports on the hook's stderr
    assert re.search(r"segtool check \(chunk files\)\.+Passed", out), out
    assert re.search(r"segtool check \(corpus\)\.+Passed", out), out

    rows = [json.loads(line) for line in (repo / "chunks" / "chunks.jsonl").read_text().splitlines()]
    rows[2]["text"] = rows[2]["text"].replace("e", "é", 1)  # no longer the document's text
    (repo / "chunks" / "chunks.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    _git(repo, "add", "-A", env=env)
    bad = _git(repo, "commit", "-q", "-m", "edited chunks", env=env)
    assert bad.returncode != 0
    assert "chunks/chunks.jsonl:3: ST008 offset-mismatch" in bad.stdout + bad.stderr
    assert _git(repo, "log", "--oneline", env=env).stdout.count("\n") == 1  # not committed

    (repo / "corpus" / "broken.txt").write_bytes(b"fine\n\xff\xfe not UTF-8\n")
    _git(repo, "checkout", "HEAD", "--", "chunks", env=env)
    _git(repo, "add", "corpus/broken.txt", env=env)
    bad = _git(repo, "commit", "-q", "-m", "broken corpus file", env=env)
    assert bad.returncode != 0
    assert "corpus/broken.txt:2: ST001 unreadable-input" in bad.stdout + bad.stderr
    os.remove(repo / "corpus" / "broken.txt")
    _git(repo, "add", "-A", env=env)
    assert _git(repo, "status", "--porcelain", env=env).stdout == ""
