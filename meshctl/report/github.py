"""``--format github``: GitHub Actions annotations, and a Markdown table for the step summary.

```
::error file=mesh/vs.yaml,line=9,col=5,title=MSH011 unknown-field::unknown field 'rout'%0A[...]
::warning file=mesh/dr.yaml,line=4,col=3,title=MSH012 deprecated-api-version::...
12 more findings not annotated; see the summary
13 errors, 1 warning, 0 info in 6 files (41 resources checked, 2 skipped)
```
GitHub shows at most 10 annotations of each level per step and drops the rest silently,
so errors come first, then warnings, then notices, at most 10 of each, and the rest are
counted. ``step_summary`` is the Markdown the CLI appends to ``$GITHUB_STEP_SUMMARY``:
every finding, in the same order. Input-derived text is sanitised, then escaped, so a
message can neither start a workflow command of its own nor reach the log as raw ANSI.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from meshctl.diagnostics import Finding, Severity
from meshctl.report.base import ReportContext, sanitize
from meshctl.load.discover import STDIN_DISPLAY
from meshctl.report.text import summary_segments

if TYPE_CHECKING:
    from meshctl.pipeline import RunResult

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
MAX_PER_LEVEL = 10  # GitHub's limit per level and step
SUMMARY_LIMIT = 1_000_000  # bytes; GitHub refuses a step summary over 1 MiB
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~])")


class GithubReporter:
    name = "github"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        lines: list[str] = []
        cut = 0
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            findings = [f for f in result.findings if f.severity == severity]
            lines.extend(annotation(f) for f in findings[:MAX_PER_LEVEL])
            cut += max(len(findings) - MAX_PER_LEVEL, 0)
        if cut:
            noun = "finding" if cut == 1 else "findings"
            lines.append(f"{cut} more {noun} not annotated; see the summary")
        lines.append(summary_line(result, ctx))
        return "".join(line + "\n" for line in lines)


def annotation(f: Finding) -> str:
    """One workflow command: ``::error file=F,line=L,col=C,title=T::message``."""
    props: list[tuple[str, str]] = []
    loc = f.location
    if loc is not None and loc.file != STDIN_DISPLAY:
        props.append(("file", loc.file))
        if loc.line > 0:
            props.append(("line", str(loc.line)))
            if loc.column > 0:
                props.append(("col", str(loc.column)))
    props.append(("title", f"{f.code} {f.rule}"))
    rendered = ",".join(f"{key}={escape_property(sanitize(value))}" for key, value in props)
    return f"::{COMMANDS[f.severity]} {rendered}::{escape_data(sanitize(_message(f)))}"


def _message(f: Finding) -> str:
    """The message, then the context lines the text format shows under it."""
    lines = [f.message]
    loc = f.location
    if loc is not None and loc.file == STDIN_DISPLAY:
        lines[0] += f" ({loc.short()})"
    context = []
    if f.resource is not None and f.resource.kind:
        context.append(f"[{f.resource.display()}]")
    if loc is not None and loc.path:
        context.append(loc.path)
    if loc is not None and loc.template:
        context.append(f"(rendered from {loc.template})")
    if context:
        lines.append(" ".join(context))
    for related in f.related:
        where = f" at {related.location.short()}" if related.location else ""
        lines.append(f"note: {related.message}{where}")
    return "\n".join(lines)


def escape_data(text: str) -> str:
    """Escape a workflow command's message (what follows ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value, where ``:`` and ``,`` are delimiters."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def summary_line(result: RunResult, ctx: ReportContext) -> str:
    """The text format's closing line: counts by severity, files, resources."""
    return "".join(text for text, _ in summary_segments(result))


def step_summary(result: RunResult, ctx: ReportContext) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the summary line and a table of every finding.

    Rows that would take the text past GitHub's 1 MiB limit are left out and counted.
    """
    head = f"### meshctl {ctx.command}\n\n{summary_line(result, ctx)}\n"
    if not result.findings:
        return head
    ordered = sorted(result.findings, key=lambda f: -f.severity)
    table = "\n| Code | Severity | Location | Message |\n|---|---|---|---|\n"
    size = len((head + table).encode())
    rows: list[str] = []
    for f in ordered:
        row = _row(f)
        size += len(row.encode())
        if size > SUMMARY_LIMIT:
            break
        rows.append(row)
    out = head + table + "".join(rows)
    left = len(ordered) - len(rows)
    if left:
        out += f"\n{left} more findings left out of this summary (GitHub's size limit).\n"
    return out


def _row(f: Finding) -> str:
    where = f.location.short() if f.location else ""
    cells = (f"{f.code} {f.rule}", f.severity.label, where, _message(f))
    return "| " + " | ".join(markdown_cell(cell) for cell in cells) + " |\n"


def markdown_cell(text: str) -> str:
    """Input-derived text as literal text in one table cell: no markup, no HTML, one line."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(sanitize(text), quote=False))
    return escaped.replace("\n", "<br>")


REPORTER = GithubReporter()
