"""Every live check (MSH500-MSH517) fires on a cluster state that has the problem and is
silent on its near miss. States are built from YAML, as the reader would have read them."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest

from meshctl.cluster.convert import clean, to_doc
from meshctl.cluster.discovery import wanted
from meshctl.cluster.run import run_diagnose
from meshctl.cluster.state import LiveState, Skip
from meshctl.diagnostics import Finding
from meshctl.options import Options
from meshctl.rules.live._live import CHECKS, image_tag, live_rules, selects
from meshctl.validate.catalog import Catalog
from tests.cluster.conftest import objects

EVERY_KIND = {f"{g}/{k}" for g, kinds in wanted(Catalog.default(), "experimental").items() for k in kinds}


def state_of(text: str, *, namespaces: tuple[str, ...] | None = None, version: str = "v1.30.2",
             check_certificates: bool = False, secrets: dict[tuple[str, str], dict[str, bytes]] | None = None,
             now: dt.datetime | None = None) -> LiveState:
    state = LiveState("test", "https://127.0.0.1:6443", namespaces, version={"gitVersion": version},
                      served={"": ["v1"], "networking.istio.io": ["v1"], "gateway.networking.k8s.io": ["v1"]},
                      check_certificates=check_certificates)
    for obj in objects(text):
        doc, generated = to_doc("test", clean(obj, obj["apiVersion"], obj["kind"]))
        state.add(doc, generated)
    state.listed = set(EVERY_KIND) | {"control-plane"}
    state.tls_secrets = dict(secrets or {})
    if now is not None:
        state.now = now
    return state


def findings(state: LiveState, code: str) -> list[Finding]:
    result = run_diagnose(Options(paths=(), select=(code,), closed_world=True), state)
    return [f for f in result.findings if f.code == code]


def ns(name: str, **labels: str) -> str:
    return f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {labels or {}}}}\n"


def pod(name: str, namespace: str, *, labels: str = "{app: web}", proxy: str | None = None, ready: bool = True,
        image: str = "shop/web:1", annotations: str | None = None) -> str:
    containers = f'[{{name: app, image: "{image}"}}'
    if proxy:
        containers += f', {{name: istio-proxy, image: "docker.io/istio/proxyv2:{proxy}"}}'
    containers += "]"
    if annotations is None:
        annotations = "{sidecar.istio.io/status: '{\"revision\":\"default\"}'}" if proxy else "{}"
    return f"""---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}, annotations: {annotations}}}
spec: {{containers: {containers}}}
status: {{phase: Running, podIP: 10.0.0.9, conditions: [{{type: Ready, status: "{ready}"}}]}}
"""


def istiod(version: str = "1.22.0", ready: int = 1) -> str:
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: istiod, namespace: istio-system, labels: {{app: istiod}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: istiod}}}}
  template:
    metadata: {{labels: {{app: istiod}}}}
    spec: {{containers: [{{name: discovery, image: "docker.io/istio/pilot:{version}"}}]}}
status: {{replicas: 1, readyReplicas: {ready}}}
"""


SERVICE = """---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
"""
ROUTE_TO_SUBSET = """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
"""


def slice_(ready: bool) -> str:
    return f"""---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: reviews-abc, namespace: shop, labels: {{kubernetes.io/service-name: reviews}}}}
addressType: IPv4
ports: [{{name: http, port: 9080}}]
endpoints: [{{addresses: [10.0.0.9], conditions: {{ready: {str(ready).lower()}}}}}]
"""


def webhook_config(name: str, hook: str, *, selector: str, service: str = "{name: istiod, namespace: istio-system}",
                   url: str | None = None, kind: str = "MutatingWebhookConfiguration") -> str:
    client = f'{{url: "{url}"}}' if url is not None else f"{{service: {service}}}"
    return f"""---
apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata: {{name: {name}}}
webhooks:
- name: {hook}
  clientConfig: {client}
  namespaceSelector: {selector}
  sideEffects: None
  admissionReviewVersions: [v1]
"""


INJECTOR = webhook_config("istio-sidecar-injector", "namespace.sidecar-injector.istio.io",
                          selector="{matchLabels: {istio-injection: enabled}}")
ISTIOD_SERVICE = """---
apiVersion: v1
kind: Service
metadata: {name: istiod, namespace: istio-system}
spec: {selector: {app: istiod}, ports: [{name: https-webhook, port: 443}]}
"""


def image_auto_deployment(namespace: str) -> str:
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ingress, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  template:
    metadata: {{labels: {{istio: ingressgateway}}}}
    spec: {{containers: [{{name: istio-proxy, image: auto}}]}}
