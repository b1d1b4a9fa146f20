"""Shared fixtures: where things are, and a way to run meshctl as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "testdata"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
CRDS = SHARED / "reference" / "crds"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_meshctl(*args: str, cwd: Path | None = None, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the real command line in a subprocess, as CI and users do."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "meshctl", *args],
        cwd=cwd or ROOT,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def meshctl():
    return run_meshctl


def requires_corpus() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the checkout")
