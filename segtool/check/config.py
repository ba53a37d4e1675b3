"""Settings of ``segtool check``: ``[tool.segtool.check]`` in pyproject.toml, then flags.

A project keeps its gate in its ``pyproject.toml`` so that a pre-commit hook,
a Makefile and a person at the prompt all apply the same limits; flags given
on the command line win over the file.  The nearest ``pyproject.toml`` (from
the current directory upwards) is used unless ``--config`` names one.  A key
the table does not know, or a value of the wrong type, is a configuration
error (exit 2) rather than a setting silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from segtool.check.rules import BY_CODE, RULES, exact, resolve
from segtool.types import UsageError

KINDS = ("auto", "chunks", "corpus")
FORMATS = ("text", "json")


@dataclass(frozen=True)
class CheckConfig:
    """Everything one run of the checker needs; defaults are those of a bare ``segtool check``."""

    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    max_tokens: int | None = None
    min_tokens: int | None = None
    tokenizer: str = "cl100k_base"
    min_chunkscore: float | None = None
    lm: str = "smollm2"
    embedder: str = "minilm"
    docs: tuple[str, ...] = ()
    kind: str = "auto"
    text_field: str = "text"
    id_field: str | None = None
    format: str = "text"
    source: str | None = field(default=None, compare=False)  # the pyproject.toml read, if any

    def active_rules(self) -> set[str]:
        """The codes that run: selected, not ignored, and with their setting given.

        Naming a rule that needs a setting (``--select max-tokens``) without
        giving the setting is an error, since the user plainly expects it to run.
        """
        chosen = resolve(self.select, "select") - resolve(self.ignore, "ignore")
        named = {code for item in self.select if (code := exact(item)) is not None}
        active: set[str] = set()
        for code in sorted(chosen):
            need = BY_CODE[code].needs
            if need is not None and getattr(self, need) is None:
                if code in named:
                    key = need.replace("_", "-")
                    raise UsageError(f"rule {code} {BY_CODE[code].name} is selected but --{key} "
                                     f"is not set — pass --{key} or set {key} in "
                                     "[tool.segtool.check]")
                continue
            active.add(code)
        return active


# Key in pyproject (kebab-case; snake_case accepted too) → (field, expected type, type in words).
_KEYS: dict[str, tuple[str, type | tuple[type, ...], str]] = {
    "select": ("select", list, "a list of rule codes or names"),
    "ignore": ("ignore", list, "a list of rule codes or names"),
    "max-tokens": ("max_tokens", int, "an integer"),
    "min-tokens": ("min_tokens", int, "an integer"),
    "tokenizer": ("tokenizer", str, "a string"),
    "min-chunkscore": ("min_chunkscore", (int, float), "a number"),
    "lm": ("lm", str, "a string"),
    "embedder": ("embedder", str, "a string"),
    "docs": ("docs", (list, str), "a path or a list of paths"),
    "kind": ("kind", str, "one of " + ", ".join(KINDS)),
    "text-field": ("text_field", str, "a string"),
    "id-field": ("id_field", str, "a string"),
    "format": ("format", str, "one of " + ", ".join(FORMATS)),
}
CONFIG_KEYS = tuple(_KEYS)


def find_pyproject(start: str | None = None) -> str | None:
    """The nearest ``pyproject.toml`` from ``start`` (default: cwd) upwards, or None."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def read_table(path: str) -> dict[str, Any]:
    """The ``[tool.segtool.check]`` table of ``path`` ({} when absent); errors exit 2."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read config — {path} — {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid TOML ({exc}) — {path} — fix the file") from None
    table = data.get("tool", {}).get("segtool", {}).get("check", {})
    if not isinstance(table, dict):
        raise UsageError(f"[tool.segtool.check] must be a table — {path}")
    return table


def from_table(table: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Validated field values from a config table (paths made relative to the file's folder)."""
    where = f"{path} [tool.segtool.check]"
    values: dict[str, Any] = {}
    for key, value in table.items():
        spec = _KEYS.get(key.replace("_", "-"))
        if spec is None:
            raise UsageError(f"unknown key {key!r} — {where} — known keys: {', '.join(CONFIG_KEYS)}")
        name, kind, words = spec
        if isinstance(value, bool) or not isinstance(value, kind):
            raise UsageError(f"{key} must be {words}, not {value!r} — {where}")
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise UsageError(f"{key} must be {words} (strings) — {where}")
            value = tuple(value)
        if name == "docs":
            base = os.path.dirname(os.path.abspath(path))
            items = (value,) if isinstance(value, str) else value
            value = tuple(p if os.path.isabs(p) else os.path.join(base, p) for p in items)
        values[name] = value
    return values


def _check_values(cfg: CheckConfig) -> None:
    if cfg.kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {cfg.kind!r}")
    if cfg.format not in FORMATS:
        raise UsageError(f"format must be one of {', '.join(FORMATS)}, not {cfg.format!r}")
    for name in ("max_tokens", "min_tokens"):
        value = getattr(cfg, name)
        if value is not None and value < 1:
            raise UsageError(f"{name.replace('_', '-')} must be at least 1, not {value}")
    if cfg.max_tokens and cfg.min_tokens and cfg.min_tokens > cfg.max_tokens:
        raise UsageError(f"min-tokens ({cfg.min_tokens}) is above max-tokens ({cfg.max_tokens})")


def load_config(flags: Mapping[str, Any], config_path: str | None = None) -> CheckConfig:
    """Defaults, then the pyproject table, then the flags that were given (not None).

    ``config_path`` (``--config``) must exist; without it the nearest
    ``pyproject.toml`` is used if there is one.
    """
    path = config_path
    if path is not None and not os.path.isfile(path):
        raise UsageError(f"no such config file — {path} — check the --config path")
    if path is None:
        path = find_pyproject()
    cfg = CheckConfig()
    if path is not None:
        cfg = replace(cfg, source=path, **from_table(read_table(path), path))
    known = {f.name for f in fields(CheckConfig)}
    given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in flags.items()
             if v is not None and k in known}
    cfg = replace(cfg, **given)
    _check_values(cfg)
    cfg.active_rules()  # unknown rule names fail now, before any file is read
    return cfg


__all__ = ["CONFIG_KEYS", "KINDS", "RULES", "CheckConfig", "find_pyproject", "load_config"]
