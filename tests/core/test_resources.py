"""Pathological input: the whole CLI stays linear in time and bounded in memory.

One line of 50 MB without whitespace, or 50 MB of ``?``, is one "sentence"
for the splitters; it used to be tokenised whole (minutes and gigabytes: 75 s
and 1.07 GB for 20 MB of a–z), the ``rules`` terminator regex kept a
backtracking record per ``?`` (1.9 GB for 10 MB) and nupunkt's candidate scan
is quadratic on such runs (250 KB of ``?``: 48 s).  Each run here is a real
``segtool chunk`` process under an address-space limit, in a small wrapper
process so that its peak RSS and CPU time are its own; time is compared
between two sizes (linear ≈ 5×, quadratic ≈ 25×).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

MB = 1_000_000
LIMIT_MIB = 1024  # address space per run; the runs below peak at 100-200 MiB RSS
RSS_BOUND_MIB = 600
RATIO_BOUND = 10.0  # CPU time for 5× the input; a quadratic cost would be ~25×
TIMEOUT_S = 240

_WRAPPER = r"""
import json, resource, subprocess, sys
limit = int(sys.argv[1]) * 2**20
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    proc = subprocess.run(sys.argv[3:], preexec_fn=cap, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=float(sys.argv[2]))
    rc, err = proc.returncode, proc.stderr[-500:]
except subprocess.TimeoutExpired:
    rc, err = "timeout", ""
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "cpu": ru.ru_utime + ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024,
                  "stderr": err}))
"""


def run_limited(*args: str) -> dict:
    """One ``segtool`` process under ``LIMIT_MIB`` of address space: exit code, CPU s, peak RSS."""
    cmd = [sys.executable, "-c", _WRAPPER, str(LIMIT_MIB), str(TIMEOUT_S), "segtool", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    """Random a–z (one line, no whitespace at all) and runs of "?", in the sizes used below."""
    folder = tmp_path_factory.mktemp("pathological")
    letters = bytes(97 + i % 26 for i in range(256))
    rnd = random.Random(20)
    out = {}
    for kind, size in [("letters", 4 * MB), ("letters", 10 * MB), ("letters", 20 * MB),
                       ("letters", 50 * MB), ("?", 10 * MB), ("?", 50 * MB)]:
        out[kind, size] = path = folder / f"{'q' if kind == '?' else kind}_{size // MB}MB.txt"
        path.write_bytes(b"?" * size if kind == "?" else rnd.randbytes(size).translate(letters))
    return out


def check_linear(runs: list[dict], what: str) -> None:
    small, big = runs
    for run in runs:
        assert run["rc"] == 0, (what, run)
        assert run["rss_mib"] < RSS_BOUND_MIB, (what, run)
    ratio = big["cpu"] / max(small["cpu"], 0.05)
    assert ratio < RATIO_BOUND, f"{what}: {small['cpu']:.1f} s CPU for 1×, {big['cpu']:.1f} s for 5×"


@pytest.mark.slow
@pytest.mark.parametrize("splitter", ["rules", "nupunkt"])
@pytest.mark.parametrize("kind", ["letters", "?"])
def test_50_mb_without_whitespace_is_linear_and_bounded(inputs, kind, splitter):
    """``--tokenizer chars`` keeps the tokenizer's own cost out: this is segtool's."""
    runs = [run_limited("chunk", str(inputs[kind, size]), "-s", splitter, "--tokenizer", "chars",
                        "-q") for size in (10 * MB, 50 * MB)]
    check_linear(runs, f"{kind} / {splitter} / chars")


@pytest.mark.slow
def test_default_tokenizer_on_one_giant_line_is_linear_and_bounded(inputs):
    """The issue's case: 20 MB of a–z with cl100k took 75 s and 1.07 GB.

    tiktoken itself is superlinear on one long piece of text; segtool only ever
    hands it windows of about one chunk.
    """
    runs = [run_limited("chunk", str(inputs["letters", size]), "-q") for size in (4 * MB, 20 * MB)]
    check_linear(runs, "letters / rules / cl100k_base")


def test_nupunkt_runs_of_sentence_marks_are_defused_with_exact_offsets():
    """Minutes before (nupunkt's own scan is quadratic on such runs); a fraction of a second now."""
    from segtool.sentences.nupunkt_splitter import KEEP_CHARS, NupunktSplitter, defuse_long_runs

    text = "Why?" + "?" * 300_000 + " Next one. " + "?)" * 100_000 + " The end."
    spans = NupunktSplitter().split(text)
    assert "".join(text[s.start : s.end] for s in spans) == text
    assert [text[s.start : s.end].strip()[-9:] for s in spans] == [
        "?" * 9, "Next one.", ("?)" * 5)[-9:], "The end."]
    defused = defuse_long_runs(text)
    assert len(defused) == len(text)  # offsets into it are offsets into the text
    changed = {(a, b) for a, b in zip(text, defused, strict=True) if a != b}
    assert changed == {("?", ",")}
    tail = KEEP_CHARS + len(" The end.")
    assert defused[-tail:] == text[-tail:] and defused[-tail - 2] == ","  # a long run's end stays
    ordinary = "Dr. Smith arrived at 5 p.m. on Jan. 3. He left! Did she? Yes… https://x.org/a?b=c"
    assert defuse_long_runs(ordinary) is ordinary
