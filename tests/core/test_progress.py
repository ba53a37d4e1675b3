"""Progress as a user sees it: a live bar in a terminal, nothing in a pipe, lines on request.

The CLI runs as a real process with its stderr on a pseudo-terminal (what a
terminal emulator gives it) or on a pipe (what a CI log or ``2>file`` gives
it).  The terminal's bytes are read as they come; a "screen" is the last
redraw of the bar with its escape sequences removed.  The main check runs
``segtool chunk`` over the 73 Gutenberg books of the benchmark corpus and
looks at the screen at two moments: the bar has advanced and shows an ETA.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import re
import struct
import subprocess
import sys
import tarfile
import termios
import threading
import time
from pathlib import Path

import pytest

from segtool.cli.progress import human_size
from segtool.readers.sources import iter_bytes, metered

REPO = Path(__file__).resolve().parents[2]
BOOKS_ARCHIVE = REPO.parent / "shared" / "bench" / "gutenberg-books.tar.xz"
# Variables that make rich treat any stream as a terminal (or none): not this test's business.
_RICH_ENV = ("FORCE_COLOR", "NO_COLOR", "FORCE_TERMINAL", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
             "COLUMNS", "LINES", "CI", "GITHUB_ACTIONS")
ENV = {**{k: v for k, v in os.environ.items() if k not in _RICH_ENV},
       "TERM": "xterm-256color", "OMP_NUM_THREADS": "1"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The bar over files: "━━━━  27% 12.3/45.6 MB 3.1 MB/s 12 docs (4.5/s) ETA 0:00:40"
BAR = re.compile(r"(?P<pct>\d+)%\s+(?P<done>[\d,.]+)/(?P<total>[\d,.]+) (?P<unit>bytes|kB|MB|GB)"
                 r".*?(?P<docs>[\d,]+) docs? \((?P<rate>[\d,.]+)/s\)\s+ETA (?P<eta>\S+)")
CLOCK = re.compile(r"\d+:\d\d:\d\d")
SMALL_TEXT = "The first sentence is here. A second one follows it. " * 40 + "\n"


@pytest.fixture(scope="session")
def books(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 73 books of the benchmark corpus, extracted from the shared archive (~1 s)."""
    if not BOOKS_ARCHIVE.is_file():
        pytest.fail(f"the benchmark books are missing: expected {BOOKS_ARCHIVE} beside the "
                    "repository")
    root = tmp_path_factory.mktemp("bench-books")
    with tarfile.open(BOOKS_ARCHIVE) as archive:
        archive.extractall(root, filter="data")
    found = sorted((root / "books").glob("*.txt"))
    assert len(found) == 73, f"expected the 73 books, found {len(found)}"
    return root / "books"


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.txt"
    path.write_text(SMALL_TEXT, encoding="utf-8")
    return path


