"""Linkerd inbound policy -> PeerAuthentications and AuthorizationPolicies (mesh-translation.md §3.4).

Rows are checked against hand-written policies; then meshctl's own authorization evaluator
(``meshctl.security.authz``) decides the same callers and requests against the Linkerd
inputs and against the translated Istio policies, which must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshctl.emit.manifests import render
from meshctl.security.authz import Caller, Outcome, Request, decide
from tests.emit.istio.helpers import (
    check_clean,
    has_loss,
    kinds,
    kubernetes_docs,
    line_of,
    losses,
    model,
    run,
    spec,
)

WORKLOADS = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    linkerd.io/inject: enabled
{ns_annotations}---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web, tier: front}}
{pod_annotations}    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: example/web:1
        ports: [{{name: http, containerPort: 8080}}, {{name: metrics, containerPort: 9090}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata:
      labels: {{app: api, tier: back}}
    spec:
      serviceAccountName: api
      containers:
      - name: api
        image: example/api:1
        ports: [{{name: http, containerPort: 8080}}]
"""


def inputs(policy: str = "", ns_annotations: str = "", pod_annotations: str = "") -> str:
    text = WORKLOADS.format(ns_annotations=ns_annotations, pod_annotations=pod_annotations)
    return text + ("---\n" + policy if policy else "")


SERVER = """apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-http, namespace: shop, labels: {api: public}}
spec:
  podSelector: {matchLabels: {app: web}}
  port: http
"""


def authz(refs: str, target: str = "kind: Server, name: web-http") -> str:
    return f"""---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {{name: web-authz, namespace: shop}}
spec:
  targetRef: {{group: policy.linkerd.io, {target}}}
  requiredAuthenticationRefs: {refs}
"""


MESH_TLS = """---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: clients, namespace: shop}
spec:
  identities:
  - frontend.shop.serviceaccount.identity.linkerd.cluster.local
  - "*.ops.serviceaccount.identity.linkerd.cluster.local"
  - spiffe://cluster.local/ns/batch/sa/cron
  identityRefs:
  - {kind: ServiceAccount, name: api}
  - {kind: Namespace, name: monitoring}
"""
NETWORK = """---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: office, namespace: shop}
spec:
  networks:
  - {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
  - {cidr: 192.168.0.0/16}
"""
KEEP_OPEN = {"to": [{"operation": {"notPorts": ["8080"]}}]}


def policy_spec(text: str, name: str = "web-http") -> dict:
    return spec(run(text), "AuthorizationPolicy", name, "shop")


def test_mesh_tls_identities_become_principals_and_namespaces(tmp_path: Path) -> None:
    text = inputs(SERVER + MESH_TLS + authz("[{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: clients}]"))
    out = run(text)
    assert spec(out, "AuthorizationPolicy", "web-http") == {
        "selector": {"matchLabels": {"app": "web"}},
        "action": "ALLOW",
        "rules": [
            {"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/frontend", "cluster.local/ns/batch/sa/cron",
                                                 "cluster.local/ns/shop/sa/api"]}},
                      {"source": {"namespaces": ["ops", "monitoring"]}}],
             "to": [{"operation": {"ports": ["8080"]}}]},
            KEEP_OPEN,  # port 9090 of the pods keeps the default policy (all-unauthenticated)
        ]}
    assert has_loss(out, "MSH401", line_of(text, "kind: Server") - 1, "other than 8080 open")
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_network_authentication_with_exceptions_and_an_identity_together() -> None:
    text = inputs(SERVER + MESH_TLS + NETWORK + authz(
        "[{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: clients}, "
        "{group: policy.linkerd.io, kind: NetworkAuthentication, name: office}]"))
    sources = [f["source"] for f in policy_spec(text)["rules"][0]["from"]]
    principals = ["cluster.local/ns/shop/sa/frontend", "cluster.local/ns/batch/sa/cron", "cluster.local/ns/shop/sa/api"]
    assert sources == [
        {"principals": principals, "ipBlocks": ["10.0.0.0/8"], "notIpBlocks": ["10.1.0.0/16"]},
        {"principals": principals, "ipBlocks": ["192.168.0.0/16"]},
        {"namespaces": ["ops", "monitoring"], "ipBlocks": ["10.0.0.0/8"], "notIpBlocks": ["10.1.0.0/16"]},
        {"namespaces": ["ops", "monitoring"], "ipBlocks": ["192.168.0.0/16"]},
    ]


