"""Hostile and broken input: a finding or a clear error, an exit code, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_meshctl
from tests.hostile.inputs import HOSTILE, write_all

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile")
    write_all(directory)
    return directory


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["validate", "analyze", "translate"])
def test_every_hostile_input_gets_findings_and_an_exit_code(
    hostile: Path, name: str, command: str, tmp_path: Path
) -> None:
    start = time.monotonic()
    report = ["--to", "envoy", "--report", "json", "-o", str(tmp_path)] if command == "translate" else ["-f", "json"]
    run = run_meshctl(command, *report, str(hostile / name))
    assert run.code in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
    json.loads(run.stdout)  # one well-formed report
    assert time.monotonic() - start < 60


def test_the_text_report_never_sends_terminal_escapes(hostile: Path) -> None:
    run = run_meshctl("validate", "--no-color", str(hostile / "ansi-escapes.yaml"))
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "\\u001b" in run.stdout


def test_fifos_devices_and_symlink_loops_are_skipped_never_opened(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text(HOSTILE["comments-only.yaml"]().decode())
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "null.yaml").symlink_to("/dev/null")
    run = run_meshctl("validate", "-v", str(tmp_path))
    assert run.code == 0, run.stderr
    assert "pipe.yaml: skipped, not a regular file" in run.stderr


def test_stdin_that_is_a_terminal_is_refused_with_a_hint() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "meshctl", "validate", "-"], stdin=follower,
                              capture_output=True, text=True, timeout=30, cwd=ROOT)
    finally:
        os.close(leader)
        os.close(follower)
    assert proc.returncode == 3
    assert "standard input" in proc.stderr and "pipe" in proc.stderr


def test_ctrl_c_exits_130_without_a_traceback(hostile: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "meshctl", "analyze", "--jobs", "2", str(hostile / "huge-route-list.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted" in err
