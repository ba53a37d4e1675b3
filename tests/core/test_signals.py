"""Ctrl-C, SIGTERM, SIGHUP and kill -9: no partial output, no temp files, no orphan workers.

Every run here is a real process (with ``--jobs 2`` a process tree: the CLI,
its spawned workers and multiprocessing's resource tracker), signalled while
it is writing, then inspected from outside: exit status, stderr, the output
directory and whether any process of the tree is still alive.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _default_signals() -> None:
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def start(args: list[str], **kwargs) -> subprocess.Popen[str]:
    """Start the CLI with the signals at their defaults, as a terminal would.

    A shell starts a background job (``pytest … &``) with SIGINT ignored, and
    an ignored signal stays ignored in every child, so a Ctrl-C test would
    pass or fail depending on how pytest was started.  To be independent of
    that, the child is always started from that worst case (SIGINT ignored
    here while it starts) and restores the defaults before it runs.
    """
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.Popen(args, preexec_fn=_default_signals, stderr=subprocess.PIPE,
                                text=True, env=ENV, **kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~10 s of chunking: still running when the signal comes."""
    path = tmp_path_factory.mktemp("signals") / "many.jsonl"
    line = json.dumps({"text": "A sentence here. " * 50}) + "\n"
    path.write_text(line * 120_000)
    return path


def _writing(out_dir: Path, proc: subprocess.Popen[str], workers: int) -> list[psutil.Process]:
    """Wait until the run is writing its temp file (and its workers exist); its process tree."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        tree = psutil.Process(proc.pid).children(recursive=True)
        if list(out_dir.glob(".*.tmp")) and len(tree) >= workers:
            time.sleep(0.5)
            return psutil.Process(proc.pid).children(recursive=True)
        time.sleep(0.1)
    raise AssertionError("the run did not start writing within 60 s")


def _run_and_signal(many: Path, tmp_path: Path, sig: int, *, jobs: int, group: bool = False
                    ) -> tuple[subprocess.Popen[str], str, list[psutil.Process]]:
    out = tmp_path / "out.jsonl"
    proc = start([sys.executable, "-m", "segtool.cli", "chunk", str(many), "-o", str(out),
                  "--jobs", str(jobs)], start_new_session=True)
    try:
        # with --jobs N the tree is N - 1 workers (the CLI computes too) plus
        # multiprocessing's resource tracker
        tree = _writing(tmp_path, proc, workers=jobs if jobs > 1 else 0)
        if group:  # a terminal's Ctrl-C or hangup, a service manager's stop: the whole group
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc, err, tree


def _assert_gone(tree: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(tree, timeout=30)
    assert alive == [], f"still running after the CLI exited: {alive}"


def test_interrupt_leaves_no_partial_output(many, tmp_path):
    proc, err, _ = _run_and_signal(many, tmp_path, signal.SIGINT, jobs=1)
    assert proc.returncode == 130, err
    assert list(tmp_path.iterdir()) == []
    assert err.strip() == "Error: interrupted"


def test_ctrl_c_with_workers_stops_cleanly(many, tmp_path):
    """Ctrl-C reaches the whole process group, workers included (as from a terminal)."""
    proc, err, tree = _run_and_signal(many, tmp_path, signal.SIGINT, jobs=2, group=True)
    assert proc.returncode == 130, err
    assert list(tmp_path.iterdir()) == []
    assert err.strip() == "Error: interrupted"
    _assert_gone(tree)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_terminate_and_hangup_clean_up_like_ctrl_c(many, tmp_path, sig):
    proc, err, _ = _run_and_signal(many, tmp_path, sig, jobs=1)
    assert proc.returncode == 128 + sig, err
    assert err.strip() == f"Error: terminated by {signal.Signals(sig).name}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig,group", [(signal.SIGTERM, False), (signal.SIGTERM, True),
                                       (signal.SIGHUP, True)], ids=["term", "term-group",
                                                                    "hup-group"])
def test_a_stop_signal_with_workers_leaves_no_process_and_no_file(many, tmp_path, sig, group):
    proc, err, tree = _run_and_signal(many, tmp_path, sig, jobs=2, group=group)
    assert len(tree) >= 2  # the worker (-j 2: the CLI computes too) and the resource tracker
    assert proc.returncode == 128 + sig, err
    assert err.strip() == f"Error: terminated by {signal.Signals(sig).name}"
    assert list(tmp_path.iterdir()) == []
    _assert_gone(tree)


def test_workers_die_with_a_killed_parent(many, tmp_path):
    """kill -9 cannot be handled: the workers must still not outlive their parent."""
    proc, _, tree = _run_and_signal(many, tmp_path, signal.SIGKILL, jobs=2)
    assert proc.returncode == -signal.SIGKILL
    _assert_gone(tree)


def test_a_signal_ignored_at_start_stays_ignored(many, tmp_path):
    """``nohup`` starts a command with SIGHUP ignored; the CLI must not undo that."""
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        ["nohup", sys.executable, "-m", "segtool.cli", "chunk", str(many), "-o", str(out), "-q",
         "--max-tokens", "4096"],
        preexec_fn=_default_signals, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, env=ENV, start_new_session=True, cwd=tmp_path)
    try:
        _writing(tmp_path, proc, workers=0)
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert list(tmp_path.iterdir()) == []