"""


def route_status(accepted: str, observed: int = 1) -> str:
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: shop, namespace: shop, generation: 1}}
spec: {{parentRefs: [{{name: web}}], rules: [{{backendRefs: [{{name: reviews, port: 9080}}]}}]}}
status:
  parents:
  - parentRef: {{name: web}}
    controllerName: istio.io/gateway-controller
    conditions:
    - {{type: Accepted, status: "{accepted}", reason: NotAllowedByListeners, message: no listener allows it,
       observedGeneration: {observed}, lastTransitionTime: "2024-01-01T00:00:00Z"}}
"""


def crd(version: str) -> str:
    return f"""---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
  annotations: {{gateway.networking.k8s.io/bundle-version: {version}, gateway.networking.k8s.io/channel: standard}}
"""


def server(selector: str) -> str:
    return f"""---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {{name: api-http, namespace: shop}}
spec: {{podSelector: {{matchLabels: {{app: {selector}}}}}, port: http}}
"""


def gateway_with_secret() -> str:
    return """---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: web-cert}
"""


@pytest.fixture(scope="module")
def long_lived(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    d = tmp_path_factory.mktemp("longcert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", "k.pem", "-out", "c.pem", "-days", "365", "-subj", "/CN=root.linkerd.cluster.local"],
                   cwd=d, check=True, capture_output=True, timeout=30)
    return (d / "c.pem").read_bytes(), (d / "k.pem").read_bytes()


def trust_roots(pem: bytes) -> str:
    indented = "\n".join("    " + line for line in pem.decode().splitlines())
    return f"""---
apiVersion: v1
kind: ConfigMap
metadata: {{name: linkerd-identity-trust-roots, namespace: linkerd}}
data:
  ca-bundle.crt: |
{indented}
"""


LATER = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)

