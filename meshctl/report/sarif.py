"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning (``upload-sarif``).

```json
{"$schema": "...sarif-2.1.0.json", "version": "2.1.0",
 "runs": [{"tool": {"driver": {"name": "meshctl", "version": "0.1.0",
                               "rules": [{"id": "MSH011", "name": "unknown-field", ...}]}},
           "automationDetails": {"id": "meshctl/validate/"},
           "columnKind": "unicodeCodePoints",
           "results": [{"ruleId": "MSH011", "ruleIndex": 0, "level": "error",
                        "message": {"text": "unknown field 'rout'; did you mean 'route'?"},
                        "locations": [{"physicalLocation": {
                            "artifactLocation": {"uri": "mesh/vs.yaml", "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": 9, "startColumn": 5}},
                          "logicalLocations": [{"name": "reviews", "kind": "object",
                            "fullyQualifiedName": "VirtualService shop/reviews"}]}],
                        "partialFingerprints": {"meshctlFingerprint/v1": "3f1c..."}}]}]}
```

``results`` is always present (GitHub rejects a run without it). Paths below the working
directory become URIs relative to ``%SRCROOT%``, the checkout root in CI; other absolute
paths become ``file://`` URIs. Fingerprints hash the code, the file, the resource and the
field path, never the line, so an alert survives lines inserted above it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from meshctl.diagnostics import Finding, Location, Related, ResourceRef, Severity
from meshctl.load.discover import STDIN_DISPLAY
from meshctl.report import json_text
from meshctl.report.base import ReportContext
from meshctl.rules.base import Rule
from meshctl.rules.registry import by_code

if TYPE_CHECKING:
    from meshctl.pipeline import RunResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "meshctlFingerprint/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
MAX_TAGS = 20  # GitHub's limit per rule
WHY_HEADING = "## Why it matters"


class SarifReporter:
    name = "sarif"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        first: dict[str, Finding] = {}
        for f in result.findings:
            first.setdefault(f.code, f)
        codes = sorted(first)
        rules = [_rule(code, first[code]) for code in codes]
        index = {code: i for i, code in enumerate(codes)}
        fingerprints = _fingerprints(result.findings)
        results = [
            _result(f, index[f.code], fingerprint)
            for f, fingerprint in zip(result.findings, fingerprints, strict=True)
        ]
        run: dict[str, Any] = {
            "tool": {"driver": {"name": "meshctl", "version": ctx.version, "rules": rules}},
            "automationDetails": {"id": f"meshctl/{ctx.command}/"},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }
        document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
        return json_text.dumps(document, ensure_ascii=False) + "\n"


def _rule(code: str, example: Finding) -> dict[str, Any]:
    """A ``reportingDescriptor`` from the rule's one declaration (docs included)."""
    rule = by_code(code)
    if rule is None or rule.code != code:
        # A code the registry does not know (a plugin, a hand-made finding): what the
        # finding itself says is all there is.
        return {
            "id": code,
            "name": example.rule,
            "shortDescription": {"text": example.rule},
            "defaultConfiguration": {"level": LEVELS[example.severity]},
            "properties": {"tags": _tags(None, example.istio_code)},
        }
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _why(rule) or rule.summary},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": _tags(rule, rule.istio_code)},
    }
    if rule.body:
        descriptor["help"] = {"text": rule.body, "markdown": rule.body}
    return descriptor


def _why(rule: Rule) -> str:
    """The "Why it matters" section of the rule's docs, as one paragraph."""
    lines = rule.body.splitlines()
    if WHY_HEADING not in lines:
        return ""
    section: list[str] = []
    for line in lines[lines.index(WHY_HEADING) + 1 :]:
        if line.startswith("## "):
            break
        section.append(line.strip())
    return " ".join(part for part in section if part)


def _tags(rule: Rule | None, istio_code: str | None) -> list[str]:
    tags = ["service-mesh", "configuration"]
    if istio_code:
        tags.append(f"istio/{istio_code}")
    if rule is not None:
        tags.extend(sorted({kind.rpartition("/")[2] for kind in rule.kinds}))
    return list(dict.fromkeys(tags))[:MAX_TAGS]


