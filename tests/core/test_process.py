"""Behaviour only a real process shows: imports, pipes, terminals, man page.

Signals (Ctrl-C, SIGTERM, SIGHUP, kill -9) have their own module, ``test_signals.py``.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from segtool.manpage import render

HEAVY = ("torch", "transformers", "spacy", "wtpsplit", "sentence_transformers", "onnxruntime")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, input="One sentence. Another one.\n")
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_no_heavy_dependency():
    mods = _modules_after(
        "import sys\nfrom segtool.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
    )
    # --help loads every component class to list its declared options: declarations only
    assert not [m for m in (*HEAVY, "numpy", "pyarrow", "tiktoken", "nupunkt") if m in mods]


def test_rules_window_run_imports_no_heavy_dependency():
    mods = _modules_after(
        "import sys, io\nfrom segtool.cli import app\n"
        "sys.stdout = io.TextIOWrapper(io.BytesIO())\n"
        "try:\n    app(['chunk', '-', '-q'])\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "sys.stdout = sys.__stdout__\n"
    )
    assert "segtool.chunkers.window" in mods and "segtool.sentences.rules" in mods
    assert not [m for m in HEAVY if m in mods]


def test_head_closing_the_pipe_prints_no_traceback(tmp_path):
    text = "This is one sentence. " * 20000
    src = tmp_path / "big.txt"
    src.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        f"segtool sentences {src} | head -n 2", shell=True, capture_output=True, text=True,
        check=False,
    )
    assert len(proc.stdout.splitlines()) == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_progress_only_on_a_terminal(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"text": f"Doc {i}. Sentence two."}) + "\n"
                           for i in range(3000)))
    piped = subprocess.run(["segtool", "chunk", str(src), "-o", str(tmp_path / "o.jsonl")],
                           capture_output=True, text=True, check=True)
    assert piped.stderr.splitlines() == [f"segtool: 3,000 documents; 3,000 chunks → "
                                         f"{tmp_path / 'o.jsonl'}"]
    # with stderr on a pseudo-terminal, rich draws its progress display there
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvp("segtool", ["segtool", "chunk", str(src), "-o", str(tmp_path / "p.jsonl")])
    seen = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    os.waitpid(pid, 0)
    assert b"\x1b[" in seen  # terminal control sequences: the live display was drawn
    assert b"3,000 chunks" in seen


def test_failure_keeps_an_existing_output_untouched(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous good output\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xff")
    proc = subprocess.run(["segtool", "chunk", str(bad), "-o", str(out)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1
    assert out.read_text() == "previous good output\n"


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xff")
    proc = subprocess.run(["segtool", "chunk", str(bad), "--debug"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_man_page_is_current(repo_dir):
    committed = (repo_dir / "man" / "segtool.1").read_text(encoding="utf-8")
    assert committed == render(), "man page is stale: python -m segtool.manpage > man/segtool.1"


@pytest.mark.parametrize("flag", ["--version"])
def test_version(flag):
    out = subprocess.run(["segtool", flag], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("segtool ")