# code -> (firing state, near-miss state, a phrase the finding says)
CASES: dict[str, tuple[Any, Any, str]] = {
    "MSH500": (
        lambda _: state_of(ns("batch", **{"istio-injection": "disabled"}) + pod("report", "batch", proxy="1.22.0")),
        lambda _: state_of(ns("batch", **{"istio-injection": "enabled"}) + pod("report", "batch", proxy="1.22.0")),
        "istio-injection: disabled",
    ),
    "MSH501": (
        lambda _: state_of(istiod("1.22.3") + ns("shop") + pod("a", "shop", proxy="1.21.0") + pod("b", "shop", proxy="1.21.0")),
        lambda _: state_of(istiod("1.22.3") + ns("shop") + pod("a", "shop", proxy="1.22.3-distroless")),
        "2 pods run istio-proxy 1.21.0 (a, b) but istiod (revision default) runs 1.22.3",
    ),
    "MSH502": (
        lambda _: state_of(SERVICE + ROUTE_TO_SUBSET + pod("r1", "shop", labels="{app: reviews, version: v1}", ready=False)),
        lambda _: state_of(SERVICE + ROUTE_TO_SUBSET + pod("r1", "shop", labels="{app: reviews, version: v1}")),
        "subset 'v1': its 1 pod with version=v1 are not ready",
    ),
    "MSH503": (
        lambda _: state_of(server("api") + pod("api-1", "shop", labels="{app: shop-api}")),
        lambda _: state_of(server("shop-api") + pod("api-1", "shop", labels="{app: shop-api}")),
        "Server 'api-http' selects no running, ready pod",
    ),
    "MSH504": (
        lambda _: state_of(SERVICE + ROUTE_TO_SUBSET + slice_(False)),
        lambda _: state_of(SERVICE + ROUTE_TO_SUBSET + slice_(True)),
        "routes to Service reviews.shop, but its EndpointSlices list 1 address, none ready",
    ),
    "MSH505": (
        lambda _: state_of(ISTIOD_SERVICE + webhook_config(
            "istio-sidecar-injector-canary", "rev.namespace.sidecar-injector.istio.io",
            selector="{matchLabels: {istio.io/rev: canary}}", service="{name: istiod-canary, namespace: istio-system}")),
        lambda _: state_of(ISTIOD_SERVICE + webhook_config(
            "istio-sidecar-injector", "rev.namespace.sidecar-injector.istio.io",
            selector="{matchLabels: {istio.io/rev: default}}", service="{name: istiod, namespace: istio-system, port: 443}")),
        "calls Service istiod-canary.istio-system, which does not exist",
    ),
    "MSH506": (
        lambda _: state_of(INJECTOR + webhook_config(
            "istio-revision-tag-default", "rev.namespace.sidecar-injector.istio.io",
            selector="{matchExpressions: [{key: istio.io/rev, operator: In, values: [default]}]}")
            + ns("shop", **{"istio-injection": "enabled", "istio.io/rev": "default"})),
        lambda _: state_of(INJECTOR + webhook_config(
            "istio-revision-tag-default", "rev.namespace.sidecar-injector.istio.io",
            selector="{matchExpressions: [{key: istio.io/rev, operator: In, values: [default]}]}")
            + ns("shop", **{"istio-injection": "enabled"})),
        "both select any pod in namespace 'shop'",
    ),
    "MSH507": (
        lambda _: state_of(webhook_config("istio-sidecar-injector-external-istiod", "rev.namespace.sidecar-injector.istio.io",
                                          selector="{}", url="http://istiod.example.com:15017/inject")),
        lambda _: state_of(webhook_config("istio-sidecar-injector-external-istiod", "rev.namespace.sidecar-injector.istio.io",
                                          selector="{}", url="https://istiod.example.com:15017/inject")),
        "is not https",
    ),
    "MSH508": (
        lambda _: state_of(webhook_config("istio-sidecar-injector-external-istiod", "rev.namespace.sidecar-injector.istio.io",
                                          selector="{}", url="https://203.0.113.10:15017/inject")),
        lambda _: state_of(webhook_config("istio-sidecar-injector-external-istiod", "rev.namespace.sidecar-injector.istio.io",
                                          selector="{}", url="https://istiod.example.com:15017/inject")),
        "at IP address 203.0.113.10",
    ),
    "MSH509": (
        lambda _: state_of(INJECTOR + ns("edge") + image_auto_deployment("edge")),
        lambda _: state_of(INJECTOR + ns("edge", **{"istio-injection": "enabled"}) + image_auto_deployment("edge")),
        "uses image: auto but no injector webhook selects its pods in namespace 'edge'",
    ),
    "MSH510": (
        lambda _: state_of(pod("ingress-1", "edge", image="auto")),
        lambda _: state_of(pod("ingress-1", "edge", image="docker.io/istio/proxyv2:1.22.0")),
        "was created with image: auto",
    ),
    "MSH511": (
        lambda _: state_of(ns("billing") + webhook_config(
            "istio-sidecar-injector", "namespace.sidecar-injector.istio.io",
            selector="{matchExpressions: [{key: istio-injection, operator: NotIn, values: [disabled]}]}")),
        lambda _: state_of(ns("billing") + INJECTOR),
        "namespace 'billing' has no injection label, but injector webhook",
    ),
    "MSH512": (
        lambda pki: state_of(gateway_with_secret(), check_certificates=True, secrets={
            ("shop", "web-cert"): {"tls.crt": pki.server_cert.read_bytes(), "tls.key": pki.client_key.read_bytes()}}),
        lambda pki: state_of(gateway_with_secret(), check_certificates=True, secrets={
            ("shop", "web-cert"): {"tls.crt": pki.server_cert.read_bytes(), "tls.key": pki.server_key.read_bytes()}}),
        "Secret web-cert.shop its private key does not belong to the certificate",
    ),
    "MSH513": (
        lambda _: state_of(route_status("False")),
        lambda _: state_of(route_status("True")),
        "HTTPRoute shop, parent web: condition Accepted is False (NotAllowedByListeners): no listener allows it",
    ),
    "MSH514": (
        lambda _: state_of(istiod("1.24.1") + crd("v0.8.1")),
        lambda _: state_of(istiod("1.24.1") + crd("v1.2.1")),
        "is from Gateway API v0.8.1, older than v1.2.0 (istiod 1.24.1 needs it)",
    ),
    "MSH515": (
        lambda _: state_of(istiod(ready=0)),
        lambda _: state_of(istiod(ready=1)),
        "Deployment istiod.istio-system: 0 of 1 replicas ready",
    ),
    "MSH516": (
        "trust-roots-expiring", "trust-roots-fine",
        "Linkerd trust anchor (CN root.linkerd.cluster.local) expires on",
    ),
    "MSH517": (
        lambda _: state_of(istiod("1.24.0"), version="v1.26.9"),
        lambda _: state_of(istiod("1.24.0"), version="v1.29.1"),
        "istiod 1.24.0 runs on Kubernetes v1.26.9, older than it supports (1.28 or later)",
    ),
}