def _result(f: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": _message(f)},
    }
    location = _location(f.location, f.resource)
    if location:
        out["locations"] = [location]
    related = [_related(i, r) for i, r in enumerate(f.related, start=1)]
    if related:
        out["relatedLocations"] = related
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    properties = {
        key: value
        for key, value in (
            ("fieldPath", f.location.path if f.location else ""),
            ("renderedFrom", f.location.template if f.location else None),
            ("istioCode", f.istio_code),
        )
        if value
    }
    if properties:
        out["properties"] = properties
    return out


def _message(f: Finding) -> str:
    """The message; a position in standard input, which has no artifact, is added to it."""
    loc = f.location
    if loc is not None and loc.file == STDIN_DISPLAY:
        return f"{f.message} ({loc.short()})"
    return f.message


def _location(loc: Location | None, resource: ResourceRef | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    physical = _physical(loc)
    if physical:
        out["physicalLocation"] = physical
    if resource is not None and resource.kind:
        out["logicalLocations"] = [
            {"name": resource.name, "fullyQualifiedName": _qualified(resource), "kind": "object"}
        ]
    return out


def _related(ident: int, related: Related) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ident, "message": {"text": related.message}}
    physical = _physical(related.location)
    if physical:
        out["physicalLocation"] = physical
    return out


def _physical(loc: Location | None) -> dict[str, Any]:
    if loc is None or loc.file == STDIN_DISPLAY:
        return {}
    out: dict[str, Any] = {"artifactLocation": artifact_location(loc.file)}
    if loc.line > 0:
        region = {"startLine": loc.line}
        if loc.column > 0:
            region["startColumn"] = loc.column
        out["region"] = region
    return out


def artifact_location(file: str, root: Path | None = None) -> dict[str, str]:
    """A reported path as a SARIF artifact location.

    Relative paths (the loader reports paths below the working directory relative to it)
    are POSIX URI references from ``%SRCROOT%``; an absolute path below ``root`` (the
    working directory by default) is made relative to it; any other absolute path is a
    ``file://`` URI, which GitHub cannot map to the repository but which stays correct.
    """
    path = Path(file)
    if path.is_absolute():
        base = root if root is not None else Path.cwd()
        try:
            path = path.relative_to(base)
        except ValueError:
            return {"uri": path.as_uri()}
    posix = PurePosixPath(path.as_posix())
    parts = [part for part in posix.parts if part != "."]
    return {"uri": quote("/".join(parts), safe="/"), "uriBaseId": SRCROOT}


def _qualified(resource: ResourceRef) -> str:
    """``Kind namespace/name`` (``Kind name`` for cluster-scoped resources)."""
    if resource.namespace:
        return f"{resource.kind} {resource.namespace}/{resource.name}"
    return f"{resource.kind} {resource.name}"


def fingerprint_key(f: Finding) -> str:
    """What identifies a finding across commits: code, file, resource, field path; no line.

    Findings with no resource (a syntax error, an unused suppression) have nothing more
    stable than their message to tell them apart.
    """
    file = f.location.file if f.location else ""
    path = f.location.path if f.location else ""
    if f.resource is not None and f.resource.kind:
        group = f.resource.api_version.rpartition("/")[0]
        who = f"{group}/{f.resource.kind}\0{f.resource.namespace or ''}\0{f.resource.name}"
    else:
        who = f"\0\0{f.message}"
    return f"{f.code}\0{file}\0{who}\0{path}"


def _fingerprints(findings: list[Finding]) -> list[str]:
    """sha256 of each finding's key and its occurrence number among equal keys.

    The occurrence number keeps fingerprints unique in a run when two findings share a
    key; findings are sorted by position, so it stays the same when lines shift.
    """
    seen: dict[str, int] = {}
    out: list[str] = []
    for f in findings:
        key = fingerprint_key(f)
        seen[key] = seen.get(key, 0) + 1
        out.append(hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest())
    return out


REPORTER = SarifReporter()
