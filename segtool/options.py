"""One declaration per component option, and everything derived from it.

A component (built-in or plugin) declares its options as a frozen dataclass,
``Options``, whose fields are ``typing.Annotated`` with an :class:`Opt`::

    @dataclass(frozen=True)
    class WindowOptions:
        max_tokens: MaxTokens = 512
        overlap_tokens: Annotated[int, Opt("Tokens of preceding context.", ge=0)] = 0

From that single place come the CLI flags of every command that runs the
component, ``segtool list`` (text and ``--json``), the man page, keyword
validation in the Python API and the part of the configuration identity that
shapes output.  Adding an option is one edit in one file.

Why dataclasses and not a validation library: the types involved are a handful
of scalars (int, float, str, bool, optionally ``None``); the standard library
expresses them, Typer reads the same annotations, and importing it costs
nothing on ``segtool --help``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from segtool.types import UsageError

# The stages a model-based option can be aimed at with --split-X / --chunk-X.
STAGES = ("split", "chunk")


@dataclass(frozen=True, slots=True)
class Opt:
    """Metadata of one option: help text, role and validation.

    ``runtime`` options change only how a run goes (device, batch size, cache
    paths), never its output: they are left out of the configuration identity
    and so out of record ids.  ``ge``/``gt``/``le``/``lt`` and ``choices``
    are checked for the CLI and the API alike; ``group`` is the help panel.
    """

    help: str
    runtime: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[str, ...] | None = None
    group: str = "Component options"
    metavar: str | None = None


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """A declared option after introspection: what every consumer reads."""

    name: str
    type: type  # the scalar type: int, float, str or bool
    optional: bool  # ``None`` is a valid value
    default: Any
    opt: Opt

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def runtime(self) -> bool:
        return self.opt.runtime

    def range_text(self) -> str:
        """``≥ 1``, ``0 < x ≤ 1``, ``one of: a, b`` — shown in help and in errors."""
        o = self.opt
        if o.choices:
            return "one of: " + ", ".join(o.choices)
        low = f"≥ {_num(o.ge)}" if o.ge is not None else (f"> {_num(o.gt)}" if o.gt is not None else "")
        high = f"≤ {_num(o.le)}" if o.le is not None else (f"< {_num(o.lt)}" if o.lt is not None else "")
        return " and ".join(p for p in (low, high) if p)

    def check(self, value: Any, *, who: str) -> Any:
        """Return ``value`` converted to the declared type, or raise UsageError."""
        if value is None:
            if self.optional:
                return None
            raise UsageError(f"{self.flag}: a value is required for {who}")
        value = _coerce(self, value, who)
        o = self.opt
        bad = (
            (o.ge is not None and value < o.ge) or (o.gt is not None and value <= o.gt)
            or (o.le is not None and value > o.le) or (o.lt is not None and value >= o.lt)
            or (o.choices is not None and value not in o.choices)
        )
        if bad:
            raise UsageError(f"{self.flag} {value!r}: must be {self.range_text()} ({who})")
        return value

    def describe(self) -> dict[str, Any]:
        """The JSON form ``segtool list --json`` prints."""
        return {
            "name": self.name, "flag": self.flag, "type": self.type.__name__,
            "optional": self.optional, "default": self.default, "help": self.opt.help,
            "runtime": self.runtime, "range": self.range_text() or None,
            "choices": list(self.opt.choices) if self.opt.choices else None,
        }


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _coerce(spec: OptionSpec, value: Any, who: str) -> Any:
    kind = spec.type
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
        if hasattr(value, "__fspath__"):  # a Path is a fine value for a path option
            return str(value)
    raise UsageError(f"{spec.flag}: expected {kind.__name__}, got {type(value).__name__} "
                     f"{value!r} ({who})")


def _unwrap(hint: Any) -> tuple[type, bool, Opt]:
    """``Annotated[int | None, Opt(...)]`` → ``(int, True, Opt(...))``."""
    if typing.get_origin(hint) is not Annotated:
        raise TypeError(f"option type {hint!r} is not Annotated[..., Opt(...)]")
    base, *extras = typing.get_args(hint)
    opt = next((e for e in extras if isinstance(e, Opt)), None)
    if opt is None:
        raise TypeError(f"option type {hint!r} has no Opt(...) metadata")
    optional = False
    if typing.get_origin(base) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(base) if a is not type(None)]
        optional = len(args) < len(typing.get_args(base))
        if len(args) != 1:
            raise TypeError(f"option type {hint!r}: one scalar type (optionally | None) expected")
        base = args[0]
    if base not in (int, float, str, bool):
        raise TypeError(f"option type {hint!r}: int, float, str or bool expected")
    return base, optional, opt


@cache
def option_specs(options_cls: type | None) -> tuple[OptionSpec, ...]:
    """The declared options of an ``Options`` dataclass (cached per class)."""
    if options_cls is None:
        return ()
    hints = typing.get_type_hints(options_cls, include_extras=True)
    specs = []
    for f in dataclasses.fields(options_cls):
        kind, optional, opt = _unwrap(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        specs.append(OptionSpec(f.name, kind, optional, default, opt))
    return tuple(specs)


def specs_of(component: Any) -> tuple[OptionSpec, ...]:
    """Options a component class declares (none when it has no ``Options``)."""
    return option_specs(getattr(component, "Options", None))


def build(component: Any, values: Mapping[str, Any], *, who: str) -> Any:
    """Validate ``values`` against the component's declaration; return its Options instance.

    Every key must be declared (callers filter by applicability first, so an
    unknown key here is a programming error of the caller, raised as
    TypeError).  Cross-field rules live in the dataclass's ``__post_init__``.
    """
    cls = getattr(component, "Options", None)
    specs = {s.name: s for s in specs_of(component)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise TypeError(f"{who} takes no option {unknown[0]!r}{suggest(unknown[0], specs)}")
    checked = {k: specs[k].check(v, who=who) for k, v in values.items()}
    if cls is None:
        return None
    return cls(**checked)


def suggest(name: str, known: Iterable[str]) -> str:
    """`` — did you mean 'max_tokens'?`` or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def output_options(options: Any) -> dict[str, Any]:
    """The output-shaping options of an Options instance, in declaration order."""
    if options is None:
        return {}
    runtime = {s.name for s in option_specs(type(options)) if s.runtime}
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
            if f.name not in runtime}


# ---------------------------------------------------------------- shared declarations
# Options several components take, declared once so their help and checks agree.
MaxTokens = Annotated[int, Opt("Hard upper limit of tokens per chunk.", ge=1, group="Chunker")]
Tokenizer = Annotated[str, Opt(
    "Token counting: a tiktoken encoding, a Hugging Face tokenizer (hub id or local dir), "
    "chars or words.", group="Chunker")]
Device = Annotated[str, Opt("auto, cpu, cuda, cuda:N.", runtime=True, group="Model")]
Dtype = Annotated[str, Opt("auto, float32, float16, bfloat16.", runtime=True,
                           choices=("auto", "float32", "float16", "bfloat16"), group="Model")]
BatchSize = Annotated[int, Opt("Items per model call (batched across documents).", runtime=True,
                               ge=1, group="Model")]
Lang = Annotated[str, Opt("Language code.", group="Splitter")]
