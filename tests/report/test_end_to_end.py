"""The real command line writing three reports in one run; they must agree."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import run_meshctl
from tests.report.conftest import schema_errors

BAD = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts: [reviews]
  http:
  - rout:
    - destination: {host: reviews}
    timeout: 10x
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  ports: [{port: 80}]
---
a: b: c
"""
# An unused suppression adds an info finding on no file at all.
ARGS = ("validate", "bad.yaml", "-S", "MSH011=Service nothing.here", "-f", "json")
REPORTS = ("--output", "sarif=out/report.sarif", "--output", "junit=out/report.xml")


def test_json_sarif_and_junit_from_one_run_agree(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    run = run_meshctl(*ARGS, *REPORTS, cwd=tmp_path)
    assert run.code == 1, run.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.sarif", "report.xml"]

    findings = json.loads(run.stdout)["findings"]
    assert sorted(f["code"] for f in findings) == ["MSH001", "MSH006", "MSH011", "MSH021"]

    sarif = json.loads((tmp_path / "out" / "report.sarif").read_text())
    assert schema_errors(sarif) == []
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [f["code"] for f in findings]
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        for loc in r.get("locations", ())
    }
    assert uris == {"bad.yaml"}

    junit = ET.parse(tmp_path / "out" / "report.xml").getroot()
    reported = [
        case
        for case in junit.iter("testcase")
        if case.find("failure") is not None or case.find("system-out") is not None
    ]
    assert len(reported) == len(findings)
    assert junit.get("failures") == str(sum(f["severity"] != "info" for f in findings))
    passes = [case.get("classname") for case in junit.iter("testcase") if len(case) == 0]
    assert passes == ["Service@v1"]


def test_fail_on_never_reports_but_exits_0(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    run = run_meshctl(*ARGS, *REPORTS, "--fail-on", "never", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert len(json.loads(run.stdout)["findings"]) == 4
    sarif = json.loads((tmp_path / "out" / "report.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 4
