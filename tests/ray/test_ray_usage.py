"""What ``--executor ray`` cannot do is a one-line usage error (exit 2), before Ray starts."""

from __future__ import annotations

import pytest
from ray_support import run_cli


@pytest.mark.parametrize(("extra", "message"), [
    (["-"], "reads files, not stdin"),
    (["--format", "jsonl", "-o", "{out}"], "--format jsonl"),
    (["-o", "{file}"], "this is a file"),
    (["--on-error", "skip", "--errors-file", "{tmp}/e.jsonl", "-o", "{out}"], "--errors-file"),
    ([], "pass -o DIR"),
    (["--prune", "-o", "{out}"], "--prune and --force"),
    (["--force", "-o", "{out}"], "--prune and --force"),
    (["--section-level", "2", "-o", "{out}"], "local executor only"),
])
def test_local_only_combinations_are_usage_errors(tmp_path, capsys, extra, message):
    doc = tmp_path / "doc.txt"
    doc.write_text("One sentence. Two sentences.\n", encoding="utf-8")
    (tmp_path / "taken.parquet").write_bytes(b"x")
    values = {"out": str(tmp_path / "out"), "file": str(tmp_path / "taken.parquet"),
              "tmp": str(tmp_path)}
    args = [a.format(**values) for a in extra]
    inputs = [] if "-" in args else [str(doc)]
    code, err = run_cli(["chunk", *inputs, "--executor", "ray", *args], capsys)
    assert code == 2, err
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1, err
    assert message in err
    assert not (tmp_path / "out").exists()


def test_ray_flags_without_the_ray_executor_are_usage_errors(tmp_path, capsys):
    doc = tmp_path / "doc.txt"
    doc.write_text("One sentence.\n", encoding="utf-8")
    code, err = run_cli(["chunk", str(doc), "--ray-address", "auto"], capsys)
    assert code == 2 and "only applies with --executor ray" in err


def test_an_output_directory_holding_other_files_is_refused(tmp_path, capsys):
    doc = tmp_path / "doc.txt"
    doc.write_text("One sentence.\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    code, err = run_cli(["chunk", str(doc), "--executor", "ray", "-o", str(out)], capsys)
    assert code == 2 and "holds other files (notes.txt)" in err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
