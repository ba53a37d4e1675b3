"""The table-in/table-out function the Spark and Dask examples use, without any engine."""

from __future__ import annotations

import json
import pickle

import pyarrow as pa
import pytest

import segtool
from segtool.distributed.arrow_batches import Segmenter, output_schema, segment_batches

ROWS = [{"id": i, "text": f"Row {i} has a sentence. And another one, Mr. Smith said. " * 3,
         "lang": "en"} for i in range(7)]


def test_batches_give_the_api_records_with_the_parquet_schema():
    table = pa.Table.from_pylist(ROWS)
    out = pa.Table.from_batches(list(segment_batches(table.to_batches(max_chunksize=3),
                                                     id_field="id", source="t", max_tokens=12)))
    expected = segtool.chunk_documents(ROWS, id_field="id", source="t", max_tokens=12)
    assert out.schema == output_schema("chunks")
    assert out.column("id").to_pylist() == [r.id for r in expected]
    assert [json.loads(m) for m in out.column("meta").to_pylist()] == [r.meta for r in expected]
    assert out.column("text").to_pylist() == [r.text for r in expected]


def test_a_segmenter_pickles_without_its_components_and_rebuilds_them():
    seg = Segmenter(id_field="id", options={"max_tokens": 12})
    first = seg(pa.Table.from_pylist(ROWS[:2]))
    clone = pickle.loads(pickle.dumps(seg))
    assert clone._built is None  # shipped as configuration, built where it runs
    assert clone(pa.Table.from_pylist(ROWS[:2])).equals(first)


def test_plain_string_text_for_engines_without_large_string():
    seg = Segmenter(id_field="id", chunker=None, large_text=False)
    out = seg(pa.Table.from_pylist(ROWS[:1]))
    assert out.schema.field("text").type == pa.string()


def test_options_and_missing_columns_fail_on_the_driver():
    with pytest.raises(TypeError, match="max_tokenz"):
        Segmenter(id_field="id", options={"max_tokenz": 3})
    with pytest.raises(segtool.UsageError, match="no column 'id'"):
        Segmenter()(pa.Table.from_pylist([{"text": "No id here."}]))


def test_bad_rows_follow_on_error():
    rows = [{"id": "a", "text": "Fine. Really."}, {"id": None, "text": "No id."}]
    with pytest.raises(segtool.InputError, match="no id field 'id'"):
        Segmenter()(pa.Table.from_pylist(rows))
    seg = Segmenter(on_error="skip")
    out = seg(pa.Table.from_pylist(rows))
    assert set(out.column("doc_id").to_pylist()) == {"a"}
    assert seg.stats.skipped == 1 and seg.stats.documents == 1
