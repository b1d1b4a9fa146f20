"""Findings land on the nodes and edges they are about (docs/graph.md, "Findings on the graph")."""

from __future__ import annotations

from meshctl.diagnostics import Finding, Location, ResourceRef, Severity
from meshctl.graph import build
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.render import place

MESH = """\
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: cart, version: v1}}
  template:
    metadata: {labels: {app: cart, version: v1}}
    spec: {serviceAccountName: cart, containers: [{name: cart, image: cart:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart-v2, namespace: shop}
spec:
  selector: {matchLabels: {app: cart, version: v2}}
  template:
    metadata: {labels: {app: cart, version: v2}}
    spec: {containers: [{name: cart, image: cart:2}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: cart, namespace: shop}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [shop.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http:
  - match: [{headers: {x-beta: {exact: "1"}}}]
    route: [{destination: {host: cart, subset: v2}}]
  - route:
    - {destination: {host: cart, subset: v1}, weight: 90}
    - {destination: {host: cart, subset: v2}, weight: 10}
    mirror: {host: cart}
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v1}}]
  - route: [{destination: {host: cart, subset: v2}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  tls:
  - match: [{sniHosts: [api.example.com], port: 443}]
    route: [{destination: {host: api.example.com}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart-v1-only, namespace: shop}
spec:
  selector: {matchLabels: {version: v1}}
  action: ALLOW
  rules: [{from: [{source: {namespaces: [shop]}}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
"""

VS = ResourceRef("networking.istio.io/v1", "VirtualService", "cart", "shop")
ROUTE = "route:VirtualService:shop/cart"
SVC = "service:cart.shop.svc.cluster.local"
V1 = "subset:cart.shop.svc.cluster.local#v1"
V2 = "subset:cart.shop.svc.cluster.local#v2"


def _mesh():
    mesh = lower(read_text(MESH, "mesh.yaml").docs)
    return mesh, build(mesh)


def _at(ref: ResourceRef, path: str, code: str = "MSH999") -> Finding:
    return Finding(code, "test", Severity.ERROR, "m", Location("mesh.yaml", 1, 1, path), ref)


def _placed(*findings: Finding):
    mesh, graph = _mesh()
    placed = place(findings, mesh, graph)
    assert [p.finding for p in placed] == list(findings)
    return graph, placed


def _edges(graph, placed) -> set[tuple[str, str, str, int | None]]:
    return {(a, b, graph.g.edges[a, b, k]["kind"], graph.g.edges[a, b, k].get("rule")) for a, b, k in placed.edges}


def test_a_route_finding_on_the_hosts_lands_on_the_route_node_only() -> None:
    _, (p,) = _placed(_at(VS, "spec.hosts[0]"))
    assert p.nodes == (ROUTE,)
    assert p.edges == ()


def test_a_rule_finding_lands_on_the_edges_of_that_rule() -> None:
    graph, (p,) = _placed(_at(VS, "spec.http[1].timeout"))
    assert p.nodes == (ROUTE,)
    assert _edges(graph, p) == {(ROUTE, V1, "routes", 1), (ROUTE, V2, "routes", 1), (ROUTE, SVC, "mirrors", 1)}


def test_rule_1_is_not_rule_10() -> None:
    graph, (p,) = _placed(_at(VS, "spec.http[1]"))
    assert all(rule == 1 for *_, rule in _edges(graph, p))
    graph, (p,) = _placed(_at(VS, "spec.http[10].route[0]"))  # no such rule: the route node only
    assert p.nodes == (ROUTE,) and p.edges == ()
    graph, (p,) = _placed(_at(VS, "spec.http[9].route[0].destination.subset"))
    assert _edges(graph, p) == {(ROUTE, V2, "routes", 9)}


def test_a_weights_finding_lands_on_the_split_not_on_the_mirror() -> None:
    graph, (p,) = _placed(_at(VS, "spec.http[1].route"))
    assert _edges(graph, p) == {(ROUTE, V1, "routes", 1), (ROUTE, V2, "routes", 1)}


def test_a_backend_finding_lands_on_its_one_edge() -> None:
    graph, (p,) = _placed(_at(VS, "spec.http[1].route[1].destination.subset"))
    assert _edges(graph, p) == {(ROUTE, V2, "routes", 1)}
    graph, (p,) = _placed(_at(VS, "spec.http[1].mirror.host"))
    assert _edges(graph, p) == {(ROUTE, SVC, "mirrors", 1)}


def test_a_gateways_finding_lands_on_the_attachment() -> None:
    graph, (p,) = _placed(_at(VS, "spec.gateways[0]"))
    assert p.nodes == ("gateway:shop/public", ROUTE)
    assert _edges(graph, p) == {("gateway:shop/public", ROUTE, "attaches", None)}


def test_tls_rules_are_told_apart_from_http_rules_by_their_backends() -> None:
    ref = ResourceRef("networking.istio.io/v1", "VirtualService", "api", "shop")
    graph, (p,) = _placed(_at(ref, "spec.tls[0].route[0]"))
    route = "route:VirtualService:shop/api"
    assert p.nodes == (route,)
    assert _edges(graph, p) == {(route, "host:api.example.com", "routes", 0)}


