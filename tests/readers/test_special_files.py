"""FIFOs, sockets and unreadable paths: never a hang, never a silent skip.

A FIFO met while walking a directory (or matched by a glob) is skipped with a
notice naming it, because opening it would block until some process writes to
it; named explicitly it is read like a file.  A directory or file the user may
not read is an error naming it, which ``--on-error skip`` turns into a skipped
input.  The CLI cases run ``segtool`` in a subprocess, as a user would; the
permission cases drop root's power to bypass file modes first (the suite often
runs as root, in CI too).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from segtool.readers import expand_inputs
from segtool.types import InputError

from .conftest import only_docs, read_all, write

RUN_TIMEOUT_S = 120  # a hang (the old behaviour with a FIFO) fails instead of blocking the suite


def segtool(args: list[str], cwd: Path, prefix: tuple[str, ...] = ()
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "segtool.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """``corpus/`` with two readable text files."""
    write(tmp_path / "corpus" / "a.txt", "First file. Two sentences.\n")
    write(tmp_path / "corpus" / "z" / "b.txt", "Second file.\n")
    return tmp_path / "corpus"


# ---------------------------------------------------------------- FIFOs, sockets


def test_fifo_and_socket_in_a_directory_are_skipped_with_a_notice(
    corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    os.mkfifo(corpus / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(corpus / "z" / "sock"))
        with caplog.at_level(logging.WARNING, logger="segtool.readers"):
            files = expand_inputs([str(corpus)])
    finally:
        sock.close()
    assert files == [str(corpus / "a.txt"), str(corpus / "z" / "b.txt")]
    notices = [r.getMessage() for r in caplog.records if r.name == "segtool.readers"]
    assert notices == [
        f"skipped a FIFO (named pipe) — {corpus / 'pipe'} — name it on the command line to read it",
        f"skipped a socket — {corpus / 'z' / 'sock'} — name it on the command line to read it",
    ]


def test_a_glob_skips_a_fifo_too(corpus: Path, caplog: pytest.LogCaptureFixture) -> None:
    os.mkfifo(corpus / "pipe.txt")
    with caplog.at_level(logging.WARNING, logger="segtool.readers"):
        assert expand_inputs([str(corpus / "*.txt")]) == [str(corpus / "a.txt")]
    assert "pipe.txt" in caplog.text


def test_a_directory_holding_only_a_fifo_has_no_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match=r"no files in directory .* not a regular file"):
        expand_inputs([str(tmp_path)])


def test_a_link_to_a_directory_is_named_not_followed(corpus: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    (corpus / "loop").symlink_to(corpus)  # would be a cycle if followed
    with caplog.at_level(logging.WARNING, logger="segtool.readers"):
        files = expand_inputs([str(corpus)])
    assert files == [str(corpus / "a.txt"), str(corpus / "z" / "b.txt")]
    assert f"{corpus / 'loop'}" in caplog.text and "links are not followed" in caplog.text


@pytest.fixture
def fed_fifo(tmp_path: Path) -> Iterator[tuple[Path, bytes]]:
    """A FIFO with a writer thread that feeds it once a reader opens it."""
    path = tmp_path / "live.txt"
    os.mkfifo(path)
    data = b"Streamed through a pipe. It still reads.\n" * 1000

    def feed() -> None:
        with open(path, "wb") as fh:  # blocks until the reader opens the other end
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    yield path, data
    if writer.is_alive():  # the test failed before opening it: unblock the writer
        with open(path, "rb") as fh:
            fh.read()
    writer.join(timeout=10)


def test_a_fifo_named_explicitly_is_read(fed_fifo: tuple[Path, bytes]) -> None:
    path, data = fed_fifo
    (doc,) = only_docs(read_all(str(path)))
    assert doc.text == data.decode()
    assert doc.id == str(path)


def test_cli_does_not_hang_on_a_fifo_in_a_directory(corpus: Path) -> None:
    os.mkfifo(corpus / "pipe")  # nobody ever writes to it: opening it would block forever
    proc = segtool(["sentences", "corpus", "-q"], cwd=corpus.parent)
    assert proc.returncode == 0, proc.stderr
    assert [line.count('"doc_id":"corpus/a.txt"') for line in proc.stdout.splitlines()] == [1, 1, 0]
    assert "skipped a FIFO (named pipe) — corpus/pipe — name it on the command line" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- permissions


def _drop_dac_prefix(probe: Path) -> tuple[str, ...] | None:
    """A command prefix that runs a program without root's file-permission override.

    Not root: nothing needed.  Root: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    (``setpriv``, else ``capsh``) while staying uid 0, so the interpreter under
    /root stays reachable; ``probe`` (mode 000) proves the drop works here.
    None when no way to drop them exists (say, a container without CAP_SETPCAP).
    """
    if os.geteuid() != 0:
        return ()
    candidates: list[tuple[str, ...]] = []
    if setpriv := shutil.which("setpriv"):
        candidates.append((setpriv, "--inh-caps=-all",
                           "--bounding-set=-dac_override,-dac_read_search", "--"))
    if capsh := shutil.which("capsh"):
        candidates.append((capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                           'exec "$0" "$@"'))
    for prefix in candidates:
        try:
            check = subprocess.run([*prefix, sys.executable, "-c", f"open({str(probe)!r}).read()"],
                                   capture_output=True, text=True, timeout=60)
        except OSError:
            continue
        if check.returncode != 0 and "PermissionError" in check.stderr:
            return prefix
    return None


@pytest.fixture
def unprivileged(tmp_path: Path) -> Iterator[tuple[str, ...]]:
    probe = tmp_path / "probe"
    probe.write_text("secret")
    probe.chmod(0)
    prefix = _drop_dac_prefix(probe)
    probe.unlink()
    if prefix is None:
        pytest.skip("running as root and unable to drop CAP_DAC_OVERRIDE (no setpriv/capsh, or "
                    "no CAP_SETPCAP): file modes cannot be enforced here")
    yield prefix


@pytest.fixture
def locked(corpus: Path) -> Iterator[Path]:
    """``corpus/z`` made unreadable (mode 000); restored afterwards for clean-up."""
    target = corpus / "z"
    target.chmod(0)
    yield target
    target.chmod(0o755)


def test_cli_unreadable_subdirectory_stops_the_run_naming_it(
    corpus: Path, locked: Path, unprivileged: tuple[str, ...]
) -> None:
    proc = segtool(["sentences", "corpus", "-q"], cwd=corpus.parent, prefix=unprivileged)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: cannot read directory: Permission denied — corpus/z — "
        "check its permissions, or leave it out")


def test_cli_unreadable_subdirectory_is_skipped_with_on_error_skip(
    corpus: Path, locked: Path, unprivileged: tuple[str, ...]
) -> None:
    proc = segtool(["sentences", "corpus", "--on-error", "skip"], cwd=corpus.parent,
                   prefix=unprivileged)
    assert proc.returncode == 0, proc.stderr
    assert "skipped: cannot read directory: Permission denied — corpus/z" in proc.stderr
    assert "1 skipped" in proc.stderr
    assert {line.split('"doc_id":"')[1].split('"')[0] for line in proc.stdout.splitlines()} == {
        "corpus/a.txt"}


def test_cli_unreadable_directory_given_directly_is_an_error_not_empty(
    corpus: Path, unprivileged: tuple[str, ...]
) -> None:
    corpus.chmod(0)
    try:
        proc = segtool(["sentences", "corpus", "-q"], cwd=corpus.parent, prefix=unprivileged)
    finally:
        corpus.chmod(0o755)
    assert proc.returncode == 1, proc.stderr
    assert "no files in directory" not in proc.stderr
    assert "Error: cannot read directory: Permission denied — corpus —" in proc.stderr


def test_cli_unreadable_file_in_a_directory_is_named(
    corpus: Path, unprivileged: tuple[str, ...]
) -> None:
    (corpus / "a.txt").chmod(0)
    try:
        stop = segtool(["sentences", "corpus", "-q"], cwd=corpus.parent, prefix=unprivileged)
        skip = segtool(["sentences", "corpus", "--on-error", "skip"], cwd=corpus.parent,
                       prefix=unprivileged)
    finally:
        (corpus / "a.txt").chmod(0o644)
    assert stop.returncode == 1
    assert "Error: cannot open file: Permission denied — corpus/a.txt" in stop.stderr
    assert skip.returncode == 0, skip.stderr
    assert "skipped: cannot open file: Permission denied — corpus/a.txt" in skip.stderr
    assert '"doc_id":"corpus/z/b.txt"' in skip.stdout


def test_parquet_through_a_fifo_named_explicitly(tmp_path: Path) -> None:
    """Parquet needs random access: a FIFO is spooled to a temporary file first."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ["one", "two"]}), buffer)
    path = tmp_path / "live.parquet"
    os.mkfifo(path)
    writer = threading.Thread(target=path.write_bytes, args=(buffer.getvalue(),), daemon=True)
    writer.start()
    docs = only_docs(read_all(str(path)))
    writer.join(timeout=10)
    assert [d.text for d in docs] == ["one", "two"]
