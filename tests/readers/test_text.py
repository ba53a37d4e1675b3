"""Plain text and Markdown: verbatim text, decoding, compression, stdin."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from segtool.types import BadInput, Document

from .conftest import COMPRESSORS, only_bad, only_docs, read_all, write

SAMPLE = "# Title\n\nFirst line.\r\nSecond — naïve 日本語 😀.\n\n  indented *md* text\n"


@pytest.mark.parametrize(("name", "markup"), [("doc.txt", "text"), ("doc.md", "md"),
                                              ("README", "text")])
def test_text_is_kept_verbatim(tmp_path: Path, name: str, markup: str) -> None:
    path = write(tmp_path / name, SAMPLE)
    [doc] = only_docs(read_all(path))
    assert doc == Document(id=path, text=SAMPLE, source=path, meta={}, offset=0, part=0,
                           markup=markup)


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize("fmt", ["txt", "md"])
def test_every_compression(tmp_path: Path, suffix: str, fmt: str) -> None:
    path = write(tmp_path / f"doc.{fmt}{suffix}", SAMPLE)
    assert Path(path).read_bytes() != SAMPLE.encode()
    [doc] = only_docs(read_all(path))
    assert (doc.text, doc.id, doc.source) == (SAMPLE, path, path)


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_truncated_compressed_file_is_bad_input(tmp_path: Path, suffix: str) -> None:
    # Incompressible-ish payload so the truncation hits the middle of the data.
    payload = "".join(f"line {i} {i * 7919 % 10007}\n" for i in range(20000)).encode()
    blob = COMPRESSORS[suffix](payload)
    path = tmp_path / f"cut.txt{suffix}"
    path.write_bytes(blob[: len(blob) // 2])
    bad = only_bad(read_all(str(path)))
    codec = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}[suffix]
    assert bad.source == str(path)
    assert bad.reason.startswith(f"truncated or corrupt {codec} stream")
    assert "-t FILE" in bad.hint


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_garbage_with_compression_suffix_is_bad_input(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"junk.txt{suffix}"
    path.write_bytes(b"this is not compressed at all, just text" * 10)
    bad = only_bad(read_all(str(path)))
    assert "truncated or corrupt" in bad.reason


def test_truncated_gzip_after_some_blocks_yields_blocks_then_bad(tmp_path: Path) -> None:
    payload = "".join(f"Sentence {i}. " for i in range(200000)).encode()
    blob = gzip.compress(payload)
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(blob[: len(blob) * 3 // 4])
    items = read_all(str(path), block_bytes=64 * 1024)
    assert isinstance(items[-1], BadInput)
    docs = items[:-1]
    assert docs and all(isinstance(d, Document) for d in docs)
    text = "".join(d.text for d in docs)  # type: ignore[union-attr]
    assert payload.decode().startswith(text)


def test_multi_frame_zstd(tmp_path: Path) -> None:
    frames = b"".join(zstandard.ZstdCompressor().compress(part.encode())
                      for part in ["first frame. ", "second frame. ", "", "third."])
    path = tmp_path / "multi.txt.zst"
    path.write_bytes(frames)
    [doc] = only_docs(read_all(str(path)))
    assert doc.text == "first frame. second frame. third."


def test_zstd_truncated_anywhere_is_detected(tmp_path: Path) -> None:
    import struct

    skippable = struct.pack("<II", 0x184D2A50, 3) + b"xyz"
    frames = [
        skippable,
        zstandard.ZstdCompressor(write_checksum=True).compress(b"checked frame. " * 20),
        zstandard.ZstdCompressor(write_content_size=False).compress(b"no size. " * 9),
    ]
    blob = b"".join(frames)
    boundaries = {0, len(frames[0]), len(frames[0]) + len(frames[1]), len(blob)}
    path = tmp_path / "t.txt.zst"
    for cut in range(len(blob) + 1):
        path.write_bytes(blob[:cut])
        items = read_all(str(path))
        if cut in boundaries:
            assert isinstance(items[0], Document), cut
        else:
            assert isinstance(items[-1], BadInput), cut
            assert items[-1].reason.startswith("truncated or corrupt zstd stream"), cut


def test_highly_compressible_zstd_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "zeros.txt.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"a" * (8 << 20)))
    docs = only_docs(read_all(str(path), block_bytes=1 << 20))
    assert len(docs) >= 8
    assert sum(len(d.text) for d in docs) == 8 << 20


def test_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbfHello")
    [doc] = only_docs(read_all(path))
    assert doc.text == "Hello"


def test_empty_file_is_an_empty_document(tmp_path: Path) -> None:
    for name in ["empty.txt", "empty.md", "empty.txt.gz", "bom_only.txt"]:
        data = b"\xef\xbb\xbf" if name.startswith("bom") else b""
        path = write(tmp_path / name, data)
        [doc] = only_docs(read_all(path))
        assert (doc.text, doc.id, doc.part, doc.offset) == ("", path, 0, 0)


def test_invalid_utf8_names_byte_and_line(tmp_path: Path) -> None:
    data = "héllo\nwörld\n".encode() + b"bad \xff byte\n"
    path = write(tmp_path / "latin.txt", data)
    bad = only_bad(read_all(path))
    assert bad.source == path
    at = data.index(b"\xff")
    assert bad.location == f"line 3, byte {at}"
    assert "invalid UTF-8" in bad.reason and "ff" in bad.reason
    assert bad.hint == "re-encode as UTF-8 or pass --encoding-errors replace"
    assert bad.message() == f"{bad.reason} — {path}:{bad.location} — {bad.hint}"


def test_invalid_utf8_offset_counts_bom_and_chunk_boundaries(tmp_path: Path) -> None:
    # A 3-byte sequence cut short, straddling the tiny read chunks.
    data = b"\xef\xbb\xbf" + b"abc\n" * 10 + b"\xe2\x82x tail"
    path = write(tmp_path / "cut.txt", data)
    items = read_all(path, block_bytes=5)
    bad = items[-1]
    assert isinstance(bad, BadInput)
    # the blocks completed before the bad bytes were delivered, in order
    delivered = "".join(d.text for d in only_docs(items[:-1]))
    assert delivered and ("abc\n" * 10).startswith(delivered)
    at = data.index(b"\xe2")
    assert bad.location == f"line 11, byte {at}"


def test_invalid_utf8_in_latin1_file_with_replace(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.txt", "café naïve".encode("latin-1"))
    [doc] = only_docs(read_all(path, encoding_errors="replace"))
    assert doc.text == "caf\ufffd na\ufffdve"


def test_nul_byte_means_binary(tmp_path: Path) -> None:
    data = b"looks like text" + b"\x00\x01\x02"
    path = write(tmp_path / "blob.txt", data)
    bad = only_bad(read_all(path))
    assert bad.reason == "binary file (NUL byte at byte 15)"
    assert bad.location == "byte 15"
    # replace does not turn binary data into text
    assert isinstance(only_bad(read_all(path, encoding_errors="replace")), BadInput)


def test_binary_hint_recognises_known_formats(tmp_path: Path) -> None:
    path = write(tmp_path / "actually_gzip.txt", gzip.compress(b"\x00" * 100))
    bad = only_bad(read_all(path))
    assert bad.reason.startswith("binary file") or "invalid UTF-8" in bad.reason
    pq = write(tmp_path / "table.txt", b"PAR1\x15\x00\x15\x00")
    assert "--input-format parquet" in only_bad(read_all(pq)).hint


def test_utf16_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "u16.txt", "hello".encode("utf-16"))
    bad = only_bad(read_all(path))
    assert bad.reason.startswith("UTF-16 text")
    assert "iconv" in bad.hint


def test_file_gone_before_reading_is_bad_input(tmp_path: Path) -> None:
    from segtool.readers import ReadOptions, read_documents

    path = write(tmp_path / "vanishing.txt", "x")
    documents = read_documents([path], ReadOptions())  # inputs are checked now...
    Path(path).unlink()  # ...and opened lazily
    bad = only_bad(list(documents))
    assert bad.reason == "cannot open file: No such file or directory"
    assert bad.source == path


# ---------------------------------------------------------------- stdin


def test_stdin_text(stdin: Callable[[bytes], None]) -> None:
    stdin(b"from a pipe\n")
    [doc] = only_docs(read_all("-"))
    assert doc == Document(id="-", text="from a pipe\n", source="-", markup="text")


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_stdin_compression_is_sniffed(stdin: Callable[[bytes], None], suffix: str) -> None:
    stdin(COMPRESSORS[suffix](SAMPLE.encode()))
    [doc] = only_docs(read_all("-"))
    assert doc.text == SAMPLE


def test_stdin_short_and_empty(stdin: Callable[[bytes], None]) -> None:
    stdin(b"")
    assert only_docs(read_all("-"))[0].text == ""
    stdin(b"\xef\xbb\xbfab")
    assert only_docs(read_all("-"))[0].text == "ab"


def test_stdin_invalid_utf8(stdin: Callable[[bytes], None]) -> None:
    stdin(b"ok\n\xc3(")
    bad = only_bad(read_all("-"))
    assert (bad.source, bad.location) == ("-", "line 2, byte 3")
