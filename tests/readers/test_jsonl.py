"""JSON Lines: records, ids, meta, and every way a line can be bad."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from segtool.types import BadInput, Document

from .conftest import COMPRESSORS, only_bad, only_docs, read_all, write


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_records_become_documents_with_meta(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", jsonl(
        {"text": "Hello there.", "lang": "en", "tags": ["a", 1], "n": None},
        {"lang": "ja", "text": "日本語の文。😀"},
    ))
    docs = only_docs(read_all(path))
    assert docs == [
        Document(id=f"{path}#0", text="Hello there.", source=path,
                 meta={"lang": "en", "tags": ["a", 1], "n": None}, markup="text"),
        Document(id=f"{path}#1", text="日本語の文。😀", source=path, meta={"lang": "ja"},
                 markup="text"),
    ]
    assert all("text" not in d.meta for d in docs)


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_every_compression(tmp_path: Path, suffix: str) -> None:
    records = [{"text": f"record {i}", "i": i} for i in range(50)]
    path = write(tmp_path / f"r.jsonl{suffix}", jsonl(*records))
    docs = only_docs(read_all(path))
    assert [d.text for d in docs] == [r["text"] for r in records]
    assert docs[49].id == f"{path}#49"


def test_text_field_and_id_field(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", jsonl(
        {"body": "one", "doc_id": "a-1"}, {"body": "two", "doc_id": 7},
        {"body": "three", "doc_id": 1.5}, {"body": "four", "doc_id": True},
    ))
    docs = only_docs(read_all(path, text_field="body", id_field="doc_id"))
    assert [d.id for d in docs] == ["a-1", "7", "1.5", "True"]
    assert docs[1].meta == {"doc_id": 7}  # the id field stays in meta, as given


def test_missing_id_field_is_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", jsonl({"text": "x", "other": 1}, {"text": "y", "k": None}))
    items = read_all(path, id_field="k")
    assert [type(i) for i in items] == [BadInput, BadInput]
    assert items[0].reason == "no id field 'k' (fields: text, other)"  # type: ignore[union-attr]
    assert items[0].location == "line 1"  # type: ignore[union-attr]


def test_bad_lines_are_reported_and_reading_continues(tmp_path: Path) -> None:
    lines = [
        '{"text": "first"}',          # line 1 -> #0
        "",                           # blank: skipped, not counted
        '{"text": "unterminated',     # line 3 -> #1 (bad)
        "   ",                        # blank
        '{"title": "no text"}',       # line 5 -> #2 (bad)
        '{"text": 42}',               # line 6 -> #3 (bad)
        '["not", "an", "object"]',    # line 7 -> #4 (bad)
        '{"text": "last"}',           # line 8 -> #5
    ]
    path = write(tmp_path / "mixed.jsonl", "\n".join(lines))  # no final newline
    items = read_all(path)
    assert [type(i).__name__ for i in items] == [
        "Document", "BadInput", "BadInput", "BadInput", "BadInput", "Document"]
    first, bad_json, no_text, not_str, not_obj, last = items
    assert isinstance(first, Document) and first.id == f"{path}#0"
    assert isinstance(last, Document) and last.id == f"{path}#5" and last.text == "last"
    assert isinstance(bad_json, BadInput)
    assert bad_json.location == "line 3, column 10" and bad_json.reason.startswith("invalid JSON")
    assert isinstance(no_text, BadInput)
    assert (no_text.location, no_text.reason, no_text.hint) == (
        "line 5", "no text field 'text' (fields: title)", "pass --text-field NAME")
    assert isinstance(not_str, BadInput)
    assert (not_str.location, not_str.reason) == (
        "line 6", "text field 'text' is a number, not a string")
    assert isinstance(not_obj, BadInput)
    assert not_obj.reason == "expected a JSON object, got an array"
    assert all(i.source == path for i in items)


def test_ids_do_not_move_when_a_line_breaks(tmp_path: Path) -> None:
    good = [json.dumps({"text": f"t{i}"}) for i in range(5)]
    broken = list(good)
    broken[2] = '{"text": oops}'
    a = only_docs(read_all(write(tmp_path / "a.jsonl", "\n".join(good))))
    b = [i for i in read_all(write(tmp_path / "b.jsonl", "\n".join(broken)))
         if isinstance(i, Document)]
    assert [d.id.split("#")[1] for d in a] == ["0", "1", "2", "3", "4"]
    assert [d.id.split("#")[1] for d in b] == ["0", "1", "3", "4"]


def test_invalid_utf8_names_line_and_byte_then_continues(tmp_path: Path) -> None:
    data = b'{"text": "ok"}\n{"text": "caf\xe9"}\n{"text": "fine"}\n'
    path = write(tmp_path / "latin.jsonl", data)
    items = read_all(path)
    assert [type(i) for i in items] == [Document, BadInput, Document]
    bad = items[1]
    assert isinstance(bad, BadInput)
    at = data.index(b"\xe9")
    assert bad.location == f"line 2, byte {at}"
    assert bad.hint == "re-encode as UTF-8 or pass --encoding-errors replace"
    replaced = only_docs(read_all(path, encoding_errors="replace"))
    assert replaced[1].text == "caf\ufffd"


def test_lone_surrogates(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl",
                 '{"text": "bad \\ud800 here"}\n'
                 '{"text": "pair \\ud83d\\ude00 ok"}\n'
                 '{"text": "x", "meta": {"k": ["\\udfff"]}}\n'
                 '{"text": "escaped backslash \\\\ud800 is fine"}\n')
    items = read_all(path)
    assert [type(i) for i in items] == [BadInput, Document, BadInput, Document]
    assert items[0].location == "line 1"  # type: ignore[union-attr]
    assert "lone UTF-16 surrogate" in items[0].reason  # type: ignore[union-attr]
    assert "field 'text'" in items[0].reason  # type: ignore[union-attr]
    assert "field 'meta'" in items[2].reason  # type: ignore[union-attr]
    assert items[1].text == "pair 😀 ok"  # type: ignore[union-attr]
    docs = only_docs(read_all(path, encoding_errors="replace"))
    assert docs[0].text == "bad \ufffd here"
    assert docs[2].meta == {"meta": {"k": ["\ufffd"]}}
    for doc in docs:
        doc.text.encode("utf-8")  # everything is encodable again


def test_bom_crlf_and_non_finite_numbers(tmp_path: Path) -> None:
    data = b'\xef\xbb\xbf{"text": "a", "x": NaN}\r\n\r\n{"text": "b", "y": -Infinity}\r\n'
    path = write(tmp_path / "win.jsonl", data)
    docs = only_docs(read_all(path))
    assert [(d.text, d.meta) for d in docs] == [("a", {"x": None}), ("b", {"y": None})]
    assert [d.id for d in docs] == [f"{path}#0", f"{path}#1"]


def test_empty_and_blank_files_yield_nothing(tmp_path: Path) -> None:
    assert read_all(write(tmp_path / "empty.jsonl", "")) == []
    assert read_all(write(tmp_path / "blank.jsonl.gz", "\n\n  \n")) == []


def test_nul_byte_is_a_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path / "bin.jsonl", b'{"text": "a"}\n{"te\x00xt": 1}\n')
    bad = only_bad(read_all(path))  # checked per read chunk, before its lines are parsed
    assert (bad.location, bad.reason) == ("byte 18", "binary file (NUL byte at byte 18)")


def test_long_lines_across_chunks(tmp_path: Path) -> None:
    big = "word " * 600_000  # 3 MB line, spans several 1 MiB read chunks
    path = write(tmp_path / "long.jsonl", jsonl({"text": "short"}, {"text": big}, {"text": "end"}))
    docs = only_docs(read_all(path))
    assert [len(d.text) for d in docs] == [5, len(big), 3]


def test_nested_too_deep_is_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.jsonl", '{"text": "x", "a": ' + "[" * 100_000 + "]" * 100_000
                 + "}\n")
    bad = only_bad(read_all(path))
    assert bad.location == "line 1"


def test_jsonl_from_stdin(stdin: Callable[[bytes], None]) -> None:
    stdin(jsonl({"text": "a"}, {"text": "b"}).encode())
    docs = only_docs(read_all("-", stdin_format="jsonl"))
    assert [(d.id, d.source, d.text) for d in docs] == [("-#0", "-", "a"), ("-#1", "-", "b")]


def test_any_json_the_parser_rejects_is_one_bad_record(tmp_path: Path) -> None:
    """A 5,000-digit integer makes Python's parser raise ValueError (not JSONDecodeError)."""
    lines = ['{"text": "before"}', '{"text": "big", "n": ' + "9" * 5000 + "}",
             '{"text": "after"}']
    path = write(tmp_path / "bignum.jsonl", "\n".join(lines) + "\n")
    first, bad, last = read_all(path)
    assert isinstance(bad, BadInput)
    assert (bad.source, bad.location) == (path, "line 2")
    assert bad.reason.startswith("unreadable JSON value (") and "digits" in bad.reason
    assert isinstance(first, Document) and isinstance(last, Document)
    assert last.id == f"{path}#2"  # the bad line keeps its number


