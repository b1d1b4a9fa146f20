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
CONFORMANCE_BASE = "gateway-api/conformance/base"

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
    # Gateway API conformance tests that check a route or Gateway is refused: the suite
    # expects Accepted/ResolvedRefs False there (files named *-invalid-* and a few others)
    ("gateway-api/conformance/tests/gateway-secret-invalid-reference-grant.yaml", "MSH303", 20):
        "the ReferenceGrant in the Secret's namespace names another Secret (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/gateway-secret-missing-reference-grant.yaml", "MSH303", 20):
        "certificateRef to another namespace with no ReferenceGrant (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/gateway-with-attached-routes.yaml", "MSH304", 87):
        "http-route-3 repeats http-route-2's catch-all on the same listener (the test counts attachments)",
    ("gateway-api/conformance/tests/gateway-with-attached-routes.yaml", "MSH301", 99):
        "http-route-not-accepted: 'mismatched hostname ... triggers NoMatchingListenerHostname'",
    ("gateway-api/conformance/tests/gateway-with-attached-routes.yaml", "MSH302", 152):
        "http-route-4 routes to Service does-not-exist (the unresolved route of the test)",
    ("gateway-api/conformance/tests/httproute-disallowed-kind.yaml", "MSH305", 27):
        "HTTPRoute on a listener whose allowedRoutes.kinds is TLSRoute only (NotAllowedByListeners)",
    ("gateway-api/conformance/tests/httproute-hostname-intersection.yaml", "MSH301", 143):
        "route no-intersecting-hosts (NoMatchingListenerHostname expected)",
    ("gateway-api/conformance/tests/httproute-invalid-cross-namespace-backend-ref.yaml", "MSH303", 12):
        "cross-namespace backendRef without ReferenceGrant (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/httproute-invalid-cross-namespace-parent-ref.yaml", "MSH305", 8):
        "route in another namespace than the Same-only Gateway (NotAllowedByListeners expected)",
    ("gateway-api/conformance/tests/httproute-invalid-nonexistent-backendref.yaml", "MSH302", 11):
        "backendRef to Service nonexistent (BackendNotFound expected)",
    ("gateway-api/conformance/tests/httproute-invalid-parentref-not-matching-listener-port.yaml", "MSH300", 11):
        "port 81 matches no listener (NoMatchingParent expected)",
    ("gateway-api/conformance/tests/httproute-invalid-parentref-not-matching-section-name.yaml", "MSH300", 12):
        "sectionName http1 matches no listener (NoMatchingParent expected)",
    ("gateway-api/conformance/tests/httproute-invalid-parentref-section-name-not-matching-port.yaml", "MSH300", 29):
        "listener http is on port 80, the parentRef says 81 (NoMatchingParent expected)",
    ("gateway-api/conformance/tests/httproute-invalid-reference-grant.yaml", "MSH303", 118):
        "the ReferenceGrant names another Service (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/httproute-partially-invalid-via-invalid-reference-grant.yaml", "MSH303", 31):
        "the second backendRef is not granted (the route is partially invalid by design)",
    ("gateway-api/conformance/tests/listenerset-dual-parentref-independence.yaml", "MSH300", 74):
        "sectionName of a ListenerSet listener on the Gateway parentRef ('We expect to see Accepted=False')",
    ("gateway-api/conformance/tests/listenerset-gateway-parent-section-name-not-found.yaml", "MSH300", 72):
        "sectionName of a ListenerSet listener on the Gateway parentRef (NoMatchingParent expected)",
    ("gateway-api/conformance/tests/tcproute-invalid-backendref-nonexistent.yaml", "MSH302", 27):
        "backendRef to nonexistent-service (BackendNotFound expected)",
    ("gateway-api/conformance/tests/tcproute-invalid-cross-namespace-backend-ref.yaml", "MSH303", 86):
        "cross-namespace backendRef without ReferenceGrant (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/tcproute-invalid-non-tcp-listener.yaml", "MSH305", 23):
        "TCPRoute on a listener that admits HTTPRoutes only (NotAllowedByListeners expected)",
    ("gateway-api/conformance/tests/tcproute-invalid-non-tcp-listener.yaml", "MSH302", 27):
        "its backend tcp-echo-backend is not deployed either",
    ("gateway-api/conformance/tests/tlsroute-invalid-backendref-nonexistent.yaml", "MSH302", 31):
        "backendRef to Service nonexistent (BackendNotFound expected)",
    ("gateway-api/conformance/tests/tlsroute-invalid-no-matching-listener-hostname.yaml", "MSH301", 51):
        "TLSRoute hostnames miss the exact listener hostname (NoMatchingListenerHostname expected)",
    ("gateway-api/conformance/tests/tlsroute-invalid-no-matching-listener-hostname.yaml", "MSH301", 67):
        "TLSRoute hostnames miss the wildcard listener hostname (NoMatchingListenerHostname expected)",
    ("gateway-api/conformance/tests/tlsroute-invalid-no-matching-listener.yaml", "MSH305", 61):
        "TLSRoute on an HTTP-only Gateway (NotAllowedByListeners expected)",
    ("gateway-api/conformance/tests/tlsroute-invalid-no-matching-listener.yaml", "MSH305", 76):
        "TLSRoute on an HTTPS-only Gateway (NotAllowedByListeners expected)",
    ("gateway-api/conformance/tests/tlsroute-invalid-no-matching-listener.yaml", "MSH300", 92):
        "sectionName nonexistent-listener (NoMatchingParent expected)",
    ("gateway-api/conformance/tests/tlsroute-invalid-reference-grant.yaml", "MSH303", 120):
        "the ReferenceGrant does not cover the backend (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/udproute-invalid-backendref-nonexistent.yaml", "MSH302", 27):
        "backendRef to nonexistent-service (BackendNotFound expected)",
    ("gateway-api/conformance/tests/udproute-invalid-cross-namespace-backend-ref.yaml", "MSH302", 27):
        "the ungranted backend is not deployed either",
    ("gateway-api/conformance/tests/udproute-invalid-cross-namespace-backend-ref.yaml", "MSH303", 28):
        "cross-namespace backendRef without ReferenceGrant (RefNotPermitted expected)",
    ("gateway-api/conformance/tests/udproute-not-allowed-by-listeners.yaml", "MSH305", 25):
        "UDPRoute on a TLS-only Gateway (NotAllowedByListeners expected)",
    ("linkerd/website-docs/2-edge/tasks/flagger.yaml", "MSH302", 56):
        "the docs' Services expose 8989, the HTTPRoute sends to 9898 (podinfo's port): a typo in the docs",
    ("linkerd/website-docs/2-edge/tasks/flagger.yaml", "MSH302", 59): "the same",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH321", 132):
        "docs bug: the Server's port is `http` but the container port is named `http-port`",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH331", 127):
        "config.linkerd.io/default-inbound-policy on a Server is ignored (Servers have accessPolicy)",
    ("linkerd/linkerd2/cli-inject/inject_emojivoto_deployment_opaque_ports.golden.yml", "MSH330", 14):
        "opaque port `mysql` is not a port of the web pod, so Linkerd skips it",
    ("linkerd/linkerd2/integration-tests/external/external_prometheus.yaml", "MSH329", 206):
        "linkerd.io/inject as a pod label: Linkerd reads only the annotation",
}
ALLOWED_WARNINGS = {"MSH012", "MSH013"}  # deprecations the corpus really uses


