"""Model-free statistics on crafted chunkings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from segtool.quality.structural import Chunk, percentiles, structural_stats, tiling_check

DOC = "One sentence here. Two sentences\nthree words only. Tail without end"


def _tile(doc_id: str, text: str, cuts: list[int]) -> list[Chunk]:
    bounds = [0, *cuts, len(text)]
    return [Chunk(doc_id, a, b, text[a:b], None, f"f.jsonl:{n + 1}")
            for n, (a, b) in enumerate(itertools.pairwise(bounds))]


def test_a_clean_tiling_has_no_findings() -> None:
    chunks = _tile("d", DOC, [19, 33])
    st = structural_stats(chunks, [4, 3, 6], docs={"d": DOC}, max_tokens=10)
    assert st["chunks"] == 3 and st["documents"] == 1
    assert (st["gaps"], st["overlaps"], st["offset_errors"], st["empty"], st["duplicates"]) == (0,) * 5
    assert st["coverage"] == 1.0 and st["over_limit"] == 0
    # chunk 1 ends with ". ", chunk 2 is followed by a line break, chunk 3 ends the document
    assert st["sentence_end_share"] == 1.0


def test_mid_sentence_cuts_lower_the_sentence_end_share() -> None:
    chunks = _tile("d", DOC, [8, 25])  # "One sent|ence here. Two sen|tences…"
    st = structural_stats(chunks, [1, 1, 1], docs={"d": DOC})
    assert st["sentence_end_share"] == pytest.approx(1 / 3)  # only the document's last chunk


def test_each_problem_is_counted_and_located() -> None:
    doc = "aaaa bbbb cccc dddd eeee"
    chunks = [
        Chunk("d", 0, 5, "aaaa ", None, "f:1"),
        Chunk("d", 3, 10, doc[3:10], None, "f:2"),    # overlaps the previous chunk
        Chunk("d", 15, 20, "XXXX ", None, "f:3"),     # gap before (cccc), text ≠ document
        Chunk("d", 20, 20, "", None, "f:4"),          # empty
        Chunk("d", 20, 24, "aaaa ", None, "f:5"),     # duplicate text, bad offsets
        Chunk("e", None, None, "   ", None, "f:6"),   # whitespace only
    ]
    st = structural_stats(chunks, [1, 2, 30, 0, 1, 1], docs={"d": doc}, max_tokens=10)
    assert st["over_limit"] == 1 and st["over_limit_examples"] == ["f:3"]
    assert st["empty"] == 2 and st["empty_examples"] == ["f:4", "f:6"]
    assert st["duplicates"] == 1 and st["duplicate_examples"] == ["f:5"]
    assert st["offsets"] is False  # one chunk has no offsets: the tiling is not checked
    tiling = tiling_check(chunks[:5], {"d": doc})
    assert tiling["overlaps"] == 1 and tiling["overlap_examples"] == ["f:2"]
    assert tiling["gaps"] == 1 and tiling["gap_examples"] == ["f:3"]
    assert tiling["offset_errors"] == 2 and tiling["offset_error_examples"] == ["f:3", "f:5"]


def test_offsets_without_documents_are_checked_against_the_text_length() -> None:
    chunks = [Chunk("d", 0, 4, "abcd", None, "f:1"), Chunk("d", 4, 9, "efg", None, "f:2")]
    assert tiling_check(chunks)["offset_error_examples"] == ["f:2"]


def test_distribution_and_histogram() -> None:
    lengths = list(range(1, 101))
    chunks = [Chunk("d", None, None, f"chunk {n}.", None, "") for n in lengths]
    st = structural_stats(chunks, lengths, bins=10)
    assert st["tokens"]["min"] == 1 and st["tokens"]["max"] == 100
    assert st["tokens"]["p50"] == pytest.approx(np.percentile(lengths, 50))
    assert st["tokens"]["p5"] == pytest.approx(5.95) and st["tokens"]["p95"] == pytest.approx(95.05)
    assert st["histogram"]["counts"] == [10] * 10 and len(st["histogram"]["edges"]) == 11
    assert percentiles(np.zeros(0))["max"] == 0.0

