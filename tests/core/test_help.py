"""Help that teaches: stage-grouped options, runnable examples, the man page, completion.

Help is read the way a user reads it — ``segtool ... --help`` in a process
whose output is a pipe — and every example it shows is run in a directory
holding the files the examples name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from segtool.cli import app
from segtool.cli.examples import EXAMPLES, command_lines, epilog
from segtool.cli.help import PANELS
from segtool.manpage import render

# Colour can be forced from the environment (FORCE_COLOR and friends): none of
# that may reach plain help; a fixed COLUMNS keeps the wrapping stable.
ENV = {k: v for k, v in os.environ.items()
       if k not in {"FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TERMINAL_WIDTH", "COLUMNS"}}
ENV["COLUMNS"] = "80"

# Sections each command's help shows, in order (Examples always last).
SECTIONS = {
    "sentences": ["Input", "Splitter", "Model", "Output", "Run", "Examples"],
    "chunk": ["Input", "Splitter", "Chunker", "Model", "Output", "Run", "Examples"],
    "list": ["Output", "Run", "Examples"],
    "eval sentences": ["Input", "Splitter", "Model", "Output", "Run", "Examples"],
    "eval chunks": ["Input", "Splitter", "Chunker", "Model", "Retrieval", "Output", "Run",
                    "Examples"],
}


def _help(path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["segtool", *path.split(), "--help"], capture_output=True, text=True,
                          check=True, env={**ENV, **env})


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    procs = {path: subprocess.Popen(["segtool", *path.split(), "--help"], stdout=subprocess.PIPE,
                                    text=True, env=ENV) for path in EXAMPLES}
    out = {path: proc.communicate()[0] for path, proc in procs.items()}
    assert all(proc.returncode == 0 for proc in procs.values())
    return out


def _sections(text: str) -> dict[str, str]:
    """Help text by section title (``Input:`` … ``Examples:``); the preamble is left out."""
    parts = re.split(r"^(\w[\w ]*):\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _commands() -> list[tuple[str, object]]:
    """(path, click command) of every command and group, ``""`` for segtool itself."""
    out = []

    def walk(cmd, path):
        out.append((" ".join(path), cmd))
        for name in getattr(cmd, "commands", {}):
            walk(cmd.get_command(None, name), [*path, name])

    walk(typer.main.get_command(app), [])
    return out


@pytest.mark.parametrize("path", list(SECTIONS))
def test_options_are_grouped_by_stage_in_pipeline_order(helps, path):
    sections = _sections(helps[path])
    assert list(sections) == SECTIONS[path]
    assert "Options" not in sections


def test_each_option_is_listed_under_its_stage(helps):
    chunk = _sections(helps["chunk"])
    where = {
        "Input": ["INPUTS", "--input-format FORMAT", "--text-field", "--block-mib"],
        "Splitter": ["--splitter NAME", "--lang", "--sat-model"],
        "Chunker": ["--chunker NAME", "--max-tokens", "--tokenizer", "--overlap-tokens"],
        "Model": ["--device", "--split-device", "--chunk-batch-size", "--dtype"],
        "Output": ["--output FILE", "--format", "--errors-file FILE"],
        "Run": ["--on-error", "--jobs N", "--quiet", "--debug", "--help"],
    }
    for section, flags in where.items():
        for flag in flags:
            holders = [name for name, body in chunk.items() if re.search(
                rf"^  (-\w, )?{re.escape(flag)}\b", body, flags=re.M)]
            assert holders == [section], (flag, holders)
    retrieval = _sections(helps["eval chunks"])["Retrieval"]
    assert all(f in retrieval for f in ("--embedder", "--k", "--retrieve-from", "--device"))


def test_every_option_declares_one_of_the_stages():
    """A new option without a stage would land in Run silently; it must say where it goes."""
    for path, cmd in _commands():
        if hasattr(cmd, "commands"):
            continue  # groups: --version and completion options, shown under Options
        for param in cmd.params:
            panel = getattr(param, "rich_help_panel", None)
            assert panel in PANELS, (path, param.name, panel)


def test_a_component_option_without_a_known_group_goes_to_its_stage():
    """A plugin option that keeps Opt's default group still lands in a stage section."""
    from segtool.cli.component_flags import _panel
    from segtool.options import Opt, OptionSpec

    plain = OptionSpec(name="x", type=int, optional=False, default=1, opt=Opt("X."))
    assert plain.opt.group not in PANELS
    assert _panel(plain, {"splitters"}) == "Splitter"
    assert _panel(plain, {"chunkers"}) == "Chunker"
    assert _panel(plain, {"splitters", "chunkers"}) == "Model"
    model = OptionSpec(name="y", type=str, optional=False, default="a", opt=Opt("Y.", group="Model"))
    assert _panel(model, {"chunkers"}) == "Model"


