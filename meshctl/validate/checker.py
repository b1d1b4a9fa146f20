"""One document in, its findings out: identity, version, schema, value checks.

Before: a SourceDoc for ``networking.istio.io/v1alpha3 VirtualService reviews``.
After: ``Checked(status="valid", findings=[MSH012 deprecated version..., MSH020 ...])``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import NamedTuple

from meshctl.diagnostics import Finding
from meshctl.load.document import SourceDoc
from meshctl.rules.input import msh003_not_a_resource as not_resource
from meshctl.rules.input import msh005_unknown_kind as unknown_kind
from meshctl.rules.input import msh010_schema_violation as violation
from meshctl.rules.input import msh012_deprecated_api_version as deprecated_version
from meshctl.rules.input import msh014_unknown_api_version as unknown_version
from meshctl.rules.input import msh015_experimental_field as experimental
from meshctl.validate.catalog import Catalog
from meshctl.validate.engine import SchemaEngine
from meshctl.validate.rule_index import ValueChecks

IGNORE_ANNOTATION = "meshctl.io/ignore"
ISTIO_SUPPRESS_ANNOTATION = "galley.istio.io/analyze-suppress"


class Checked(NamedTuple):
    status: str  # "checked" | "skipped" | "invalid"
    findings: list[Finding]


class DocumentChecker:
    def __init__(self, catalog: Catalog, *, strict_kinds: bool = False, gateway_api_channel: str = "experimental") -> None:
        self.catalog = catalog
        self.engine = SchemaEngine(catalog)
        self.strict_kinds = strict_kinds
        self.standard_channel = gateway_api_channel == "standard"
        self.checks = ValueChecks()  # imports the checks of a kind when it is first met

    def check(self, doc: SourceDoc) -> Checked:
        status, findings = self._check(doc)
        return Checked(status, _unless_ignored(doc, findings))

    def _check(self, doc: SourceDoc) -> tuple[str, list[Finding]]:
        problem = _identity_problem(doc)
        if problem:
            return "invalid", [not_resource.RULE.at(doc, problem[0], problem[1], key=True)]
        lookup = self.catalog.lookup(doc.api_version, doc.kind)
        if lookup.entry is None:
            if lookup.problem:
                field_name = "apiVersion" if "version" in lookup.problem else "kind"
                return "invalid", [unknown_version.RULE.at(doc, (field_name,), lookup.problem)]
            if self.strict_kinds:
                message = f"{doc.api_version} {doc.kind} is not a kind meshctl checks"
                return "invalid", [unknown_kind.RULE.at(doc, ("kind",), message)]
            return "skipped", []
        entry = lookup.entry
        findings: list[Finding] = []
        if self.standard_channel and entry.channel == "experimental":
            message = f"{doc.api_version} {doc.kind} is served only by Gateway API's experimental channel"
            return "invalid", [experimental.RULE.at(doc, ("apiVersion",), message)]
        if self.standard_channel and entry.family == "gateway-api":
            findings.extend(self.engine.experimental_fields(doc, entry.schema))
        if entry.deprecated:
            findings.append(
                deprecated_version.RULE.at(
                    doc,
                    ("apiVersion",),
                    f"{doc.api_version} {doc.kind} is deprecated; use {entry.deprecated}",
                )
            )
        findings.extend(self.engine.check(doc, entry.schema))
        if not doc.name and not doc.metadata.get("generateName") and not doc.kind.endswith("List"):
            if isinstance(doc.data.get("metadata"), dict):
                findings.append(
                    violation.RULE.at(doc, ("metadata", "name"), "missing required field 'name'")
                )
        schema_clean = not findings or all(f.code != violation.RULE.code for f in findings)
        findings.extend(self._value_checks(doc, schema_clean))
        return "checked", findings

    def _value_checks(self, doc: SourceDoc, schema_clean: bool) -> Iterator[Finding]:
        for rule in self.checks.for_kind(doc.kind_key):
            assert rule.check_fn is not None
            try:
                yield from list(rule.check_fn(doc))
            except (TypeError, AttributeError, KeyError, IndexError, ValueError):
                # A shape the schema already rejected; the schema findings explain it.
                if schema_clean:
                    raise


def _identity_problem(doc: SourceDoc) -> tuple[tuple[str, ...], str] | None:
    for key in ("apiVersion", "kind"):
        value = doc.data.get(key)
        if value is None:
            return (), f"document has no {key!r}: not a Kubernetes resource"
        if not isinstance(value, str) or not value:
            return (key,), f"{key!r} must be a non-empty string"
    metadata = doc.data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return ("metadata",), "'metadata' must be a mapping"
    return None


def _unless_ignored(doc: SourceDoc, findings: list[Finding]) -> list[Finding]:
    """Drop findings the resource itself suppresses by annotation."""
    if not findings:
        return findings
    return [f for f in findings if not ignored_by_annotations(doc.annotations, f)]


def ignored_by_annotations(annotations: dict[str, object], finding: Finding) -> bool:
    """``meshctl.io/ignore: "MSH011,MSH2*"`` by code glob; Istio's annotation by Istio code."""
    ours = annotations.get(IGNORE_ANNOTATION)
    istio = annotations.get(ISTIO_SUPPRESS_ANNOTATION)
    if isinstance(ours, str):
        patterns = [p.strip() for p in ours.split(",") if p.strip()]
        if any(fnmatch.fnmatchcase(finding.code, p) for p in patterns):
            return True
    if isinstance(istio, str):
        codes = [p.strip() for p in istio.split(",")]
        if "*" in codes or (finding.istio_code is not None and finding.istio_code in codes):
            return True
    return False
