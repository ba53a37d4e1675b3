"""``segtool check`` as a command: exit codes, configuration, output formats.

Exit codes are observed through a real subprocess (that is what a hook or
``make`` sees); the configuration cases run the same Typer app in-process.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.check.conftest import ENV, check, codes_at, write_rows


def _run(args, cwd):
    return subprocess.run(["segtool", "check", *args], cwd=cwd, capture_output=True, text=True,
                          env=ENV, check=False)


@pytest.fixture(scope="module")
def bad(work, good_rows):
    rows = [dict(r) for r in good_rows]
    rows[3]["id"] = rows[0]["id"]
    return write_rows(work / "bad_dup.jsonl", rows).name


def test_exit_codes_as_a_hook_sees_them(work, bad):
    clean = _run(["good.parquet", "--docs", "docs", "--max-tokens", "64"], work)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr
    assert clean.stderr.startswith("segtool check: all clean")
    found = _run([bad, "good.jsonl"], work)
    assert found.returncode == 1
    first_id = json.loads((work / bad).read_text().splitlines()[0])["id"]
    assert found.stdout == f"{bad}:4: ST004 duplicate-id: id {first_id!r} was already used on line 1\n"
    assert "1 finding (ST004 duplicate-id ×1)" in found.stderr
    usage = _run(["good.jsonl", "--select", "ST999"], work)
    assert (usage.returncode, usage.stdout) == (2, "")
    assert usage.stderr.startswith("Error: unknown rule 'ST999'") and "Traceback" not in usage.stderr


@pytest.mark.parametrize(("args", "words"), [
    (["no-such.jsonl"], "no such file or directory"),
    (["good.jsonl", "--docs", "no-such-dir"], "no such file or directory"),
    (["good.jsonl", "--select", "max-tokens"], "--max-tokens is not set"),
    (["good.jsonl", "--ignore", "gaps"], "unknown rule 'gaps'"),
    (["good.jsonl", "--format", "xml"], "format must be one of"),
    (["good.jsonl", "--kind", "chunks", "docs/legal_memo.md"], "not a chunk file"),
    ([], "no paths to check"),
])
def test_usage_and_configuration_errors_exit_2(work, args, words):
    result = check(args, work)
    assert result.exit_code == 2, (args, result.stderr)
    assert result.stderr.startswith("Error: ") and words in result.stderr, result.stderr
    assert result.stdout == ""


def test_pyproject_table_then_flags(work, tmp_path):
    (tmp_path / "docs").symlink_to(work / "docs")
    (tmp_path / "good.jsonl").symlink_to(work / "good.jsonl")
    (tmp_path / "sub").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.segtool.check]\nmax-tokens = 50\ndocs = ["docs"]\n'
        'ignore = ["token-count"]\n')
    # found from a subdirectory upwards; docs resolved against the file's folder
    result = check(["../good.jsonl"], tmp_path / "sub")
    assert result.exit_code == 1
    assert {code for *_, code in codes_at(result.stdout)} == {"ST005"}
    assert check(["../good.jsonl", "--max-tokens", "64"], tmp_path / "sub").exit_code == 0
    assert check(["../good.jsonl", "--ignore", "ST005"], tmp_path / "sub").exit_code == 0
    # --config names another file; a key the table does not know is exit 2
    (tmp_path / "other.toml").write_text("[tool.segtool.check]\nmax_tokens = 64\n")
    assert check(["good.jsonl", "--config", "other.toml"], tmp_path).exit_code == 0
    (tmp_path / "other.toml").write_text("[tool.segtool.check]\nmax-tokenz = 64\n")
    result = check(["good.jsonl", "--config", "other.toml"], tmp_path)
    assert result.exit_code == 2
    assert "unknown key 'max-tokenz'" in result.stderr and "max-tokens" in result.stderr
    (tmp_path / "other.toml").write_text("[tool.segtool.check]\nmax-tokens = \"many\"\n")
    assert check(["good.jsonl", "--config", "other.toml"], tmp_path).exit_code == 2
    assert check(["good.jsonl", "--config", "missing.toml"], tmp_path).exit_code == 2


def test_json_format(work, bad):
    result = check([bad, "good.jsonl", "--format", "json"], work)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["findings"] == [{"path": bad, "line": 4, "code": "ST004", "rule": "duplicate-id",
                                 "message": data["findings"][0]["message"]}]
    summary = data["summary"]
    assert (summary["files"], summary["chunk_files"], summary["chunks"]) == (2, 2, 58)
    assert summary["by_rule"] == {"ST004": 1}
    clean = json.loads(check(["good.jsonl", "--format", "json"], work).stdout)
    assert clean["findings"] == [] and clean["summary"]["findings"] == 0


def test_list_rules_names_every_code_once():
    from segtool.check.rules import RULES

    out = check(["--list-rules"], ".").stdout.splitlines()
    assert [line.split()[0] for line in out] == [r.code for r in RULES]
    assert len({r.name for r in RULES}) == len(RULES)
