"""Whether a model download from the Hugging Face hub is worth trying at all.

Why: when the network is down, huggingface_hub retries every request with
back-off, so a mistyped ``--lm foo`` or a hub id given on an offline machine
took 50-80 s before the one-line error.  Every loader that is about to fetch a
hub id calls :func:`hub_available` first.  It returns at once when the user
asked for offline mode (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE`` or
``SEGTOOL_OFFLINE``); otherwise it checks once per process, within a few
seconds, that the hub's host (or the HTTPS proxy in use) resolves and accepts
a connection.  When it does not, the process switches huggingface_hub — and
with it transformers, sentence-transformers, tokenizers and wtpsplit — to
offline mode: a model already in the local Hugging Face cache still loads, and
anything else fails immediately, so the caller can say how to point at a
local directory instead.

The answer is kept for the life of the process: a long-running program that
found the hub unreachable stays offline rather than paying the wait again.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT = 3.0  # seconds for name resolution and connecting, together
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "SEGTOOL_OFFLINE")
_TRUE = {"1", "true", "yes", "on"}

_lock = threading.Lock()
_reachable: bool | None = None
_asked = "HF_HUB_OFFLINE"  # the variable that asked for offline mode, for messages


def offline_requested() -> bool:
    """Has the user (or this process, after a failed probe) asked for offline mode?"""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in _OFFLINE_VARS)


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _probe_target(url: str) -> tuple[str, int]:
    """Where a hub request's TCP connection goes: the hub itself, or the proxy for it."""
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "huggingface.co"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme or "https") or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(host):
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if p.hostname:
            return p.hostname, p.port or 8080
    return host, port


def _connects(host: str, port: int, timeout: float) -> bool:
    """Resolve and connect within ``timeout`` seconds (getaddrinfo has no timeout of its own).

    Every address is tried in turn, as a browser would: a host with an IPv6
    address on a machine without IPv6 routes is still reachable over IPv4.
    """
    deadline = time.monotonic() + timeout
    found: list[tuple] = []

    def resolve() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError:
            pass

    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(timeout)
    for family, kind, proto, _, address in list(found):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(max(0.2, left))
                sock.connect(address)
            return True
        except OSError:
            continue
    return False


def hub_reachable(timeout: float = PROBE_TIMEOUT) -> bool:
    """Does the hub (or its proxy) accept connections?  Checked once per process."""
    global _reachable
    with _lock:
        if _reachable is None:
            _reachable = _connects(*_probe_target(endpoint()), timeout)
        return _reachable


def go_offline() -> None:
    """Put huggingface_hub (and the libraries built on it) in offline mode for this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # read at import, and inherited by worker processes
    try:
        from huggingface_hub import constants
    except ImportError:
        return
    constants.HF_HUB_OFFLINE = True


def hub_available() -> bool:
    """True when a hub download may be tried; False means only locally cached files load.

    Call it right before loading a hub id (never for local paths).  False
    either because offline mode was asked for or because the hub did not answer
    within :data:`PROBE_TIMEOUT` seconds — then offline mode is switched on, so
    the load that follows fails fast instead of retrying for a minute.
    """
    global _asked
    if offline_requested():
        _asked = next(v for v in _OFFLINE_VARS if os.environ.get(v, "").strip().lower() in _TRUE)
        go_offline()  # TRANSFORMERS_OFFLINE / SEGTOOL_OFFLINE alone must reach huggingface_hub too
        return False
    if hub_reachable():
        return True
    go_offline()
    return False


def offline_reason() -> str:
    """Why hub downloads are off, for error messages (call after :func:`hub_available`)."""
    if _reachable is False:
        return f"the Hugging Face hub ({urllib.parse.urlsplit(endpoint()).hostname}) is unreachable"
    return f"offline mode is on ({_asked} is set)"
