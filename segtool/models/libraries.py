"""Living with optional, chatty libraries: is it installed, and keep it quiet.

Every model-based component asks the same two things of the libraries it
wraps: is an optional package importable (without importing it, so a missing
extra is a one-line ``pip install`` hint, and ``segtool --help`` stays light),
and can its progress bars and advice be held back while it loads (stderr
belongs to segtool's own progress and one-line errors).  One implementation of
each, here.  Whether the network may be used is :mod:`segtool.models.hub`'s.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import warnings
from collections.abc import Iterator


def installed(module: str) -> bool:
    """Is ``module`` importable?  Found without importing it (cheap, no side effects)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def quiet_loading(*loggers: str) -> Iterator[None]:
    """No progress bars, advice, warnings or prints from libraries while they load a model.

    transformers' verbosity and progress bars, the named ``logging`` loggers,
    Python warnings and stray ``print`` calls are held back and restored
    afterwards; real failures still raise and become segtool's one-line errors.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    hf_logging = None
    if installed("transformers"):
        from transformers.utils import logging as hf_logging
    restore: list[tuple[logging.Logger, int]] = [
        (log, log.level) for log in (logging.getLogger(name) for name in loggers)]
    verbosity = bars = None
    if hf_logging is not None:
        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    for log, _ in restore:
        log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for log, level in restore:
            log.setLevel(level)
        if hf_logging is not None:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
