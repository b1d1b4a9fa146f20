"""Gateway API Gateways and the routes attached to them -> Istio Gateways and VirtualServices."""

from __future__ import annotations

from pathlib import Path

from tests.emit.istio.helpers import check_clean, has_loss, kinds, kubernetes_docs, line_of, run, spec

BACKENDS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {edge: "true"}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{name: tcp, port: 5432}]
"""

GATEWAY = BACKENDS + """---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    port: 80
    protocol: HTTP
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls:
      mode: Terminate
      certificateRefs: [{name: example-cert}]
    allowedRoutes: {namespaces: {from: All}}
  - name: tls
    port: 8443
    protocol: TLS
    hostname: db.example.com
    tls: {mode: Passthrough}
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {edge: "true"}}}}
  - name: tcp
    port: 5432
    protocol: TCP
  - name: dns
    port: 53
    protocol: UDP
"""


def test_listeners_become_servers(tmp_path: Path) -> None:
    out = run(GATEWAY)
    assert spec(out, "Gateway", "public") == {
        "selector": {"istio": "ingressgateway"},
        "servers": [
            {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["./*"]},
            {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*.example.com"],
             "tls": {"mode": "SIMPLE", "credentialName": "example-cert"}},
            {"port": {"number": 8443, "name": "tls", "protocol": "TLS"}, "hosts": ["shop/db.example.com"],
             "tls": {"mode": "PASSTHROUGH"}},
            {"port": {"number": 5432, "name": "tcp", "protocol": "TCP"}, "hosts": ["./*"]},
        ]}
    assert has_loss(out, "MSH400", line_of(GATEWAY, "- name: dns"), "no UDP servers")
    assert has_loss(out, "MSH401", line_of(GATEWAY, "apiVersion: gateway"), "istio=ingressgateway")
    check_clean(tmp_path, out, kubernetes_docs(GATEWAY))


def test_another_class_is_noted() -> None:
    text = GATEWAY.replace("gatewayClassName: istio", "gatewayClassName: contour")
    assert has_loss(run(text), "MSH401", line_of(text, "gatewayClassName"), "'contour'")


def routes(extra: str) -> str:
    return GATEWAY + extra


def test_routes_on_a_listener_bind_to_the_gateway_by_hostname(tmp_path: Path) -> None:
    text = routes("""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: https}]
  hostnames: [shop.example.com, other.org]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: https}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 9090}]
""")
    out = run(text)
    # other.org is outside the listener's *.example.com: not served
    vs = spec(out, "VirtualService", "public-shop-example-com")
    assert vs["hosts"] == ["shop.example.com"] and vs["gateways"] == ["shop/public"]
    # the plain HTTP listener serves the host too (no hostname): the routes match port 443
    assert vs["http"] == [
        {"match": [{"uri": {"exact": "/api"}, "port": 443}, {"uri": {"prefix": "/api/"}, "port": 443}],
         "route": [{"destination": {"host": "api.shop.svc.cluster.local", "port": {"number": 9090}}}]},
        {"match": [{"port": 443}],
         "route": [{"destination": {"host": "web.shop.svc.cluster.local", "port": {"number": 8080}}}]}]
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_a_route_on_one_of_two_ports_for_a_host_matches_its_port() -> None:
    text = routes("""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: http}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: secure, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: https}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: api, port: 9090}]}]
""")
    entries = spec(run(text), "VirtualService", "public-shop-example-com")["http"]
    assert [e["match"] for e in entries] == [[{"port": 80}], [{"port": 443}]]


def test_a_route_no_listener_accepts_is_reported() -> None:
    text = routes("""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lost, namespace: other}
spec:
  parentRefs: [{name: public, namespace: shop, sectionName: http}]
  rules: [{backendRefs: [{name: web, namespace: shop, port: 8080}]}]
""")
    out = run(text)
    assert not [k for k in kinds(out) if k[0] == "VirtualService"]
    assert has_loss(out, "MSH401", line_of(text, "sectionName: http}]"), "no listener of Gateway shop/public")


def test_a_missing_gateway_is_reported() -> None:
    text = BACKENDS + """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: nowhere}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
"""
    assert has_loss(run(text), "MSH400", line_of(text, "parentRefs"), "not among the inputs")


def test_tls_passthrough_and_tcp_routes() -> None:
    text = routes("""---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: db-tls, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: tls}]
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db-tcp, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: tcp}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
""")
    out = run(text)
    db = {"destination": {"host": "db.shop.svc.cluster.local", "port": {"number": 5432}}}
    assert spec(out, "VirtualService", "db-tls") == {"gateways": ["shop/public"], "hosts": ["db.example.com"], "tls": [
        {"match": [{"sniHosts": ["db.example.com"], "port": 8443}], "route": [db]}]}
    assert spec(out, "VirtualService", "db-tcp") == {"gateways": ["shop/public"], "hosts": ["*"], "tcp": [
        {"match": [{"port": 5432}], "route": [db]}]}


def test_two_certificates_and_a_foreign_one() -> None:
    text = GATEWAY.replace("certificateRefs: [{name: example-cert}]",
                           "certificateRefs: [{name: rsa}, {name: ecdsa, namespace: certs}]")
    out = run(text)
    assert spec(out, "Gateway", "public")["servers"][1]["tls"] == {"mode": "SIMPLE",
                                                                   "credentialNames": ["rsa", "ecdsa"]}
    assert has_loss(out, "MSH401", line_of(text, "certificateRefs"), "certs/ecdsa is in another namespace")


def test_a_gateway_from_linkerd_is_left_alone() -> None:
    assert run(GATEWAY, source="linkerd").resources == []
