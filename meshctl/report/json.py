"""``--format json``: one JSON document, stable keys, for scripts and other tools.

```json
{"version": 1,
 "findings": [{"code", "rule", "severity", "message", "istio_code",
               "resource": {"apiVersion", "kind", "name", "namespace"} | null,
               "location": {"file", "line", "column", "path", "template"} | null,
               "related": [{"message", "location"}]}],
 "summary": {"files", "resources", "skipped", "suppressed", "error", "warning", "info"}}
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meshctl.diagnostics import Finding, Location, Severity
from meshctl.report import json_text
from meshctl.report.base import ReportContext

if TYPE_CHECKING:
    from meshctl.pipeline import RunResult


def location_dict(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "path": loc.path,
        "template": loc.template,
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    resource = None
    if f.resource is not None:
        resource = {
            "apiVersion": f.resource.api_version,
            "kind": f.resource.kind,
            "name": f.resource.name,
            "namespace": f.resource.namespace,
        }
    return {
        "code": f.code,
        "rule": f.rule,
        "severity": f.severity.label,
        "message": f.message,
        "istio_code": f.istio_code,
        "resource": resource,
        "location": location_dict(f.location),
        "related": [{"message": r.message, "location": location_dict(r.location)} for r in f.related],
    }


def summary_dict(result: RunResult) -> dict[str, int]:
    return {
        "files": result.files,
        "resources": result.resources,
        "skipped": result.skipped,
        "suppressed": result.suppressed,
        "error": result.count(Severity.ERROR),
        "warning": result.count(Severity.WARNING),
        "info": result.count(Severity.INFO),
    }


class JsonReporter:
    name = "json"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        document = {
            "version": 1,
            "findings": [finding_dict(f) for f in result.findings],
            "summary": summary_dict(result),
        }
        return json_text.dumps(document, ensure_ascii=False) + "\n"


REPORTER = JsonReporter()
