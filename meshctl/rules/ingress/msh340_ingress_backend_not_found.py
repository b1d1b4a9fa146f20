"""An Ingress sends to a Service that does not exist, or to a port the Service does not have.

## Why it matters
The controller cannot resolve the backend: requests for that path get 503 (ingress-nginx,
Istio) or 502, and the controller logs `service not found` while the Ingress itself looks
fine in `kubectl get ingress`. A `port.name` is looked up among the Service's port
*names*: a Service whose only port has no name, or whose port is called `http-web`,
does not match `name: http` (Istio then drops the path altogether). The same holds for
`spec.defaultBackend`.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service: {name: api, port: {number: 8000}}   # the Service api exposes 8080
```

## Fix
Correct the name or the port (an Ingress backend is always a Service of the Ingress's
own namespace), or add the Service. Unless `--closed-world` is given, a missing Service
is reported as unresolved (info) when the inputs say nothing about the Services of the
namespace, or mention it only through some of them and hold none of a close name.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Backend, Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import by_position, missing_service
from meshctl.rules.ingress._ingress import entries

RULE = Rule(
    "MSH340", "ingress-backend-not-found", Severity.ERROR, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes", "services", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for entry in entries(ctx):
        for route in entry.routes():
            for rule in route.rules:
                for backend in rule.backends:
                    yield from _check(ctx, route, backend)


def _check(ctx: Analysis, route: Route, backend: Backend) -> Iterator[Finding]:
    if backend.kind != "Service" or not backend.host:
        return
    role = "defaultBackend" if route.origin.path[-1] in ("defaultBackend", "backend") else "backend"
    mesh = ctx.mesh
    parts = hosts.split_service_fqdn(backend.fqdn, mesh.domain)
    if parts is None:
        return
    name, ns = parts
    found = mesh.services_for(backend.fqdn)
    if not found:
        error, hint = missing_service(ctx, ns, name)
        if error:
            yield RULE.on(backend.host_origin, f"{role} names no Service '{ns}/{name}'" + hint)
        else:
            yield RULE.on(backend.host_origin, f"{role} names Service '{ns}/{name}'", unresolved=True)
        return
    service = min(found, key=lambda s: by_position(s.origin))
    if not service.ports or service.type == "ExternalName":
        return
    related = (ctx.related(service.origin, "see"),)
    if backend.port is not None and service.port(backend.port) is None:
        ports = ", ".join(str(p.port) for p in service.ports)
        yield RULE.on(backend.origin.at("service", "port", "number") if "service" in _keys(backend)
                      else backend.origin.at("servicePort"),
                      f"{role} port {backend.port}: Service '{ns}/{name}' exposes {ports}", related=related)
    elif backend.port_name is not None and not any(p.name == backend.port_name for p in service.ports):
        names = ", ".join(repr(p.name) for p in service.ports if p.name)
        shown = f"its ports are named {names}" if names else "its port has no name"
        yield RULE.on(backend.origin.at("service", "port", "name") if "service" in _keys(backend)
                      else backend.origin.at("servicePort"),
                      f"{role} port name {backend.port_name!r}: Service '{ns}/{name}' has no port of that name "
                      f"({shown}; a numbered port needs port.number)", related=related)


def _keys(backend: Backend) -> tuple[str, ...]:
    """The fields the backend's origin holds (v1 ``service`` or v1beta1 ``serviceName``)."""
    return tuple(backend.host_origin.path[len(backend.origin.path):][:1])
