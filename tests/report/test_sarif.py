"""``--format sarif``: valid SARIF 2.1.0 that GitHub code scanning accepts and tracks."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from meshctl.diagnostics import Finding, Location, Severity
from meshctl.options import Options
from meshctl.pipeline import RunResult, run_validate
from meshctl.report.base import ReportContext
from meshctl.report.sarif import FINGERPRINT_KEY, REPORTER, artifact_location
from meshctl.rules.registry import by_code
from tests.report.conftest import BROKEN, NASTY, SHOP, UNUSED, build_result, schema_errors


def render(result: RunResult, ctx: ReportContext) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(REPORTER.render(result, ctx))
    return document


def results_by_code(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in document["runs"][0]["results"]}


def test_the_report_is_valid_sarif_2_1_0(result: RunResult, ctx: ReportContext) -> None:
    document = render(result, ctx)
    assert schema_errors(document) == []
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("meshctl", "0.1.0")
    assert "informationUri" not in driver
    assert run["automationDetails"] == {"id": "meshctl/validate/"}


def test_the_schema_check_catches_a_broken_report(result: RunResult, ctx: ReportContext) -> None:
    document = render(result, ctx)
    document["runs"][0]["results"][0]["level"] = "fatal"
    del document["runs"][0]["tool"]["driver"]["name"]
    assert len(schema_errors(document)) == 2


def test_a_clean_run_has_an_empty_results_array(clean: RunResult, ctx: ReportContext) -> None:
    document = render(clean, ctx)
    assert schema_errors(document) == []
    run = document["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


def test_one_rule_per_code_with_its_documentation(result: RunResult, ctx: ReportContext) -> None:
    run = render(result, ctx)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["MSH001", "MSH006", "MSH010", "MSH011"]
    for descriptor in rules:
        rule = by_code(descriptor["id"])
        assert rule is not None
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["markdown"] == rule.body
        assert descriptor["fullDescription"]["text"]  # the "Why it matters" paragraph
        assert "##" not in descriptor["fullDescription"]["text"]
        assert 0 < len(descriptor["properties"]["tags"]) <= 20
    for sarif_result in run["results"]:
        assert rules[sarif_result["ruleIndex"]]["id"] == sarif_result["ruleId"]
    assert "istio/IST0106" in rules[3]["properties"]["tags"]


def test_levels_default_from_the_rule_and_actual_from_the_run(
    result: RunResult, ctx: ReportContext
) -> None:
    run = render(result, ctx)["runs"][0]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]}
    assert levels == {"MSH001": "error", "MSH006": "note", "MSH010": "error", "MSH011": "error"}
    actual = {r["ruleId"]: r["level"] for r in run["results"]}
    assert actual == {"MSH001": "error", "MSH006": "note", "MSH010": "warning", "MSH011": "error"}


def test_locations_are_repo_relative_with_the_exact_position_and_resource(
    result: RunResult, ctx: ReportContext
) -> None:
    rout = results_by_code(render(result, ctx))["MSH011"]
    (location,) = rout["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": SHOP, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 9, "startColumn": 5},
    }
    assert location["logicalLocations"] == [
        {"name": "reviews", "fullyQualifiedName": "VirtualService shop/reviews", "kind": "object"}
    ]
    assert rout["properties"]["fieldPath"] == "spec.http[0].rout"


def test_findings_without_resource_or_location_are_still_reported(
    result: RunResult, ctx: ReportContext
) -> None:
    by_code_ = results_by_code(render(result, ctx))
    syntax = by_code_["MSH001"]
    (location,) = syntax["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == BROKEN
    assert "logicalLocations" not in location
    unused = by_code_["MSH006"]
    assert "locations" not in unused
    assert unused["message"]["text"] == UNUSED.message


def test_related_locations(result: RunResult, ctx: ReportContext) -> None:
    timeout = results_by_code(render(result, ctx))["MSH010"]
    assert timeout["relatedLocations"] == [
        {
            "id": 1,
            "message": {"text": "the Service the route sends to"},
            "physicalLocation": {
                "artifactLocation": {"uri": SHOP, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 13, "startColumn": 1},
            },
        },
        {"id": 2, "message": {"text": "no position for this note"}},
    ]


def test_messages_are_carried_exactly_and_escaped_by_json(
    result: RunResult, ctx: ReportContext
) -> None:
    text = REPORTER.render(result, ctx)
    assert "\x1b" not in text
    assert results_by_code(json.loads(text))["MSH010"]["message"]["text"] == NASTY


def fingerprints(result: RunResult, ctx: ReportContext) -> dict[str, str]:
    return {
        r["ruleId"]: r["partialFingerprints"][FINGERPRINT_KEY]
        for r in render(result, ctx)["runs"][0]["results"]
    }


def test_fingerprints_survive_lines_inserted_above(ctx: ReportContext) -> None:
    before = build_result()
    after = build_result(shift=7)
    lines = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in render(after, ctx)["runs"][0]["results"]
        if "locations" in r
    }
    assert lines["MSH011"] == 9 + 7  # the positions did move
    assert fingerprints(before, ctx) == fingerprints(after, ctx)


def test_fingerprints_are_sha256_unique_and_depend_on_what_the_finding_is(
    result: RunResult, ctx: ReportContext
) -> None:
    prints = fingerprints(result, ctx)
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in prints.values())
    assert len(set(prints.values())) == len(prints)
    rout = next(f for f in result.findings if f.code == "MSH011")
    assert rout.location is not None
    elsewhere = dataclasses.replace(
        rout, location=dataclasses.replace(rout.location, path="spec.http[1].rout")
    )
    moved = fingerprints(RunResult(findings=[elsewhere]), ctx)["MSH011"]
    assert moved != prints["MSH011"]
    again = fingerprints(RunResult(findings=[rout]), ctx)["MSH011"]
    assert again == prints["MSH011"]


def test_equal_findings_get_distinct_fingerprints(ctx: ReportContext) -> None:
    twice = Finding("MSH001", "yaml-syntax-error", Severity.ERROR, "bad", Location("a.yaml", 1, 1))
    later = dataclasses.replace(twice, location=Location("a.yaml", 5, 1))
    results = render(RunResult(findings=[twice, later]), ctx)["runs"][0]["results"]
    assert results[0]["partialFingerprints"] != results[1]["partialFingerprints"]


def test_fingerprints_of_a_real_run_survive_an_edit_above(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctx: ReportContext
) -> None:
    monkeypatch.chdir(tmp_path)
    source = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\n"
    source += "  namespace: n\nspec:\n  hosts: [r]\n  http:\n  - rout: []\n    timeout: 1x\n"
    Path("mesh.yaml").write_text(source)
    before = render(run_validate(Options(paths=("mesh.yaml",))), ctx)
    Path("mesh.yaml").write_text("# added\n# lines\n" + source)
    after = render(run_validate(Options(paths=("mesh.yaml",))), ctx)

    def summary(document: dict[str, Any]) -> list[tuple[str, str, int]]:
        return [
            (
                r["ruleId"],
                r["partialFingerprints"][FINGERPRINT_KEY],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
            )
            for r in document["runs"][0]["results"]
        ]

    assert len(summary(before)) == 2
    assert [(c, p) for c, p, _ in summary(before)] == [(c, p) for c, p, _ in summary(after)]
    assert [line + 2 for _, _, line in summary(before)] == [line for _, _, line in summary(after)]
    assert summary(before)[0][2] == 9
    assert schema_errors(after) == []


@pytest.mark.parametrize(
    ("file", "uri"),
    [
        ("mesh/vs.yaml", "mesh/vs.yaml"),
        ("./mesh/vs.yaml", "mesh/vs.yaml"),
        ("my mesh/v#1 100%.yaml", "my%20mesh/v%231%20100%25.yaml"),
        ("a:b.yaml", "a%3Ab.yaml"),  # not a URI scheme
        ("mesh/vérif.yaml", "mesh/v%C3%A9rif.yaml"),
    ],
)
def test_relative_paths_become_posix_uri_references(file: str, uri: str) -> None:
    assert artifact_location(file) == {"uri": uri, "uriBaseId": "%SRCROOT%"}


def test_absolute_paths_are_made_relative_to_the_root_when_below_it(tmp_path: Path) -> None:
    inside = tmp_path / "mesh" / "vs.yaml"
    assert artifact_location(str(inside), root=tmp_path) == {
        "uri": "mesh/vs.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    outside = artifact_location(str(inside), root=tmp_path / "elsewhere")
    assert outside == {"uri": inside.as_uri()}


def test_standard_input_has_no_artifact_but_keeps_its_position(ctx: ReportContext) -> None:
    finding = Finding(
        "MSH001", "yaml-syntax-error", Severity.ERROR, "bad indent", Location("<stdin>", 3, 7)
    )
    document = render(RunResult(findings=[finding]), ctx)
    assert schema_errors(document) == []
    (sarif_result,) = document["runs"][0]["results"]
    assert "locations" not in sarif_result
    assert sarif_result["message"]["text"] == "bad indent (<stdin>:3:7)"


def test_a_code_the_registry_does_not_know_still_makes_a_valid_rule(ctx: ReportContext) -> None:
    finding = Finding(
        "MSH999", "made-up", Severity.WARNING, "from a plugin", Location("x.yaml", 1, 1)
    )
    document = render(RunResult(findings=[finding]), ctx)
    assert schema_errors(document) == []
    (rule,) = document["runs"][0]["tool"]["driver"]["rules"]
    assert (rule["id"], rule["name"], rule["defaultConfiguration"]["level"]) == (
        "MSH999",
        "made-up",
        "warning",
    )
