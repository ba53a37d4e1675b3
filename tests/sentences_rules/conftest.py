"""Fixtures for the rule-based splitter, nupunkt wrapper, paragraphs and the SBD metric.

The dev set comes from the suite-wide ``dev_dir`` fixture (tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from segtool.quality.sbd import GoldDoc, load_gold
from segtool.sentences.nupunkt_splitter import NupunktSplitter
from segtool.sentences.paragraphs import ParagraphSplitter
from segtool.sentences.rules import RulesSplitter

_GOLD_CACHE: dict[str, list[GoldDoc]] = {}


@pytest.fixture(scope="session")
def gold(dev_dir: Path):
    """``gold("en_golden_rules.jsonl")`` -> the parsed documents (read once)."""

    def load(name: str) -> list[GoldDoc]:
        if name not in _GOLD_CACHE:
            _GOLD_CACHE[name] = load_gold(dev_dir / name)
        return _GOLD_CACHE[name]

    return load


@pytest.fixture(scope="session")
def rules() -> RulesSplitter:
    return RulesSplitter()


@pytest.fixture(scope="session")
def nupunkt_splitter() -> NupunktSplitter:
    return NupunktSplitter()


@pytest.fixture(scope="session")
def paragraphs() -> ParagraphSplitter:
    return ParagraphSplitter()
