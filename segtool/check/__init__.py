"""``segtool check``: a linter for corpora and chunk files (also a pre-commit hook).

Public API::

    load_config(flags, config_path=None) -> CheckConfig   # pyproject table + flags
    run_check(paths, cfg) -> Report                         # findings, sorted per file
    RULES                                                   # code, name, summary of each rule
"""

from __future__ import annotations

from segtool.check.config import CheckConfig, load_config
from segtool.check.engine import Finding, Report, run_check
from segtool.check.rules import RULES, Rule

__all__ = ["RULES", "CheckConfig", "Finding", "Report", "Rule", "load_config", "run_check"]