def _build(spec: Any, pki: Any, long_lived: tuple[bytes, bytes]) -> LiveState:
    if spec == "trust-roots-expiring":
        return state_of(trust_roots(long_lived[0]), now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=350))
    if spec == "trust-roots-fine":
        return state_of(trust_roots(long_lived[0]))
    return spec(pki)


def test_every_live_rule_has_a_case() -> None:
    registered = [r.rule.code for r in live_rules()]  # imports every rule module, so CHECKS is complete
    assert registered == sorted(CHECKS) == sorted(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_live_rule_fires(code: str, pki, long_lived) -> None:
    fires, _, phrase = CASES[code]
    found = findings(_build(fires, pki, long_lived), code)
    assert found, f"{code} did not fire"
    assert any(phrase in f.message for f in found), [f.message for f in found]
    for f in found:
        assert f.location is not None and f.location.file.startswith("cluster:test/")
        assert f.location.line >= 1


@pytest.mark.parametrize("code", sorted(CASES))
def test_live_rule_is_silent_on_near_miss(code: str, pki, long_lived) -> None:
    _, quiet, _ = CASES[code]
    assert [f.message for f in findings(_build(quiet, pki, long_lived), code)] == []


def test_expired_and_not_yet_valid_gateway_certificates(pki) -> None:
    secret = {("shop", "web-cert"): {"tls.crt": pki.server_cert.read_bytes(), "tls.key": pki.server_key.read_bytes()}}
    late = findings(state_of(gateway_with_secret(), check_certificates=True, secrets=secret, now=LATER), "MSH512")
    assert len(late) == 1 and "expired on" in late[0].message
    early = state_of(gateway_with_secret(), check_certificates=True, secrets=secret,
                     now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3))
    assert "not valid before" in findings(early, "MSH512")[0].message
    broken = {("shop", "web-cert"): {"tls.crt": b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
                                     "tls.key": pki.server_key.read_bytes()}}
    assert "readable PEM" in findings(state_of(gateway_with_secret(), check_certificates=True, secrets=broken), "MSH512")[0].message
    missing = {("shop", "web-cert"): {"tls.crt": pki.server_cert.read_bytes()}}
    assert "has no tls.key" in findings(state_of(gateway_with_secret(), check_certificates=True, secrets=missing), "MSH512")[0].message
    for f in late:
        assert base64.b64encode(pki.server_key.read_bytes()).decode()[:30] not in f.message


def test_a_forbidden_kind_makes_its_checks_blind() -> None:
    text = SERVICE + ROUTE_TO_SUBSET + pod("r1", "shop", labels="{app: reviews, version: v1}", ready=False)
    state = state_of(text)
    state.listed.discard("/Pod")
    state.skipped.append(Skip("pods", "/Pod", "shop", "forbidden", "forbidden"))
    result = run_diagnose(Options(paths=()), state)
    codes = [f.code for f in result.findings]
    assert "MSH502" not in codes
    note = next(f for f in result.findings if f.code == "MSH518")
    assert note.message.startswith("cannot list pods in namespace shop: forbidden; checks that need them were skipped:")
    assert "MSH502 subset-selects-no-ready-pod" in note.message and "MSH175 pod-missing-proxy" in note.message


def test_pod_missing_proxy_from_analyze_runs_on_live_pods() -> None:
    state = state_of(ns("shop", **{"istio-injection": "enabled"}) + pod("cart-1", "shop"))
    found = findings(state, "MSH175")
    assert found and found[0].location.file == "cluster:test/shop/Pod/cart-1"


def test_selectors_and_image_tags() -> None:
    expr = {"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]},
                                 {"key": "b", "operator": "DoesNotExist"}]}
    assert selects(expr, {"a": "1"}) and not selects(expr, {"a": "1", "b": "x"}) and not selects(expr, {})
    assert selects(None, {}) and selects({}, {"x": "y"})
    assert selects({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {})
    assert image_tag("docker.io/istio/proxyv2:1.22.3-distroless") == "1.22.3"
    assert image_tag("registry:5000/istio/proxyv2@sha256:abcd") == "latest"
    assert image_tag("gcr.io/istio-release/proxyv2:1.20.1@sha256:0a1b") == "1.20.1"


def test_live_findings_show_their_generated_line(tmp_path: Path) -> None:
    from meshctl.report import reporter
    from meshctl.report.base import ReportContext

    state = state_of(istiod(ready=0))
    result = run_diagnose(Options(paths=(), select=("MSH515",)), state)
    text = reporter("text").render(result, ReportContext("diagnose", "0"))
    assert "cluster:test/istio-system/Deployment/istiod:" in text
    assert "readyReplicas: 0" in text
