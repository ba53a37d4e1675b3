"""The hub reachability check that keeps offline failures fast (segtool.models.hub)."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import pytest

from segtool.models import hub


@pytest.fixture
def fresh_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cached answer, no offline switch: as a process that has not looked yet."""
    monkeypatch.setattr(hub, "_reachable", None)
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "SEGTOOL_OFFLINE", "HTTPS_PROXY",
                "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def test_unresolvable_hub_switches_to_offline_mode(fresh_probe, monkeypatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    assert hub.hub_available() is False
    assert hub.offline_reason() == "the Hugging Face hub (hub.invalid) is unreachable"
    # the libraries now refuse network access instead of retrying
    assert constants.HF_HUB_OFFLINE is True
    assert hub.offline_requested()


def test_listening_hub_is_reachable_and_left_online(fresh_probe, monkeypatch) -> None:
    from huggingface_hub import constants

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        server.settimeout(10)

        def accept() -> None:
            with contextlib.suppress(OSError):
                server.accept()[0].close()

        accepted = threading.Thread(target=accept, daemon=True)
        accepted.start()
        assert hub.hub_available() is True
        accepted.join(10)
    assert constants.HF_HUB_OFFLINE is False and not hub.offline_requested()


def test_closed_port_is_unreachable(fresh_probe, monkeypatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")  # nothing listens any more
    assert hub.hub_available() is False


def test_offline_request_skips_the_probe(fresh_probe, monkeypatch) -> None:
    monkeypatch.setenv("SEGTOOL_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    assert hub.hub_available() is False
    assert hub._reachable is None  # never probed
    assert hub.offline_reason() == "offline mode is on (SEGTOOL_OFFLINE is set)"


def test_the_probe_goes_to_the_proxy_when_one_is_set(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert hub._probe_target("https://huggingface.co") == ("proxy.example", 3128)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.delenv("https_proxy", raising=False)
    assert hub._probe_target("https://huggingface.co") == ("huggingface.co", 443)


def test_hf_tokenizer_hub_id_without_network_fails_fast(tmp_path: Path) -> None:
    """--tokenizer org/name on a machine that cannot reach the hub: one line in seconds."""
    from offline_cli import assert_quick_local_dir_hint, run_without_hub

    proc, seconds = run_without_hub(["chunk", "-c", "window", "--tokenizer", "org/name"], tmp_path)
    line = assert_quick_local_dir_hint(proc, seconds, limit=15.0)
    assert "tokenizer 'org/name'" in line and "tokenizer.json" in line