def test_help_is_plain_text_that_keeps_every_character(helps):
    # FORCE_COLOR would make Rich-formatted help colour a pipe; plain help has no codes at all
    forced = _help("chunk", FORCE_COLOR="1", TERM="xterm-256color").stdout
    assert forced == helps["chunk"]
    assert all("\x1b[" not in text for text in helps.values())
    flat = " ".join(helps["chunk"].split())
    # square brackets are text, not markup: the generated owner/default/range notes survive
    assert "SaT window length in tokens. [splitter sat; default 512; ≥ 1 and ≤ 512]" in flat
    assert '{"id","text","sentences":[[start,end],...]}' in " ".join(
        helps["eval sentences"].split())


def test_help_width_is_bounded_and_stable(helps):
    wide = _help("chunk", COLUMNS="200").stdout
    assert wide == helps["chunk"]  # at most 80 columns whatever the terminal
    assert max(len(line) for text in helps.values() for line in text.splitlines()) <= 80


def test_every_command_and_group_ends_with_two_to_four_examples(helps):
    paths = [path for path, _ in _commands()]
    assert sorted(paths) == sorted(EXAMPLES)
    for path, text in helps.items():
        assert 2 <= len(EXAMPLES[path]) <= 4 if path else len(EXAMPLES[path]) == 3
        assert text.rstrip("\n").endswith(epilog(path)), path
        if path and path != "eval":
            # a command's own examples use that command
            assert all(f"segtool {path} " in ex.command + " " for ex in EXAMPLES[path]), path


def test_usage_errors_stay_plain():
    proc = subprocess.run(["segtool", "chunk", "--no-such-flag"], capture_output=True,
                          text=True, env=ENV, check=False)
    assert proc.returncode == 2
    assert "Error: No such option: --no-such-flag" in proc.stderr
    assert "╭" not in proc.stderr and "\x1b[" not in proc.stderr


def test_command_help_imports_no_heavy_dependency():
    probe = ("import sys, json\nfrom segtool.cli import app\n"
             "try:\n    app(['chunk', '--help'])\nexcept SystemExit:\n    pass\n"
             "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=ENV)
    mods = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "segtool.chunkers.semantic" in mods  # every component's declarations were read
    assert not {"torch", "transformers", "numpy", "pyarrow", "tiktoken", "spacy"} & mods


# ---- the examples run -------------------------------------------------------------

PROSE = ("The committee met on Monday. Dr. Smith presented the report, which cost $3.5 million. "
         "Members asked questions! Was the budget approved? It was, by a vote of 7 to 2.\n\n")
PETS = ("The cat sat on the mat. It was warm in the sun.\n\n"
        "Dogs bark at night. Birds sing at dawn.\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The files the examples name: report.txt, articles.jsonl, docs/, gold, questions."""
    d = tmp_path_factory.mktemp("examples")
    (d / "report.txt").write_text(PROSE * 3, encoding="utf-8")
    (d / "articles.jsonl").write_text("".join(
        json.dumps({"url": f"https://example.org/{i}", "body": PROSE * (i + 1)}) + "\n"
        for i in range(3)), encoding="utf-8")
    (d / "docs" / "sub").mkdir(parents=True)
    (d / "docs" / "guide.md").write_text("# Guide\n\n" + PROSE, encoding="utf-8")
    (d / "docs" / "sub" / "notes.txt").write_text(PETS, encoding="utf-8")
    text = "One two. Three four. Five six."
    (d / "gold.jsonl").write_text(json.dumps(
        {"id": "g", "text": text, "sentences": [[0, 9], [9, 21], [21, 30]]}) + "\n")
    (d / "corpora").mkdir()
    (d / "corpora" / "pets.txt").write_text(PETS, encoding="utf-8")
    start = PETS.index("Dogs bark")
    end = start + len("Dogs bark at night.")
    (d / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "corpus_id": "pets", "question": "When do dogs bark?",
         "references": [{"start": start, "end": end, "content": PETS[start:end]}]}) + "\n")
    subprocess.run(["segtool", "chunk", "corpora/", "-q", "-o", "chunks.jsonl"], cwd=d,
                   check=True, env=ENV)
    return d


UNIQUE = list(dict.fromkeys(ex.command for examples in EXAMPLES.values() for ex in examples))


@pytest.mark.parametrize("command", UNIQUE)
def test_every_example_runs_as_printed(workdir, tmp_path, command):
    cwd = tmp_path / "w"
    shutil.copytree(workdir, cwd)
    printed = "\n".join(command_lines(command, 74))  # as help shows it: `\` continuations
    proc = subprocess.run(printed, shell=True, cwd=cwd, capture_output=True, text=True,
                          env=ENV, check=False)
    assert proc.returncode == 0, (command, proc.stderr)
    assert "Error" not in proc.stderr
    written = re.findall(r"(?:-o|--errors-file|--per-question) (\S+)", command)
    for name in written:
        assert (cwd / name).exists(), name
    outputs = [n for n in written if n.endswith((".jsonl", ".parquet")) and "bad" not in n]
    if outputs:
        path = cwd / outputs[0]
        rows = (pq.read_table(path).num_rows if path.suffix == ".parquet"
                else len(path.read_text().splitlines()))
        assert rows > 0
    else:
        assert proc.stdout.strip() or "segtool eval" in command  # eval tables go to stderr


