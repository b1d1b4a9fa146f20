"""Security (§2.7, §1.7, §1.8): PeerAuthentication and AuthorizationPolicy -> inbound policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emit.linkerd.helpers import check_output, has_loss, linkerd_annotations, named, of_kind, run

WORKLOAD = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
      - name: cart
        image: cart
        ports: [{name: http, containerPort: 8080}, {name: tcp-metrics, containerPort: 9100}]
"""


def peer(mode: str, namespace: str = "shop", extra: str = "") -> str:
    return f"""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: default, namespace: {namespace}}}
spec: {{mtls: {{mode: {mode}}}{extra}}}
"""


def allow(rules: str, selector: str = "selector: {matchLabels: {app: cart}}", action: str = "ALLOW") -> str:
    return f"""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: cart, namespace: shop}}
spec:
  {selector}
  action: {action}
{rules}"""


def test_namespace_modes() -> None:
    strict = run(WORKLOAD, peer("STRICT"))
    assert linkerd_annotations(of_kind(strict, "Namespace")[0]) == {
        "config.linkerd.io/default-inbound-policy": "all-authenticated"}
    permissive = run(WORKLOAD, peer("PERMISSIVE"))
    assert permissive.resources == [] and permissive.findings == []
    disable = run(WORKLOAD, peer("DISABLE"))
    assert disable.resources == [] and has_loss(disable, "MSH400", "no plaintext-only mode", "spec.mtls.mode")


def test_mesh_wide_strict_is_an_install_setting() -> None:
    out = run(WORKLOAD, peer("STRICT", "istio-system"))
    assert has_loss(out, "MSH400", "proxy.defaultInboundPolicy=all-authenticated", "spec.mtls.mode")
    assert linkerd_annotations(named(out, "Namespace", "shop")) == {
        "config.linkerd.io/default-inbound-policy": "all-authenticated"}


def test_workload_and_port_level_modes_become_servers() -> None:
    workload_pa = """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  mtls: {mode: STRICT}
  portLevelMtls: {9100: {mode: PERMISSIVE}}
"""
    out = run(WORKLOAD, workload_pa)
    assert named(out, "Server", "cart-http")["spec"] == {
        "podSelector": {"matchLabels": {"app": "cart"}}, "port": "http", "proxyProtocol": "HTTP/1",
        "accessPolicy": "all-authenticated"}
    assert named(out, "Server", "cart-tcp-metrics")["spec"]["accessPolicy"] == "all-unauthenticated"
    assert named(out, "Server", "cart-tcp-metrics")["spec"]["proxyProtocol"] == "opaque"


def test_allow_closes_every_port_with_sources_as_authentications() -> None:
    out = run(WORKLOAD, allow("""  rules:
  - from:
    - source: {namespaces: [web], ipBlocks: [10.0.0.0/8], notIpBlocks: [10.1.0.0/16]}
    to: [{operation: {ports: ["8080"]}}]
"""))
    assert named(out, "Server", "cart-tcp-metrics")["spec"]["accessPolicy"] == "deny"
    assert [p["metadata"]["name"] for p in of_kind(out, "AuthorizationPolicy")] == ["cart-http-ns-web-networks"]
    policy = of_kind(out, "AuthorizationPolicy")[0]["spec"]
    assert policy["targetRef"] == {"group": "policy.linkerd.io", "kind": "Server", "name": "cart-http"}
    kinds = {r["kind"]: r["name"] for r in policy["requiredAuthenticationRefs"]}
    assert named(out, "MeshTLSAuthentication", kinds["MeshTLSAuthentication"])["spec"] == {
        "identityRefs": [{"kind": "Namespace", "name": "web"}]}
    assert named(out, "NetworkAuthentication", kinds["NetworkAuthentication"])["spec"] == {
        "networks": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]}
    assert has_loss(out, "MSH401", "closes every port of the pods")


def test_strict_adds_a_mesh_identity_to_network_only_sources() -> None:
    rules = "  rules:\n  - from: [{source: {ipBlocks: [10.0.0.0/8]}}]\n"
    strict = run(WORKLOAD, peer("STRICT"), allow(rules))
    assert [m["spec"] for m in of_kind(strict, "MeshTLSAuthentication")] == [{"identities": ["*"]}]
    assert of_kind(run(WORKLOAD, allow(rules)), "MeshTLSAuthentication") == []


