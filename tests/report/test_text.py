"""``--format text``: position, source line, caret, context, summary; safe for a terminal."""

from __future__ import annotations

import dataclasses

from meshctl.pipeline import RunResult
from meshctl.report.base import ReportContext
from meshctl.report.text import REPORTER
from tests.report.conftest import BROKEN, SHOP


def test_each_finding_shows_position_severity_code_and_message(
    result: RunResult, ctx: ReportContext
) -> None:
    out = REPORTER.render(result, ctx)
    assert f"{SHOP}:9:5 error MSH011 unknown field 'rout'; did you mean 'route'?\n" in out
    assert f"{BROKEN}:3:10 error MSH001 mapping values are not allowed in this context\n" in out
    # No position: the line starts with the severity.
    assert (
        "info MSH006 suppression 'MSH011=VirtualService gone.*' matched no finding"
        in out.splitlines()
    )


def test_the_source_line_and_a_caret_under_the_column(
    result: RunResult, ctx: ReportContext
) -> None:
    lines = REPORTER.render(result, ctx).splitlines()
    at = lines.index("    9 |   - rout:")
    assert lines[at + 1] == "      |     ^"  # column 5
    assert lines[at - 1] == "  [VirtualService reviews.shop] spec.http[0].rout"
    broken = lines.index("    3 |   name: a: b")
    assert lines[broken + 1].index("^") - len("      | ") == 9  # column 10


def test_related_notes_follow_their_finding(result: RunResult, ctx: ReportContext) -> None:
    out = REPORTER.render(result, ctx)
    assert f"  note: the Service the route sends to at {SHOP}:13:1\n" in out
    assert "  note: no position for this note\n" in out


def test_escape_sequences_from_the_input_are_shown_not_sent(
    result: RunResult, ctx: ReportContext
) -> None:
    for color in (False, True):
        out = REPORTER.render(result, dataclasses.replace(ctx, color=color))
        assert "\x1b[2J" not in out
        assert "\\u001b[2J" in out


def test_no_colour_codes_without_color(result: RunResult, ctx: ReportContext) -> None:
    plain = REPORTER.render(result, ctx)
    assert "\x1b" not in plain
    coloured = REPORTER.render(result, dataclasses.replace(ctx, color=True))
    assert "\x1b[" in coloured  # the flag is what decides


def test_the_closing_summary_counts_by_severity(result: RunResult, ctx: ReportContext) -> None:
    last = REPORTER.render(result, ctx).splitlines()[-1]
    assert last == "2 errors, 1 warning, 1 info in 2 files (3 resources checked, 0 skipped)"


def test_a_clean_run_prints_only_the_summary(clean: RunResult, ctx: ReportContext) -> None:
    out = REPORTER.render(clean, ctx)
    assert out == "0 errors, 0 warnings, 0 info in 2 files (3 resources checked, 0 skipped)\n"
