"""How commands fail and stop: one-line errors, exit codes, signals.

Data goes to stdout, everything else to stderr.  Known failures become one line
— ``Error: what — where — how to fix`` — with exit 1 (bad input data or an I/O
failure) or 2 (usage, configuration); SIGINT/SIGTERM/SIGHUP unwind the run
(temporary files removed) and exit 128 + N.  Tracebacks only with ``--debug``
or ``SEGTOOL_DEBUG=1``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import typer

from segtool.types import SegtoolError

T = TypeVar("T")

Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks (also SEGTOOL_DEBUG=1).",
                                     rich_help_panel="Run")]


def debug_on(flag: bool) -> bool:
    return flag or os.environ.get("SEGTOOL_DEBUG", "") not in ("", "0")


def err(message: str) -> None:
    sys.stderr.write(f"Error: {message}\n")
    sys.stderr.flush()


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so the run unwinds like Ctrl-C.

    A ``BaseException`` (like KeyboardInterrupt), so no ``except Exception``
    swallows it; unwinding removes temp files and stops worker processes.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` for the duration of a command.

    A signal the process was started with ignored (``nohup`` ignores SIGHUP)
    stays ignored.  After the first one, further ones are ignored so they
    cannot interrupt the cleanup; the previous handlers come back at the end.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def stop(signum: int, frame: Any) -> None:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise Terminated(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _WarningLine(logging.Formatter):
    """``warning: …`` — one line per record of the ``segtool`` loggers, on stderr."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().splitlines()[0] if record.getMessage() else ""
        return message if message.startswith("warning:") else f"warning: {message}"


def show_warnings() -> None:
    """Print what segtool's components log (skipped special files, over-limit characters).

    Libraries log to the ``segtool`` logger and leave handlers to the application;
    the CLI is the application, so it installs the one handler (once).
    """
    log = logging.getLogger("segtool")
    if not any(getattr(h, "_segtool_cli", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_WarningLine())
        handler._segtool_cli = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.setLevel(logging.WARNING)


def guarded(debug: bool, body: Callable[[], T]) -> T:
    """Run a command body, turning known failures into one-line errors and exit codes."""
    show_warnings()
    try:
        with signals_unwind():
            return body()
    except SegtoolError as exc:
        if debug_on(debug):
            raise
        err(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly, and keep the interpreter
        # from complaining while it flushes stdout at exit
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise typer.Exit(130) from None
    except Terminated as exc:
        import signal

        err(f"terminated by {signal.Signals(exc.signum).name}")
        raise typer.Exit(128 + exc.signum) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug_on(debug):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err(f"internal error: {type(exc).__name__}: {first} — rerun with --debug for the "
             "traceback and report it")
        raise typer.Exit(1) from None