def test_allow_nothing_and_namespace_wide() -> None:
    nothing = run(WORKLOAD, allow("  rules: []\n"))
    assert {s["spec"]["accessPolicy"] for s in of_kind(nothing, "Server")} == {"deny"}
    assert of_kind(nothing, "AuthorizationPolicy") == []
    everyone = run(WORKLOAD, allow("  rules: [{}]\n", selector=""))
    assert named(everyone, "Server", "cart-http")["spec"]["podSelector"] == {}
    assert [p["spec"]["requiredAuthenticationRefs"] for p in of_kind(everyone, "AuthorizationPolicy")] == [[], []]


def test_any_principal_and_service_accounts() -> None:
    out = run(WORKLOAD, allow("""  rules:
  - from: [{source: {principals: ["*"]}}, {source: {serviceAccounts: [web/front]}}]
"""))
    specs = sorted(str(m["spec"]) for m in of_kind(out, "MeshTLSAuthentication"))
    assert specs == [str({"identities": ["*"]}),
                     str({"identityRefs": [{"kind": "ServiceAccount", "name": "front", "namespace": "web"}]})]


@pytest.mark.parametrize("rules, text, path", [
    ("  - from: [{source: {requestPrincipals: ['*']}}]\n", "does not validate JWTs",
     "spec.rules[0].from[0].source.requestPrincipals"),
    ("  - from: [{source: {notNamespaces: [web]}}]\n", "cannot exclude identities",
     "spec.rules[0].from[0].source.notNamespaces"),
    ("  - from: [{source: {principals: ['cluster.local/ns/web/sa/front-*']}}]\n", "cannot be expressed",
     "spec.rules[0].from[0].source.principals"),
    ("  - to: [{operation: {notPaths: [/admin]}}]\n", "cannot exclude requests",
     "spec.rules[0].to[0].operation.notPaths"),
    ("  - when: [{key: 'request.auth.claims[iss]', values: [a]}]\n", "cannot check this condition",
     "spec.rules[0].when[0]"),
])
def test_untranslatable_allow_parts_fail_closed(rules: str, text: str, path: str) -> None:
    out = run(WORKLOAD, allow(f"  rules:\n{rules}"))
    assert has_loss(out, "MSH400", text, path)
    assert of_kind(out, "AuthorizationPolicy") == []  # nothing admitted that Istio did not admit


@pytest.mark.parametrize("action, text", [
    ("DENY", "cannot be expressed"), ("AUDIT", "audit logging"), ("CUSTOM", "no external authorizer"),
])
def test_other_actions_are_reported(action: str, text: str) -> None:
    out = run(WORKLOAD, allow("  rules: [{}]\n", action=action))
    assert has_loss(out, "MSH400", text, "spec.action") and of_kind(out, "Server") == []


def test_header_conditions_become_route_matches_and_hosts_hostnames() -> None:
    out = run(WORKLOAD, allow("""  rules:
  - to: [{operation: {hosts: [cart.shop], methods: [POST]}}]
    when: [{key: "request.headers[x-tenant]", values: [a, "b*"]}]
"""))
    [route] = [r for r in of_kind(out, "HTTPRoute") if r["metadata"]["name"].startswith("cart-http-")]
    assert route["spec"]["hostnames"] == ["cart.shop"]
    assert route["spec"]["rules"][0]["matches"] == [
        {"method": "POST", "headers": [{"type": "Exact", "name": "x-tenant", "value": "a"}]},
        {"method": "POST", "headers": [{"type": "RegularExpression", "name": "x-tenant", "value": "b.*"}]},
    ]
    assert has_loss(out, "MSH401", "header match on the inbound route")
    assert has_loss(out, "MSH401", "hostnames")


def test_policy_selecting_no_workload_is_reported() -> None:
    out = run(WORKLOAD, allow("  rules: [{}]\n", selector="selector: {matchLabels: {app: other}}"))
    assert has_loss(out, "MSH400", "selects no workload among the inputs") and of_kind(out, "Server") == []


def test_security_output_validates_and_analyzes_clean(tmp_path: Path) -> None:
    inputs = (WORKLOAD, peer("STRICT"), allow("""  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]
    to: [{operation: {methods: [GET], paths: ["/api/*", /health]}}]
  - from: [{source: {namespaces: [ops]}}]
"""))
    out = run(*inputs)
    assert check_output(tmp_path, out, *inputs) == []
