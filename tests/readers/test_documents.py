"""read_documents: dispatch by format, option checks, ordering across inputs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from segtool import registry
from segtool.readers import ReadOptions, format_for, read_documents
from segtool.types import BadInput, Document, InputError, UsageError

from .conftest import only_bad, only_docs, read_all, write


def test_mixed_inputs_in_order(tmp_path: Path, stdin: Callable[[bytes], None]) -> None:
    write(tmp_path / "d" / "b.md", "# B")
    write(tmp_path / "d" / "a.txt", "A")
    rec = write(tmp_path / "r.jsonl.gz", json.dumps({"text": "R"}) + "\n")
    page = write(tmp_path / "p.html", "<p>P</p>")
    stdin(b"S")
    items = read_all([page, str(tmp_path / "d"), "-", rec])
    assert [(d.id, d.text) for d in only_docs(items)] == [
        (page, "P"),
        (str(tmp_path / "d" / "a.txt"), "A"),
        (str(tmp_path / "d" / "b.md"), "# B"),
        ("-", "S"),
        (f"{rec}#0", "R"),
    ]


def test_same_inputs_same_output(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path / f"f{i}.txt", f"text {i}. " * 30)
    first = read_all(str(tmp_path / "*.txt"), block_bytes=40)
    second = read_all(str(tmp_path / "*.txt"), block_bytes=40)
    assert first == second and len(first) > 5


def test_unknown_extension_is_bad_input_unless_format_given(tmp_path: Path) -> None:
    path = write(tmp_path / "server.log", "line one\nline two\n")
    bad = only_bad(read_all(path))
    assert bad == BadInput(path, "", "unknown file type '.log'",
                           "pass --input-format (txt, md, html, jsonl, parquet)")
    [doc] = only_docs(read_all(path, input_format="txt"))
    assert doc.text == "line one\nline two\n"


def test_input_format_overrides_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "records.txt", '{"text": "x"}\n')
    [doc] = only_docs(read_all(path, input_format="jsonl"))
    assert (doc.id, doc.text) == (f"{path}#0", "x")


def test_format_for() -> None:
    assert format_for("a.jsonl.zst", ReadOptions()) == "jsonl"
    assert format_for("-", ReadOptions()) == "txt"
    assert format_for("-", ReadOptions(stdin_format="jsonl")) == "jsonl"
    assert format_for("-", ReadOptions(input_format="html", stdin_format="jsonl")) == "html"


def test_problems_are_raised_at_call_time(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "x")
    with pytest.raises(UsageError, match="unknown reader: 'csv'"):
        read_documents([path], ReadOptions(input_format="csv"))
    with pytest.raises(UsageError, match="unknown reader: 'xml'"):
        read_documents([path], ReadOptions(stdin_format="xml"))
    with pytest.raises(UsageError, match="--encoding-errors"):
        read_documents([path], ReadOptions(encoding_errors="ignore"))
    with pytest.raises(UsageError):
        read_documents([path], ReadOptions(block_bytes=0))
    with pytest.raises(InputError, match=r"missing\.txt"):
        read_documents([path, str(tmp_path / "missing.txt")], ReadOptions())


def test_bad_input_message_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", '{"title": "x"}\n')
    bad = only_bad(read_all(path))
    assert bad.message() == (
        f"no text field 'text' (fields: title) — {path}:line 1 — pass --text-field NAME")


def test_readers_are_registered_with_summaries() -> None:
    rows = {row["name"]: row for row in registry.describe("readers")}
    for name in ("txt", "md", "html", "jsonl", "parquet"):
        assert rows[name]["installed"] is True
        assert rows[name]["summary"]
    reader = registry.resolve("readers", "jsonl")
    assert callable(reader)


class _OneLineThenFail:
    """A stdin that delivers one line, then fails if read again."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads == 1:
            return b'{"text": "first"}\n'
        raise AssertionError("the reader read ahead before yielding")


def test_records_stream_before_the_input_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _OneLineThenFail()
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=fake))
    iterator = read_documents(["-"], ReadOptions(stdin_format="jsonl"))
    first = next(iterator)
    assert isinstance(first, Document) and first.text == "first"
    assert fake.reads == 1