def test_a_service_account_reference_and_no_references() -> None:
    text = inputs(SERVER + authz("[{kind: ServiceAccount, name: api}]"))
    assert policy_spec(text)["rules"][0]["from"] == [{"source": {"principals": ["cluster.local/ns/shop/sa/api"]}}]
    anyone = inputs(SERVER + authz("[]"))
    assert policy_spec(anyone)["rules"][0] == {"to": [{"operation": {"ports": ["8080"]}}]}


def test_a_missing_authentication_makes_the_policy_inert() -> None:
    text = inputs(SERVER + authz("[{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: nobody}]"))
    out = run(text)
    assert spec(out, "AuthorizationPolicy", "web-http") == {
        "selector": {"matchLabels": {"app": "web"}}, "action": "DENY",
        "rules": [{"to": [{"operation": {"ports": ["8080"]}}]}]}
    assert has_loss(out, "MSH401", line_of(text, "name: nobody"), "authorizing nobody")


def test_a_server_nothing_authorizes_is_a_deny_on_its_port() -> None:
    assert policy_spec(inputs(SERVER)) == {"selector": {"matchLabels": {"app": "web"}}, "action": "DENY",
                                           "rules": [{"to": [{"operation": {"ports": ["8080"]}}]}]}


@pytest.mark.parametrize(("access", "source"), [
    ("all-unauthenticated", None),
    ("all-authenticated", {"principals": ["*"]}),
    ("cluster-unauthenticated", {"ipBlocks": ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16",
                                              "fd00::/8"]}),
])
def test_an_access_policy_admits_its_clients(access: str, source: dict | None) -> None:
    rule = policy_spec(inputs(SERVER + f"  accessPolicy: {access}\n"))["rules"][0]
    expected: dict = {"to": [{"operation": {"ports": ["8080"]}}]}
    if source is not None:
        expected = {"from": [{"source": source}], **expected}
    assert rule == expected


def test_a_namespace_target_applies_to_every_server_there() -> None:
    text = inputs(SERVER + authz("[{kind: ServiceAccount, name: api}]", "kind: Namespace, name: shop").replace(
        "group: policy.linkerd.io, kind: Namespace", "group: core, kind: Namespace"))
    assert policy_spec(text)["rules"][0]["from"] == [{"source": {"principals": ["cluster.local/ns/shop/sa/api"]}}]


