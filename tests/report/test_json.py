"""``--format json``: exactly the documented shape, one document, values unaltered."""

from __future__ import annotations

import json

from meshctl.pipeline import RunResult
from meshctl.report.base import ReportContext
from meshctl.report.json import REPORTER
from tests.report.conftest import NASTY, SHOP

FINDING_KEYS = {
    "code",
    "rule",
    "severity",
    "message",
    "istio_code",
    "resource",
    "location",
    "related",
}
RESOURCE_KEYS = {"apiVersion", "kind", "name", "namespace"}
LOCATION_KEYS = {"file", "line", "column", "path", "template"}
SUMMARY = {"files", "resources", "skipped", "suppressed", "error", "warning", "info"}


def test_the_document_has_exactly_the_documented_keys(
    result: RunResult, ctx: ReportContext
) -> None:
    report = json.loads(REPORTER.render(result, ctx))
    assert set(report) == {"version", "findings", "summary"}
    assert report["version"] == 1
    assert set(report["summary"]) == SUMMARY
    assert len(report["findings"]) == len(result.findings)
    for finding in report["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["resource"] is None or set(finding["resource"]) == RESOURCE_KEYS
        assert finding["location"] is None or set(finding["location"]) == LOCATION_KEYS
        for related in finding["related"]:
            assert set(related) == {"message", "location"}
            assert related["location"] is None or set(related["location"]) == LOCATION_KEYS


def test_values_and_types(result: RunResult, ctx: ReportContext) -> None:
    findings = json.loads(REPORTER.render(result, ctx))["findings"]
    by_code = {f["code"]: f for f in findings}
    assert by_code["MSH011"] == {
        "code": "MSH011",
        "rule": "unknown-field",
        "severity": "error",
        "message": "unknown field 'rout'; did you mean 'route'?",
        "istio_code": "IST0106",
        "resource": {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "name": "reviews",
            "namespace": "shop",
        },
        "location": {
            "file": SHOP,
            "line": 9,
            "column": 5,
            "path": "spec.http[0].rout",
            "template": None,
        },
        "related": [],
    }
    unused = by_code["MSH006"]
    assert (unused["severity"], unused["resource"], unused["location"]) == ("info", None, None)
    assert by_code["MSH001"]["resource"] is None
    assert by_code["MSH010"]["related"] == [
        {
            "message": "the Service the route sends to",
            "location": {"file": SHOP, "line": 13, "column": 1, "path": "", "template": None},
        },
        {"message": "no position for this note", "location": None},
    ]


def test_messages_round_trip_unchanged_and_no_raw_control_characters(
    result: RunResult, ctx: ReportContext
) -> None:
    text = REPORTER.render(result, ctx)
    assert "\x1b" not in text  # JSON escapes it as \u001b
    messages = [f["message"] for f in json.loads(text)["findings"]]
    assert NASTY in messages


def test_summary_counts(result: RunResult, ctx: ReportContext) -> None:
    summary = json.loads(REPORTER.render(result, ctx))["summary"]
    assert summary == {
        "files": 2,
        "resources": 3,
        "skipped": 0,
        "suppressed": 0,
        "error": 2,
        "warning": 1,
        "info": 1,
    }


def test_a_clean_run_is_an_empty_findings_list(clean: RunResult, ctx: ReportContext) -> None:
    report = json.loads(REPORTER.render(clean, ctx))
    assert report["findings"] == []
    assert report["summary"]["error"] == 0
