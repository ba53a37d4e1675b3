"""Input expansion and format detection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segtool.readers import detect_format, expand_inputs
from segtool.types import InputError

from .conftest import write


def test_directory_is_recursive_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.txt", "a.txt", "sub/z.md", "sub/a.md", "a/x.txt",
                 ".hidden.txt", ".git/config", "sub/.secret/s.txt", "sub/.x.md"]:
        write(tmp_path / name, "x")
    got = expand_inputs([str(tmp_path)])
    rel = [os.path.relpath(p, tmp_path) for p in got]
    assert rel == ["a/x.txt", "a.txt", "b.txt", "sub/a.md", "sub/z.md"]
    # paths are built from the directory string as given
    assert all(p.startswith(str(tmp_path)) for p in got)


def test_glob_sorted_recursive_and_directories_expanded(tmp_path: Path) -> None:
    for name in ["c.jsonl", "a.jsonl", "b.txt", "deep/d/e.jsonl", "deep/.h.jsonl"]:
        write(tmp_path / name, "{}")
    assert expand_inputs([str(tmp_path / "*.jsonl")]) == [
        str(tmp_path / "a.jsonl"), str(tmp_path / "c.jsonl")]
    assert expand_inputs([str(tmp_path / "**" / "*.jsonl")]) == [
        str(tmp_path / "a.jsonl"), str(tmp_path / "c.jsonl"), str(tmp_path / "deep/d/e.jsonl")]
    # a glob matching a directory walks it
    assert expand_inputs([str(tmp_path / "de*")]) == [str(tmp_path / "deep/d/e.jsonl")]


def test_order_of_arguments_is_kept_and_duplicates_dropped(tmp_path: Path) -> None:
    b = write(tmp_path / "b.txt", "b")
    a = write(tmp_path / "a.txt", "a")
    assert expand_inputs([b, "-", a, str(tmp_path / "." / "b.txt"), "-"]) == [b, "-", a]


def test_expansion_is_idempotent_even_with_glob_characters(tmp_path: Path) -> None:
    odd = write(tmp_path / "a[1].txt", "x")
    write(tmp_path / "a1.txt", "y")
    once = expand_inputs([odd])
    assert once == [odd]
    assert expand_inputs(once) == once


@pytest.mark.parametrize("pattern", ["missing.txt", "nope/*.txt", "*.nothing"])
def test_missing_inputs_raise_input_error_naming_them(tmp_path: Path, pattern: str) -> None:
    target = str(tmp_path / pattern)
    with pytest.raises(InputError) as info:
        expand_inputs([target])
    assert target in str(info.value)
    assert info.value.exit_code == 1
    assert "\n" not in str(info.value)


def test_empty_directory_raises(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty" / ".only_hidden", "x")
    with pytest.raises(InputError, match="no files in directory"):
        expand_inputs([str(tmp_path / "empty")])


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.txt", "txt"), ("a.TXT", "txt"), ("README", "txt"), ("a.md", "md"),
        ("a.markdown", "md"), ("a.html", "html"), ("a.htm", "html"), ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"), ("a.parquet", "parquet"), ("a.jsonl.gz", "jsonl"),
        ("a.md.bz2", "md"), ("a.html.xz", "html"), ("a.txt.zst", "txt"), ("a.gz", "txt"),
        ("dir.v2/notes.txt", "txt"), ("a.png", None), ("a.json", None), ("a.csv.gz", None),
    ],
)
def test_detect_format(name: str, fmt: str | None) -> None:
    assert detect_format(name) == fmt
