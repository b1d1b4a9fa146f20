"""The demo mesh shows what its README says it shows, and `make demo`'s command works."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import ROOT, run_meshctl

DEMO = ROOT / "testdata" / "demo"
ROW = re.compile(r"^\| `([^`:]+):(\d+)` \|.*\| (MSH\d{3}) [a-z0-9-]+ \|$", re.M)


def test_the_demo_reports_exactly_the_planted_mistakes() -> None:
    planted = sorted((f"testdata/demo/{file}", int(line), code) for file, line, code in ROW.findall((DEMO / "README.md").read_text()))
    assert len(planted) >= 10
    run = run_meshctl("analyze", "-f", "json", "testdata/demo/")
    assert run.code == 1
    report = json.loads(run.stdout)
    found = sorted(
        (f["location"]["file"], f["location"]["line"], f["code"])
        for f in report["findings"] if f["severity"] in ("error", "warning")
    )
    assert found == planted
    summary = report["summary"]
    readme = (DEMO / "README.md").read_text()
    words = {5: "five", 9: "Nine"}
    assert f"{words.get(summary['error'], summary['error'])} errors and {words.get(summary['warning'], summary['warning'])} warnings" in readme


def test_make_demo_runs_analyze_on_the_demo() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "meshctl analyze testdata/demo/" in makefile
    text = run_meshctl("analyze", "testdata/demo/")
    assert "error MSH102" in text.stdout and "warning MSH140" in text.stdout
    assert Path(ROOT / "README.md").read_text().count("make demo") >= 1
