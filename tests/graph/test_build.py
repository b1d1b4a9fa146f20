"""The service graph: gateways -> routes -> services -> subsets -> workloads."""

from __future__ import annotations

from meshctl.graph import build
from meshctl.load.reader import read_text
from meshctl.lower import lower

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
    spec: {containers: [{name: cart, image: cart:1}]}
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
    mirror: {host: payments.billing.svc.cluster.local}
"""

SVC = "service:cart.shop.svc.cluster.local"


def _graph():
    return build(lower(read_text(MESH, "mesh.yaml").docs))


def test_nodes_of_every_kind() -> None:
    g = _graph()
    assert list(g.nodes("gateway")) == ["gateway:shop/public"]
    assert list(g.nodes("route")) == ["route:VirtualService:shop/cart"]
    assert list(g.nodes("service")) == [SVC]
    assert list(g.nodes("subset")) == [
        "subset:cart.shop.svc.cluster.local#v1", "subset:cart.shop.svc.cluster.local#v2",
    ]
    assert list(g.nodes("workload")) == ["workload:shop/Deployment/cart-v1", "workload:shop/Deployment/cart-v2"]


def test_edges_follow_the_traffic() -> None:
    g = _graph()
    assert g.successors("gateway:shop/public", "attaches") == ["route:VirtualService:shop/cart"]
    routes = {(b, d["rule"], d["weight"], d["match"]) for a, b, d in g.edges("routes")}
    assert routes == {
        ("subset:cart.shop.svc.cluster.local#v2", 0, None, "x-beta: exact 1"),
        ("subset:cart.shop.svc.cluster.local#v1", 1, 90, "*"),
        ("subset:cart.shop.svc.cluster.local#v2", 1, 10, "*"),
    }
    assert g.successors(SVC, "subset") == [
        "subset:cart.shop.svc.cluster.local#v1", "subset:cart.shop.svc.cluster.local#v2",
    ]
    assert g.successors("subset:cart.shop.svc.cluster.local#v1", "selects") == ["workload:shop/Deployment/cart-v1"]
    assert g.successors(SVC, "selects") == ["workload:shop/Deployment/cart-v1", "workload:shop/Deployment/cart-v2"]


def test_the_weighted_split_keeps_both_edges_of_one_rule() -> None:
    g = _graph()
    rule1 = sorted((b, d["weight"]) for a, b, d in g.edges("routes") if d["rule"] == 1)
    assert rule1 == [("subset:cart.shop.svc.cluster.local#v1", 90), ("subset:cart.shop.svc.cluster.local#v2", 10)]


def test_mirrors_reach_host_nodes_for_hosts_no_input_defines() -> None:
    g = _graph()
    assert g.successors("route:VirtualService:shop/cart", "mirrors") == ["host:payments.billing.svc.cluster.local"]
    assert g.attrs("host:payments.billing.svc.cluster.local")["kind"] == "host"


def test_neighbourhood_and_determinism() -> None:
    g = _graph()
    near = g.neighbourhood("workload:shop/Deployment/cart-v1", radius=1)
    assert set(near.nodes()) == {"workload:shop/Deployment/cart-v1", SVC, "subset:cart.shop.svc.cluster.local#v1"}
    assert list(_graph().edges()) == list(g.edges())


def test_an_ingress_attaches_its_routes_like_a_gateway() -> None:
    text = MESH + """---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: front, namespace: shop}
spec:
  ingressClassName: istio
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: cart, port: {number: 8080}}}}
"""
    graph = build(lower(read_text(text, "mesh.yaml").docs))
    gateway = "gateway:shop/front"
    routes = [target for _, target, kind in graph.g.out_edges(gateway, data="kind") if kind == "attaches"]
    assert routes and all(r.startswith("route:") for r in routes)
