"""Kubernetes Ingress and IngressClass in the model: what later back-ends (Gateway API,
Istio) and the analysis rules read. Expected values follow the Ingress API, not the code."""

from __future__ import annotations

from pathlib import Path

from meshctl.diagnostics import Severity
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.lower.ingress import class_of, ingresses, is_default_backend, istio_serves
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import MatchType
from meshctl.options import Options
from meshctl.pipeline import run_analyze

SHOP = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: web
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "true"}
spec:
  ingressClassName: nginx
  defaultBackend: {service: {name: web, port: {number: 80}}}
  tls:
  - hosts: [shop.example.com]
    secretName: shop-cert
  - {}
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
      - {path: /login, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
      - {pathType: ImplementationSpecific, backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: b}}}
  - http:
      paths:
      - {path: /healthz, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
"""


def model(text: str) -> MeshModel:
    return lower(read_text(text, "mesh.yaml").docs)


def test_an_ingress_is_a_gateway_with_http_and_https_listeners() -> None:
    (gateway,) = model(SHOP).gateways
    assert (gateway.source_kind, gateway.name, gateway.namespace, gateway.class_name) == ("Ingress", "shop", "web", "nginx")
    assert gateway.selector is None  # not Istio's class
    assert gateway.annotations == {"nginx.ingress.kubernetes.io/ssl-redirect": "true"}
    http, tls, bare = gateway.listeners
    assert (http.name, http.port, http.protocol, http.hosts) == ("http", 80, "HTTP", ("shop.example.com", "*"))
    assert (tls.name, tls.port, tls.protocol, tls.hosts, tls.tls_mode) == ("https-0", 443, "HTTPS", ("shop.example.com",), "Terminate")
    assert (tls.secret_name, tls.credential_names) == ("shop-cert", ())
    assert (bare.hosts, bare.secret_name) == (("*",), None)
    assert tls.port_name == "https-443-ingress-shop-web-0"


def test_each_rule_is_a_route_and_each_path_a_rule() -> None:
    mesh = model(SHOP)
    named, hostless, default = mesh.routes
    assert {r.source_kind for r in mesh.routes} == {"Ingress"}
    assert (named.hosts, hostless.hosts, default.hosts) == (("shop.example.com",), (), ())
    assert [p.kind for p in named.parents] == ["Ingress"]
    api, login, bucket = named.rules
    assert (api.matches[0].path.type, api.matches[0].path.value, api.matches[0].path_type) == (MatchType.PREFIX, "/api", "Prefix")
    assert (login.matches[0].path.type, login.matches[0].path_type) == (MatchType.EXACT, "Exact")
    assert bucket.matches[0].path is None and bucket.matches[0].is_catch_all
    (backend,) = api.backends
    assert (backend.fqdn, backend.port, backend.port_name, backend.kind) == ("api.web.svc.cluster.local", None, "http", "Service")
    assert (bucket.backends[0].kind, bucket.backends[0].host) == ("Bucket.k8s.example.com", "b")
    assert is_default_backend(default) and not is_default_backend(named)
    assert default.rules[0].matches == () and default.rules[0].backends[0].port == 80


def test_v1beta1_backends_lower_the_same_way() -> None:
    mesh = model("""
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old, namespace: web}
spec:
  backend: {serviceName: web, servicePort: 80}
  rules:
  - http:
      paths:
      - {path: /api, backend: {serviceName: api, servicePort: http}}
""")
    rule, default = mesh.routes
    (path,) = rule.rules
    assert (path.matches[0].path_type, path.matches[0].path.type) == (None, MatchType.PREFIX)
    assert (path.backends[0].fqdn, path.backends[0].port_name) == ("api.web.svc.cluster.local", "http")
    assert is_default_backend(default) and default.rules[0].backends[0].port == 80


CLASSES = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: edge
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: istio.io/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
"""


def _ingress(name: str, spec: str = "", annotation: str | None = None) -> str:
    meta = f"  annotations: {{kubernetes.io/ingress.class: {annotation}}}\n" if annotation else ""
    spec = f"  {spec}\n" if spec else ""
    return f"""---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: web
{meta}spec:
{spec}  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}
"""


def test_ingress_classes_are_gateway_classes_of_their_own_kind() -> None:
    mesh = model(CLASSES)
    edge, nginx = mesh.gateway_classes
    assert (edge.source_kind, edge.controller, edge.default) == ("IngressClass", "istio.io/ingress-controller", True)
    assert (nginx.name, nginx.default) == ("nginx", False)


def test_the_class_an_ingress_ends_up_with() -> None:
    text = CLASSES + _ingress("field", "ingressClassName: nginx") + _ingress("annotated", annotation="istio") \
        + _ingress("classless", "")
    mesh = model(text)
    by_name = {g.name: g for g in ingresses(mesh)}
    field, annotated, classless = (class_of(mesh, by_name[n]) for n in ("field", "annotated", "classless"))
    assert (field.name, field.via, field.controller) == ("nginx", "ingressClassName", "k8s.io/ingress-nginx")
    assert (annotated.name, annotated.via) == ("istio", "annotation")
    assert (classless.name, classless.via, classless.controller) == ("edge", "default", "istio.io/ingress-controller")
    assert [istio_serves(mesh, by_name[n]) for n in ("field", "annotated", "classless")] == [False, True, True]
    assert by_name["annotated"].selector == {"istio": "ingressgateway"}


def test_istio_serves_ingress_class_name_istio_without_the_ingress_class_among_the_inputs() -> None:
    mesh = model(_ingress("mesh", "ingressClassName: istio") + _ingress("none"))
    mesh_ingress, none = ingresses(mesh)
    assert istio_serves(mesh, mesh_ingress) and not istio_serves(mesh, none)


def _analyze(tmp_path: Path, text: str, code: str, closed_world: bool = False) -> list[tuple[int, str, str]]:
    path = tmp_path / "mesh.yaml"
    path.write_text(text)
    result = run_analyze(Options(paths=(str(path),), select=(code,), closed_world=closed_world))
    return [(f.location.line if f.location else 0, f.severity.label, f.message) for f in result.findings]


def test_a_classless_ingress_with_several_default_classes_is_refused(tmp_path: Path) -> None:
    text = CLASSES.replace("metadata: {name: nginx}", "metadata:\n  name: nginx\n  annotations: "
                           "{ingressclass.kubernetes.io/is-default-class: \"true\"}") + _ingress("classless")
    ((_, severity, message),) = _analyze(tmp_path, text, "MSH344")
    assert severity == Severity.WARNING.label
    assert "2 IngressClasses are marked default ('edge', 'nginx'): the API server refuses" in message


def test_a_missing_class_is_a_warning_in_a_closed_world(tmp_path: Path) -> None:
    ((_, severity, message),) = _analyze(tmp_path, _ingress("shop", "ingressClassName: ingress"), "MSH344",
                                         closed_world=True)
    assert (severity, message) == ("warning", "ingressClassName 'ingress' matches no IngressClass")
