"""``jobs > 1`` from a script without an ``if __name__ == "__main__":`` guard.

Worker processes are spawned; by default each one re-runs the caller's main
script first, which for an unguarded script means calling the API again
while starting up — the worker dies and the caller got ``BrokenProcessPool``
(and ``python - < script.py`` failed even with a guard, looking for a file
named ``<stdin>``).  segtool's workers need nothing from the script, so they
no longer run it: every way of running a script gives the records of
``jobs=1``, and the script's top-level code runs exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import segtool

SCRIPT = """\
import json, sys
import segtool

with open(sys.argv[1] if len(sys.argv) > 1 else {marker!r}, "a") as fh:
    fh.write("ran\\n")  # top-level side effect: must happen once, not once per worker
docs = [("d%d" % i, "Alpha is first. Beta follows it! Gamma ends the list? " * (1 + i % 4))
        for i in range(120)]
records = segtool.chunk_documents(docs, max_tokens=12, jobs=2)
print(json.dumps([r.to_dict() for r in records]))
"""


def _expected() -> list[dict]:
    docs = [(f"d{i}", "Alpha is first. Beta follows it! Gamma ends the list? " * (1 + i % 4))
            for i in range(120)]
    return [r.to_dict() for r in segtool.chunk_documents(docs, max_tokens=12)]


@pytest.mark.parametrize("how", ["file", "stdin", "module"])
def test_unguarded_script_with_workers_runs_once_and_matches_one_process(tmp_path: Path, how: str):
    marker = tmp_path / "ran.txt"
    (tmp_path / "unguarded.py").write_text(SCRIPT.format(marker=str(marker)), encoding="utf-8")
    command = {"file": [sys.executable, "unguarded.py"], "stdin": [sys.executable, "-"],
               "module": [sys.executable, "-m", "unguarded"]}[how]
    stdin = (tmp_path / "unguarded.py").read_text() if how == "stdin" else None
    proc = subprocess.run(command, cwd=tmp_path, input=stdin, capture_output=True, text=True,
                          timeout=300, check=False)
    assert "BrokenProcessPool" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == _expected()
    assert marker.read_text() == "ran\n"
