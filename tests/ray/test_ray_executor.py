"""``--executor ray`` and ``segtool.distributed.chunk_dataset`` give the local executor's records.

Compared as a user would: both outputs reopened from disk, sorted by
(doc_id, index), every column equal — ids included.  Bad records follow
``--on-error`` the local way: ``stop`` exits 1 with the local one-line
message and writes nothing; ``skip`` writes the rest and says what it skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import ray_support
from ray_support import run_cli

ray_local = ray_support.ray_local  # fixtures, by name (this directory has no conftest)
corpus = ray_support.corpus

pytestmark = pytest.mark.slow  # a Ray instance per module (~10 s to start on 2 cores)

ORDER = [("doc_id", "ascending"), ("index", "ascending")]


def _sorted(path: Path):
    import pyarrow.dataset as pads

    return pads.dataset(str(path), format="parquet").to_table().sort_by(ORDER)


def _both(command: str, inputs: list[str], options: list[str], tmp_path: Path, capsys,
          *, code: int = 0) -> tuple[object, object, str, str]:
    local, distributed = tmp_path / "local.parquet", tmp_path / "ray-out"
    status, local_err = run_cli([command, *inputs, "-o", str(local), *options], capsys)
    assert status == code, local_err
    status, ray_err = run_cli([command, *inputs, "--executor", "ray", "-j", "1", "-o",
                               str(distributed), *options], capsys)
    assert status == code, ray_err
    if code:
        return None, None, local_err, ray_err
    return _sorted(local), _sorted(distributed), local_err, ray_err


def test_window_chunks_and_sentences_equal_the_local_executor(ray_local, corpus, tmp_path, capsys):
    local, distributed, _, summary = _both(
        "chunk", [str(corpus)], ["--max-tokens", "64", "--overlap-tokens", "8", "--id-field", "id"],
        tmp_path, capsys)
    assert local.num_rows > 50  # every fixture document, not an empty comparison
    assert local.schema == distributed.schema
    assert local.equals(distributed)
    files = [p for p in corpus.rglob("*") if p.is_file()]
    assert len(set(local.column("source").to_pylist())) == len(files)  # every input file
    assert f"{local.num_rows} chunks" in summary


def test_semantic_chunks_with_model2vec_equal_the_local_executor(ray_local, corpus, tmp_path,
                                                                 capsys):
    from segtool.models.embedders import distilled_model_dir, is_distilled_model

    if not is_distilled_model(distilled_model_dir()):
        pytest.skip("the distilled model2vec model is not built — python scripts/distill_model2vec.py")
    inputs = [str(corpus / "gutenberg_sherlock.txt"), str(corpus / "records.jsonl")]
    local, distributed, _, _ = _both(
        "chunk", inputs, ["--chunker", "semantic", "--embedder", "model2vec", "--max-tokens", "96",
                          "-q"], tmp_path, capsys)
    assert local.num_rows > 10
    assert local.equals(distributed)


@pytest.fixture
def with_bad_record(corpus: Path) -> Path:
    (corpus / "bad.jsonl").write_text(
        '{"text": "A good record. It has two sentences."}\n'
        '{"text": "broken\n'
        '{"text": "Another good one after the broken line."}\n', encoding="utf-8")
    return corpus


def test_a_bad_record_stops_the_run_with_the_local_message(ray_local, with_bad_record, tmp_path,
                                                           capsys):
    _, _, local_err, ray_err = _both("chunk", [str(with_bad_record / "bad.jsonl")], [], tmp_path,
                                     capsys, code=1)
    lines = ray_err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: invalid JSON"), ray_err
    assert ray_err == local_err
    assert not (tmp_path / "ray-out").exists()  # nothing half-written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ray-out")] == []


def test_a_bad_record_is_skipped_and_the_rest_written(ray_local, with_bad_record, tmp_path, capsys):
    local, distributed, local_err, ray_err = _both(  # sentences: the other command
        "sentences", [str(with_bad_record)], ["--on-error", "skip"], tmp_path, capsys)
    assert local.num_rows > 100 and local.equals(distributed)
    ids = distributed.column("doc_id").to_pylist()
    assert any(i.endswith("bad.jsonl#2") for i in ids)  # the record after the bad line
    skipped = [line for line in ray_err.splitlines() if line.startswith("skipped: ")]
    assert skipped == [line for line in local_err.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 1 and "line 2" in skipped[0]
    assert "1 skipped" in ray_err and "sentences →" in ray_err


def test_chunk_dataset_gives_the_api_records(ray_local):
    import ray.data

    import segtool
    from segtool.distributed import chunk_dataset

    rows = [{"id": f"d{i}", "text": f"Document {i} starts here. It has a second sentence. " * 4,
             "lang": "en", "n": i} for i in range(12)]
    expected = [r.to_dict() for r in segtool.chunk_documents(rows, id_field="id", source="rows",
                                                             max_tokens=16)]
    got = chunk_dataset(ray.data.from_items(rows), source="rows", max_tokens=16,
                        concurrency=1, batch_size=5).take_all()
    got.sort(key=lambda r: (r["doc_id"], r["index"]))
    expected.sort(key=lambda r: (r["doc_id"], r["index"]))
    import json

    assert [r["id"] for r in got] == [r["id"] for r in expected]
    assert [json.loads(r["meta"]) for r in got] == [r["meta"] for r in expected]
    assert all(g["text"] == e["text"] and g["start"] == e["start"]
               for g, e in zip(got, expected, strict=True))


def test_a_null_text_row_stops_chunk_dataset_with_its_message(ray_local):
    import ray.data

    from segtool.distributed import chunk_dataset
    from segtool.distributed.ray_data import segtool_cause

    rows = [{"id": "ok", "text": "Fine."}, {"id": "bad", "text": None}]
    with pytest.raises(Exception) as caught:
        chunk_dataset(ray.data.from_items(rows), concurrency=1).take_all()
    cause = segtool_cause(caught.value)
    assert cause is not None and "text field 'text' is null" in str(cause)