def test_legacy_server_authorization_by_selector_and_name() -> None:
    text = inputs(SERVER + """---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: public, namespace: shop}
spec:
  server: {selector: {matchLabels: {api: public}}}
  client:
    meshTLS:
      serviceAccounts: [{name: api}, {name: cron, namespace: batch}]
      identities: ["*.ops.serviceaccount.identity.linkerd.cluster.local"]
---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: lan, namespace: shop}
spec:
  server: {name: web-http}
  client:
    unauthenticated: true
    networks: [{cidr: 10.0.0.0/8}]
""")
    rules = policy_spec(text)["rules"]
    assert rules[0] == {"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}], "to": [{"operation": {"ports": ["8080"]}}]}
    assert rules[1]["from"] == [{"source": {"principals": ["cluster.local/ns/shop/sa/api",
                                                          "cluster.local/ns/batch/sa/cron"]}},
                                {"source": {"namespaces": ["ops"]}}]


def test_unauthenticated_tls_is_any_client_and_reported() -> None:
    text = inputs(SERVER + """---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: tls, namespace: shop}
spec:
  server: {name: web-http}
  client: {meshTLS: {unauthenticatedTLS: true}}
""")
    out = run(text)
    assert spec(out, "AuthorizationPolicy", "web-http")["rules"][0] == {"to": [{"operation": {"ports": ["8080"]}}]}
    assert has_loss(out, "MSH401", line_of(text, "unauthenticatedTLS"), "cannot require TLS")


def test_routes_on_a_server_become_operations_and_conditions() -> None:
    text = inputs(SERVER + """---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: web-api, namespace: shop}
spec:
  parentRefs: [{group: policy.linkerd.io, kind: Server, name: web-http}]
  hostnames: [web.example.com]
  rules:
  - matches:
    - {path: {value: /api}, method: POST}
    - {path: {type: Exact, value: /login}, headers: [{name: x-mode, value: test}]}
    - {path: {type: RegularExpression, value: "/files/.*"}}
    - {path: {type: RegularExpression, value: "/v[0-9]+/x"}}
    - {path: {value: /q}, queryParams: [{name: a, value: b}]}
""" + authz("[]", "kind: HTTPRoute, name: web-api"))
    out = run(text)
    rules = spec(out, "AuthorizationPolicy", "web-http")["rules"]
    ports = ["8080"]
    assert rules[0] == {"to": [
        {"operation": {"ports": ports, "paths": ["/api", "/api/*"], "methods": ["POST"], "hosts": ["web.example.com"]}},
        {"operation": {"ports": ports, "paths": ["/files/*"], "hosts": ["web.example.com"]}}]}
    assert rules[1] == {"to": [{"operation": {"ports": ports, "paths": ["/login"], "hosts": ["web.example.com"]}}],
                        "when": [{"key": "request.headers[x-mode]", "values": ["test"]}]}
    assert has_loss(out, "MSH400", line_of(text, "/v[0-9]+/x"), "no Istio path pattern")
    assert has_loss(out, "MSH400", line_of(text, "queryParams"), "query parameters")


def test_a_grpc_route_on_a_server_is_post_on_its_method_paths() -> None:
    text = inputs(SERVER + """---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: web-grpc, namespace: shop}
spec:
  parentRefs: [{group: policy.linkerd.io, kind: Server, name: web-http}]
  rules:
  - matches: [{method: {service: shop.Web, method: Get}}, {method: {service: shop.Admin}}]
""" + authz("[]", "kind: GRPCRoute, name: web-grpc").replace("group: policy.linkerd.io, kind: GRPCRoute",
                                                                  "group: gateway.networking.k8s.io, kind: GRPCRoute"))
    assert policy_spec(text)["rules"][0]["to"] == [
        {"operation": {"ports": ["8080"], "paths": ["/shop.Web/Get"], "methods": ["POST"]}},
        {"operation": {"ports": ["8080"], "paths": ["/shop.Admin/*"], "methods": ["POST"]}}]


def test_match_expressions_with_in_expand_to_selectors() -> None:
    text = inputs(SERVER.replace("podSelector: {matchLabels: {app: web}}",
                                 "podSelector: {matchExpressions: [{key: app, operator: In, values: [web, api]}]}")
                  + "  accessPolicy: all-unauthenticated\n")
    out = run(text)
    assert spec(out, "AuthorizationPolicy", "web-http-1")["selector"] == {"matchLabels": {"app": "web"}}
    assert spec(out, "AuthorizationPolicy", "web-http-2")["selector"] == {"matchLabels": {"app": "api"}}


def test_other_match_expressions_use_the_workloads_of_the_inputs() -> None:
    text = inputs(SERVER.replace("podSelector: {matchLabels: {app: web}}",
                                 "podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [back]}]}"))
    out = run(text)
    assert spec(out, "AuthorizationPolicy", "web-http")["selector"] == {"matchLabels": {"app": "web", "tier": "front"}}
    assert has_loss(out, "MSH401", line_of(text, "matchExpressions"), "workloads of the inputs it selects")


def test_unresolvable_and_proxy_ports_are_reported() -> None:
    text = inputs(SERVER.replace("port: http", "port: grpc"))
    out = run(text)
    assert kinds(out) == [("Namespace", "shop")]
    assert has_loss(out, "MSH400", line_of(text, "port: grpc"), "no workload of the inputs declares")
    admin = inputs(SERVER.replace("port: http", "port: linkerd-admin"))
    assert has_loss(run(admin), "MSH400", line_of(admin, "port: linkerd-admin"), "Linkerd proxy's own port")


def test_numbers_need_no_workloads() -> None:
    text = SERVER.replace("port: http", "port: 8080") + "  accessPolicy: all-authenticated\n"
    # no workload says which other ports the pods have: they are kept open
    assert policy_spec(text)["rules"] == [{"from": [{"source": {"principals": ["*"]}}],
                                           "to": [{"operation": {"ports": ["8080"]}}]}, KEEP_OPEN]


@pytest.mark.parametrize(("policy", "expected"), [
    ("all-unauthenticated", []),
    ("audit", []),
    ("all-authenticated", [("PeerAuthentication", "default", {"mtls": {"mode": "STRICT"}})]),
    ("cluster-authenticated", [
        ("PeerAuthentication", "default", {"mtls": {"mode": "STRICT"}}),
        ("AuthorizationPolicy", "default-inbound-policy", {"action": "ALLOW", "rules": [{"from": [{"source": {
            "principals": ["*"], "ipBlocks": ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16",
                                              "fd00::/8"]}}]}]})]),
    ("cluster-unauthenticated", [
        ("AuthorizationPolicy", "default-inbound-policy", {"action": "ALLOW", "rules": [{"from": [{"source": {
            "ipBlocks": ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]}}]}]})]),
    ("deny", [("AuthorizationPolicy", "default-inbound-policy", {})]),
])
def test_namespace_default_policies(policy: str, expected: list, tmp_path: Path) -> None:
    text = inputs(ns_annotations=f"    config.linkerd.io/default-inbound-policy: {policy}\n")
    out = run(text)
    got = [(r["kind"], r["metadata"]["name"], r.get("spec")) for r in out.resources
           if r["kind"] in ("PeerAuthentication", "AuthorizationPolicy")]
    assert got == expected
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_a_cluster_policy_leaves_the_server_ports_to_the_servers() -> None:
    text = inputs(SERVER + "  accessPolicy: all-unauthenticated\n",
                  ns_annotations="    config.linkerd.io/default-inbound-policy: cluster-unauthenticated\n")
    rule = spec(run(text), "AuthorizationPolicy", "default-inbound-policy")["rules"][0]
    assert rule["to"] == [{"operation": {"notPorts": ["8080"]}}]


