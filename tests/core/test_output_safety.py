"""Where output goes: never over an input, a device or a read-only file; failures are one line.

Observed the way a user would: run the command, then look at the file system
(is ``/dev/null`` still a device? is the input intact? which mode does the
file have?) and at exit code and stderr.  Destinations that only a real
process has (``/dev/fd/1``, a closed stdout, ``/dev/full`` as stdout, a file
size limit) run the CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from segtool.cli import app

TEXT = "The first sentence is here. A second one follows it.\n\nA new paragraph starts.\n"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def segtool(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segtool.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=300, check=False, **kwargs)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ------------------------------------------------------------ devices, FIFOs, descriptors
def device(tmp_path: Path, name: str) -> Path:
    """``/dev/null`` or ``/dev/full`` made again in the test directory where allowed (root).

    A copy, so that a regression that replaces the device cannot damage the real one.
    """
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, {"null": 3, "full": 7}[name]))
    except OSError:
        return Path("/dev") / name
    return node


def test_a_character_device_is_written_to_not_replaced(tmp_path, text_file):
    null = device(tmp_path, "null")
    before = os.stat(null)
    result = run("chunk", str(text_file), "-o", str(null))
    assert result.exit_code == 0, result.stderr
    after = os.stat(null)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert leftovers(null.parent) == []


def test_a_fifo_receives_the_records_and_stays_a_fifo(tmp_path, text_file):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the writer's open does not block
    try:
        result = segtool("chunk", str(text_file), "-o", str(fifo), "-q")
        assert result.returncode == 0, result.stderr
        os.set_blocking(reader, True)
        data = b""
        while chunk := os.read(reader, 65536):
            data += chunk
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    recs = [json.loads(line) for line in data.decode().splitlines()]
    assert "".join(r["text"] for r in recs) == TEXT


def test_dev_fd_1_writes_to_stdout_without_truncating_an_appended_file(tmp_path, text_file):
    out = tmp_path / "log.jsonl"
    out.write_text('{"earlier":"line"}\n')
    with open(out, "a") as stdout:  # like `segtool ... -o /dev/fd/1 >> log.jsonl`
        proc = subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", str(text_file),
                               "-o", "/dev/fd/1", "-q"], stdout=stdout, stderr=subprocess.PIPE,
                              text=True, env=ENV, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == '{"earlier":"line"}'
    assert "".join(json.loads(line)["text"] for line in lines[1:]) == TEXT


# ------------------------------------------------------------ output is an input / the other output
def test_output_that_is_the_input_is_refused(text_file):
    result = run("chunk", str(text_file), "-o", str(text_file))
    assert result.exit_code == 2
    assert "is also an input" in one_error_line(result.stderr)
    assert text_file.read_text(encoding="utf-8") == TEXT


def test_a_hard_link_to_the_input_is_the_same_file(tmp_path, text_file):
    link = tmp_path / "other-name.jsonl"
    os.link(text_file, link)
    result = run("chunk", str(text_file), "-o", str(link))
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert text_file.read_text(encoding="utf-8") == TEXT


def test_a_directory_input_that_holds_the_output_is_refused(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.txt").write_text(TEXT, encoding="utf-8")
    previous = corpus / "chunks.jsonl"  # the output of an earlier run, now among the inputs
    previous.write_text('{"text": "old output"}\n')
    result = run("chunk", str(corpus), "-o", str(previous))
    assert result.exit_code == 2 and "is also an input" in result.stderr
    assert previous.read_text() == '{"text": "old output"}\n'


def test_stdout_appended_to_an_input_is_refused(tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text(json.dumps({"text": TEXT}) + "\n")
    with open(src, "a") as stdout:  # `segtool chunk docs.jsonl >> docs.jsonl`
        proc = subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", str(src)],
                              stdout=stdout, stderr=subprocess.PIPE, text=True, env=ENV,
                              timeout=300, check=False)
    assert proc.returncode == 2
    assert "stdout is also an input" in one_error_line(proc.stderr)
    assert src.read_text() == json.dumps({"text": TEXT}) + "\n"


@pytest.mark.parametrize("errors_name", ["x.jsonl", "./x.jsonl"])
def test_errors_file_and_output_must_differ(tmp_path, text_file, errors_name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("chunk", str(text_file), "-o", "x.jsonl", "--on-error", "skip",
                 "--errors-file", errors_name)
    assert result.exit_code == 2
    assert "is the same file as -o x.jsonl" in one_error_line(result.stderr)
    assert not (tmp_path / "x.jsonl").exists()


def test_devices_may_take_both_outputs(tmp_path, text_file):
    null = str(device(tmp_path, "null"))
    result = run("chunk", str(text_file), "-o", null, "--on-error", "skip", "--errors-file", null)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)


# ------------------------------------------------------------ permissions of an existing file
@pytest.mark.parametrize("mode", [0o640, 0o600, 0o444])
def test_replacing_a_file_keeps_its_mode(tmp_path, text_file, mode):
    if mode == 0o444 and os.geteuid() != 0:
        pytest.skip("only root may replace a read-only file")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    out.chmod(mode)
    result = run("chunk", str(text_file), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == mode
    assert "".join(json.loads(line)["text"] for line in out.read_text().splitlines()) == TEXT


_AS_NOBODY = """
import os, sys
from segtool.cli import app
try:  # one run as root first, so every lazily imported module is loaded
    app(["sentences", sys.argv[1], "-o", sys.argv[1] + ".warm.jsonl", "-q"])