def _gateway_api_units() -> list[Path]:
    """Gateway API examples and conformance tests one at a time, as they are applied.

    Each example folder, and each top-level example file, is a scenario of its own (many
    reuse `example-gateway` in `default` with other listeners). The conformance suite
    applies one test at a time on top of `conformance/base` and deletes it afterwards
    (`_depends`); together, their catch-all routes on the shared Gateways would shadow
    each other and their Gateways of one name would merge.
    """
    root = CORPUS / "gateway-api"
    units: list[Path] = []
    for channel in ("standard", "experimental"):
        folder = root / "examples" / channel
        for entry in sorted(folder.iterdir()):
            if entry.is_file() or any(entry.glob("*.yaml")):
                units.append(entry)
            else:
                units += sorted(p for p in entry.iterdir() if p.is_dir())
    units.append(root / "conformance" / "base")
    units += sorted((root / "conformance" / "tests").rglob("*.yaml"))
    return units


def _depends(unit: str) -> tuple[str, ...]:
    if unit.startswith("gateway-api/conformance/tests/") and "/mesh/" not in unit:
        return (CONFORMANCE_BASE,)
    namespaces = (CORPUS / unit).parent / "0-namespaces.yaml"
    if unit.startswith("gateway-api/examples/") and (CORPUS / unit).is_file() and namespaces.is_file():
        return (str(namespaces.relative_to(CORPUS)),) if CORPUS / unit != namespaces else ()
    return DEPENDS.get(unit, ())


def _in(unit: str, file: str) -> bool:
    return file == unit or file.startswith(unit + "/")


def _units() -> list[str]:
    units = [p for p in sorted((CORPUS / "istio" / "samples").iterdir()) if p.is_dir()]
    units += [CORPUS / "istio" / "testdata-config"]
    units += _gateway_api_units()
    # Each Linkerd docs page is a tutorial of its own: analysed one page at a time.
    units += [p for p in sorted((CORPUS / "linkerd").iterdir()) if p.is_dir() and p.name not in ("linkerd2", "website-docs")]
    units += sorted((CORPUS / "linkerd" / "website-docs").rglob("*.yaml"))
    units += [p for p in sorted((CORPUS / "linkerd" / "linkerd2").iterdir()) if p.is_dir()]
    return [str(p.relative_to(CORPUS)) for p in units]


UNITS = _units() if CORPUS.is_dir() else []


@pytest.mark.parametrize("unit", UNITS)
def test_no_false_errors_or_warnings(unit: str) -> None:
    paths = (str(CORPUS / unit), *(str(CORPUS / d) for d in _depends(unit)))
    result = run_analyze(Options(paths=paths))
    assert result.files > 0  # (some docs pages hold only cert-manager objects: nothing to check)
    reported = {
        (f.location.file.split("corpus/", 1)[1], f.code, f.location.line)
        for f in result.findings
        if f.severity >= Severity.WARNING and f.code not in ALLOWED_WARNINGS and f.location is not None
    }
    mine = {k for k in reported if _in(unit, k[0])}
    known = {k for k in {**KNOWN_VALIDATE, **KNOWN_ANALYZE} if _in(unit, k[0])}
    assert mine - known == set(), "findings on real configs that are not known to be right"
    assert known - mine == set(), "known problems no longer found"
