"""A route's parentRef names a Gateway, listener, Service or port that does not exist.

## Why it matters
A Gateway API route takes effect only through its parents. A parentRef to a Gateway
that does not exist, a `sectionName` that names no listener of it, or a `port` no
listener (of that name) listens on is refused with `Accepted: False` and reason
`NoMatchingParent`: the route is not served there at all. For a GAMMA route (parent
a Service), a missing Service, or a `port` or `sectionName` (a port name) the Service
does not have, leaves the mesh routing as if the route did not exist. A parentRef
`kind: Service` without `group` is the same mistake in disguise: the CRD defaults the
group to `gateway.networking.k8s.io`, which has no Service kind, so neither Istio nor
Linkerd attaches the route. The parentRef's namespace defaults to the *route's*.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs:
  - name: public              # the Gateway lives in namespace ingress
  - name: public
    namespace: ingress
    sectionName: htps         # the listener is called https
  rules:
  - backendRefs: [{name: store, port: 8080}]
```

## Fix
Correct the name, add `namespace:` for a Gateway in another namespace, use a listener
name (or port) the Gateway has, and write `group: ""` for a Service parent. Gateways
are often managed apart from the routes (by a platform team), so a missing Gateway is
an error when the inputs show the mistake (a Gateway of that name in another
namespace, or one of a close name in that namespace) and is otherwise reported as
unresolved (info) unless `--closed-world` is given; a missing Service parent is judged
as a missing backend is (MSH302). When the inputs hold several documents of one
Gateway, a listener any of them has counts.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import ParentRef, Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import (
    GROUP,
    by_position,
    gateway_api_routes,
    is_gateway_parent,
    is_service_parent,
    missing_service,
    selected_listeners,
)

RULE = Rule(
    "MSH300",
    "unknown-parent-ref",
    Severity.ERROR,
    __doc__,
    reads=frozenset({"routes", "gateways", "services", "workloads"}),
)


class _Gateways:
    """The Gateway API Gateways of the inputs by namespace and by name (hints, open world)."""

    def __init__(self, mesh: MeshModel) -> None:
        self.names_in: dict[str, list[str]] = defaultdict(list)
        self.namespaces_of: dict[str, list[str]] = defaultdict(list)
        for gateway in mesh.gateways:
            if gateway.source_kind == "Gateway":
                self.names_in[gateway.namespace].append(gateway.name)
                self.namespaces_of[gateway.name].append(gateway.namespace)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    known: _Gateways | None = None
    for route in gateway_api_routes(ctx.mesh.routes):
        for parent in route.parents:
            if is_gateway_parent(parent):
                if not ctx.mesh.gateways_named(parent.namespace, parent.name):
                    known = known or _Gateways(ctx.mesh)
                yield from _gateway(ctx, route, parent, known)
            elif parent.kind == "Service":
                yield from _service(ctx, route, parent)


def _gateway(ctx: Analysis, route: Route, parent: ParentRef, known: _Gateways | None) -> Iterator[Finding]:
    ns, name = parent.namespace, parent.name
    candidates = sorted(ctx.mesh.gateways_named(ns, name), key=lambda g: by_position(g.origin))
    found = [g for g in candidates if g.source_kind == "Gateway"]
    if not found:
        if candidates:
            yield RULE.on(
                parent.origin,
                f"parentRef names Gateway '{ns}/{name}', which is an Istio Gateway "
                "(networking.istio.io): a Gateway API route attaches only to a "
                "gateway.networking.k8s.io Gateway",
                related=(ctx.related(candidates[0].origin, "see"),),
            )
            return
        assert known is not None
        hint = _hint(ns, name, known)
        if hint or ctx.closed_world:
            yield RULE.on(parent.origin, f"parentRef names no Gateway '{ns}/{name}'" + hint)
        else:
            yield RULE.on(parent.origin, f"parentRef names Gateway '{ns}/{name}'", unresolved=True)
        return
    # several documents of one Gateway: any of them may be the one applied
    if (parent.section is None and parent.port is None) or any(selected_listeners(g, parent) for g in found):
        return
    gateway = found[0]
    shown = f"Gateway '{gateway.namespace}/{gateway.name}'"
    listeners = [listener for g in found for listener in g.listeners]
    names = sorted({listener.name for listener in listeners if listener.name})
    see = (ctx.related(gateway.origin, "see"),)
    if parent.section is not None and parent.section not in names:
        message = f"sectionName {parent.section!r} names no listener of {shown}; listeners: {', '.join(names)}"
        close = difflib.get_close_matches(parent.section, names, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
        yield RULE.on(parent.origin.at("sectionName"), message, related=see)
    elif parent.section is not None:
        ports = sorted({listener.port for listener in listeners if listener.name == parent.section})
        yield RULE.on(
            parent.origin.at("port"),
            f"listener {parent.section!r} of {shown} listens on port "
            f"{', '.join(map(str, ports))}, not {parent.port}",
            related=see,
        )
    else:
        ports = sorted({listener.port for listener in listeners})
        yield RULE.on(
            parent.origin.at("port"),
            f"no listener of {shown} listens on port {parent.port}; ports: {', '.join(map(str, ports))}",
            related=see,
        )


def _hint(ns: str, name: str, known: _Gateways) -> str:
    """How the inputs show the mistake: the Gateway in another namespace, or a close name."""
    elsewhere = sorted(n for n in known.namespaces_of.get(name, []) if n != ns)
    if elsewhere:
        return f"; there is one in namespace {elsewhere[0]!r}: set `namespace: {elsewhere[0]}`"
    close = difflib.get_close_matches(name, sorted(known.names_in.get(ns, [])), n=1, cutoff=0.8)
    if close:
        return f"; did you mean {close[0]!r}?"
    return ""


def _service(ctx: Analysis, route: Route, parent: ParentRef) -> Iterator[Finding]:
    ns, name = parent.namespace, parent.name
    if parent.group == GROUP:
        yield RULE.on(
            parent.origin,
            f"parentRef kind Service {name!r} has no group, which the CRD defaults to "
            f"{GROUP}: there is no Service kind in that group, so the route attaches to no "
            'Service (Istio matches the group exactly); write `group: ""`',
        )
        return
    if not is_service_parent(parent):
        return
    service = ctx.mesh.service(name, ns)
    if service is None:
        error, hint = missing_service(ctx, ns, name)
        if error:
            yield RULE.on(parent.origin, f"parentRef names no Service '{ns}/{name}'" + hint)
        else:
            yield RULE.on(parent.origin, f"parentRef names Service '{ns}/{name}'", unresolved=True)
        return
    if not service.ports:
        return
    see = (ctx.related(service.origin, "see"),)
    if parent.port is not None and service.port(parent.port) is None:
        ports = ", ".join(str(p.port) for p in service.ports)
        yield RULE.on(
            parent.origin.at("port"),
            f"Service '{ns}/{name}' has no port {parent.port}; ports: {ports}",
            related=see,
        )
    if parent.section is not None and not any(p.name == parent.section for p in service.ports):
        names = ", ".join(p.name for p in service.ports if p.name) or "none named"
        yield RULE.on(
            parent.origin.at("sectionName"),
            f"sectionName {parent.section!r} names no port of Service '{ns}/{name}'; port names: {names}",
            related=see,
        )
