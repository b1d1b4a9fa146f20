"""Kubernetes Ingress and IngressClass -> Gateway, Route and GatewayClass.

Before::

    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: shop, namespace: web, annotations: {kubernetes.io/ingress.class: nginx}}
    spec:
      tls: [{hosts: [shop.example.com], secretName: shop-cert}]
      rules:
      - host: shop.example.com
        http:
          paths:
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}

After::

    Gateway(source_kind="Ingress", name="shop", namespace="web", class_name="nginx",
            listeners=(Listener(name="http", port=80, protocol="HTTP", hosts=("shop.example.com",)),
                       Listener(name="https-0", port=443, protocol="HTTPS", hosts=("shop.example.com",),
                                tls_mode="Terminate", secret_name="shop-cert")))
    Route(source_kind="Ingress", name="shop", namespace="web", hosts=("shop.example.com",),
          parents=(ParentRef(kind="Ingress", group="networking.k8s.io", name="shop", namespace="web"),),
          rules=(RouteRule(index=0, matches=(RequestMatch(path=StringMatch(PREFIX, "/api"),
                                                          path_type="Prefix"),),
                           backends=(Backend(fqdn="api.web.svc.cluster.local", port=8080),)),))

One Gateway per Ingress: an ``http`` listener on port 80 for every host of the rules
(``*`` for a rule without host or a default backend) and an ``https-<i>`` listener on
port 443 per ``tls`` entry, its Secret in ``Listener.secret_name`` (``credential_names``
stays empty: the Secret is the Ingress's, looked up by Ingress rules). ``class_name`` is
the class the Ingress asks for: the ``kubernetes.io/ingress.class`` annotation when set
(controllers read it first), else ``spec.ingressClassName``; the default IngressClass is
not applied here (``class_of`` does). The selector is Istio's ingress gateway labels for
an Ingress of Istio's class (``meshConfig.ingressClass``), None otherwise.

One Route per ``spec.rules[i]`` (hosts ``()`` when the rule has none: every host) with
one RouteRule per path, in order; Kubernetes precedence (the longest matching path wins,
Exact over Prefix) is not the order, so readers sort. Paths keep their ``pathType`` in
``RequestMatch.path_type``: Exact is an exact match, Prefix and ImplementationSpecific a
prefix match (Prefix by whole segments, as for every route whose ``source_kind`` is not
VirtualService; what ImplementationSpecific means is up to the controller); an empty path
matches everything (``path=None``). ``spec.defaultBackend`` (v1beta1 ``spec.backend``) is
one more Route, hosts ``()``, with a single rule without match: ``is_default_backend``.
Backends name a Service (``port`` or ``port_name``) or a resource (``kind`` is
``Kind.apiGroup``). v1beta1 (``serviceName``/``servicePort``) lowers the same way.

An IngressClass is a GatewayClass with ``source_kind="IngressClass"``; ``default`` says
``ingressclass.kubernetes.io/is-default-class: "true"``.

The helpers below answer what the rules and the back-ends ask of an Ingress: which class
it ends up with and whether Istio's ingress gateway serves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshctl.load.document import SourceDoc
from meshctl.lower.context import Lowering, dct, dicts, integer, labels, origin, text, texts
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import (
    Backend,
    Gateway,
    GatewayClass,
    Listener,
    MatchType,
    ParentRef,
    RequestMatch,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin

Path = tuple[str | int, ...]

GROUP = "networking.k8s.io"
INGRESS = "Ingress"
INGRESS_CLASS = "IngressClass"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
ISTIO_CONTROLLER = "istio.io/ingress-controller"
DEFAULT_BACKEND_PATHS = (("spec", "defaultBackend"), ("spec", "backend"))


# -- lowering -------------------------------------------------------------------------------
def lower_ingress(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ns = ctx.namespace(doc)
    annotations = labels(doc.metadata.get("annotations"))
    parent = ParentRef(INGRESS, GROUP, doc.name, ns, None, None, origin(doc))
    rules = dicts(spec.get("rules"))
    routes: list[Route] = []
    for i, rule in rules:
        host = text(rule.get("host")) or ""
        where: Path = ("spec", "rules", i, "http", "paths")
        paths = dicts(dct(rule.get("http")).get("paths"))
        routes.append(Route(
            source_kind=INGRESS, api_version=doc.api_version, name=doc.name, namespace=ns,
            hosts=(host,) if host else (), host_origins=(origin(doc, "spec", "rules", i, "host"),) if host else (),
            parents=(parent,), export_to=(),
            rules=tuple(_path_rule(doc, ctx, ns, p, (*where, j), j) for j, p in paths),
            annotations=annotations, origin=origin(doc, "spec", "rules", i),
        ))
    key = "defaultBackend" if "defaultBackend" in spec else "backend"
    default = spec.get(key)
    if isinstance(default, dict):
        backend = _backend(doc, ctx, ns, default, ("spec", key))
        routes.append(Route(
            source_kind=INGRESS, api_version=doc.api_version, name=doc.name, namespace=ns, hosts=(),
            host_origins=(), parents=(parent,), export_to=(),
            rules=(_rule(doc, 0, (), (backend,) if backend else (), ("spec", key)),),
            annotations=annotations, origin=origin(doc, "spec", key),
        ))
    ctx.model.routes.extend(routes)
    class_name = annotations.get(CLASS_ANNOTATION) or text(spec.get("ingressClassName"))
    config = ctx.model.mesh_config
    ctx.model.gateways.append(Gateway(
        source_kind=INGRESS, name=doc.name, namespace=ns,
        selector=istio_gateway_selector(ctx.model) if class_name == config.ingress_class else None,
        class_name=class_name, listeners=_listeners(doc, ns, spec, rules, isinstance(default, dict)),
        annotations=annotations, origin=origin(doc),
    ))


def _listeners(doc: SourceDoc, ns: str, spec: dict[str, Any], rules: list[tuple[int, dict[str, Any]]],
               default: bool) -> tuple[Listener, ...]:
    served = [text(rule.get("host")) or "*" for _, rule in rules] + (["*"] if default else [])
    out = [Listener(
        name="http", port=80, protocol="HTTP", hosts=tuple(dict.fromkeys(served)) or ("*",), tls_mode=None,
        credential_names=(), allowed_namespaces="Same", allowed_selector=None, allowed_kinds=(),
        origin=origin(doc, "spec"), port_name=f"http-80-ingress-{doc.name}-{ns}",
    )]
    for i, tls in dicts(spec.get("tls")):
        out.append(Listener(
            name=f"https-{i}", port=443, protocol="HTTPS", hosts=texts(tls.get("hosts")) or ("*",),
            tls_mode="Terminate", credential_names=(), allowed_namespaces="Same", allowed_selector=None,
            allowed_kinds=(), origin=origin(doc, "spec", "tls", i),
            port_name=f"https-443-ingress-{doc.name}-{ns}-{i}", secret_name=text(tls.get("secretName")) or None,
        ))
    return tuple(out)


def _path_rule(doc: SourceDoc, ctx: Lowering, ns: str, item: dict[str, Any], where: Path, index: int) -> RouteRule:
    path_type = text(item.get("pathType"))
    value = text(item.get("path")) or ""
    path = None
    if value:
        path = StringMatch(MatchType.EXACT if path_type == "Exact" else MatchType.PREFIX, value)
    match = RequestMatch(
        path=path, method=None, authority=None, scheme=None, headers=(), query_params=(), port=None,
        source_labels={}, source_namespace=None, gateways=(), origin=origin(doc, *where), path_type=path_type,
    )
    raw = item.get("backend")
    backend = _backend(doc, ctx, ns, raw, (*where, "backend")) if isinstance(raw, dict) else None
    return _rule(doc, index, (match,), (backend,) if backend else (), where)


def _rule(doc: SourceDoc, index: int, matches: tuple[RequestMatch, ...], backends: tuple[Backend, ...],
          where: Path) -> RouteRule:
    return RouteRule(
        name=None, index=index, protocol="http", matches=matches, backends=backends, mirrors=(), redirect=None,
        direct_response=None, delegate=None, timeout=None, retry=None, fault=None, rewrite=None,
        header_changes=None, cors=None, sni_hosts=(), jwt_claim_matches=False, filters=(), origin=origin(doc, *where),
    )


def _backend(doc: SourceDoc, ctx: Lowering, ns: str, data: dict[str, Any], where: Path) -> Backend | None:
    """A v1 ``service``/``resource`` backend, or a v1beta1 ``serviceName``/``servicePort`` one."""
    service, resource = data.get("service"), data.get("resource")
    number: int | None = None
    port_name: str | None = None
    if isinstance(service, dict):
        name = text(service.get("name")) or ""
        port = dct(service.get("port"))
        number, port_name = integer(port.get("number")) or None, text(port.get("name")) or None
        name_at: Path = (*where, "service", "name")
    elif "serviceName" in data:
        name = text(data.get("serviceName")) or ""
        value = data.get("servicePort")
        number, port_name = integer(value) or None, text(value) or None
        name_at = (*where, "serviceName")
    elif isinstance(resource, dict):
        name = text(resource.get("name")) or ""
        kind, group = text(resource.get("kind")) or "", text(resource.get("apiGroup")) or ""
        return Backend(
            host=name, fqdn=name, subset=None, port=None, weight=None, kind=f"{kind}.{group}" if group else kind,
            origin=origin(doc, *where), host_origin=origin(doc, *where, "resource", "name"),
        )
    else:
        return None
    return Backend(
        host=name, fqdn=hosts.service_fqdn(name, ns, ctx.model.domain) if name else "", subset=None, port=number,
        weight=None, kind="Service", origin=origin(doc, *where), host_origin=origin(doc, *name_at),
        port_name=port_name,
    )


def lower_ingress_class(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    annotations = labels(doc.metadata.get("annotations"))
    ctx.model.gateway_classes.append(GatewayClass(
        doc.name, text(spec.get("controller")) or "", origin(doc), source_kind=INGRESS_CLASS,
        default=annotations.get(DEFAULT_CLASS_ANNOTATION) == "true",
    ))


LOWERERS = {
    f"{GROUP}/Ingress": lower_ingress,
    "extensions/Ingress": lower_ingress,
    f"{GROUP}/IngressClass": lower_ingress_class,
}


# -- what readers ask of an Ingress ---------------------------------------------------------
def ingresses(mesh: MeshModel) -> list[Gateway]:
    """The Ingresses of the model (the Gateways lowered from them)."""
    return [g for g in mesh.gateways if g.source_kind == INGRESS]


def ingress_classes(mesh: MeshModel) -> list[GatewayClass]:
    return [c for c in mesh.gateway_classes if c.source_kind == INGRESS_CLASS]


def ingress_routes(mesh: MeshModel) -> dict[int, list[Route]]:
    """The Routes of each Ingress, keyed by ``id`` of its document (rules, then the default backend)."""
    found: dict[int, list[Route]] = {}
    for route in mesh.routes:
        if route.source_kind == INGRESS:
            found.setdefault(id(route.origin.doc), []).append(route)
    return found


def routes_of(index: dict[int, list[Route]], ingress: Gateway) -> list[Route]:
    return index.get(id(ingress.origin.doc), [])


def is_default_backend(route: Route) -> bool:
    return route.source_kind == INGRESS and route.origin.path in DEFAULT_BACKEND_PATHS


def backend_port(mesh: MeshModel, backend: Backend) -> int | None:
    """The port number a Service backend sends to: ``service.port.number``, or the number of
    the Service's port named ``service.port.name`` (None while that Service or port is not
    among the inputs), as controllers resolve it."""
    if backend.port is not None or backend.port_name is None:
        return backend.port
    services = mesh.services_for(backend.fqdn)
    return next((p.port for s in services[:1] for p in s.ports if p.name == backend.port_name), None)


def istio_gateway_selector(mesh: MeshModel) -> dict[str, str]:
    """The labels of the gateway Istio serves Ingresses on (``meshConfig.ingressSelector``)."""
    return {"istio": mesh.mesh_config.ingress_selector}


@dataclass(frozen=True)
class ClassOf:
    """The class an Ingress ends up with, and where that is decided.

    ``via``: ``annotation`` (kubernetes.io/ingress.class), ``ingressClassName``, ``default``
    (neither is written: the API server's admission sets the one default IngressClass) or
    ``none`` (neither, and no single default IngressClass among the inputs).
    """

    name: str | None
    via: str
    ingress_class: GatewayClass | None  # the IngressClass of that name among the inputs
    origin: Origin  # the annotation, spec.ingressClassName, the default class's annotation, or the Ingress
    defaults: tuple[GatewayClass, ...]  # every IngressClass of the inputs marked default

    @property
    def controller(self) -> str | None:
        return self.ingress_class.controller if self.ingress_class is not None else None


def class_of(mesh: MeshModel, ingress: Gateway) -> ClassOf:
    classes: dict[str, GatewayClass] = {}
    for c in ingress_classes(mesh):
        classes.setdefault(c.name, c)
    defaults = tuple(c for c in ingress_classes(mesh) if c.default)
    annotation = ingress.annotations.get(CLASS_ANNOTATION)
    if annotation is not None:
        where = ingress.origin.at("metadata", "annotations", CLASS_ANNOTATION)
        return ClassOf(annotation, "annotation", classes.get(annotation), where, defaults)
    if ingress.class_name:
        where = ingress.origin.at("spec", "ingressClassName")
        return ClassOf(ingress.class_name, "ingressClassName", classes.get(ingress.class_name), where, defaults)
    if len(defaults) == 1:
        where = defaults[0].origin.at("metadata", "annotations", DEFAULT_CLASS_ANNOTATION)
        return ClassOf(defaults[0].name, "default", defaults[0], where, defaults)
    return ClassOf(None, "none", None, ingress.origin, defaults)


def istio_serves(mesh: MeshModel, ingress: Gateway) -> bool:
    """Does Istio's ingress controller take this Ingress (its default ``ingressControllerMode:
    STRICT``)? The annotation must be ``meshConfig.ingressClass`` (``istio``); a class name must
    be an IngressClass whose controller is ``istio.io/ingress-controller``. An ``ingressClassName``
    of Istio's class without its IngressClass among the inputs counts (the IngressClass Istio's
    docs create is assumed to exist); an Ingress without any class is not served."""
    found = class_of(mesh, ingress)
    istio_class = mesh.mesh_config.ingress_class
    if found.via == "annotation":
        return found.name == istio_class
    if found.ingress_class is not None:
        return found.ingress_class.controller == ISTIO_CONTROLLER
    return found.via == "ingressClassName" and found.name == istio_class
