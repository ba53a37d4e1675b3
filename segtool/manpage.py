"""Generate ``man/segtool.1`` from the CLI definition itself.

The page is derived from the click command tree that Typer builds, so it cannot
describe flags the program does not have; a test regenerates it and fails when
the committed page is stale (``python -m segtool.manpage > man/segtool.1``).
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from segtool import __version__


def _esc(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.splitlines():
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, cmd)]
    if hasattr(cmd, "list_commands"):
        for name in cmd.list_commands(None):
            sub = cmd.get_command(None, name)
            if sub is not None and not sub.hidden:
                out.extend(_walk(sub, [*path, name]))
    return out


def _option_lines(cmd: Any) -> list[str]:
    lines: list[str] = []
    for param in cmd.params:
        if param.param_type_name == "argument":
            lines += [".TP", ".I " + _esc((param.name or "").upper()),
                      _esc((getattr(param, "help", None) or "").strip())]
            continue
        if param.param_type_name != "option" or getattr(param, "hidden", False):
            continue
        names = ", ".join(param.opts + param.secondary_opts)
        metavar = "" if param.is_flag else f" {(param.metavar or param.name or '').upper()}"
        help_text = param.help or ""
        default = param.default
        if default not in (None, False, ()) and not param.is_flag:
            value = getattr(default, "value", default)
            help_text += f" [default: {value}]"
        lines += [".TP", f".B {_esc(names)}{_esc(metavar)}", _esc(help_text.strip())]
    return lines


def render() -> str:
    from segtool.cli import app

    root = typer.main.get_command(app)
    out = [
        f'.TH SEGTOOL 1 "" "segtool {__version__}" "User Commands"',
        ".SH NAME",
        "segtool \\- documents to sentences and retrieval\\-ready chunks with exact offsets",
        ".SH SYNOPSIS",
        ".B segtool",
        "[\\fICOMMAND\\fR] [\\fIOPTIONS\\fR] [\\fIINPUTS\\fR...]",
        ".SH DESCRIPTION",
        _esc(root.help or ""),
        "Data goes to standard output (JSON Lines) or to \\fB\\-o\\fR; logs, progress and the "
        "summary go to standard error.",
        ".SH EXIT STATUS",
        "0 success; 1 bad input data; 2 usage or configuration error, unknown component, "
        "missing extra.",
        ".SH ENVIRONMENT",
        ".TP", ".B SEGTOOL_DEBUG", "Set to 1 to show tracebacks.",
        ".TP", ".B SEGTOOL_CACHE_DIR",
        "Where offline model files are kept (default ~/.cache/segtool).",
    ]
    for path, cmd in _walk(root, []):
        if not path or hasattr(cmd, "list_commands"):
            continue
        out += [".SH COMMAND: " + _esc(" ".join(["segtool", *path]).upper()),
                _esc((cmd.help or "").strip())]
        out += _option_lines(cmd)
    out += [".SH SEE ALSO", "README.md in the segtool source tree."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
