"""The install step: pinned versions, the model2vec side virtualenv, prepare's errors, CI's cache.

What a user observes is checked directly: the files the install reads, the
command's exit code and stderr, what the side virtualenv imports, and which
cache directory CI's two commands see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from segtool.models import distill
from segtool.models.distill_pins import PINS

REPO = Path(__file__).resolve().parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version and not re.search(r"[<>=!~,;\s]", version), f"not exact: {line}"
            pins[name.lower()] = version
    return pins


def test_install_script_installs_with_the_checked_in_constraints() -> None:
    script = (REPO / "scripts" / "install.sh").read_text()
    constraints = _pins((REPO / "constraints.txt").read_text().splitlines())
    assert constraints["torch"] == "2.13.0"
    assert "segtool" not in constraints and "segtool-lines" not in constraints
    # every pip install of the script goes through the constraints file
    assert 'PIP=("$PY" -m pip install --disable-pip-version-check -c constraints.txt)' in script
    installs = [ln for ln in script.splitlines() if "pip install" in ln or '"${PIP[@]}"' in ln]
    assert len(installs) == 4 and all("PIP" in ln for ln in installs), installs
    # the side virtualenv's pins agree with the main environment where they overlap
    side = _pins(list(PINS))
    assert side["model2vec"] == constraints["model2vec"] and side["torch"] == "2.13.0"
    assert "scikit-learn" in side  # model2vec 0.10 cannot distil without it
    assert int(side["transformers"].split(".")[1]) < 4 and side["transformers"].startswith("5.")


def test_this_environment_matches_the_lock() -> None:
    """The suite runs on what constraints.txt and the side venv's pins say (else regenerate)."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "make_constraints.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def _ready_venv() -> Path:
    venv = distill.default_venv()
    if not distill.is_ready(venv):
        pytest.fail(f"no working model2vec side virtualenv in {venv} — run python -m segtool.prepare")
    return venv


def test_side_venv_reuses_the_main_torch_and_shadows_transformers() -> None:
    venv = _ready_venv()
    assert not re.search(r"include-system-site-packages\s*=\s*true", (venv / "pyvenv.cfg").read_text())
    code = ("import torch, transformers, sklearn, model2vec.distill; "
            "print(torch.__file__); print(transformers.__version__); print(transformers.__file__)")
    out = subprocess.run([str(distill.venv_python(venv)), "-c", code], capture_output=True, text=True,
                         check=True, timeout=180).stdout.splitlines()
    import torch

    assert out[0] == torch.__file__  # the main environment's torch, not a second download
    assert f"transformers=={out[1]}" in PINS
    assert Path(out[2]).is_relative_to(venv)  # its own transformers shadows the main one
    assert not list(venv.glob("lib/python*/site-packages/torch"))


def test_failed_distillation_is_one_line_and_leaves_the_venv_unready(tmp_path: Path) -> None:
    """A venv that installs but cannot distil must not be marked ready (it was, before)."""
    venv = tmp_path / "venv"
    shutil.copytree(_ready_venv(), venv, symlinks=True)
    (venv / ".segtool-ready").unlink()
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    env = dict(os.environ, SEGTOOL_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "segtool.models.distill", "--venv", str(venv), "--source", str(empty),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and proc.stderr.rstrip().endswith(errors[0])
    log = tmp_path / "cache" / "logs" / "model2vec-distill.log"
    assert "distilling" in errors[0] and f"full output in {log}" in errors[0]
    assert "Traceback" in log.read_text()  # the details are kept, out of the way
    assert not (venv / ".segtool-ready").exists() and not distill.is_ready(venv)
    assert not (tmp_path / "out").exists()


def test_prepare_failure_names_the_step_and_the_retry_command(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "cache-is-a-file"
    not_a_dir.write_text("")
    proc = subprocess.run([sys.executable, "-m", "segtool.prepare", "tiktoken"], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, SEGTOOL_CACHE_DIR=str(not_a_dir)))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: prepare step 'tiktoken' failed: ")
    assert lines[0].endswith("retry with: python -m segtool.prepare tiktoken")


# --------------------------------------------------------------------------- CI


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Install and test", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [ln.strip() for ln in block.splitlines() if ln.strip()]


def _fake_repo(tmp_path: Path) -> tuple[Path, Path]:
    """.ci/run in a copy whose two commands only record the cache they were given."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    (repo / "scripts").mkdir()
    shutil.copy(REPO / ".ci" / "run", repo / ".ci" / "run")
    record = tmp_path / "seen.txt"
    (repo / "scripts" / "install.sh").write_text(
        f'echo "install ${{SEGTOOL_CACHE_DIR:-unset}} $(ls -A "${{SEGTOOL_CACHE_DIR:-/nonexistent}}" '
        f'2>/dev/null | wc -l)" >> {record}\n'
        'if [ -n "${SEGTOOL_CACHE_DIR:-}" ]; then touch "$SEGTOOL_CACHE_DIR/built"; fi\n'
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").write_text(f'#!/bin/sh\necho "tests ${{SEGTOOL_CACHE_DIR:-unset}}" >> {record}\n')
    (bindir / "python3").chmod(0o755)
    return repo, record


def test_ci_runs_the_readme_commands_against_a_fresh_empty_cache(tmp_path: Path) -> None:
    run = (REPO / ".ci" / "run").read_text()
    assert _readme_commands() == ["bash scripts/install.sh", "python3 -m pytest -q"]
    body = [ln.strip() for ln in run.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert [ln for ln in body if ln in _readme_commands()] == _readme_commands()
    repo, record = _fake_repo(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SEGTOOL_CACHE_DIR"}
    env.update(CI="true", PATH=f"{tmp_path / 'bin'}{os.pathsep}{env['PATH']}")
    subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, check=True, timeout=60,
                   capture_output=True)
    install, tests = record.read_text().splitlines()
    _, cache, entries = install.split()
    assert entries == "0", "the cache was not empty when the install step started"
    assert tests == f"tests {cache}"  # the suite runs against the cache the install built
    assert Path(cache) != Path.home() / ".cache" / "segtool"
    assert not Path(cache).exists()  # removed after a successful run
    # without CI, the user's own cache setting is left alone
    record.unlink()
    env.pop("CI")
    subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, check=True, timeout=60,
                   capture_output=True)
    assert record.read_text().splitlines() == ["install unset 0", "tests unset"]
