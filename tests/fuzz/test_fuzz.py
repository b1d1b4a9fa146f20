"""CI's bounded fuzzing run: tests/fuzz/fuzz_load_validate.py for a fixed number of inputs.

The target runs in a subprocess (libFuzzer owns the process: a crash ends it) with a fixed
seed, so runs of one commit explore much the same inputs. Crash files, the corpus the run
grows and its temporary input file all stay under pytest's tmp_path, never in the repo.
Longer runs are for a developer's machine: see "Fuzzing" in docs/security.md.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz import seeds

HERE = Path(__file__).resolve().parent
TARGET = HERE / "fuzz_load_validate.py"
DICTIONARY = HERE / "yaml.dict"
RUNS = 20_000  # 40-60 s: 300-500 inputs/s on one core once the corpus has grown
SEED = 1
MAX_TOTAL_TIME = 75  # seconds: a slow or busy machine stops early, and passes, rather than overrun
PER_INPUT_TIMEOUT = 10  # seconds; inputs take milliseconds, a 660,000-node alias tree ~0.5 s
RSS_LIMIT_MB = 2048

pytestmark = pytest.mark.slow

atheris = pytest.importorskip(
    "atheris", reason="atheris cannot be imported: pip install -e '.[test]' brings it (CI has it)"
)


def test_fuzzing_the_loader_and_validator_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    assert len(seeds.build(corpus)) >= 10
    log = tmp_path / "fuzz.log"
    command = [
        sys.executable, str(TARGET),
        f"-runs={RUNS}",
        f"-seed={SEED}",
        f"-max_total_time={MAX_TOTAL_TIME}",
        f"-timeout={PER_INPUT_TIMEOUT}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        "-max_len=4096",
        f"-dict={DICTIONARY}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(corpus),
    ]
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONHASHSEED": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=tmp_path, env=env)
        try:
            code = proc.wait(timeout=MAX_TOTAL_TIME + 120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    crashes = sorted(artifacts.iterdir())
    assert code == 0 and not crashes, _explain(code, log, crashes)
    assert "Done " in log.read_text(errors="replace"), _explain(code, log, crashes)


def _explain(code: int, log: Path, crashes: list[Path]) -> str:
    """The end of the fuzzer's log and each crash input, enough to reproduce without CI."""
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if not line.startswith("INFO: Instrumenting")]
    parts = [f"the fuzzer exited with {code}; the end of its log:", *lines[-60:]]
    for crash in crashes:
        data = crash.read_bytes()
        parts.append(f"{crash.name} ({len(data)} bytes): {data[:2048]!r}")
        parts.append(f"  base64: {base64.b64encode(data[:2048]).decode()}")
    parts.append(f"replay one with: {sys.executable} {TARGET} CRASH_FILE")
    return "\n".join(parts)
