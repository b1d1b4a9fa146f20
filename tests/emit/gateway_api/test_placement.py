"""Mesh routes (GAMMA): Service parents, ports, consumer routes, and how the meshes read them."""

from __future__ import annotations

from tests.emit.gateway_api.harness import (
    analyzed,
    find,
    has_loss,
    resources,
    spec,
    translated,
    validated,
)

MULTI = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}, {name: http-admin, port: 8081}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  subsets: [{name: v2, labels: {version: v2}}]
"""


def vs(body: str, namespace: str = "shop", extra: str = "") -> str:
    return MULTI + f"""---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: cart, namespace: {namespace}}}
spec:
  hosts: [cart.shop.svc.cluster.local]
{extra}  http:
{body}"""


def test_a_single_port_service_parent_names_its_port() -> None:
    text = """
apiVersion: v1
kind: Service
metadata: {name: one, namespace: shop}
spec:
  selector: {app: one}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: one, namespace: shop}
spec:
  hosts: [one]
  http:
  - route: [{destination: {host: one}}]
"""
    assert spec(translated(text), "HTTPRoute", "one")["parentRefs"] == [
        {"group": "", "kind": "Service", "name": "one", "port": 9080}]


def test_destinations_without_a_port_split_a_multi_port_service_by_port() -> None:
    out = translated(vs("  - route: [{destination: {host: cart, subset: v2}}]\n"))
    first, second = spec(out, "HTTPRoute", "cart-1"), spec(out, "HTTPRoute", "cart-2")
    assert first["parentRefs"] == [{"group": "", "kind": "Service", "name": "cart", "port": 8080}]
    assert first["rules"] == [{"backendRefs": [{"name": "cart-v2", "port": 8080, "weight": 1}]}]
    assert second["parentRefs"] == [{"group": "", "kind": "Service", "name": "cart", "port": 8081}]
    assert second["rules"] == [{"backendRefs": [{"name": "cart-v2", "port": 8081, "weight": 1}]}]
    assert validated(out) == []


def test_destinations_with_ports_keep_one_route_for_every_port() -> None:
    out = translated(vs("  - route: [{destination: {host: cart, subset: v2, port: {number: 8080}}}]\n"))
    assert spec(out, "HTTPRoute", "cart")["parentRefs"] == [{"group": "", "kind": "Service", "name": "cart"}]


def test_a_match_port_becomes_a_route_on_that_port_and_the_rest_on_the_others() -> None:
    out = translated(vs("""  - match: [{port: 8081}]
    route: [{destination: {host: cart, port: {number: 8081}}}]
  - route: [{destination: {host: cart, subset: v2, port: {number: 8080}}}]
"""))
    routes = {r["metadata"]["name"]: r["spec"] for r in resources(out, "HTTPRoute")}
    assert routes == {
        "cart-1": {"parentRefs": [{"group": "", "kind": "Service", "name": "cart", "port": 8080}],
                   "rules": [{"backendRefs": [{"name": "cart-v2", "port": 8080, "weight": 1}]}]},
        "cart-2": {"parentRefs": [{"group": "", "kind": "Service", "name": "cart", "port": 8081}],
                   "rules": [{"backendRefs": [{"name": "cart", "port": 8081, "weight": 1}]}]},
    }
    assert validated(out) == []


def test_a_virtual_service_in_another_namespace_is_a_consumer_route() -> None:
    text = vs("  - route: [{destination: {host: cart.shop.svc.cluster.local, port: {number: 8080}}}]\n", "web")
    out = translated(text)
    route = find(out, "HTTPRoute", "cart", "web")
    assert route["spec"]["parentRefs"] == [{"group": "", "kind": "Service", "name": "cart", "namespace": "shop"}]
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {"name": "cart", "namespace": "shop", "port": 8080, "weight": 1}]
    assert find(out, "ReferenceGrant")["metadata"]["namespace"] == "shop"
    assert has_loss(out, "MSH401", "consumer route", "used only by clients in web")
    assert validated(out) == []
    assert analyzed(out, text) == []


def test_a_consumer_virtual_service_exported_to_its_namespace_only_is_exact() -> None:
    out = translated(vs("  - route: [{destination: {host: cart.shop.svc.cluster.local, port: {number: 8080}}}]\n",
                        "web", extra="  exportTo: ['.']\n"))
    assert not has_loss(out, "MSH401", "consumer route")


def test_a_producer_route_is_broader_than_a_restricted_export() -> None:
    out = translated(vs("  - route: [{destination: {host: cart, port: {number: 8080}}}]\n",
                        extra="  exportTo: ['.']\n"))
    assert has_loss(out, "MSH401", "producer route", "exportTo .")
    out = translated(vs("  - route: [{destination: {host: cart, port: {number: 8080}}}]\n"))
    assert not has_loss(out, "MSH401", "producer route")


def test_source_namespace_matches_become_consumer_routes() -> None:
    out = translated(vs("""  - match: [{sourceNamespace: batch}]
    route: [{destination: {host: cart, subset: v2, port: {number: 8080}}}]
  - match: [{sourceNamespace: jobs, uri: {prefix: /jobs/}}]
    route: [{destination: {host: cart, subset: v2, port: {number: 8080}}}]
  - route: [{destination: {host: cart, port: {number: 8080}}}]