def test_a_pod_default_policy_scopes_by_the_pod_labels() -> None:
    text = inputs(pod_annotations="      annotations:\n        config.linkerd.io/default-inbound-policy: deny\n")
    out = run(text)
    assert spec(out, "AuthorizationPolicy", "web-inbound-policy") == {
        "selector": {"matchLabels": {"app": "web", "tier": "front"}}, "action": "DENY", "rules": [{}]}
    strict = inputs(pod_annotations="      annotations:\n        config.linkerd.io/default-inbound-policy: "
                                    "all-authenticated\n")
    assert spec(run(strict), "PeerAuthentication", "web") == {
        "selector": {"matchLabels": {"app": "web", "tier": "front"}}, "mtls": {"mode": "STRICT"}}


def test_a_server_open_to_anyone_under_strict_keeps_plaintext_on_its_port() -> None:
    text = inputs(SERVER + "  accessPolicy: all-unauthenticated\n",
                  ns_annotations="    config.linkerd.io/default-inbound-policy: all-authenticated\n")
    assert spec(run(text), "PeerAuthentication", "web-http") == {
        "selector": {"matchLabels": {"app": "web"}}, "mtls": {"mode": "STRICT"},
        "portLevelMtls": {"8080": {"mode": "PERMISSIVE"}}}


def test_an_invalid_default_policy_is_reported() -> None:
    text = inputs(ns_annotations="    config.linkerd.io/default-inbound-policy: sometimes\n")
    assert has_loss(run(text), "MSH400", line_of(text, "default-inbound-policy"), "not a Linkerd default")


# -- the same decisions ------------------------------------------------------------------------
ORACLE = inputs(SERVER + MESH_TLS + authz("[{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: clients}]")
                + """---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: api-http, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  port: 8080
  accessPolicy: deny
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: api-read, namespace: shop}
spec:
  parentRefs: [{group: policy.linkerd.io, kind: Server, name: api-http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /read}, method: GET}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: api-read, namespace: shop}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: api-read}
  requiredAuthenticationRefs: [{kind: ServiceAccount, name: web}]
""", ns_annotations="    config.linkerd.io/default-inbound-policy: all-authenticated\n")

CALLERS = [Caller("shop", "frontend"), Caller("shop", "web"), Caller("shop", "api"), Caller("ops", "any"),
           Caller("batch", "cron"), Caller("other", "x"), Caller("shop", "frontend", meshed=False)]
REQUESTS = [Request("/read/1", "GET"), Request("/read", "POST"), Request("/write", "GET")]


def test_the_translated_policies_decide_as_linkerd_did(tmp_path: Path) -> None:
    linkerd = model(ORACLE)
    out = run(ORACLE)
    istio_text = "---\n".join(
        [render(out.resources, "translated")] + [
            d for d in ORACLE.split("---\n") if ("apiVersion: apps/v1" in d)])
    istio = model(istio_text)
    checked = 0
    for name, port in (("web", 8080), ("web", 9090), ("api", 8080)):
        server = next(w for w in linkerd.workloads if w.name == name)
        target = next(w for w in istio.workloads if w.name == name)
        for caller in CALLERS:
            for request in REQUESTS:
                before = decide(linkerd, caller, server, port, request)
                after = decide(istio, caller, target, port, request)
                if before.outcome is Outcome.UNKNOWN:
                    continue
                assert (name, port, caller, request, after.outcome) == (name, port, caller, request, before.outcome)
                checked += 1
    assert checked > 40
    check_clean(tmp_path, out, kubernetes_docs(ORACLE))
    assert not [msg for code, _, msg in losses(out) if code == "MSH400"]
