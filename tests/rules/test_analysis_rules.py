"""Every analysis rule fires where it should (code, resource, line) and not on its near miss."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshctl.diagnostics import Severity
from meshctl.options import Options
from meshctl.pipeline import RunResult, run_analyze
from meshctl.rules.registry import analysis_rules

FIXTURES = Path(__file__).parent / "fixtures"
RULES = analysis_rules()


def _run(folder: Path, name: str, code: str) -> RunResult:
    settings = {}
    if (folder / "options.yaml").exists():
        settings = yaml.safe_load((folder / "options.yaml").read_text()) or {}
    mesh_config = settings.get("mesh-config")
    return run_analyze(
        Options(
            paths=(str(folder / name),),
            select=(code, "MSH0"),
            closed_world=bool(settings.get("closed-world", False)),
            mesh_config=str(folder / mesh_config) if mesh_config else None,
        )
    )


def _findings(result: RunResult, code: str) -> list[str]:
    return sorted(
        f"{f.location.line if f.location else 0} {f.severity.label} {f.resource.display() if f.resource else '-'}"
        for f in result.findings
        if f.code == code
    )


def _validation_errors(result: RunResult) -> list[str]:
    return [f"{f.code} {f.location.short() if f.location else ''} {f.message}"
            for f in result.findings if f.code.startswith("MSH0") and f.severity == Severity.ERROR]


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_has_fixtures(rule) -> None:
    folder = FIXTURES / rule.code
    for name in ("bad.yaml", "good.yaml", "expected.txt"):
        assert (folder / name).is_file(), f"missing {folder / name}"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_fires_on_bad_fixture(rule) -> None:
    folder = FIXTURES / rule.code
    result = _run(folder, "bad.yaml", rule.code)
    assert _validation_errors(result) == [], "the fixture itself must validate clean"
    expected = sorted(
        line.strip() for line in (folder / "expected.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert expected, "expected.txt lists no finding"
    assert _findings(result, rule.code) == expected


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_silent_on_near_miss(rule) -> None:
    folder = FIXTURES / rule.code
    result = _run(folder, "good.yaml", rule.code)
    assert _validation_errors(result) == [], "the fixture itself must validate clean"
    assert result.resources > 0
    assert _findings(result, rule.code) == []


# MeshModel methods and the collections they read; `reads` is declared in collections.
INDEXES = {
    "services_for": "services", "services_in": "services", "service": "services",
    "entries_for": "service_entries", "workloads_in": "workloads", "workloads_selected": "workloads",
    "workloads_of": "workloads", "has_workloads": "workloads", "policies_for": "destination_policies",
    "gateways_named": "gateways", "has_secret": "secrets", "has_secrets": "secrets",
    "has_service_account": "service_accounts",
}
NEUTRAL = {"mesh_config", "domain", "namespaces", "mentioned_namespaces", "namespace_known", "index"}


class _Recorder:
    """A MeshModel stand-in that records which parts of the model a rule touches."""

    def __init__(self, mesh: object) -> None:
        self._mesh = mesh
        self.touched: set[str] = set()

    def __getattr__(self, name: str) -> object:
        self.touched.add(INDEXES.get(name, name))
        return getattr(self._mesh, name)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_declared_reads_are_what_the_rule_touches(rule) -> None:
    from meshctl.lower import lower
    from meshctl.pipeline import run_validate
    from meshctl.rules.context import Analysis

    folder = FIXTURES / rule.code
    validated = run_validate(Options(paths=(str(folder / "bad.yaml"),)))
    mesh = lower(validated.checked)
    recorder = _Recorder(mesh)
    from meshctl.graph import build

    analysis = Analysis(recorder, _graph=build(mesh))  # type: ignore[arg-type]
    # The context's own helpers (open-world reasoning, the graph) are not the rule's reads.
    analysis.outside_inputs = Analysis(mesh).outside_inputs  # type: ignore[method-assign]
    list(rule.analyze_fn(analysis))
    touched = recorder.touched - NEUTRAL
    assert set(rule.reads) <= touched, "declared but never read"
    assert touched <= set(rule.reads) | {"resources"}, "read but not declared"