# ---- list kinds -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["chunker", "chunkers", "Chunker"])
def test_list_kind_accepts_singular_and_plural(kind):
    proc = subprocess.run(["segtool", "list", "--kind", kind, "--json"], capture_output=True,
                          text=True, env=ENV, check=True)
    rows = json.loads(proc.stdout)
    assert {r["kind"] for r in rows} == {"chunkers"}
    assert {"window", "semantic"} <= {r["name"] for r in rows}


def test_list_unknown_kind_is_a_usage_error():
    proc = subprocess.run(["segtool", "list", "--kind", "tokenizer"], capture_output=True,
                          text=True, env=ENV, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: unknown kind: 'tokenizer'")
    assert "splitters, chunkers, readers, writers" in proc.stderr


# ---- man page ---------------------------------------------------------------------

def _man_text() -> str:
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-ww"], input=render(),
                          capture_output=True, text=True, check=True, env=ENV)
    assert proc.stderr == ""  # no roff warnings
    return proc.stdout


def _man_section(text: str, title: str) -> str:
    match = re.search(rf"^{title}\n(.*?)(?=^[A-Z][A-Z :]+\n)", text, flags=re.M | re.S)
    assert match, title
    return match.group(1)


def test_man_page_has_the_reference_sections_and_every_example():
    text = _man_text()
    flat = " ".join(text.replace("\\\n", " ").split())
    for ex in (ex for path, exs in EXAMPLES.items() for ex in exs):
        assert " ".join(ex.command.split()) in flat, ex.command
    status = _man_section(text, "EXIT STATUS")
    for code in ("0", "1", "2", "130, 143, 129"):
        assert re.search(rf"^ +{re.escape(code)}\b", status, flags=re.M), code
    chunk = _man_section(text, "COMMAND: SEGTOOL CHUNK")
    heads = re.findall(r"^   (\w+)$", chunk, flags=re.M)
    assert heads == ["Input", "Splitter", "Chunker", "Model", "Output", "Run"]


SOURCE = Path(__file__).resolve().parents[2] / "segtool"


def test_man_page_documents_every_environment_variable_segtool_reads():
    from segtool.models.hub import _OFFLINE_VARS

    read = set(_OFFLINE_VARS)
    for path in SOURCE.rglob("*.py"):
        if "testing" in path.parts:
            continue  # test-only helpers
        read |= set(re.findall(r"environ\.get\(\s*\"([A-Z_]+)\"", path.read_text()))
    assert {"SEGTOOL_CACHE_DIR", "SEGTOOL_DEBUG", "OMP_NUM_THREADS"} <= read
    env = _man_section(_man_text(), "ENVIRONMENT")
    assert not [v for v in sorted(read) if v not in env]


def test_man_page_describes_every_cache_directory():
    from segtool.models.embedders import MODEL2VEC_CACHE_NAME

    used = {MODEL2VEC_CACHE_NAME}
    for path in SOURCE.rglob("*.py"):
        used |= set(re.findall(r"cache_dir\(\"([\w-]+)\"", path.read_text()))
    assert {"tiktoken", "lm", "venvs", "logs", "fingerprints", "tiny-sat"} <= used
    files = _man_section(_man_text(), "FILES")
    assert not [d for d in sorted(used) if not re.search(rf"^ +{re.escape(d)}/", files, re.M)]


# ---- shell completion -------------------------------------------------------------

def test_shell_completion_completes_commands_and_choices():
    """What the shell's completion function gets back (bash protocol: COMP_WORDS/COMP_CWORD)."""
    runner = CliRunner()

    def complete(words: str) -> list[str]:
        env = {"_SEGTOOL_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        result = runner.invoke(app, [], prog_name="segtool", env=env)
        assert result.exit_code == 0
        return result.stdout.split()

    assert complete("segtool chu") == ["chunk"]
    assert complete("segtool che") == ["check"]
    assert complete("segtool eval ") == ["sentences", "chunks"]
    assert complete("segtool chunk --on-error ") == ["stop", "skip"]
    assert "--max-tokens" in complete("segtool chunk --max-t")
    script = runner.invoke(app, [], prog_name="segtool", env={"_SEGTOOL_COMPLETE": "source_bash"})
    assert "complete -o default -F _segtool_completion segtool" in script.stdout


def test_root_help_offers_completion_and_examples(helps):
    sections = _sections(helps[""])
    assert list(sections) == ["Options", "Commands", "Examples"]
    assert "--install-completion" in sections["Options"]
    assert "--show-completion" in sections["Options"]
