"""charboundary (bundled small model) through segtool: tiling, blocks, quality, errors."""

from __future__ import annotations

import io
import itertools
import json
import lzma
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from segtool import registry
from segtool.quality.sbd import load_gold, score
from segtool.sentences.charboundary_splitter import CharBoundarySplitter, text_blocks
from segtool.types import UsageError
from sentences_models.helpers import assert_tiles, texts

pytest.importorskip("charboundary", reason="segtool[charboundary] is not installed")

QUOTES = "\"'“”‘’«»"


@pytest.fixture(scope="module")
def splitter() -> CharBoundarySplitter:
    s = CharBoundarySplitter()
    s.load()
    return s


@settings(max_examples=60)
@given(text=texts)
def test_spans_tile_arbitrary_text(splitter: CharBoundarySplitter, text: str) -> None:
    assert_tiles(text, splitter.split(text))


def test_quality_on_dev_files(splitter: CharBoundarySplitter, dev_dir: Path) -> None:
    # measured: WSJ 0.985, news 0.944, legal (Savelka) 0.876
    for name, floor in (("en_wsj_ptb_sample", 0.95), ("en_news_ersatz", 0.9),
                        ("legal_en_savelka", 0.83)):
        gold = load_gold(dev_dir / f"{name}.jsonl")
        pred = splitter.split_batch([d.text for d in gold])
        for d, spans in zip(gold, pred, strict=True):
            assert_tiles(d.text, spans)
        assert score(gold, pred).f1 > floor, name


def test_blocks_cover_the_text_and_prefer_paragraph_breaks() -> None:
    text = ("A sentence here. " * 30 + "\n\n") * 20
    blocks = text_blocks(text, 1200)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert all(e - s <= 1200 for s, e in blocks)
    assert all(text[e - 2:e] == "\n\n" for _, e in blocks[:-1])


def test_blocked_matches_whole_string_except_quote_balance(dev_dir: Path) -> None:
    """Blocks of 20,000 chars vs one call on ~80 KB of court decisions.

    Only the quote-balance feature (quotes counted from the start of the text)
    can differ: every differing boundary sits right after a quote character.
    With the default 50,000-char blocks the 300 KB check in the benchmark found
    no difference at all.
    """
    text = "\n\n".join(d.text for d in load_gold(dev_dir / "legal_en_savelka.jsonl"))
    blocked = set(CharBoundarySplitter(block_chars=20_000).ends(text))
    whole = set(CharBoundarySplitter(block_chars=len(text) + 1).ends(text))
    differ = blocked ^ whole
    assert len(differ) <= 0.01 * len(whole)
    assert all(text[e - 1] in QUOTES for e in differ), sorted(differ)


def test_onnx_and_sklearn_agree(splitter: CharBoundarySplitter, dev_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    assert splitter._segmenter.config.use_onnx  # the bundled ONNX export is in use
    text = "\n\n".join(d.text for d in load_gold(dev_dir / "en_news_ersatz.jsonl"))[:12_000]
    sk = CharBoundarySplitter(charboundary_onnx=False)
    assert not sk.load().config.use_onnx
    assert sk.split(text) == splitter.split(text)


def test_medium_offline_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from charboundary.remote_models import get_model_path

    if get_model_path("medium", download=False):
        pytest.skip("the medium model is installed here")
    monkeypatch.setenv("SEGTOOL_OFFLINE", "1")
    with pytest.raises(UsageError) as info:
        CharBoundarySplitter(charboundary_model="medium").load()
    assert "only 'small' is bundled" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("options", [{"charboundary_model": "huge"}, {"block_chars": 10}])
def test_bad_options(options: dict) -> None:
    with pytest.raises(UsageError):
        CharBoundarySplitter(**options).load()


def test_registry() -> None:
    s = registry.create("splitters", "charboundary", {"block_chars": 10_000})
    assert isinstance(s, CharBoundarySplitter) and s.block_chars == 10_000
    with pytest.raises(TypeError, match="takes no option 'lang'"):
        registry.create("splitters", "charboundary", {"block_chars": 10_000, "lang": "en"})
    with pytest.raises(UsageError, match="--block-chars 10: must be ≥ 128"):
        registry.create("splitters", "charboundary", {"block_chars": 10})


# --------------------------------------------------------------------------- untrusted model files


def _crafted_model(path: Path, command: str, *, compress: bool) -> Path:
    """A skops file whose 'model' is rebuilt by calling ``os.system(command)``.

    Written the way an attacker would: a valid skops archive whose schema names
    ``os.system`` as the constructor of an object, so whoever trusts the types
    the file lists runs the command while loading it.
    """
    import zoneinfo

    from skops.io import dumps

    archive = zipfile.ZipFile(io.BytesIO(dumps({"model": zoneinfo.ZoneInfo("UTC"), "version": 5})))
    schema = json.loads(archive.read("schema.json"))
    node = schema["content"]["model"]
    assert node["__loader__"] == "ConstructorFromReduceNode"  # ZoneInfo("UTC") is rebuilt by a call
    node["__module__"], node["__class__"] = "os", "system"
    node["content"]["content"][0]["content"] = json.dumps(command)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in archive.namelist():
            z.writestr(name, json.dumps(schema) if name == "schema.json" else archive.read(name))
    data = out.getvalue()
    path.write_bytes(lzma.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("name", ["evil.skops", "evil.skops.xz"])
def test_crafted_model_file_is_refused_without_running_it(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    model = _crafted_model(tmp_path / name, f"touch {marker}", compress=name.endswith(".xz"))
    doc = tmp_path / "in.txt"
    doc.write_text("Hello world. This is a test.\n")
    proc = subprocess.run(
        [sys.executable, "-m", "segtool.cli", "sentences", "-s", "charboundary",
         "--charboundary-model", str(model), str(doc)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert not marker.exists(), "loading the model file ran the command it carries"
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: refusing to load charboundary model")
    assert "os.system" in lines[0] and str(model) in lines[0]
    assert proc.stdout == ""


def test_crafted_model_file_is_refused_by_the_api(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    model = _crafted_model(tmp_path / "evil.skops", f"touch {marker}", compress=False)
    with pytest.raises(UsageError, match=r"refusing to load .*os\.system"):
        CharBoundarySplitter(charboundary_model=str(model)).load()
    assert not marker.exists()


def test_a_saved_charboundary_model_file_loads(tmp_path: Path) -> None:
    """A legitimate user model (here: the bundled one, saved by charboundary) still loads."""
    path = tmp_path / "mine.skops"
    CharBoundarySplitter(charboundary_onnx=False).load().save(str(path), compress=False)
    mine = CharBoundarySplitter(charboundary_model=str(path), charboundary_onnx=False)
    text = "Dr. Smith went to Washington. He arrived at 5 p.m. on Monday! Did he stay?"
    assert mine.split(text) == CharBoundarySplitter(charboundary_onnx=False).split(text)
    assert len(mine.split(text)) >= 2


@pytest.mark.parametrize("content", [b"", b"not a zip file", lzma.compress(b"still not a zip")],
                         ids=["empty", "not-a-zip", "xz-not-a-zip"])
def test_unreadable_model_file_is_a_one_line_usage_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.skops"
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        CharBoundarySplitter(charboundary_model=str(path)).load()
    assert "cannot read charboundary model" in str(info.value) and "\n" not in str(info.value)
    assert os.fspath(path) in str(info.value)
