"""Istio Gateways -> Gateways of class istio, and the routes bound to them (ingress)."""

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

INGRESS = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Secret
metadata: {name: shop-cert, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: eA==, tls.key: eA==}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop.example.com", "www.example.com"]
    tls: {httpsRedirect: true}
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["./shop.example.com", "www.example.com"]
    tls: {mode: SIMPLE, credentialName: shop-cert}
  - port: {number: 8443, name: passthrough, protocol: TLS}
    hosts: ["team/db.example.com"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 9000, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [public]
  http:
  - route: [{destination: {host: web}}]
"""


def test_servers_become_listeners_one_per_host() -> None:
    out = translated(INGRESS)
    gateway = find(out, "Gateway", "public")
    assert gateway["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gateway["metadata"]["annotations"] == {"meshctl.io/translated-from": "Gateway/shop/public"}
    assert gateway["spec"] == {"gatewayClassName": "istio", "listeners": [
        {"name": "http-1", "hostname": "shop.example.com", "port": 80, "protocol": "HTTP",
         "allowedRoutes": {"namespaces": {"from": "All"}}},
        {"name": "http-2", "hostname": "www.example.com", "port": 80, "protocol": "HTTP",
         "allowedRoutes": {"namespaces": {"from": "All"}}},
        {"name": "https-1", "hostname": "shop.example.com", "port": 443, "protocol": "HTTPS",
         "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "shop-cert"}]},
         "allowedRoutes": {"namespaces": {"from": "Same"}}},
        {"name": "https-2", "hostname": "www.example.com", "port": 443, "protocol": "HTTPS",
         "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "shop-cert"}]},
         "allowedRoutes": {"namespaces": {"from": "All"}}},
        {"name": "passthrough", "hostname": "db.example.com", "port": 8443, "protocol": "TLS",
         "tls": {"mode": "Passthrough"},
         "allowedRoutes": {"namespaces": {"from": "Selector",
                                          "selector": {"matchLabels": {"kubernetes.io/metadata.name": "team"}}}}},
        {"name": "tcp-9000", "port": 9000, "protocol": "TCP", "allowedRoutes": {"namespaces": {"from": "All"}}},
    ]}
    assert has_loss(out, "MSH401", "Gateway public", "selector istio=ingressgateway")
    assert not has_loss(out, "MSH401", "credentialName")  # the Secret is in the Gateway's namespace
    assert validated(out) == []
    assert analyzed(out, INGRESS) == []


def test_https_redirect_gets_its_own_route_and_the_bound_route_skips_those_listeners() -> None:
    out = translated(INGRESS)
    assert spec(out, "HTTPRoute", "public-https-redirect") == {
        "parentRefs": [{"name": "public", "sectionName": "http-1"}, {"name": "public", "sectionName": "http-2"}],
        "rules": [{"filters": [{"type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
    }
    assert spec(out, "HTTPRoute", "front") == {
        "parentRefs": [{"name": "public", "sectionName": "https-1"}],
        "hostnames": ["shop.example.com"],
        "rules": [{"backendRefs": [{"name": "web", "port": 80, "weight": 1}]}],
    }


def test_a_route_attached_to_every_listener_istio_binds_names_no_section() -> None:
    text = INGRESS.replace("    tls: {httpsRedirect: true}\n", "")
    route = spec(translated(text), "HTTPRoute", "front")
    assert route["parentRefs"] == [{"name": "public"}]


def test_a_match_port_selects_the_listeners_of_that_port() -> None:
    text = INGRESS.replace("    tls: {httpsRedirect: true}\n", "").replace(
        "  - route: [{destination: {host: web}}]",
        "  - match: [{port: 443, uri: {prefix: /secure}}]\n    route: [{destination: {host: web}}]\n"
        "  - route: [{destination: {host: web}}]")
    out = translated(text)
    by_parent = {str(r["spec"]["parentRefs"]): r["spec"]["rules"] for r in resources(out, "HTTPRoute")}
    assert by_parent == {
        "[{'name': 'public', 'sectionName': 'http-1'}]": [{"backendRefs": [{"name": "web", "port": 80, "weight": 1}]}],
        "[{'name': 'public', 'sectionName': 'https-1'}]": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/secure"}}],
             "backendRefs": [{"name": "web", "port": 80, "weight": 1}]},
            {"backendRefs": [{"name": "web", "port": 80, "weight": 1}]}],
    }
    assert validated(out) == []


def test_an_exact_authority_becomes_a_route_of_that_hostname() -> None:
    text = INGRESS.replace('hosts: ["shop.example.com"]\n  gateways', 'hosts: ["*.example.com"]\n  gateways').replace(
        "  - port: {number: 9000, protocol: TCP}",
        '  - port: {number: 8080, name: alt, protocol: HTTP}\n    hosts: ["*.example.com"]\n'
        "  - port: {number: 9000, protocol: TCP}").replace(
        "  - route: [{destination: {host: web}}]",
        "  - match: [{authority: {exact: api.example.com}}]\n    route: [{destination: {host: web, port: {number: 80}}}]\n"
        "    headers: {request: {set: {x-api: '1'}}}\n"
        "  - route: [{destination: {host: web}}]")
    out = translated(text)
    routes = {tuple(r["spec"]["hostnames"]): r["spec"]["rules"] for r in resources(out, "HTTPRoute")
              if r["metadata"]["name"].startswith("front")}
    assert set(routes) == {("*.example.com",), ("api.example.com",)}
    assert len(routes[("api.example.com",)]) == 1  # the authority rule takes every request of the host
    assert routes[("api.example.com",)][0]["filters"][0]["type"] == "RequestHeaderModifier"
    assert routes[("*.example.com",)] == [{"backendRefs": [{"name": "web", "port": 80, "weight": 1}]}]
    parents = {r["spec"]["hostnames"][0]: r["spec"]["parentRefs"] for r in resources(out, "HTTPRoute")
               if r["metadata"]["name"].startswith("front")}
    assert parents["api.example.com"] == [{"name": "public"}]  # only the alt listener serves it
    assert [p["sectionName"] for p in parents["*.example.com"]] == ["https-1", "https-2", "alt"]
    assert validated(out) == []


def test_a_route_on_mesh_and_gateway_becomes_two_routes() -> None:
    text = INGRESS.replace("hosts: [\"shop.example.com\"]\n  gateways: [public]",
                           "hosts: [\"shop.example.com\", web]\n  gateways: [public, mesh]")
    out = translated(text)
    names = sorted(r["metadata"]["name"] for r in resources(out, "HTTPRoute"))
    assert names == ["front-1", "front-2", "public-https-redirect"]
    assert spec(out, "HTTPRoute", "front-1")["parentRefs"] == [{"name": "public", "sectionName": "https-1"}]
    assert spec(out, "HTTPRoute", "front-2")["parentRefs"] == [{"group": "", "kind": "Service", "name": "web", "port": 80}]
    assert "hostnames" not in spec(out, "HTTPRoute", "front-2")
    assert validated(out) == []


def test_a_route_bound_to_a_gateway_of_another_namespace() -> None:
    text = INGRESS.replace("gateways: [public]", "gateways: [shop/public]").replace(
        "metadata: {name: front, namespace: shop}", "metadata: {name: front, namespace: team}").replace(
        "host: web}", "host: web.shop.svc.cluster.local}")
    out = translated(text)
    assert resources(out, "HTTPRoute", "front") == []  # ./shop.example.com: shop's routes only, as in Istio
    assert has_loss(out, "MSH401", "no listener of Gateway shop/public", "namespace team")
    out = translated(text.replace('hosts: ["shop.example.com"]\n  gateways', 'hosts: ["www.example.com"]\n  gateways'))
    route = spec(out, "HTTPRoute", "front", "team")
    assert route["parentRefs"] == [{"name": "public", "namespace": "shop", "sectionName": "https-2"}]
    grant = find(out, "ReferenceGrant")
    assert grant["metadata"]["namespace"] == "shop"
    assert grant["spec"]["from"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "team"}]
    assert validated(out) == []


def test_tls_and_tcp_routes_on_the_gateway() -> None:
    text = INGRESS + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: team}
spec:
  hosts: ["db.example.com"]
  gateways: [shop/public]
  tls:
  - match: [{sniHosts: [db.example.com], port: 8443}]
    route: [{destination: {host: db, port: {number: 5432}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: raw, namespace: shop}
spec:
  hosts: ["*"]
  gateways: [public]
  tcp:
  - match: [{port: 9000}]
    route: [{destination: {host: web}}]
"""
    out = translated(text)
    assert spec(out, "TLSRoute", "db") == {
        "parentRefs": [{"name": "public", "namespace": "shop"}],
        "hostnames": ["db.example.com"],
        "rules": [{"backendRefs": [{"name": "db", "port": 5432, "weight": 1}]}],
    }
    assert spec(out, "TCPRoute", "raw") == {
        "parentRefs": [{"name": "public"}],
        "rules": [{"backendRefs": [{"name": "web", "port": 80, "weight": 1}]}],
    }
    assert find(out, "TCPRoute", "raw")["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert validated(out) == []


def test_istio_server_ports_behind_the_gateway_service_become_its_ports() -> None:
    text = INGRESS + """---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {app: istio-ingressgateway, istio: ingressgateway}
  ports: [{name: http2, port: 8081, targetPort: 80}]
"""
    out = translated(text)
    ports = [listener["port"] for listener in spec(out, "Gateway", "public")["listeners"]]
    assert ports == [8081, 8081, 443, 443, 8443, 9000]
    assert has_loss(out, "MSH401", "clients move from Service istio-system/istio-ingressgateway")


def test_grpc_servers_give_grpc_routes() -> None:
    text = """
apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: rpc}
spec:
  selector: {app: greeter}
  ports: [{name: grpc, port: 50051}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: rpc, namespace: rpc}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: grpc, protocol: GRPC}
    hosts: ["rpc.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: greeter, namespace: rpc}
spec:
  hosts: ["rpc.example.com"]
  gateways: [rpc]
  http:
  - match: [{uri: {exact: /hello.Greeter/SayHello}}]
    route: [{destination: {host: greeter}}]
"""
    out = translated(text)
    assert spec(out, "GRPCRoute", "greeter") == {
        "parentRefs": [{"name": "rpc"}],
        "hostnames": ["rpc.example.com"],
        "rules": [{"matches": [{"method": {"type": "Exact", "service": "hello.Greeter", "method": "SayHello"}}],
                   "backendRefs": [{"name": "greeter", "port": 50051, "weight": 1}]}],
    }
    assert validated(out) == []