class Terminal:
    """The CLI with its stderr (and optionally stdout) on a pseudo-terminal, 140×40.

    A thread drains the terminal as a terminal emulator would (a child
    writing to a full terminal blocks), keeping every byte for inspection.
    """

    def __init__(self, args: list[str], *, stdout: object = subprocess.PIPE,
                 stdin: object = subprocess.DEVNULL, stdout_on_terminal: bool = False) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "segtool.cli", *args], stdin=stdin,
            stdout=slave if stdout_on_terminal else stdout, stderr=slave, env=ENV)
        os.close(slave)
        self._master = master
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: every writer of the terminal has gone
                break
            if not data:
                break
            self._chunks.append(data)

    @property
    def raw(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")

    def frames(self) -> list[str]:
        """Every complete redraw or line so far, escape sequences removed."""
        parts = re.split(r"[\r\n]", self.raw)[:-1]  # the last may be half-written
        return [text for text in (ANSI.sub("", p).strip() for p in parts) if text]

    def screen(self) -> re.Match[str] | None:
        """The bar as the terminal shows it now: its latest complete redraw."""
        for frame in reversed(self.frames()):
            if match := BAR.search(frame):
                return match
        return None

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """Wait for the process; (exit status, everything it wrote to stdout)."""
        out = self.proc.stdout.read() if self.proc.stdout else ""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        os.close(self._master)
        return code, out.decode("utf-8") if isinstance(out, bytes) else out


def _wait_for(check, timeout: float = 120.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(step)
    return None


def _done(match: re.Match[str]) -> float:
    return float(match["done"].replace(",", ""))


# ---------------------------------------------------------------- the terminal experience


def test_bar_advances_with_eta_over_the_73_books(books: Path, tmp_path: Path) -> None:
    """Two moments of the screen of ``segtool chunk BOOKS``: the bar moved, and there is an ETA."""
    term = Terminal(["chunk", str(books), "-o", str(tmp_path / "out.jsonl")])
    try:
        # moment 1: the bar is up and has a throughput, so an ETA (not -:--:--)
        first = _wait_for(lambda: (m := term.screen()) and CLOCK.fullmatch(m["eta"]) and m)
        assert first, f"no bar with an ETA on the terminal; it shows:\n{term.frames()[-5:]}"
        time.sleep(3)  # moment 2
        second = term.screen()
    finally:
        term.proc.terminate()
        term.finish()
    assert second is not None
    assert first["unit"] == second["unit"] == "MB" and first["total"] == second["total"] == "52.9"
    assert _done(second) > _done(first), (first.group(0), second.group(0))
    assert int(second["pct"]) >= int(first["pct"])
    assert int(second["docs"].replace(",", "")) > int(first["docs"].replace(",", ""))
    assert CLOCK.fullmatch(second["eta"]), second.group(0)
    # model loading (here the tokenizer) came first, as a stage of its own
    frames = term.frames()
    stage = [i for i, f in enumerate(frames) if "loading splitter 'rules' and chunker 'window'…" in f]
    bars = [i for i, f in enumerate(frames) if BAR.search(f)]
    assert stage and bars and stage[-1] < bars[0], frames[:5]


def test_bar_on_a_terminal_leaves_stdout_clean(small: Path) -> None:
    term = Terminal(["chunk", str(small)])
    code, out = term.finish()
    assert code == 0
    bars = [f for f in term.frames() if BAR.search(f)]
    assert bars, term.frames()
    assert BAR.search(bars[-1])["pct"] == "100"  # type: ignore[index]
    assert "segtool: 1 document; " in term.raw  # the summary stays after the bar is gone
    assert "\x1b" not in out and "\r" not in out
    records = [json.loads(line) for line in out.splitlines()]
    assert records and all(r["text"] for r in records)


def test_stdin_on_a_terminal_gets_a_counter(small: Path) -> None:
    """No total to measure stdin against: counts and rates, no percentage."""
    with small.open("rb") as fh:
        feeder = subprocess.Popen(["cat"], stdin=fh, stdout=subprocess.PIPE)
    term = Terminal(["chunk"], stdin=feeder.stdout)
    assert feeder.stdout is not None
    feeder.stdout.close()
    code, out = term.finish()
    feeder.wait()
    assert code == 0 and out
    counters = [f for f in term.frames() if re.search(r"\d+ docs? \([\d.,]+/s\)", f)]
    assert counters, term.frames()
    assert re.search(r"\d+ chunks .*[\d.,]+ (bytes|kB) read", counters[-1]), counters[-1]
    assert not any("%" in f for f in counters)


def test_quiet_on_a_terminal_shows_nothing(small: Path) -> None:
    term = Terminal(["chunk", "-q", "--progress", str(small)])
    code, out = term.finish()
    assert code == 0 and out
    assert term.raw == ""


def test_no_bar_when_records_stream_to_the_same_terminal(small: Path) -> None:
    """Records printed to the terminal would be torn by redraws: no bar there."""
    term = Terminal(["sentences", str(small)], stdout_on_terminal=True)
    code, _ = term.finish()
    assert code == 0
    assert '"doc_id"' in term.raw
    assert not any(BAR.search(f) for f in term.frames())
    assert "\x1b[2K" not in term.raw  # no line was erased for a redraw


# ---------------------------------------------------------------- pipes and logs


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=300, **kwargs)


def test_never_in_a_pipe(small: Path) -> None:
    proc = _run(["chunk", str(small)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [f"segtool: 1 document; {len(proc.stdout.splitlines())} "
                                        "chunks"]
    quiet = _run(["chunk", "-q", str(small)])
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_forced_in_a_pipe_writes_plain_lines(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = _run(["chunk", "--progress", str(small), "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    assert lines[0] == "segtool: loading splitter 'rules' and chunker 'window'…"
    size = human_size(small.stat().st_size)
    assert size == "2.1 kB"
    assert re.fullmatch(rf"segtool: {size}/{size} \(100%\), 1 document, "
                        r"\d+ chunks, [\d.,]+ docs/s, [\d.,]+ \w+/s, in 0:00:0\d", lines[1]), lines
    assert lines[2].startswith("segtool: 1 document; ")
    assert _run(["chunk", "-q", "--progress", str(small)]).stderr == ""


def test_forced_lines_come_every_few_seconds(books: Path, tmp_path: Path) -> None:
    """A CI log gets a line with percentage and ETA while the run goes on, never a redraw."""
    proc = subprocess.Popen([sys.executable, "-m", "segtool.cli", "chunk", "--progress",
                             str(books), "-o", str(tmp_path / "out.jsonl")],
                            stderr=subprocess.PIPE, text=True, env=ENV)
    assert proc.stderr is not None
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "%" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert seen[0] == "segtool: loading splitter 'rules' and chunker 'window'…\n"
    assert re.fullmatch(r"segtool: [\d.]+ MB/52\.9 MB \(\d+%\), [\d,]+ documents?, [\d,]+ chunks, "
                        r"[\d.,]+ docs/s, [\d.,]+ MB/s, ETA \d+:\d\d:\d\d\n", seen[-1]), seen


def test_compressed_input_counts_compressed_bytes(small: Path, tmp_path: Path) -> None:
    """The total is the size on disk, and a gzip input reaches it (not its text's size)."""
    packed = tmp_path / "small.txt.gz"
    packed.write_bytes(gzip.compress(small.read_bytes() * 50))
    reported: dict[str, int] = {}

    def meter(path: str, n: int) -> None:
        reported[path] = reported.get(path, 0) + n

    with metered(meter):
        text = b"".join(iter_bytes(str(packed)))
    assert len(text) == small.stat().st_size * 50
    assert reported == {str(packed): packed.stat().st_size}
    assert b"".join(iter_bytes(str(packed))) == text and reported[str(packed)] == \
        packed.stat().st_size  # unmetered outside the block

    proc = _run(["chunk", "--progress", str(packed), "-o", str(tmp_path / "out.jsonl")])
    size = human_size(packed.stat().st_size)
    assert f"segtool: {size}/{size} (100%)" in proc.stderr, proc.stderr
    assert human_size(packed.stat().st_size) != human_size(len(text))


def test_loading_stage_names_the_model() -> None:
    from segtool.cli.progress import loading_label
    from segtool.selection import Selection

    assert (loading_label(Selection("rules", "semantic", {}, {"embedder": "model2vec"}))
            == "loading splitter 'rules' and chunker 'semantic' (model2vec)…")
    assert (loading_label(Selection("sat", None, {"sat_model": "sat-1l"}, {}))
            == "loading splitter 'sat' (sat-1l)…")
    assert loading_label(Selection("rules", "semantic")).endswith("chunker 'semantic' (minilm)…")


def test_inputs_the_meter_never_sees_still_reach_100_percent(tmp_path: Path) -> None:
    """Parquet files are read in place by pyarrow, not through the byte meter."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist([{"text": SMALL_TEXT}] * 3), path)
        paths.append(str(path))
    proc = _run(["sentences", "--progress", *paths, "-o", str(tmp_path / "out.jsonl")])
    assert proc.returncode == 0, proc.stderr
    total = human_size(sum(Path(p).stat().st_size for p in paths))
    assert f"segtool: {total}/{total} (100%), 6 documents, " in proc.stderr, proc.stderr
