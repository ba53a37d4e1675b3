"""``bench/gpu.sh`` keeps working: a tiny CPU slice writes a JSON row for every stage.

The GPU run itself needs a GPU machine; this runs the same script and code
paths on CPU (one short document per stage, the tiny stand-in LM) so that a
renamed option or a moved function breaks a test here, not the GPU lease.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STAGES = {"sat", "minilm", "margin", "perplexity", "intent"}

pytestmark = pytest.mark.slow  # loads SaT, MiniLM and a tiny LM on CPU


def test_the_gpu_script_runs_every_stage_on_a_cpu_slice(tmp_path):
    out = tmp_path / "gpu.json"
    proc = subprocess.run(
        ["bash", str(REPO / "bench" / "gpu.sh"), "--device", "cpu", "--dtype", "auto", "--docs",
         "2", "--llm-docs", "1", "--max-chars", "200", "--lm", "tiny", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    rows = {row["stage"]: row for row in report["rows"]}
    assert set(rows) == STAGES
    for stage, row in rows.items():
        assert row["status"] == "ok", (stage, row)
        assert row["device"] == "cpu" and row["docs"] == (1 if stage in ("margin", "perplexity")
                                                          else 2)
        assert row["batched_s"] > 0 and row["per_document_s"] > 0 and row["speedup"] > 0
        assert isinstance(row["same_output"], bool)
    assert report["environment"]["device"] == "cpu"