def test_numbers_too_large_for_a_float_read_as_null(tmp_path: Path) -> None:
    # float("1e400") is inf; kept as is it would reach the output as the
    # invalid JSON token Infinity
    path = write(tmp_path / "huge.jsonl", '{"text": "a", "x": 1e400, "y": [-1e999, 2.5]}\n')
    (doc,) = only_docs(read_all(path))
    assert doc.meta == {"x": None, "y": [None, 2.5]}
    json.loads(json.dumps(doc.meta, allow_nan=False))


def test_deep_nesting_with_a_surrogate_escape_is_bad_input(tmp_path: Path) -> None:
    # shallow enough for the parser, too deep for the surrogate check's recursion
    depth = 700
    line = '{"text": "x", "a": ' + '{"k": ' * depth + '"\\ud800"' + "}" * depth + "}\n"
    path = write(tmp_path / "deep.jsonl", line + '{"text": "next"}\n')
    bad, nxt = read_all(path, encoding_errors="replace")
    assert isinstance(bad, BadInput) and bad.location == "line 1"
    assert isinstance(nxt, Document) and nxt.text == "next"


def test_a_giant_record_is_held_at_most_about_twice(tmp_path: Path) -> None:
    """Bytes, decoded line and parsed value are never all alive together."""
    import tracemalloc

    text = ("A sentence of some length, with words. " * 30 + "\n\n") * 12000  # 14 MB
    path = write(tmp_path / "giant.jsonl", jsonl({"text": text, "n": 1}, {"text": text}))
    read_all(write(tmp_path / "warm.jsonl", jsonl({"text": "x"})))  # imports, not measured
    tracemalloc.start()
    try:
        sizes = []
        for item in read_all_lazy(path):
            sizes.append(len(item.text))
            del item
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sizes == [len(text), len(text)]
    # was 4.2x: the raw line stayed alive next to its text and the parsed
    # record, and the previous record next to the one being read
    assert peak < 3 * len(text), f"peak {peak / len(text):.2f} x the record"


def read_all_lazy(path: str) -> Iterator[Document]:
    """Documents one at a time; ``map`` holds none of them (a loop variable would)."""
    from segtool.readers import ReadOptions, read_documents

    return map(_document, read_documents([path], ReadOptions()))


def _document(item: Document | BadInput) -> Document:
    assert isinstance(item, Document), item
    return item


def test_cli_skips_a_record_the_parser_rejects_naming_file_and_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    write(tmp_path / "in.jsonl", jsonl({"text": "Kept one."}) + '{"text": "x", "n": '
          + "1" * 5000 + "}\n" + jsonl({"text": "Kept two."}))
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", "sentences", "in.jsonl",
                           "--on-error", "skip"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr
    assert "skipped: unreadable JSON value (" in proc.stderr
    assert " — in.jsonl:line 2 — " in proc.stderr
    assert [json.loads(line)["text"] for line in proc.stdout.splitlines()] == [
        "Kept one.", "Kept two."]
