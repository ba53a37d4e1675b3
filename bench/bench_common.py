"""What every benchmark script here shares: the corpus and the results file.

The scripts are run as ``python3 bench/NAME.py`` (this folder is then first on
``sys.path``), so they import this module by its plain name.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_BENCH = REPO.parent / "shared" / "bench"


def ensure_corpus(corpus: Path, name: str = "many_small_10k.jsonl") -> Path:
    """``corpus/name``, building the standard cases from the shared archive when missing."""
    target = corpus / name
    if target.exists():
        return target
    archive = SHARED_BENCH / "gutenberg-books.tar.xz"
    if not archive.exists():
        sys.exit(f"error: {target} is missing and {archive} is not there to build it from")
    corpus.mkdir(parents=True, exist_ok=True)
    print(f"building the bench corpus in {corpus} …", file=sys.stderr)
    subprocess.run(["tar", "-xJf", str(archive), "-C", str(corpus)], check=True)
    subprocess.run([sys.executable, str(SHARED_BENCH / "build_corpus.py"), "--books-dir",
                    str(corpus / "books"), "--out", str(corpus)], check=True)
    return target


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count()}


def write_results(path: Path, env: dict[str, Any], rows: list[dict[str, Any]],
                  packages: Iterable[str]) -> None:
    """Rows plus the environment (with the versions of ``packages``), written atomically."""
    import importlib.metadata as md

    env = dict(env)
    for pkg in packages:
        try:
            env[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"environment": env, "rows": rows}, indent=2) + "\n")
    os.replace(tmp, path)
