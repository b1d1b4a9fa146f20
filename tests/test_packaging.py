"""The wheel is what users get: it must carry the schemas and declare every import."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True, timeout=300,
    )
    (found,) = out.glob("meshctl-*.whl")
    return found


def test_the_wheel_ships_every_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.relative_to(ROOT).as_posix() for p in (ROOT / "schemas").rglob("*.json")}
    assert schemas and {f"meshctl/{s}" for s in schemas} <= names


def test_every_third_party_import_is_a_declared_dependency(wheel: Path) -> None:
    import ast
    import tomllib

    declared = {"yaml", "typer", "rich", "jsonschema_rs", "re2", "networkx", "kubernetes"}
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {r.split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in requirements}
    assert names == {"typer", "rich", "pyyaml", "jsonschema-rs", "google-re2", "networkx", "kubernetes"}
    stdlib = set(sys.stdlib_module_names)
    imported = set()
    for path in (ROOT / "meshctl").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    # click is typer's parser: typer < 0.27 depends on it, newer ones vendor it (cli.py takes either).
    third_party = imported - stdlib - {"meshctl", "click"}
    assert third_party <= declared, third_party - declared
