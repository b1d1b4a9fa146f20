"""``--format junit``: JUnit XML for GitLab, Jenkins and other CI test views.

```xml
<testsuites name="meshctl validate" tests="3" failures="1" errors="0">
  <testsuite name="mesh/vs.yaml" tests="2" failures="1" errors="0">
    <testcase classname="VirtualService@networking.istio.io/v1"
              name="MSH011 shop/reviews spec.http[0].rout" file="mesh/vs.yaml" line="9">
      <failure type="MSH011" message="unknown field 'rout'">mesh/vs.yaml:9:5 error ...</failure>
    </testcase>
    <testcase classname="Service@v1" name="shop/reviews" file="mesh/vs.yaml" line="14"/>
  </testsuite>
</testsuites>
```
One testsuite per input file, one testcase per finding, and one passing testcase per
resource without findings so the passes show too. Errors and warnings are failures; info
findings pass and carry their text in ``<system-out>``. ElementTree escapes the markup;
characters XML 1.0 cannot hold at all are sanitised first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from meshctl.diagnostics import Finding, ResourceRef, Severity
from meshctl.report.base import ReportContext, sanitize

if TYPE_CHECKING:
    from meshctl.load.document import SourceDoc
    from meshctl.pipeline import RunResult

NO_FILE = "(no file)"  # the suite of findings about the run itself (an unused suppression)
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


class JunitReporter:
    name = "junit"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        suites: dict[str, list[ET.Element]] = {}
        for doc in result.docs:
            suites.setdefault(doc.file, [])
        for f in result.findings:
            suites.setdefault(_file(f), []).append(_finding_case(f))
        flagged = {(_file(f), f.resource) for f in result.findings if f.resource is not None}
        for doc in result.docs:
            if (doc.file, doc.ref) not in flagged:
                suites[doc.file].append(_clean_case(doc))
        root = ET.Element("testsuites", name=_text(f"meshctl {ctx.command}"))
        for name, cases in suites.items():
            suite = ET.SubElement(root, "testsuite", name=_text(name))
            suite.extend(cases)
            _count(suite, cases)
        _count(root, [case for suite in root for case in suite])
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _file(f: Finding) -> str:
    return f.location.file if f.location is not None else NO_FILE


def _count(element: ET.Element, cases: list[ET.Element]) -> None:
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(1 for case in cases if case.find("failure") is not None)))
    element.set("errors", "0")


def _finding_case(f: Finding) -> ET.Element:
    case = ET.Element(
        "testcase", classname=_text(_classname(f.resource, _file(f))), name=_text(_name(f))
    )
    if f.location is not None:
        case.set("file", _text(f.location.file))
        case.set("line", str(f.location.line))
    if f.severity >= Severity.WARNING:
        failure = ET.SubElement(case, "failure", type=f.code, message=_text(f.message))
        failure.text = _text(_body(f))
    else:
        ET.SubElement(case, "system-out").text = _text(_body(f))
    return case


def _clean_case(doc: SourceDoc) -> ET.Element:
    ref = doc.ref
    return ET.Element(
        "testcase",
        classname=_text(_classname(ref, doc.file)),
        name=_text(_who(ref) or f"document {doc.index + 1}"),
        file=_text(doc.file),
        line=str(doc.line),
    )


def _classname(resource: ResourceRef | None, file: str) -> str:
    """``Kind@apiVersion`` as kubeconform writes it, or the file for findings on no resource."""
    if resource is None or not resource.kind:
        return file
    return f"{resource.kind}@{resource.api_version}"


def _who(resource: ResourceRef) -> str:
    return f"{resource.namespace}/{resource.name}" if resource.namespace else resource.name


def _name(f: Finding) -> str:
    """``CODE namespace/name path``; findings on no resource name their position or message."""
    parts = [f.code]
    if f.resource is not None and f.resource.kind:
        parts.append(_who(f.resource))
        if f.location is not None and f.location.path:
            parts.append(f.location.path)
    elif f.location is not None:
        parts.append(f.location.path or f.location.short())
    else:
        parts.append(f.message)
    return " ".join(part for part in parts if part)


def _body(f: Finding) -> str:
    """The finding as the text format prints it, without the source excerpt."""
    where = f"{f.location.short()} " if f.location is not None else ""
    lines = [f"{where}{f.severity.label} {f.code} {f.message}"]
    context = []
    if f.resource is not None and f.resource.kind:
        context.append(f"[{f.resource.display()}]")
    if f.location is not None and f.location.path:
        context.append(f.location.path)
    if f.location is not None and f.location.template:
        context.append(f"(rendered from {f.location.template})")
    if context:
        lines.append("  " + " ".join(context))
    for related in f.related:
        at = f" at {related.location.short()}" if related.location else ""
        lines.append(f"  note: {related.message}{at}")
    return "\n".join(lines)


def _text(value: str) -> str:
    """Input-derived text XML 1.0 can hold: control characters become visible escapes."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", sanitize(value))


REPORTER = JunitReporter()
