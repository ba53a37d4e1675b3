"""Content fingerprints of model files, for configuration identities and caches.

A model name (``smollm2``, ``minilm``, a directory path) says where weights
come from, not what they are: rebuilding or replacing the files behind it must
change record ids and invalidate embedding caches.  Files are hashed whole
(sha256); the digest of a large file is remembered per (path, size, mtime,
inode) in segtool's cache directory so that re-hashing a 500 MB model happens
once, not on every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

_SKIP = {"README.md", ".gitattributes"}
_MEMO_MIN_SIZE = 4 << 20  # smaller files are cheaper to hash than to look up


def _memo_path() -> Path:
    from segtool.assets import cache_dir

    return cache_dir("fingerprints") / "sha256.json"


def _load_memo() -> dict[str, str]:
    try:
        with open(_memo_path(), encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_memo(memo: dict[str, str]) -> None:
    path = _memo_path()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(memo, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def file_sha256(path: str | os.PathLike[str], memo: dict[str, str] | None = None) -> str:
    """sha256 of a file's bytes, memoised for large files when ``memo`` is given."""
    st = os.stat(path)
    key = f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
    if memo is not None and st.st_size >= _MEMO_MIN_SIZE and key in memo:
        return memo[key]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if memo is not None and st.st_size >= _MEMO_MIN_SIZE:
        memo[key] = digest
    return digest


def path_fingerprint(path: str | os.PathLike[str]) -> str:
    """sha256 over every file of a directory (relative names and contents), or of one file."""
    root = Path(path)
    memo = _load_memo()
    before = dict(memo)
    if root.is_file():
        digest = file_sha256(root, memo)
    else:
        h = hashlib.sha256()
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            if rel in _SKIP or any(part.startswith(".") for part in Path(rel).parts):
                continue
            h.update(f"{rel}\0{file_sha256(file, memo)}\0".encode())
        digest = h.hexdigest()
    if memo != before:
        _save_memo(memo)
    return digest[:16]