"""))
    jobs = find(out, "HTTPRoute", namespace="jobs")["spec"]
    assert [r.get("matches") for r in jobs["rules"]] == [[{"path": {"type": "PathPrefix", "value": "/jobs/"}}], None]
    producer = find(out, "HTTPRoute", namespace="shop")["spec"]
    consumer = find(out, "HTTPRoute", namespace="batch")["spec"]
    assert producer["rules"] == [{"backendRefs": [{"name": "cart", "port": 8080, "weight": 1}]}]
    assert consumer["parentRefs"] == [{"group": "", "kind": "Service", "name": "cart", "namespace": "shop"}]
    # for batch's clients the first rule takes every request: the second is never tried
    assert consumer["rules"] == [
        {"backendRefs": [{"name": "cart-v2", "namespace": "shop", "port": 8080, "weight": 1}]}]
    assert not has_loss(out, "MSH400", "sourceNamespace")
    assert validated(out) == []


def test_a_source_namespace_of_the_service_itself_cannot_be_a_consumer_route() -> None:
    out = translated(vs("""  - match: [{sourceNamespace: shop}]
    route: [{destination: {host: cart, port: {number: 8080}}}]
"""))
    assert has_loss(out, "MSH400", "sourceNamespace shop")


def test_equal_timeouts_are_also_written_for_linkerd() -> None:
    out = translated(vs("""  - match: [{uri: {exact: /a}}]
    route: [{destination: {host: cart, port: {number: 8080}}}]
    timeout: 2s
  - route: [{destination: {host: cart, port: {number: 8080}}}]
    timeout: 2s
"""))
    assert find(out, "HTTPRoute", "cart")["metadata"]["annotations"]["timeout.linkerd.io/request"] == "2s"


def test_different_timeouts_are_noted_for_linkerd_before_2_20() -> None:
    text = vs("""  - match: [{uri: {exact: /a}}]
    route: [{destination: {host: cart, port: {number: 8080}}}]
    timeout: 2s
  - route: [{destination: {host: cart, port: {number: 8080}}}]
""")
    old = translated(text, linkerd_version="2.18")
    assert "timeout.linkerd.io/request" not in find(old, "HTTPRoute", "cart")["metadata"]["annotations"]
    assert has_loss(old, "MSH401", "Linkerd 2.18 ignores timeouts.request")
    assert not has_loss(translated(text, linkerd_version="2.20"), "MSH401", "ignores timeouts.request")


def test_filters_linkerd_drops_are_noted() -> None:
    out = translated(vs("""  - route: [{destination: {host: cart, port: {number: 8080}}}]
    mirror: {host: cart, port: {number: 8081}}
"""))
    assert has_loss(out, "MSH401", "uses RequestMirror", "Linkerd ignores the whole route")
    out = translated(vs("""  - route: [{destination: {host: cart, port: {number: 8080}}}]
    headers: {request: {set: {x-a: b}}}
"""))
    assert not has_loss(out, "MSH401", "Linkerd ignores the whole route")


def test_hosts_that_are_not_services_get_no_mesh_route() -> None:
    text = MULTI + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ext, namespace: shop}
spec:
  hosts: [api.example.com]
  http:
  - route: [{destination: {host: cart, port: {number: 8080}}}]
"""
    out = translated(text)
    assert resources(out, "HTTPRoute") == []
    assert has_loss(out, "MSH400", "host 'api.example.com' is not a Kubernetes Service")


def test_tcp_routes_on_the_mesh_take_the_ports_earlier_rules_left() -> None:
    text = """
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  selector: {app: db}
  ports: [{name: tcp-pg, port: 5432}, {name: tcp-admin, port: 5433}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: data}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432}]
    route: [{destination: {host: db, port: {number: 5432}}}]
  - route: [{destination: {host: db, port: {number: 5433}}}]
"""
    out = translated(text)
    assert spec(out, "TCPRoute", "db-1") == {
        "parentRefs": [{"group": "", "kind": "Service", "name": "db", "port": 5432}],
        "rules": [{"backendRefs": [{"name": "db", "port": 5432, "weight": 1}]}]}
    assert spec(out, "TCPRoute", "db-2")["parentRefs"] == [{"group": "", "kind": "Service", "name": "db", "port": 5433}]
    assert has_loss(out, "MSH401", "Linkerd applies Service-parented TCP and TLS routes")
    assert validated(out) == []


def test_mesh_routes_for_linkerd_before_2_18_are_v1beta1() -> None:
    text = vs("  - route: [{destination: {host: cart, port: {number: 8080}}}]\n")
    assert find(translated(text, linkerd_version="2.17"), "HTTPRoute", "cart")["apiVersion"] == \
        "gateway.networking.k8s.io/v1beta1"
    assert find(translated(text), "HTTPRoute", "cart")["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert validated(translated(text, linkerd_version="2.16")) == []
