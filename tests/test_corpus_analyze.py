"""`meshctl analyze` on real public meshes: no false errors, no false warnings.

Each project of the corpus is analysed the way its users would run meshctl, one
repository (or sample) at a time, together with what its docs say to deploy first
(the rate-limit sample runs beside bookinfo). Analysing unrelated projects as one
mesh would make them collide in `default`, which says nothing about either.
Every error and warning found is listed in KNOWN with the reason it is right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshctl.diagnostics import Severity
from meshctl.options import Options
from meshctl.pipeline import run_analyze
from tests.conftest import CORPUS, requires_corpus
from tests.test_corpus import KNOWN as KNOWN_VALIDATE

pytestmark = requires_corpus()

DEPENDS = {"istio/samples/ratelimit": ("istio/samples/bookinfo",)}

KNOWN_ANALYZE = {
    ("istio/samples/bookinfo/networking/fault-injection-details-v1.yaml", "MSH140", 18):
        "http[1] follows a rule with no match (Istio's own validation warns: only the last rule may have no match)",
    ("istio/samples/bookinfo/policy/productpage_envoy_ratelimit.yaml", "MSH144", 23):
        "INSERT_BEFORE without priority (istioctl reports IST0151 here too)",
    ("istio/samples/ratelimit/local-rate-limit-service.yaml", "MSH144", 22):
        "INSERT_BEFORE without priority (istioctl reports IST0151 here too)",
    ("istio/testdata-config/rule-route-via-egressgateway.yaml", "MSH101", 27):
        "pilot test input: eu.bookinfo.com has no ServiceEntry among these files",
    ("istio/testdata-config/se-example-gw.yaml", "MSH101", 100):
        "pilot test input: httpbin.com is declared by no ServiceEntry (httpbin.org is)",
    ("istio/testdata-config/destination-rule-fqdn.yaml", "MSH106", 8):
        "pilot test input: host from the test's fake registry (istioctl reports IST0174 too)",
    ("istio/testdata-config/destination-rule-locality.yaml", "MSH106", 7): "the same",
    ("istio/testdata-config/destination-rule-passthrough.yaml", "MSH106", 7): "the same",
    ("istio/testdata-config/destination-rule-ssl.yaml", "MSH106", 8): "the same",
    ("istio/testdata-config/destination-rule-ssl.yaml", "MSH106", 23): "the same",
    ("istio/testdata-config/ingress.yaml", "MSH142", 46):
        "gateway route to service3 without subset while the mesh VirtualService splits it (IST0140)",
    **{
        ("istio/testdata-config/none.yaml", "MSH162", line): "TCP ServiceEntry port without addresses (IST0134)"
        for line in (193, 243, 267, 286, 305, 325)
    },
    ("istio/testdata-config/se-example-gw.yaml", "MSH162", 29): "TCP ServiceEntry port without addresses (IST0134)",
    ("istio/testdata-config/se-example.yaml", "MSH162", 39): "TCP ServiceEntry port without addresses (IST0134)",
    ("gateway-api/conformance/tests/backendtlspolicy-observed-generation-bump.yaml", "MSH113", 11):
        "a status-only conformance test: its Service selects pods nobody deploys (no traffic is sent)",
}
ALLOWED_WARNINGS = {"MSH012", "MSH013"}  # deprecations the corpus really uses


def _units() -> list[str]:
    units = [p for p in sorted((CORPUS / "istio" / "samples").iterdir()) if p.is_dir()]
    units += [CORPUS / "istio" / "testdata-config"]
    units += [CORPUS / "gateway-api" / "examples" / "standard", CORPUS / "gateway-api" / "examples" / "experimental",
              CORPUS / "gateway-api" / "conformance"]
    units += [p for p in sorted((CORPUS / "linkerd").iterdir()) if p.is_dir() and p.name != "linkerd2"]
    units += [p for p in sorted((CORPUS / "linkerd" / "linkerd2").iterdir()) if p.is_dir()]
    return [str(p.relative_to(CORPUS)) for p in units]


UNITS = _units() if CORPUS.is_dir() else []


@pytest.mark.parametrize("unit", UNITS)
def test_no_false_errors_or_warnings(unit: str) -> None:
    paths = (str(CORPUS / unit), *(str(CORPUS / d) for d in DEPENDS.get(unit, ())))
    result = run_analyze(Options(paths=paths))
    assert result.resources > 0
    reported = {
        (f.location.file.split("corpus/", 1)[1], f.code, f.location.line)
        for f in result.findings
        if f.severity >= Severity.WARNING and f.code not in ALLOWED_WARNINGS and f.location is not None
    }
    mine = {k for k in reported if k[0].startswith(unit + "/")}
    known = {k for k in {**KNOWN_VALIDATE, **KNOWN_ANALYZE} if k[0].startswith(unit + "/")}
    assert mine - known == set(), "findings on real configs that are not known to be right"
    assert known - mine == set(), "known problems no longer found"