def test_service_workload_gateway_and_service_account_findings() -> None:
    svc = ResourceRef("v1", "Service", "cart", "shop")
    deploy = ResourceRef("apps/v1", "Deployment", "cart-v2", "shop")
    gw = ResourceRef("networking.istio.io/v1", "Gateway", "public", "shop")
    account = ResourceRef("v1", "ServiceAccount", "cart", "shop")
    _, placed = _placed(_at(svc, "spec.ports[0]"), _at(deploy, "spec"), _at(gw, "spec.selector"),
                            _at(account, "metadata.name"))
    assert [p.nodes for p in placed] == [
        (SVC,), ("workload:shop/Deployment/cart-v2",), ("gateway:shop/public",), ("workload:shop/Deployment/cart-v1",),
    ]


def test_a_destination_rule_finding_lands_on_its_service_or_on_one_subset() -> None:
    dr = ResourceRef("networking.istio.io/v1", "DestinationRule", "cart", "shop")
    _, (whole, subset) = _placed(_at(dr, "spec.host"), _at(dr, "spec.subsets[1].labels"))
    assert whole.nodes == (SVC,)
    assert subset.nodes == (SVC, V2)


def test_service_entry_findings_land_on_their_hosts() -> None:
    se = ResourceRef("networking.istio.io/v1", "ServiceEntry", "api", "shop")
    _, (p,) = _placed(_at(se, "spec.hosts[0]"))
    assert p.nodes == ("host:api.example.com",)


def test_a_selector_policy_lands_on_the_workloads_it_selects_and_a_namespace_policy_nowhere() -> None:
    authz = ResourceRef("security.istio.io/v1", "AuthorizationPolicy", "cart-v1-only", "shop")
    peer = ResourceRef("security.istio.io/v1", "PeerAuthentication", "default", "shop")
    _, (a, b) = _placed(_at(authz, "spec.rules[0]"), _at(peer, "spec.mtls.mode"))
    assert a.nodes == ("workload:shop/Deployment/cart-v1",)
    assert b.nodes == () and b.edges == ()


def test_findings_without_a_resource_or_about_unknown_resources_stay_unplaced() -> None:
    other = ResourceRef("v1", "ConfigMap", "x", "shop")
    missing = ResourceRef("v1", "Service", "nope", "shop")
    bare = Finding("MSH006", "unused-suppression", Severity.WARNING, "m")
    _, placed = _placed(bare, _at(other, "data"), _at(missing, "spec"))
    assert all(p.nodes == () and p.edges == () for p in placed)


def test_a_resource_the_model_left_out_still_finds_its_node_by_name() -> None:
    """A document with wrong field types is not lowered, but its node may exist (a Service
    a route points at is not it; a workload is only a node when lowered). By name it is found."""
    from meshctl.render import _fallback

    mesh, graph = _mesh()
    svc = ResourceRef("v1", "Service", "cart", "shop")
    assert [a.nodes for a in _fallback(svc, mesh, graph)] == [(SVC,)]
    linkerd = ResourceRef("policy.linkerd.io/v1beta3", "HTTPRoute", "cart", "shop")
    assert _fallback(linkerd, mesh, graph) == []  # no LinkerdHTTPRoute node of that name
    assert [a.nodes for a in _fallback(VS, mesh, graph)] == [(ROUTE,)]


def test_the_demo_findings_land_where_the_readme_says(demo) -> None:
    placed = {(p.finding.code, p.finding.location.path if p.finding.location else ""): p for p in demo.findings}
    mirror = placed[("MSH102", "spec.http[1].mirror.subset")]
    assert mirror.nodes == ("route:VirtualService:shop/cart",)
    (edge,) = mirror.edges
    assert demo.graph.g.edges[edge]["kind"] == "mirrors"
    weights = placed[("MSH031", "spec.http[1].route")]
    assert {demo.graph.g.edges[e]["weight"] for e in weights.edges} == {80, 10}
    unreachable = placed[("MSH140", "spec.http[1]")]
    assert unreachable.nodes == ("route:VirtualService:shop/frontend",)
    assert [demo.graph.g.edges[e]["match"] for e in unreachable.edges] == ["prefix /static/"]
    server = placed[("MSH010", "spec.proxyProtocol")]
    assert server.nodes == ("workload:linkerd-demo/Deployment/books",)


def test_a_policy_finding_lands_on_the_allowed_edges_the_policy_decides() -> None:
    mesh, graph = _mesh()
    graph.g.add_edge("workload:shop/Deployment/cart-v2", SVC, kind="allowed", port=8080,
                     policies=["AuthorizationPolicy cart-v1-only.shop"])
    graph.g.add_edge("workload:shop/Deployment/cart-v1", SVC, kind="allowed", port=8080, policies=[])
    authz = ResourceRef("security.istio.io/v1", "AuthorizationPolicy", "cart-v1-only", "shop")
    (p,) = place([_at(authz, "spec.rules[0]")], mesh, graph)
    assert p.nodes == ("workload:shop/Deployment/cart-v1",)
    assert p.edges == (("workload:shop/Deployment/cart-v2", SVC, 0),)
