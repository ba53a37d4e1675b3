"""Run the CLI as a user whose machine cannot reach the Hugging Face hub.

The suite runs with ``HF_HUB_OFFLINE=1`` (conftest), which is exactly the
setting such a user does *not* have.  These helpers drop every offline switch
and proxy from the environment and point the hub at ``hub.invalid`` (a name
that never resolves), with an empty Hugging Face cache: the situation of a
laptop on a plane or a server without DNS, on any machine the tests run on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

UNREACHABLE_HUB = "https://hub.invalid"
_DROP = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "SEGTOOL_OFFLINE",
         "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# Before the fix these commands spent 50-80 s (26 s for a tokenizer, which imports
# no torch) in the hub client's retries; what is left is interpreter start-up and
# imports (torch, transformers), a few seconds.
QUICK_S = 30.0


def run_without_hub(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """``segtool ARGS`` with no offline setting and an unreachable hub; (result, seconds)."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(HF_ENDPOINT=UNREACHABLE_HUB, HF_HOME=str(tmp_path / "hf-home"))
    doc = tmp_path / "doc.txt"
    doc.write_text("A first sentence. And a second one.\n", encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", *args, str(doc)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    return proc, time.perf_counter() - started


def assert_quick_local_dir_hint(proc: subprocess.CompletedProcess[str], seconds: float,
                                limit: float = QUICK_S) -> str:
    """Exit 2, one ``Error:`` line that says the hub is unreachable and how to go local."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: ") and "local" in lines[0] and "director" in lines[0]
    assert "hub.invalid) is unreachable" in lines[0]
    assert seconds < limit, f"took {seconds:.0f} s to report an unreachable hub"
    return lines[0]
