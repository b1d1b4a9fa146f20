"""The three worked examples of the translation reference (§5), compared with its Linkerd output.

The expected objects are the reference's, written out by hand; meshctl's provenance
annotations (``meshctl.io/*``) and labels are left out of the comparison.
"""

from __future__ import annotations

from pathlib import Path

from tests.emit.linkerd.helpers import (
    SERVICE,
    SUBSETS,
    check_output,
    has_loss,
    linkerd_annotations,
    messages,
    named,
    of_kind,
    run,
    vs,
)

CANARY = vs("""
  - name: canary
    route:
    - destination: {host: reviews.shop.svc.cluster.local, subset: v1, port: {number: 9080}}
      weight: 80
    - destination: {host: reviews.shop.svc.cluster.local, subset: v2, port: {number: 9080}}
      weight: 20
    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,reset"}
""", hosts="[reviews.shop.svc.cluster.local]")

HEADER = vs("""
  - name: jason-to-v2
    match:
    - headers: {end-user: {exact: jason}}
    route:
    - destination: {host: reviews, subset: v2}
  - name: default
    route:
    - destination: {host: reviews, subset: v1}
""")

STRICT = """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders-allow-frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}]
    to: [{operation: {methods: [GET], paths: [/api/*]}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      serviceAccountName: orders
      containers:
      - name: orders
        image: example/orders:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: http}}
"""

SUBSET_SERVICES = {
    "reviews-v1": {"selector": {"app": "reviews", "version": "v1"},
                   "ports": [{"name": "http", "port": 9080, "targetPort": 9080}]},
    "reviews-v2": {"selector": {"app": "reviews", "version": "v2"},
                   "ports": [{"name": "http", "port": 9080, "targetPort": 9080}]},
}


def _services(out) -> dict:  # type: ignore[no-untyped-def]
    return {s["metadata"]["name"]: s["spec"] for s in of_kind(out, "Service")}


def test_5_1_canary_with_retries_and_timeout() -> None:
    out = run(SERVICE, SUBSETS, CANARY)
    assert _services(out) == SUBSET_SERVICES
    [route] = of_kind(out, "HTTPRoute", "gateway.networking.k8s.io/v1")
    assert route["metadata"]["name"] == "reviews" and route["metadata"]["namespace"] == "shop"
    assert linkerd_annotations(route) == {
        "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "2", "retry.linkerd.io/timeout": "1s",
        "timeout.linkerd.io/request": "3s",
    }
    assert route["spec"] == {
        "parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
        "rules": [{
            "backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 80},
                            {"name": "reviews-v2", "port": 9080, "weight": 20}],
            "timeouts": {"request": "3s"},
        }],
    }
    # the reference's warnings
    assert has_loss(out, "MSH401", "generated Service reviews-v1", "spec.subsets[0]")
    assert has_loss(out, "MSH400", "retry condition 'reset' has no Linkerd equivalent", "spec.http[0].retries.retryOn")
    assert has_loss(out, "MSH401", "Linkerd retries on the response status only", "spec.http[0].retries.retryOn")
    assert has_loss(out, "MSH401", "rule name 'canary' is not emitted", "spec.http[0].name")
    assert len(out.resources) == 3


def test_5_2_header_routing_to_v2_default_v1() -> None:
    out = run(SERVICE, SUBSETS, HEADER)
    assert _services(out) == SUBSET_SERVICES
    [route] = of_kind(out, "HTTPRoute")
    assert linkerd_annotations(route) == {}
    assert route["spec"] == {
        "parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
        "rules": [
            {"matches": [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}],
             "backendRefs": [{"name": "reviews-v2", "port": 9080, "weight": 1}]},
            {"backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 1}]},
        ],
    }
    # ordering is safe: no I2L-ORDER note
    assert not [m for m in messages(out) if "Gateway API precedence" in m]


def test_5_3_strict_mtls_and_one_service_account_may_get_api() -> None:
    out = run(SERVICE, STRICT)
    [namespace] = of_kind(out, "Namespace")
    assert namespace["metadata"]["name"] == "shop"
    assert linkerd_annotations(namespace) == {"config.linkerd.io/default-inbound-policy": "all-authenticated"}
    server_ref = {"group": "policy.linkerd.io", "kind": "Server", "name": "orders-http"}
    assert named(out, "Server", "orders-http")["spec"] == {
        "podSelector": {"matchLabels": {"app": "orders"}}, "port": "http", "proxyProtocol": "HTTP/1",
        "accessPolicy": "deny",
    }
    api = named(out, "HTTPRoute", "orders-api-get")
    assert api["apiVersion"] == "policy.linkerd.io/v1beta3"
    assert api["spec"] == {
        "parentRefs": [server_ref],
        "rules": [{"matches": [{"path": {"type": "RegularExpression", "value": "/api/.*"}, "method": "GET"}]}],
    }
    assert named(out, "MeshTLSAuthentication", "orders-frontend")["spec"] == {
        "identityRefs": [{"kind": "ServiceAccount", "name": "frontend", "namespace": "shop"}],
    }
    assert named(out, "AuthorizationPolicy", "orders-api-get-frontend")["spec"] == {
        "targetRef": {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "orders-api-get"},
        "requiredAuthenticationRefs": [
            {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "orders-frontend"}],
    }
    assert named(out, "HTTPRoute", "orders-probes")["spec"] == {
        "parentRefs": [server_ref],
        "rules": [{"matches": [{"path": {"type": "Exact", "value": "/healthz"}, "method": "GET"}]}],
    }
    assert named(out, "NetworkAuthentication", "orders-probes")["spec"] == {
        "networks": [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}],
    }
    assert named(out, "AuthorizationPolicy", "orders-probes")["spec"] == {
        "targetRef": {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "orders-probes"},
        "requiredAuthenticationRefs": [
            {"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "orders-probes"}],
    }
    assert sorted(r["kind"] for r in out.resources) == [
        "AuthorizationPolicy", "AuthorizationPolicy", "HTTPRoute", "HTTPRoute", "MeshTLSAuthentication",
        "Namespace", "NetworkAuthentication", "Server",
    ]
    # the reference's warnings: restart, probes, ports, status
    assert has_loss(out, "MSH401", "applies to pods created after it", "spec.mtls.mode")
    assert has_loss(out, "MSH401", "added route orders-probes for GET /healthz")
    assert has_loss(out, "MSH401", "one Server per container port")
    assert has_loss(out, "MSH401", "now get 404 (Istio: 403)")


def test_worked_examples_validate_and_analyze_clean(tmp_path: Path) -> None:
    for i, inputs in enumerate(((SERVICE, SUBSETS, CANARY), (SERVICE, SUBSETS, HEADER), (SERVICE, STRICT))):
        for version in ("2.16", "2.20"):
            folder = tmp_path / f"{i}-{version}"
            folder.mkdir()
            out = run(*inputs, linkerd_version=version)
            assert check_output(folder, out, *inputs) == []
