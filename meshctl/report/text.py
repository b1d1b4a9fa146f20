"""``--format text`` (the default): ``file:line:col severity CODE message``, the line, a caret.

```
testdata/demo/shop/cart.yaml:14:7 error MSH011 unknown field 'rout'; did you mean 'route'?
  [VirtualService cart.shop] spec.http[0].rout
   14 |     - rout:
      |       ^
3 errors, 1 warning, 0 info in 6 files (41 resources checked, 2 skipped)
```
Colour (through rich) only when writing to a terminal and NO_COLOR is unset; the text
is the same either way. Everything taken from the input is sanitised first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshctl.diagnostics import Finding, Severity
from meshctl.report.base import ReportContext, sanitize

if TYPE_CHECKING:
    from meshctl.pipeline import RunResult

Segment = tuple[str, str]  # (text, rich style)
STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
MAX_SOURCE_WIDTH = 160


class TextReporter:
    name = "text"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        lines: list[list[Segment]] = []
        for finding in result.findings:
            lines.extend(_finding_lines(finding, result))
        lines.append(summary_segments(result))
        if not ctx.color:
            return "".join("".join(text for text, _ in line) + "\n" for line in lines)
        return _render_rich(lines, ctx)


def _finding_lines(f: Finding, result: RunResult) -> list[list[Segment]]:
    loc = f.location
    head: list[Segment] = []
    if loc is not None:
        head.append((sanitize(loc.short()) + " ", "bold"))
    head.append((f.severity.label, STYLES[f.severity]))
    head.append((f" {f.code} ", "dim"))
    head.append((sanitize(f.message), ""))
    out = [head]
    context: list[str] = []
    if f.resource is not None and f.resource.kind:
        context.append(f"[{sanitize(f.resource.display())}]")
    if loc is not None and loc.path:
        context.append(sanitize(loc.path))
    if loc is not None and loc.template:
        context.append(f"(rendered from {sanitize(loc.template)})")
    if context:
        out.append([("  " + " ".join(context), "dim")])
    for related in f.related:
        where = f" at {sanitize(related.location.short())}" if related.location else ""
        out.append([(f"  note: {sanitize(related.message)}{where}", "dim")])
    source = result.source_lines(loc.file) if loc is not None else None
    if loc is not None and source and 0 < loc.line <= len(source):
        text = sanitize(source[loc.line - 1].replace("\t", " "))
        caret = loc.column - 1
        if len(text) > MAX_SOURCE_WIDTH:
            start = max(0, min(caret - MAX_SOURCE_WIDTH // 2, len(text) - MAX_SOURCE_WIDTH))
            text = text[start : start + MAX_SOURCE_WIDTH]
            caret -= start
        gutter = f"{loc.line:>5} | "
        out.append([(gutter, "dim"), (text, "")])
        out.append([(" " * 5 + " | ", "dim"), (" " * max(caret, 0) + "^", STYLES[f.severity])])
    return out


def summary_segments(result: RunResult) -> list[Segment]:
    def plural(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 or word == "info" else f"{n} {word}s"

    errors, warnings, infos = (result.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    style = "bold red" if errors else ("yellow" if warnings else "green")
    counts = f"{plural(errors, 'error')}, {plural(warnings, 'warning')}, {plural(infos, 'info')}"
    scope = (
        f" in {plural(result.files, 'file')} ({result.resources} resources checked, "
        f"{result.skipped} skipped"
    )
    if result.suppressed:
        scope += f", {result.suppressed} findings suppressed"
    return [(counts, style), (scope + ")", "")]


def _render_rich(lines: list[list[Segment]], ctx: ReportContext) -> str:
    from rich.console import Console
    from rich.text import Text

    console = Console(
        force_terminal=True, color_system="standard", width=max(ctx.width, 40),
        record=False, soft_wrap=True, highlight=False, markup=False, emoji=False,
    )
    with console.capture() as capture:
        for line in lines:
            text = Text()
            for segment, style in line:
                text.append(segment, style=style or None)
            console.print(text)
    return capture.get()


REPORTER = TextReporter()
