#!/usr/bin/env python3
"""Build the offline ``model2vec`` embedder (see segtool/models/distill.py).

The install step runs this once; it returns immediately when the model is
already in segtool's cache directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segtool.models.distill import main

if __name__ == "__main__":
    raise SystemExit(main())
