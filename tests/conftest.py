"""Suite-wide settings: offline, single-threaded, deterministic.

Set before anything imports torch or transformers: a hub access must fail fast
instead of hanging, and on 2-core CI machines torch's default threading made
small tensor ops hundreds of times slower under load .
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "segtool", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("segtool")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEV = SHARED / "data" / "dev"


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    if not DEV.is_dir():
        pytest.fail(f"the shared dev data is missing: expected {DEV} beside the repository")
    return DEV


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO
