"""Huge text files are read in blocks: exact concatenation, sane cut points, bounded memory."""

from __future__ import annotations

import gzip
import itertools
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segtool.readers.blocks import BlockSplitter, char_width, cut_between, cut_window, find_cut
from segtool.types import BadInput, Document

from .conftest import only_docs, read_all, write

# Pieces that stress every rule: paragraph breaks (LF and CRLF), sentence ends,
# multi-byte characters of every UTF-8 length, combining marks, ZWJ emoji.
PIECES = st.sampled_from([
    "a", "word", " ", "  ", ". ", "! ", "\n", "\r\n", "\n\n", "\r\n\r\n", "\n \n", "\t",
    "é", "naïve", "日本語", "😀", "👩\u200d💻", "e\u0301", "\u00a0", "\r", ".", "x" * 40,
])
TEXTS = st.lists(PIECES, max_size=120).map("".join)


def assert_blocks_ok(blocks: list[str], text: str) -> None:
    assert "".join(blocks) == text
    assert all(blocks[:-1]), "only the last block may be empty"
    for left, right in itertools.pairwise(blocks):
        assert not (left.endswith("\r") and right.startswith("\n")), "CRLF split"


def split_all(text: str, block_bytes: int, piece_sizes: list[int]) -> list[str]:
    splitter = BlockSplitter(block_bytes)
    blocks: list[str] = []
    pos = 0
    sizes = iter(piece_sizes)
    while pos < len(text):
        step = next(sizes, 7) or 1
        piece = text[pos : pos + step]
        pos += step
        blocks.extend(splitter.push(piece, len(piece.encode("utf-8", "surrogatepass"))))
    blocks.append(splitter.finish())
    return blocks


@given(TEXTS, st.integers(1, 64), st.lists(st.integers(0, 50), max_size=40))
def test_splitter_blocks_concatenate_to_the_text(text: str, block: int, sizes: list[int]) -> None:
    blocks = split_all(text, block, sizes)
    assert_blocks_ok(blocks, text)
    for piece in blocks[:-1]:
        # within the budget counted in memory (one extra character for a CRLF
        # kept together; a single 4-byte character always fits)
        assert len(piece) * char_width(piece) <= max(block, 4) + 4


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.integers(1, 48), st.booleans(), st.booleans())
def test_file_blocks_concatenate_and_offsets_are_global(
    text: str, block: int, compress: bool, bom: bool
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("doc.txt.gz" if compress else "doc.txt")
        path.write_bytes(gzip.compress(data) if compress else data)
        docs = only_docs(read_all(str(path), block_bytes=block))
    assert_blocks_ok([d.text for d in docs], text)
    assert [d.part for d in docs] == list(range(len(docs)))
    assert {d.id for d in docs} == {d.source for d in docs} == {str(path)}
    offset = 0
    for doc in docs:
        assert doc.offset == offset
        assert text[doc.offset : doc.offset + len(doc.text)] == doc.text
        offset += len(doc.text)


@given(TEXTS, st.integers(0, 200), st.integers(1, 200))
def test_cut_found_in_a_window_equals_the_cut_in_the_whole_text(text: str, start: int,
                                                                 length: int) -> None:
    """The block reader searches only a copy of the stretch near the limit."""
    stop = start + length
    hi = min(stop, len(text) - 1)
    if hi <= start:
        return
    lo = cut_window(start, hi)
    assert find_cut(text, start, stop) == lo - 1 + cut_between(text[lo - 1 : hi + 1], 1, hi - lo + 1)


def test_small_file_is_one_block(tmp_path: Path) -> None:
    path = write(tmp_path / "small.txt", "x" * 100)
    assert [d.text for d in only_docs(read_all(path, block_bytes=100))] == ["x" * 100]
    assert len(only_docs(read_all(path, block_bytes=99))) == 2


def test_blocks_end_at_paragraph_breaks_when_there_are_any(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {i}. It has two sentences.\n\n" for i in range(200)]
    text = "".join(paragraphs)
    path = write(tmp_path / "paras.md", text)
    docs = only_docs(read_all(path, block_bytes=400))
    assert len(docs) > 10
    assert all(d.text.endswith(".\n\n") for d in docs)
    assert all(200 <= len(d.text) <= 400 for d in docs[:-1])


def test_find_cut_prefers_paragraph_then_sentence_then_space_then_hard() -> None:
    text = "intro. " + "a" * 40 + "\n\n" + "b" * 20 + ". c" + " d" * 5 + "e"
    assert text[: find_cut(text)].endswith("\n\n")
    text = "x" * 40 + "\r\n\r\n" + "y" * 30
    assert text[: find_cut(text)].endswith("\r\n\r\n")
    text = "x" * 30 + ". " + "y" * 10 + "! " + "z" * 10 + " w"
    assert text[: find_cut(text)].endswith("! ")
    text = "x" * 30 + "\n" + "y" * 30
    assert text[: find_cut(text)] == "x" * 30 + "\n"
    text = "x" * 40 + " " + "y" * 30
    assert text[: find_cut(text)] == "x" * 40 + " "
    text = "x" * 60
    assert find_cut(text) == 59
    # a paragraph break before the search window does not count
    text = "x\n\n" + "y" * 60
    assert find_cut(text) == len(text) - 1


def test_cut_is_searched_only_near_the_block_end() -> None:
    from segtool.readers.blocks import SEARCH_WINDOW

    far = "intro\n\n" + "x" * (3 * SEARCH_WINDOW)
    assert find_cut(far) == len(far) - 1  # the break is too far back: hard cut
    near = "x" * (3 * SEARCH_WINDOW) + "\n\n" + "y" * 100
    assert near[: find_cut(near)].endswith("\n\n")


def test_hard_cut_keeps_crlf_and_combining_marks_together() -> None:
    text = "x" * 40 + "\r\n"  # the only "whitespace" cut would split CRLF
    assert text[: find_cut(text)] == text
    text = "e\u0301" * 30
    assert text[find_cut(text)] == "e"  # never between a letter and its accent
    text = "👩\u200d💻" * 20
    assert text[find_cut(text)] == "👩"  # nor inside a ZWJ sequence


def test_find_cut_respects_start_and_stop() -> None:
    text = "aaaa. bbbb. cccc. dddd. eeee"
    assert text[6 : find_cut(text, 6, 17)] == "bbbb. "  # "cccc. " would end past 17
    assert text[6 : find_cut(text, 6, 18)] == "bbbb. cccc. "
    with pytest.raises(ValueError):
        find_cut("ab", 1)


@pytest.mark.parametrize("line", [
    "A plain sentence of ASCII words. Another one follows here.\n\n",
    # one emoji makes every character of a block 4 bytes in memory
    "A sentence with ünïcode and an emoji 😀. Another one follows here.\n",
])
def test_reading_a_big_file_keeps_memory_bounded(tmp_path: Path, line: str) -> None:
    """16 MiB file, 256 KiB blocks: the traced peak stays within 3 blocks.

    A block is joined from the decoded pieces once (no second copy sliced out
    of a joined buffer) and the reader keeps no reference to a block it handed
    out, so pieces plus one block, about two blocks, is the reader's share.
    (It was 3.5 blocks for ASCII and 6 with an emoji.)
    """
    block = 256 * 1024
    path = tmp_path / "big.txt"
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(4):
            fh.write(line * (4 * 1024 * 1024 // len(line.encode()) + 1))
    size = path.stat().st_size
    assert size > 16 * 1024 * 1024
    read_all(write(tmp_path / "warm.txt", "x"))  # imports, not measured
    tracemalloc.start()
    try:
        count = chars = 0
        for doc in read_all_lazy(str(path), block):
            count += 1
            chars += len(doc.text)
            del doc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert chars == len(path.read_text(encoding="utf-8"))
    assert count > 16 * 1024 * 1024 // block
    assert peak < 3 * block, f"peak {peak / block:.2f} blocks"


def read_all_lazy(path: str, block: int) -> Iterator[Document]:
    """Documents one at a time; ``map`` holds none of them (a loop variable would)."""
    from segtool.readers import ReadOptions, read_documents

    return map(_document, read_documents([path], ReadOptions(block_bytes=block)))


def _document(item: Document | BadInput) -> Document:
    assert isinstance(item, Document), item
    return item


# The CLI reports its own VmHWM (peak RSS of its process image) on exit.  Not
# wait4's ru_maxrss: that keeps the high-water mark from before exec, i.e. this
# test process's own size, which grows with the file it just generated.
_PEAK_WRAPPER = """
import atexit, runpy, sys
def _report():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                sys.stderr.write('peak-kib ' + line.split()[1] + '\\n')
atexit.register(_report)
sys.argv[0] = 'segtool'
runpy.run_module('segtool.cli', run_name='__main__', alter_sys=True)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_cli_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """The bound is per block: a file three times larger needs no more memory.

    Real prose (a Gutenberg book) repeated to 8 and 24 MB, 2 MiB blocks, the
    whole ``segtool sentences`` process.
    """
    import subprocess
    import sys

    book = (Path(__file__).resolve().parents[2] / "fixtures" / "docs"
            / "gutenberg_sherlock.txt").read_bytes()

    def peak_mib(size: int) -> float:
        path = tmp_path / f"book-{size}.txt"
        path.write_bytes((book * (size // len(book) + 1))[:size])
        proc = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, "sentences", str(path),
                               "-q", "--block-mib", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        (kib,) = [int(line.split()[1]) for line in proc.stderr.splitlines()
                  if line.startswith("peak-kib ")]
        return kib / 1024

    small, large = peak_mib(8_000_000), peak_mib(24_000_000)
    assert large < small + 16, f"{small:.0f} MiB for 8 MB, {large:.0f} MiB for 24 MB"
