"""What the Ingress analysis rules (MSH340-MSH349) share: each Ingress with its routes and class.

The lowering (meshctl/lower/ingress.py) made every Ingress a Gateway (``source_kind
"Ingress"``) and Routes, one per ``spec.rules[i]`` plus one for the default backend::

    Ingress shop.web {class nginx, rules: [shop.example.com: /api, /], defaultBackend: web}
    -> Entry(ingress=Gateway shop.web, rules=[Route shop.example.com], default=Route *,
             klass=ClassOf(name="nginx", via="ingressClassName", ...), istio=False)

Paths compare as Kubernetes reads them: ``path_key`` makes Prefix ``/api`` and ``/api/``
one key (a Prefix matches by whole segments and ignores a trailing ``/``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.lower.ingress import (
    ClassOf,
    class_of,
    ingress_routes,
    ingresses,
    is_default_backend,
    istio_serves,
    routes_of,
)
from meshctl.model import hosts
from meshctl.model.objects import (
    Backend,
    Gateway,
    RequestMatch,
    Route,
    RouteRule,
    Service,
    ServicePort,
)
from meshctl.model.origin import Origin
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import by_position

IMPLEMENTATION_SPECIFIC = "ImplementationSpecific"
CANARY_ANNOTATION = "nginx.ingress.kubernetes.io/canary"


@dataclass(frozen=True, eq=False)
class Entry:
    ingress: Gateway
    rules: tuple[Route, ...]  # one per spec.rules[i]
    default: Route | None  # spec.defaultBackend
    klass: ClassOf
    istio: bool  # Istio's ingress gateway serves it

    @property
    def label(self) -> str:
        return f"Ingress {self.ingress.name}.{self.ingress.namespace}"

    def routes(self) -> tuple[Route, ...]:
        return self.rules + ((self.default,) if self.default is not None else ())

    @property
    def canary(self) -> bool:
        """An ingress-nginx canary: it shares its main Ingress's host and paths on purpose."""
        return not self.istio and self.ingress.annotations.get(CANARY_ANNOTATION) == "true"

    def class_label(self) -> str:
        if self.klass.name is None:
            return "no class"
        return f"class {self.klass.name!r}"


def entries(ctx: Analysis) -> list[Entry]:
    """Every Ingress of the inputs, in input order (built once per run)."""
    def build() -> list[Entry]:
        mesh = ctx.mesh
        index = ingress_routes(mesh)
        out = []
        for ingress in sorted(ingresses(mesh), key=lambda g: by_position(g.origin)):
            routes = routes_of(index, ingress)
            out.append(Entry(
                ingress, tuple(r for r in routes if not is_default_backend(r)),
                next((r for r in routes if is_default_backend(r)), None),
                class_of(mesh, ingress), istio_serves(mesh, ingress),
            ))
        return out

    return ctx.memo("ingress.entries", build)


@dataclass(frozen=True, eq=False)
class PathEntry:
    """One path of an Ingress rule: its host ("" for every host), match, and backend."""

    entry: Entry
    route: Route
    rule: RouteRule
    match: RequestMatch

    @property
    def host(self) -> str:
        return self.route.hosts[0] if self.route.hosts else ""

    @property
    def backend(self) -> Backend | None:
        return self.rule.backends[0] if self.rule.backends else None

    @property
    def value(self) -> str:
        return self.match.path.value if self.match.path is not None else ""

    @property
    def kind(self) -> str:
        return self.match.path_type or IMPLEMENTATION_SPECIFIC

    def key(self) -> tuple[str, str]:
        return path_key(self.kind, self.value)

    def where(self) -> str:
        """``spec.rules[0].paths[1]`` style, for messages."""
        path = self.match.origin.path
        return f"rules[{path[2]}].paths[{path[5]}]" if len(path) >= 6 else "the path"

    def shown(self) -> str:
        return f"{self.kind} path {self.value or '(empty)'!r}"


def path_entries(entry: Entry) -> Iterator[PathEntry]:
    for route in entry.rules:
        for rule in route.rules:
            for match in rule.matches:
                yield PathEntry(entry, route, rule, match)


def path_key(kind: str, value: str) -> tuple[str, str]:
    """Two paths with the same key match the same requests. Prefix ``/a/`` is ``/a``."""
    if kind == "Prefix":
        return kind, value.rstrip("/") or "/"
    return kind, value


def backend_label(backend: Backend | None) -> str:
    if backend is None:
        return "no backend"
    if backend.kind != "Service":
        return f"{backend.kind} {backend.host}"
    port = backend.port if backend.port is not None else backend.port_name
    parts = hosts.split_service_fqdn(backend.fqdn.rpartition(".svc.")[0] + ".svc.cluster.local")
    name = f"{parts[0]}.{parts[1]}" if parts else backend.host
    return f"{name}:{port}" if port is not None else name


def same_backend(a: Backend | None, b: Backend | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.kind, a.fqdn, a.port, a.port_name) == (b.kind, b.fqdn, b.port, b.port_name)


def service_port(ctx: Analysis, backend: Backend) -> tuple[Service, ServicePort] | None:
    """The Service and port an Ingress backend names, when the inputs define both."""
    if backend.kind != "Service" or not backend.fqdn:
        return None
    found = ctx.mesh.services_for(backend.fqdn)
    if not found:
        return None
    service = min(found, key=lambda s: by_position(s.origin))
    if backend.port is not None:
        port = service.port(backend.port)
    else:
        port = next((p for p in service.ports if backend.port_name and p.name == backend.port_name), None)
    return (service, port) if port is not None else None


def rule_host_origin(route: Route) -> Origin:
    return route.host_origins[0] if route.host_origins else route.origin
