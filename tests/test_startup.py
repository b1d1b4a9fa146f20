"""Start-up stays small: `meshctl validate` on one file imports nothing heavy.

Speed itself is measured in bench/ (docs/performance.md); this test catches the usual
regression, a heavy import creeping into the start-up path, without timing anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_validate_on_a_small_file_imports_nothing_heavy() -> None:
    assert _heavy(_modules("validate", str(SMALL))) == []


def test_help_imports_nothing_heavy() -> None:
    modules = _modules("--help")
    assert _heavy(modules) == []
    assert "yaml" not in modules and "jsonschema_rs" not in modules
