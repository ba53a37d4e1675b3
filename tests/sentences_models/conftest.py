"""Fixtures for the model-based splitters: the tiny SaT (built once, cached) and helpers.

The tiny SaT is trained on ``en_general_ud.jsonl`` (see segtool.testing.tiny_sat);
quality is judged on the other dev files only.  Building takes about a minute on one
core the first time; later sessions load it from ``segtool.assets.cache_dir``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sentences_models.helpers import TRAIN_FILE


@pytest.fixture(scope="session")
def tiny_sat(dev_dir: Path) -> Path:
    pytest.importorskip("wtpsplit", reason="segtool[sat] is not installed")
    pytest.importorskip("onnxruntime", reason="segtool[sat] is not installed")
    from segtool.testing.tiny_sat import cached_tiny_sat

    return cached_tiny_sat(train_files=[dev_dir / TRAIN_FILE])


@pytest.fixture(scope="session")
def sat_torch(tiny_sat: Path):
    from segtool.sentences.sat import SatSplitter
    from segtool.testing.tiny_sat import THRESHOLD

    splitter = SatSplitter(sat_model=str(tiny_sat), sat_threshold=THRESHOLD, device="cpu")
    splitter.load()
    return splitter


@pytest.fixture(scope="session")
def sat_onnx(tiny_sat: Path):
    from segtool.sentences.sat import SatSplitter
    from segtool.testing.tiny_sat import THRESHOLD

    splitter = SatSplitter(
        sat_model=str(tiny_sat), sat_threshold=THRESHOLD, sat_backend="onnx", device="cpu"
    )
    splitter.load()
    return splitter