except SystemExit:
    pass
if os.geteuid() == 0:  # then drop root, which may write any file
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
app(["sentences", sys.argv[1], "-o", sys.argv[2]])
"""


def test_a_read_only_file_is_refused_to_a_user_without_write_permission():
    # A directory anyone may write in, so only the file's own mode forbids replacing it.
    with tempfile.TemporaryDirectory(prefix="segtool-perm-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o777)
        src = directory / "a.txt"
        src.write_text(TEXT, encoding="utf-8")
        src.chmod(0o644)
        out = directory / "out.jsonl"
        out.write_text("precious\n")
        out.chmod(0o444)
        proc = subprocess.run([sys.executable, "-c", _AS_NOBODY, str(src), str(out)],
                              capture_output=True, text=True, env=ENV, cwd=directory,
                              timeout=300, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "permission denied" in one_error_line(proc.stderr)
        assert out.read_text() == "precious\n" and stat.S_IMODE(out.stat().st_mode) == 0o444
        assert leftovers(directory) == []


# ------------------------------------------------------------ checked before reading input
def test_a_bad_errors_file_fails_before_anything_is_written(tmp_path, text_file):
    out = tmp_path / "out.jsonl"
    result = run("chunk", str(text_file), "-o", str(out), "--on-error", "skip",
                 "--errors-file", str(tmp_path / "nodir" / "e.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in one_error_line(result.stderr)
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("target,expected", [
    # an existing directory means "one shard per input" (incremental output); the input here
    # lies inside it, and inputs are never read from the output directory
    ("DIR", "no input files outside the output directory"),
    ("", "empty output file name"),
])
def test_unusable_output_names_are_usage_errors(tmp_path, text_file, target, expected):
    result = run("chunk", str(text_file), "-o", str(tmp_path) if target == "DIR" else target)
    assert result.exit_code == 2
    assert expected in one_error_line(result.stderr)


# ------------------------------------------------------------ failures only writing reveals
def test_stdout_on_dev_full_is_a_one_line_io_error(text_file):
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", str(text_file)],
                              stdout=full, stderr=subprocess.PIPE, text=True, env=ENV,
                              timeout=300, check=False)
    assert proc.returncode == 1
    assert "No space left on device" in one_error_line(proc.stderr)


def test_dev_full_as_output_file_is_a_one_line_io_error(tmp_path, text_file):
    full = device(tmp_path, "full")
    result = segtool("chunk", str(text_file), "-o", str(full))
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert str(full) in line and "No space left on device" in line
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_closed_stdout_is_a_one_line_io_error(text_file):
    proc = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m",
                           "segtool.cli", "chunk", str(text_file)],
                          capture_output=False, stderr=subprocess.PIPE, text=True, env=ENV,
                          timeout=300, check=False)
    assert proc.returncode == 1
    assert "stdout" in one_error_line(proc.stderr) and "closed" in proc.stderr


def _limit_file_size() -> None:
    limit = 100_000  # bytes any file of the child may reach: the output hits it part-way
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_keeps_the_previous_output_and_leaves_no_temp_file(tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"text": TEXT}) + "\n" for _ in range(3000)))
    out = tmp_path / "out.jsonl"
    out.write_text("previous good output\n")
    proc = subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", str(src), "-o", str(out)],
                          capture_output=True, text=True, env=ENV, timeout=300, check=False,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert str(out) in line and "File too large" in line
    assert out.read_text() == "previous good output\n"
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------ format from the file name
def test_parquet_extension_writes_parquet(tmp_path, text_file):
    out = tmp_path / "chunks.parquet"
    result = run("chunk", str(text_file), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    rows = pq.read_table(out).to_pylist()
    assert "".join(r["text"] for r in rows) == TEXT


@pytest.mark.parametrize("args,expected", [
    (["-f", "jsonl", "-o", "OUT/x.parquet"], "names a parquet file but --format is jsonl"),
    (["-f", "parquet", "-o", "OUT/x.jsonl"], "names a jsonl file but --format is parquet"),
    (["-o", "OUT/x.jsonl.gz"], "compressed output is not supported"),
])
def test_names_that_contradict_the_format_are_refused(tmp_path, text_file, args, expected):
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    result = run("chunk", str(text_file), *args)
    assert result.exit_code == 2
    assert expected in one_error_line(result.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
