"""``--format github``: escaped workflow commands, capped per level, and the step summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from meshctl.diagnostics import Finding, Location, Severity
from meshctl.pipeline import RunResult
from meshctl.report.base import ReportContext
from meshctl.report.github import (
    REPORTER,
    annotation,
    escape_data,
    escape_property,
    markdown_cell,
    step_summary,
)
from meshctl.report.text import REPORTER as TEXT
from tests.conftest import run_meshctl
from tests.report.conftest import ROUT, SHOP, SYNTAX, TIMEOUT, UNUSED


def test_data_and_property_escaping() -> None:
    assert escape_data("100%\r\nnext: a,b") == "100%25%0D%0Anext: a,b"
    assert escape_property("100%\r\nnext: a,b") == "100%25%0D%0Anext%3A a%2Cb"


def test_an_annotation_names_file_line_column_and_title() -> None:
    assert annotation(ROUT) == (
        f"::error file={SHOP},line=9,col=5,title=MSH011 unknown-field::"
        "unknown field 'rout'; did you mean 'route'?"
        "%0A[VirtualService reviews.shop] spec.http[0].rout"
    )


def test_input_text_cannot_break_out_of_its_command() -> None:
    line = annotation(TIMEOUT)
    assert line.startswith(f"::warning file={SHOP},line=11,col=14,title=MSH010 schema-violation::")
    assert "\n" not in line and "\r" not in line
    assert "\x1b" not in line
    message = line.split("::", 2)[2]
    assert message.startswith("timeout <&>\"' is 100%25, not: a duration%0A\\u001b[2Jsecond line")
    assert f"%0Anote: the Service the route sends to at {SHOP}:13:1" in message
    assert message.endswith("%0Anote: no position for this note")


def test_properties_taken_from_the_input_are_escaped() -> None:
    odd = dataclasses.replace(SYNTAX, location=Location("a,b:c%.yaml", 2, 3))
    assert annotation(odd).startswith("::error file=a%2Cb%3Ac%25.yaml,line=2,col=3,title=")


def test_findings_without_a_position_are_annotated_without_file() -> None:
    assert annotation(UNUSED) == f"::notice title=MSH006 unused-suppression::{UNUSED.message}"


def test_errors_come_first_then_warnings_then_notices(
    result: RunResult, ctx: ReportContext
) -> None:
    lines = REPORTER.render(result, ctx).splitlines()
    kinds = [line.split(" ", 1)[0] for line in lines[:-1]]
    assert kinds == ["::error", "::error", "::warning", "::notice"]
    assert lines[-1] == TEXT.render(result, ctx).splitlines()[-1]


def many(severity: Severity, count: int) -> list[Finding]:
    return [
        dataclasses.replace(ROUT, severity=severity, location=Location(SHOP, line, 1))
        for line in range(1, count + 1)
    ]


def test_at_most_ten_annotations_per_level_and_the_rest_are_counted(ctx: ReportContext) -> None:
    findings = many(Severity.INFO, 3) + many(Severity.WARNING, 12) + many(Severity.ERROR, 25)
    result = RunResult(findings=sorted(findings, key=Finding.sort_key), files=1, resources=1)
    lines = REPORTER.render(result, ctx).splitlines()
    commands = [line.split(" ", 1)[0] for line in lines if line.startswith("::")]
    assert commands == ["::error"] * 10 + ["::warning"] * 10 + ["::notice"] * 3
    assert lines[:10] == [annotation(f) for f in findings[15:25]]  # the first errors, in order
    assert lines[-2] == "17 more findings not annotated; see the summary"
    assert lines[-1] == "25 errors, 12 warnings, 3 info in 1 file (1 resources checked, 0 skipped)"


def test_nothing_is_counted_as_left_out_when_under_the_limit(
    result: RunResult, ctx: ReportContext
) -> None:
    assert "not annotated" not in REPORTER.render(result, ctx)


def test_a_clean_run_prints_only_the_summary(clean: RunResult, ctx: ReportContext) -> None:
    assert REPORTER.render(clean, ctx) == TEXT.render(clean, ctx)


def test_markdown_cells_show_text_literally_on_one_line() -> None:
    cell = markdown_cell("a | b <script>&amp; *em* [x](y) `c`\n\x1b[2J")
    assert cell == (
        "a \\| b &lt;script&gt;&amp;amp; \\*em\\* \\[x\\]\\(y\\) \\`c\\`<br>\\\\u001b\\[2J"
    )


def test_the_step_summary_is_a_table_of_every_finding(
    result: RunResult, ctx: ReportContext
) -> None:
    summary = step_summary(result, ctx)
    lines = summary.splitlines()
    assert lines[0] == "### meshctl validate"
    assert "2 errors, 1 warning, 1 info in 2 files (3 resources checked, 0 skipped)" in lines
    header = lines.index("| Code | Severity | Location | Message |")
    rows = lines[header + 2 :]
    assert len(rows) == len(result.findings)
    assert all(row.startswith("| ") and row.endswith(" |") for row in rows)
    assert all(row.count(" | ") == 3 for row in rows)  # four cells, the message on one line
    assert [row.split(" | ")[1] for row in rows] == ["error", "error", "warning", "info"]
    assert f"| MSH011 unknown-field | error | {SHOP}:9:5 | unknown field 'rout'" in rows[1]
    assert "\x1b" not in summary and "<&>" not in summary


def test_a_clean_step_summary_has_no_table(clean: RunResult, ctx: ReportContext) -> None:
    assert "|" not in step_summary(clean, ctx)


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
"""


def test_the_cli_appends_the_step_summary_in_actions(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    summary = tmp_path / "summary.md"
    summary.write_text("from an earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    run = run_meshctl("validate", "bad.yaml", cwd=tmp_path, env=env)
    assert run.code == 1
    assert run.stdout.startswith("::error file=bad.yaml,line=9,col=5,title=MSH011 unknown-field::")
    written = summary.read_text()
    assert written.startswith("from an earlier step\n### meshctl validate\n")
    assert "| MSH011 unknown-field | error | bad.yaml:9:5 |" in written


def test_the_cli_writes_no_step_summary_for_other_formats(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    run = run_meshctl("validate", "-f", "text", "bad.yaml", cwd=tmp_path, env=env)
    assert run.code == 1
    assert not summary.exists()
