"""Start-up stays small: `meshctl validate` on one file imports nothing heavy, and of
the value checks only those of the kinds in the file.

Speed itself is measured in bench/ (docs/performance.md); this test catches the usual
regression, a heavy import creeping into the start-up path, without timing anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "schemas" / "cases" / "istio" / "valid" / "virtualservice.yaml"
HEAVY = ("networkx", "jsonschema", "kubernetes", "ruamel", "rich", "pydantic", "meshctl.model",
         "meshctl.lower", "meshctl.graph", "meshctl.rules.references", "meshctl.rules.routing")

PROBE = """
import json, sys
sys.argv = ["meshctl", *sys.argv[1:]]
from meshctl.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


def _modules(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_validate_on_a_small_file_imports_nothing_heavy() -> None:
    modules = _modules("validate", str(SMALL))
    assert _heavy(modules) == []
    # --jobs is for large inputs only
    assert "meshctl.validate.parallel" not in modules and "multiprocessing" not in modules
    # the value checks of the kinds in the file, not all of them (meshctl/validate/rule_index.py)
    from meshctl.validate import _rule_index

    checks = {m for m in modules if m.startswith("meshctl.rules.values.msh")}
    assert checks == set(_rule_index.KINDS["networking.istio.io/VirtualService"])


def test_the_index_of_value_checks_is_fresh() -> None:
    from meshctl.rules.registry import VALIDATE_PACKAGES
    from meshctl.validate import rule_index

    assert rule_index.VALIDATE_PACKAGES == VALIDATE_PACKAGES
    assert rule_index.INDEX.read_text(encoding="utf-8") == rule_index.render(), (
        "run python -m meshctl.validate.rule_index --write"
    )


def test_a_stale_index_of_value_checks_falls_back_to_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from meshctl.rules.registry import document_checks
    from meshctl.validate import _rule_index, rule_index

    monkeypatch.setattr(_rule_index, "MODULES", _rule_index.MODULES[1:])  # as if a rule were added since
    checks = rule_index.ValueChecks()
    assert checks._index is None
    for kind, rules in document_checks().items():
        assert checks.for_kind(kind) == rules


def test_the_index_gives_the_checks_the_registry_gives() -> None:
    from meshctl.rules.registry import document_checks
    from meshctl.validate import rule_index

    checks = rule_index.ValueChecks()
    assert checks._index is not None
    table = document_checks()
    for kind in {*table, "/NoSuchKind"}:
        assert checks.for_kind(kind) == table.get(kind, ())


def test_help_imports_nothing_heavy() -> None:
    modules = _modules("--help")
    assert _heavy(modules) == []
    assert "yaml" not in modules and "jsonschema_rs" not in modules
