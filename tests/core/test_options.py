"""One declaration per option: flags, ``list``, man page and API all derive from it.

Also the consequences users see: an option no selected component takes is a
usage error (CLI) or ``TypeError`` (API); values are checked against their
declared ranges; the CLI and the API give byte-identical records; runtime-only
options never change record ids, while the identity of loaded files does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import segtool
from segtool import registry
from segtool.cli import app
from segtool.options import specs_of
from segtool.selection import route
from segtool.types import UsageError

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
TEXT = ("The committee met on Monday. Dr. Smith presented the report.\n\n"
        "Members asked questions! Was the budget approved? It was, by a vote of 7 to 2.\n")


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def _command(*path: str):
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


def _flags(cmd) -> set[str]:
    out: set[str] = set()
    for param in cmd.params:
        out.update(param.opts)
        out.update(getattr(param, "secondary_opts", []))
    return out


def _components():
    for kind in ("splitters", "chunkers"):
        for name in registry.available(kind):
            yield kind, name, registry.resolve(kind, name)


def test_every_declared_option_is_a_flag_a_list_entry_a_man_entry_and_an_api_keyword():
    listed = {(r["kind"], r["name"]): r for r in json.loads(run("list", "--json").stdout)}
    man = (REPO / "man" / "segtool.1").read_text(encoding="utf-8").replace("\\-", "-")
    chunk_flags = _flags(_command("chunk"))
    sentence_flags = _flags(_command("sentences"))
    seen = 0
    for kind, name, component in _components():
        specs = specs_of(component)
        declared = {s.name for s in specs}
        assert {o["name"] for o in listed[(kind, name)]["options"]} == declared, name
        for spec in specs:
            seen += 1
            flags = {spec.flag} | ({"--no-" + spec.flag[2:]} if spec.type is bool else set())
            assert flags <= chunk_flags, (name, spec.flag)
            if kind == "splitters":
                assert flags <= sentence_flags, (name, spec.flag)
            assert spec.flag in man, (name, spec.flag)
            # the API takes the same keyword and hands it to this component
            value = spec.default if spec.default is not None else _sample(spec)
            selection = route({spec.name: value}, name if kind == "splitters" else "rules",
                              name if kind == "chunkers" else None, error=TypeError,
                              flag_style=False)
            stage = selection.split_options if kind == "splitters" else selection.chunk_options
            assert stage == {spec.name: value}, (name, spec.name)
    assert seen > 40  # every built-in plus the plugin


def _sample(spec):
    return {int: 1, float: 0.5, str: "x", bool: True}[spec.type]


def test_the_plugins_options_appear_like_a_builtins():
    result = run("chunk", "--help")
    assert "--blank-line-breaks" in result.stdout and "chunker lines" in result.stdout
    row = next(r for r in json.loads(run("list", "--json").stdout)
               if r["kind"] == "chunkers" and r["name"] == "lines")
    assert {o["name"] for o in row["options"]} == {"max_tokens", "blank_line_breaks"}
    text = "a\nb\n\nc\nd\ne\n"
    out = run("chunk", "-s", "lines", "-c", "lines", "--max-tokens", "5", "--blank-line-breaks",
              "-q", input=text)
    assert out.exit_code == 0, out.stderr
    assert [json.loads(line)["text"] for line in out.stdout.splitlines()] == ["a\nb\n\n",
                                                                             "c\nd\ne\n"]


@pytest.mark.parametrize(("args", "message"), [
    (["--breakpoint", "iqr"], "--breakpoint applies to chunker 'semantic', not chunker 'window'"),
    (["--lm", "foo"], "--lm applies to chunker 'intent', 'margin', 'perplexity', not chunker 'window'"),
    (["--min-tokens", "100"], "--min-tokens applies to chunker 'semantic'"),
    (["--spacy-model", "x"], "--spacy-model applies to splitter 'spacy', not splitter 'rules'"),
    (["--split-device", "cpu"], "--split-device applies to splitter 'sat'"),
    (["--chunk-batch-size", "8"], "not chunker 'window'"),
    (["--max-tokens", "0"], "--max-tokens 0: must be ≥ 1"),
    (["--max-tokens", "-5"], "--max-tokens -5: must be ≥ 1"),
    (["--overlap-tokens", "8", "--max-tokens", "8"], "must be less than --max-tokens (8)"),
    (["-c", "semantic", "--min-tokens", "300", "--max-tokens", "200"], "--min-tokens 300"),
    (["-c", "semantic", "--breakpoint-amount", "150"], "must be within 0..100"),
    (["-c", "margin", "--margin-threshold", "2"], "--margin-threshold 2.0: must be ≥ -1 and ≤ 1"),
    (["-c", "margin", "--merge-to-tokens", "600", "--max-tokens", "512"], "exceeds --max-tokens"),
    (["-s", "sat", "--sat-threshold", "1.5"], "--sat-threshold 1.5: must be ≥ 0 and < 1"),
])
def test_inapplicable_and_invalid_options_are_usage_errors(args, message):
    result = run("chunk", *args, "-q", input=TEXT)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_api_rejects_unknown_and_inapplicable_keywords():
    with pytest.raises(TypeError, match=r"'max_tokns'.*did you mean 'max_tokens'"):
        segtool.chunk(TEXT, max_tokns=8)
    with pytest.raises(TypeError, match="'breakpoint' applies to chunker 'semantic'"):
        segtool.chunk(TEXT, breakpoint="iqr")
    with pytest.raises(UsageError, match="must be ≥ 1"):
        segtool.chunk(TEXT, max_tokens=0)


def test_cli_and_api_records_are_byte_identical(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(TEXT * 5, encoding="utf-8")
    cli = run("chunk", str(path), "--max-tokens", "24", "--overlap-tokens", "4", "-q")
    assert cli.exit_code == 0, cli.stderr
    api = segtool.chunk(TEXT * 5, doc_id=str(path), max_tokens=24, overlap_tokens=4)
    api_lines = [r.to_json() for r in api]  # doc_id is also the source: the CLI's for a file
    assert cli.stdout.splitlines() == api_lines
    sentences = run("sentences", str(path), "-q")
    api_sents = segtool.split_sentences(TEXT * 5, doc_id=str(path))
    assert [json.loads(x)["id"] for x in sentences.stdout.splitlines()] == [r["id"] for r in
                                                                            api_sents]


def _ids(*args: str, text: str = TEXT) -> list[str]:
    result = run("chunk", *args, "-q", input=text)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def test_output_shaping_options_change_ids_and_runtime_ones_do_not(tmp_path):
    base = _ids("--max-tokens", "24")
    assert _ids("--max-tokens", "24", "--jobs", "2") == base
    assert _ids("--max-tokens", "25") != base
    assert _ids("--max-tokens", "24", "--tokenizer", "o200k_base") != base
    spacy = _ids("-s", "spacy", "--batch-size", "2")
    assert _ids("-s", "spacy", "--batch-size", "64") == spacy


def test_swapping_the_files_behind_a_tokenizer_changes_the_ids(tmp_path):
    source = _tokenizer_json()
    target = tmp_path / "tok"
    target.mkdir()
    shutil.copy(source, target / "tokenizer.json")
    first = _ids("--tokenizer", str(target), "--max-tokens", "16")
    assert _ids("--tokenizer", str(target), "--max-tokens", "16") == first
    # same vocabulary, different file: an edited or re-exported tokenizer is another identity
    data = json.loads((target / "tokenizer.json").read_text(encoding="utf-8"))
    (target / "tokenizer.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    assert _ids("--tokenizer", str(target), "--max-tokens", "16") != first


def _tokenizer_json() -> Path:
    from segtool.assets import cache_dir

    found = sorted(cache_dir().glob("*/*/tokenizer.json"))
    if not found:
        pytest.fail("no tokenizer.json under the segtool cache — run python -m segtool.prepare")
    return found[0]


def _all_cli_flags() -> set[str]:
    flags: set[str] = set()

    def walk(cmd) -> None:
        flags.update(_flags(cmd))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return flags


def test_readme_option_tables_agree_with_the_declarations():
    """Every declared option is documented, and every flag the README names exists."""
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", readme))
    mentioned |= {"--" + m for m in re.findall(r"--\[no-\]([a-z][a-z0-9-]+)", readme)}
    for kind, name, component in _components():
        for spec in specs_of(component):
            assert spec.flag in mentioned, f"{kind} {name}: {spec.flag} is not in the README"
    unknown = sorted(m for m in mentioned if m not in _all_cli_flags() | {"--help", "--version"})
    assert not unknown, f"the README names flags segtool does not have: {unknown}"
