"""SaT through the real wtpsplit code, on a tiny model trained for the tests.

The model is trained on en_general_ud.jsonl only; every quality number here is
measured on held-out dev files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from segtool import registry
from segtool.quality.sbd import load_gold, score
from segtool.sentences.sat import SatSplitter, default_threshold
from segtool.types import Span, UsageError
from sentences_models.helpers import TRAIN_FILE, assert_tiles, texts

pytest.importorskip("wtpsplit", reason="segtool[sat] is not installed")

# fp16 ONNX vs fp32 torch: measured max |Δp| ≈ 3e-4 on the news file; allow 30x that.
PROB_TOLERANCE = 0.01


def _ends(spans: list[Span]) -> set[int]:
    return {s.end for s in spans[:-1]}


@pytest.fixture(scope="module")
def news(dev_dir: Path):
    return load_gold(dev_dir / "en_news_ersatz.jsonl")


@pytest.fixture(scope="module")
def mixed_docs(dev_dir: Path) -> list[str]:
    """Held-out documents of very different lengths, plus blank and tiny ones."""
    wsj = [d.text for d in load_gold(dev_dir / "en_wsj_ptb_sample.jsonl")]
    legal = [d.text for d in load_gold(dev_dir / "legal_en_savelka.jsonl")]
    long_doc = legal[0][:1500]  # over one 512-token window: strided windows run
    return ["", "  \n ", "Hi.", "x", *wsj[:6], long_doc, "One. Two? Three!", "\n\nTail. "]


def test_model_was_built_from_the_training_file_only(tiny_sat: Path) -> None:
    meta = json.loads((tiny_sat / "segtool_tiny_sat.json").read_text())
    assert meta["train_files"] == [TRAIN_FILE]
    assert (tiny_sat / "config.json").is_file() and (tiny_sat / "model_optimized.onnx").is_file()
    assert json.loads((tiny_sat / "config.json").read_text())["model_type"] == "xlm-token"


def test_heldout_f1_is_meaningful(sat_torch: SatSplitter, news, dev_dir: Path) -> None:
    # measured 0.89 (news) and 0.71 (WSJ: decimals and abbreviations trip the tiny model)
    pred = sat_torch.split_batch([d.text for d in news])
    assert score(news, pred).f1 > 0.85
    wsj = load_gold(dev_dir / "en_wsj_ptb_sample.jsonl")
    assert score(wsj, sat_torch.split_batch([d.text for d in wsj])).f1 > 0.65
    # and it is the model, not the line breaks: without them it still finds most boundaries
    sat_torch.newlines = "model"
    try:
        flat = sat_torch.split_batch([d.text.replace("\n", " ") for d in news])
    finally:
        sat_torch.newlines = "split"
    assert score(news, flat).f1 > 0.8


def test_torch_and_onnx_agree(sat_torch: SatSplitter, sat_onnx: SatSplitter, news,
                              mixed_docs: list[str]) -> None:
    docs = [d.text for d in news[:6]] + mixed_docs
    p_torch = sat_torch.probabilities(docs)
    p_onnx = sat_onnx.probabilities(docs)
    worst = max((float(np.max(np.abs(a - b))) for a, b in zip(p_torch, p_onnx, strict=True) if a.size),
                default=0.0)
    assert worst < PROB_TOLERANCE
    # boundaries can differ only where a probability sits within the tolerance of the threshold
    for text, a, b in zip(docs, p_torch, p_onnx, strict=True):
        differ = np.flatnonzero((a > sat_torch.threshold) != (b > sat_onnx.threshold))
        assert all(abs(a[i] - sat_torch.threshold) < PROB_TOLERANCE for i in differ), text[:60]
    # on these documents they are in fact identical
    assert sat_torch.split_batch(docs) == sat_onnx.split_batch(docs)


def test_batching_does_not_change_output(sat_torch: SatSplitter, mixed_docs: list[str]) -> None:
    whole = sat_torch.split_batch(mixed_docs)
    for text, spans in zip(mixed_docs, whole, strict=True):
        assert_tiles(text, spans)
    one_by_one = [sat_torch.split(t) for t in mixed_docs]
    assert one_by_one == whole
    for batch_size in (1, 8):
        other = SatSplitter(sat_model=sat_torch.sat_model, sat_threshold=sat_torch.threshold,
                            batch_size=batch_size, device="cpu")
        other._sat = sat_torch._sat  # same weights, no second load
        assert other.split_batch(mixed_docs) == whole
    # many documents at once: the same output as in small groups
    many = mixed_docs * 3
    assert sat_torch.split_batch(many) == whole * 3


def test_blank_documents_never_reach_the_model(tiny_sat: Path) -> None:
    splitter = SatSplitter(sat_model=str(tiny_sat), sat_threshold=0.5, device="cpu")
    assert splitter.split_batch(["", "   ", "\n\t\n"]) == [[], [Span(0, 3)], [Span(0, 3)]]
    assert splitter._sat is None  # nothing to segment: the model was not even loaded


def test_invisible_only_texts_batch_with_normal_ones(sat_torch: SatSplitter) -> None:
    docs = ["\u200b\u200d", "\x00\x01", "Fine. Thanks.", "\ufeff \u2060", "_"]
    out = sat_torch.split_batch(docs)
    for text, spans in zip(docs, out, strict=True):
        assert_tiles(text, spans)
    assert out[2] == sat_torch.split("Fine. Thanks.")


@settings(max_examples=40)
@given(text=texts)
def test_spans_tile_arbitrary_text(sat_torch: SatSplitter, text: str) -> None:
    assert_tiles(text, sat_torch.split(text))


def test_line_break_policies(tiny_sat: Path) -> None:
    text = ("the river rose in the night\nand by morning the fields were flooded\n\n"
            "Farmers moved their cattle. Nobody had seen a flood like it\r\nin forty years")
    ends = {}
    for policy in ("model", "paragraph", "split"):
        s = SatSplitter(sat_model=str(tiny_sat), sat_threshold=0.5, sat_newlines=policy,
                        device="cpu")
        spans = s.split(text)
        assert_tiles(text, spans)
        ends[policy] = _ends(spans)
    assert ends["model"] <= ends["paragraph"] <= ends["split"]
    blank = text.index("\n\n") + 2
    assert blank in ends["paragraph"]
    for i, ch in enumerate(text):
        if ch == "\n":  # the end moves over the rest of the whitespace run
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            assert j in ends["split"]


def test_paragraph_mode_uses_the_higher_threshold(sat_torch: SatSplitter, news) -> None:
    texts_ = [d.text.replace("\n", " ") for d in news[:4]]
    para = SatSplitter(sat_model=sat_torch.sat_model, sat_paragraphs=True,
                       sat_paragraph_threshold=0.95, sat_newlines="model", device="cpu")
    para._sat = sat_torch._sat
    sat_torch.newlines = "model"
    try:
        sentences = sat_torch.split_batch(texts_)
    finally:
        sat_torch.newlines = "split"
    paragraphs = para.split_batch(texts_)
    for text, p, s in zip(texts_, paragraphs, sentences, strict=True):
        assert_tiles(text, p)
        assert _ends(p) <= _ends(s)
    assert sum(len(p) for p in paragraphs) < sum(len(s) for s in sentences)


def test_registry_builds_it_with_declared_options(tiny_sat: Path) -> None:
    s = registry.create("splitters", "sat", {
        "sat_model": str(tiny_sat), "sat_threshold": 0.4, "stride": 32, "device": "cpu",
    })
    assert isinstance(s, SatSplitter) and s.threshold == 0.4 and s.stride == 32
    with pytest.raises(TypeError, match="splitter 'sat' takes no option 'max_tokens'"):
        registry.create("splitters", "sat", {"sat_model": str(tiny_sat), "max_tokens": 99})


# -- thresholds -------------------------------------------------------------------------------

def test_default_threshold_comes_from_the_model_name_not_the_path() -> None:
    assert default_threshold("sat-3l-sm") == 0.25
    assert default_threshold("segment-any-text/sat-12l-sm") == 0.25
    assert default_threshold("sat-3l") == 0.025
    assert default_threshold("/home/asmith/models/sat-3l") == 0.025  # wtpsplit would say 0.25
    assert default_threshold("/models/sat-1l-sm/") == 0.25
    assert default_threshold("sat-3l", lora=True) == 0.5


def test_explicit_threshold_is_used(tiny_sat: Path) -> None:
    s = SatSplitter(sat_model=str(tiny_sat), sat_threshold=0.3, device="cpu")
    assert s.threshold == 0.3
    assert SatSplitter(sat_model=str(tiny_sat), device="cpu").threshold == 0.025


# -- loading errors: one line, exit code 2, and say how to fix it -----------------------------

def _usage(fn) -> str:
    with pytest.raises(UsageError) as info:
        fn()
    message = str(info.value)
    assert info.value.exit_code == 2
    assert "\n" not in message
    return message


def test_missing_model_directory(tmp_path: Path) -> None:
    msg = _usage(lambda: SatSplitter(sat_model=str(tmp_path / "nope")))
    assert "not found" in msg and "--sat-model" in msg


def test_directory_without_config(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"")
    msg = _usage(lambda: SatSplitter(sat_model=str(tmp_path)))
    assert "config.json" in msg and "--sat-model" in msg


def test_onnx_backend_without_onnx_file(tiny_sat: Path, tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(tiny_sat, model)
    (model / "model_optimized.onnx").unlink()
    msg = _usage(lambda: SatSplitter(sat_model=str(model), sat_backend="onnx"))
    assert "model_optimized.onnx" in msg


def test_corrupt_onnx_file(tiny_sat: Path, tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(tiny_sat, model)
    (model / "model_optimized.onnx").write_bytes(b"this is not a protobuf" * 10)
    s = SatSplitter(sat_model=str(model), sat_backend="onnx", device="cpu", sat_threshold=0.5)
    msg = _usage(s.load)
    assert "ONNX" in msg and "--sat-model" in msg


def test_corrupt_weights(tiny_sat: Path, tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(tiny_sat, model)
    (model / "model.safetensors").write_bytes(b"\0" * 64)
    s = SatSplitter(sat_model=str(model), device="cpu", sat_threshold=0.5)
    assert "--sat-model" in _usage(s.load)


def test_hub_id_offline() -> None:
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        pytest.skip("only meaningful offline")
    s = SatSplitter(sat_model="sat-3l-sm", device="cpu")
    msg = _usage(s.load)
    assert "sat-3l-sm" in msg and "--sat-model" in msg and "local directory" in msg


def test_cuda_without_cuda(tiny_sat: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert "CUDA" in _usage(lambda: SatSplitter(sat_model=str(tiny_sat), device="cuda"))


@pytest.mark.parametrize("options", [
    {"sat_backend": "tensorrt"}, {"sat_threshold": 1.5}, {"stride": 0},
    {"stride": 600, "block_size": 512}, {"block_size": 1024}, {"batch_size": 0},
    {"sat_newlines": "sometimes"}, {"lora_path": "/no/such/lora"},
])
def test_bad_options(tiny_sat: Path, options: dict) -> None:
    _usage(lambda: SatSplitter(sat_model=str(tiny_sat), device="cpu", **options))


def test_cli_flags_reach_the_splitter(tiny_sat: Path, tmp_path: Path) -> None:
    """--sat-newlines / --stride / --block-size from the command line, JSONL and Parquet out."""
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from segtool.cli import app

    doc = tmp_path / "wrapped.txt"
    doc.write_text("the river rose in the night\nand by morning the fields were flooded\n\n"
                   "Farmers moved their cattle. Nobody had seen a flood like it\nin forty years\n",
                   encoding="utf-8")
    base = ["sentences", str(doc), "-s", "sat", "--sat-model", str(tiny_sat), "--sat-threshold",
            "0.5", "--device", "cpu", "-q"]
    counts = {}
    for policy in ("split", "paragraph"):
        res = CliRunner().invoke(app, [*base, "--sat-newlines", policy])
        assert res.exit_code == 0, res.output
        rows = [json.loads(line) for line in res.stdout.splitlines()]
        assert "".join(r["text"] for r in rows) == doc.read_text(encoding="utf-8")
        counts[policy] = len(rows)
    assert counts["paragraph"] < counts["split"]  # single line breaks no longer end sentences
    out = tmp_path / "s.parquet"
    res = CliRunner().invoke(app, [*base, "--stride", "16", "--block-size", "32", "--format",
                                   "parquet", "-o", str(out)])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out)
    assert "".join(table.column("text").to_pylist()) == doc.read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, [*base, "--sat-newlines", "sometimes"])
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --sat-newlines 'sometimes'")


def test_hub_id_without_network_fails_fast_with_a_local_directory_hint(tmp_path: Path) -> None:
    """-s sat with a hub id on a machine that cannot reach the hub: one line in seconds."""
    from offline_cli import assert_quick_local_dir_hint, run_without_hub

    proc, seconds = run_without_hub(["sentences", "-s", "sat", "--sat-model", "sat-3l-sm"], tmp_path)
    line = assert_quick_local_dir_hint(proc, seconds)
    assert "sat-3l-sm" in line and "--sat-model" in line
