"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit as a user's repository runs them.

The project files a hook install needs are copied into a throwaway git repository and
committed there, so the test sees the working tree whatever has been committed.
``pre-commit try-repo`` then clones that repository, builds a virtualenv and
pip-installs meshctl into it (its dependencies come from the package index), and runs
one hook in a second throwaway repository: a user's project with manifests in it.
Each run builds the hook environment anew (about 6 s with a warm pip cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

HOOK_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
HOOK_DIRS = ("meshctl", "schemas")
INSTALL_TIMEOUT = 900  # every run builds the hook's virtualenv and pip-installs meshctl

GOOD = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
"""
BAD = GOOD.replace("  - route:", "  - rout:")
FINDING = "MSH011 unknown field 'rout'"
# Read as a manifest, this file is a finding (MSH003): it proves which files a hook was given.
NOT_YAML = "Release notes: see the wiki.\n"


@dataclass
class HookRun:
    code: int
    output: str


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=meshctl tests", "-c", "user.email=tests@meshctl.invalid",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, check=True, capture_output=True, env=_environment(None),
    )


def _environment(pre_commit_home: Path | None) -> dict[str, str]:
    """The caller's environment without git's, pre-commit's and CI's variables."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("GIT_", "PRE_COMMIT")) and k not in ("GITHUB_ACTIONS", "NO_COLOR")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if pre_commit_home is not None:
        env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The meshctl repository as pre-commit fetches it: the working tree, committed."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_FILES:
        shutil.copy2(ROOT / name, repo / name)
    for name in HOOK_DIRS:
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "meshctl under test")
    return repo


@pytest.fixture
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's own directory (where it logs errors), kept apart from the user's.

    try-repo builds the hook environment in a temporary store of its own each time, so
    nothing is shared between runs; pip's download cache makes the later builds quick.
    """
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's repository: a valid manifest and a text file, both tracked."""
    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh" / "good.yaml").write_text(GOOD)
    (tmp_path / "notes.txt").write_text(NOT_YAML)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    return tmp_path


def _add(project: Path, name: str, text: str) -> None:
    (project / name).write_text(text)
    _git(project, "add", name)


def try_repo(hook_repo: Path, home: Path, project: Path, hook: str, *args: str) -> HookRun:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--color=never", *args],
        check=False, cwd=project, capture_output=True, text=True, env=_environment(home),
        stdin=subprocess.DEVNULL, timeout=INSTALL_TIMEOUT,
    )
    # A failed install prints pip's command and output; the log under ``home`` has the rest.
    return HookRun(proc.returncode, proc.stdout + proc.stderr)


def _status(run: HookRun, name: str) -> str:
    """The result pre-commit prints for a hook: the last word of its dotted line."""
    for line in run.output.splitlines():
        if line.startswith(name + "..."):
            return line.rsplit(".", 1)[-1].strip()
    raise AssertionError(f"no result line for {name!r} in:\n{run.output}")


def test_validate_hook_passes_a_good_file_and_is_not_given_other_types(
    hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    run = try_repo(hook_repo, pre_commit_home, project, "meshctl-validate",
                   "--files", "mesh/good.yaml", "notes.txt")
    assert run.code == 0, run.output
    assert _status(run, "meshctl validate") == "Passed", run.output


def test_validate_hook_fails_on_a_bad_file_with_the_finding(
    hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    _add(project, "mesh/bad.yaml", BAD)
    run = try_repo(hook_repo, pre_commit_home, project, "meshctl-validate",
                   "--files", "mesh/good.yaml", "mesh/bad.yaml")
    assert run.code == 1, run.output
    assert _status(run, "meshctl validate") == "Failed", run.output
    assert f"mesh/bad.yaml:9:5 error {FINDING}" in run.output
    assert "mesh/good.yaml:" not in run.output


def test_analyze_hook_passes_a_clean_repository(
    hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    run = try_repo(hook_repo, pre_commit_home, project, "meshctl-analyze", "--all-files")
    assert run.code == 0, run.output
    assert _status(run, "meshctl analyze") == "Passed", run.output


def test_analyze_hook_checks_the_whole_repository_whatever_changed(
    hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    _add(project, "mesh/bad.yaml", BAD)
    # Only the text file is "changed": the hook still runs, and reads every manifest.
    run = try_repo(hook_repo, pre_commit_home, project, "meshctl-analyze", "--files", "notes.txt")
    assert run.code == 1, run.output
    assert _status(run, "meshctl analyze") == "Failed", run.output
    assert f"mesh/bad.yaml:9:5 error {FINDING}" in run.output
