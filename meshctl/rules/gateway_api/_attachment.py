"""How each Gateway API route attaches to the Gateway listeners it names (MSH301, MSH304, MSH305).

A parentRef to a Gateway selects listeners (by ``sectionName`` and ``port``, or all of
them); the route is accepted by a listener when the listener's ``allowedRoutes`` admits
the route's namespace and kind and, for a route with hostnames on a listener that
matches on one, the two hostnames intersect. The route is accepted by the parent when
*any* selected listener accepts it, so a problem is reported only when none does.

Built once per run (``attachments(ctx)``) and shared by the rules that need it. A
parentRef to a Gateway missing from the inputs, or selecting no listener, is MSH300's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Gateway, Listener, ParentRef, Route
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import (
    NAME_LABEL,
    by_position,
    effective_hostnames,
    gateway_api_routes,
    is_gateway_parent,
    kind_admitted,
    selected_listeners,
)

KIND = "kind"
NAMESPACE = "namespace"
HOSTNAME = "hostname"


@dataclass(frozen=True, eq=False)
class ListenerVerdict:
    listener: Listener
    # why the listener refuses the route: KIND, NAMESPACE, HOSTNAME (empty: accepted)
    refusals: tuple[str, ...]
    # the namespace check could not be decided (a Selector on labels of a Namespace
    # the inputs do not define)
    undecided: bool
    hostnames: tuple[str, ...]  # the hostnames the route serves there (intersections)

    @property
    def accepts(self) -> bool:
        return not self.refusals and not self.undecided


@dataclass(frozen=True, eq=False)
class Attachment:
    """One parentRef of a route to a Gateway among the inputs."""

    route: Route
    parent: ParentRef
    gateway: Gateway
    verdicts: tuple[ListenerVerdict, ...]  # one per listener the parentRef selects

    @property
    def accepted(self) -> list[ListenerVerdict]:
        return [v for v in self.verdicts if v.accepts]

    @property
    def undecided(self) -> bool:
        return any(v.undecided and not v.refusals for v in self.verdicts)


@dataclass
class Attachments:
    items: list[Attachment] = field(default_factory=list)


def attachments(ctx: Analysis) -> Attachments:
    return ctx.memo("gateway_api.attachments", lambda: _build(ctx.mesh))


def _build(mesh: MeshModel) -> Attachments:
    result = Attachments()
    gateways: dict[tuple[str, str], list[Gateway]] = {}
    for route in gateway_api_routes(mesh.routes):
        for parent in route.parents:
            if not is_gateway_parent(parent):
                continue
            key = (parent.namespace, parent.name)
            if key not in gateways:
                gateways[key] = documents(mesh, *key)
            # several documents of one Gateway (alternative versions among the inputs):
            # the route is judged against the listeners of all of them
            verdicts = tuple(
                _verdict(mesh, gateway, listener, route)
                for gateway in gateways[key]
                for listener in selected_listeners(gateway, parent)
            )
            if verdicts:
                result.items.append(Attachment(route, parent, gateways[key][0], verdicts))
    return result


def documents(mesh: MeshModel, namespace: str, name: str) -> list[Gateway]:
    """The Gateway API Gateway documents of that name among the inputs (usually one)."""
    found = [g for g in mesh.gateways_named(namespace, name) if g.source_kind == "Gateway"]
    return sorted(found, key=lambda g: by_position(g.origin))


def _verdict(mesh: MeshModel, gateway: Gateway, listener: Listener, route: Route) -> ListenerVerdict:
    refusals = []
    if kind_admitted(listener, route.source_kind) is False:
        refusals.append(KIND)
    admitted = namespace_admitted(mesh, gateway, listener, route.namespace)
    if admitted is False:
        refusals.append(NAMESPACE)
    hostnames = tuple(effective_hostnames(listener, route))
    if not hostnames:
        refusals.append(HOSTNAME)
    return ListenerVerdict(listener, tuple(refusals), admitted is None, hostnames)


def namespace_admitted(mesh: MeshModel, gateway: Gateway, listener: Listener, namespace: str) -> bool | None:
    """Does ``allowedRoutes.namespaces`` admit routes of ``namespace``? None: cannot tell.

    ``Selector`` is matched against the labels of the Namespace object among the inputs,
    plus ``kubernetes.io/metadata.name``, which the API server sets on every Namespace.
    """
    origin = listener.allowed_namespaces
    if origin == "All":
        return True
    if origin == "Same":
        return namespace == gateway.namespace
    if origin != "Selector" or listener.allowed_selector is None:
        return None
    selector = listener.allowed_selector
    if selector.get(NAME_LABEL, namespace) != namespace:
        return False
    defined = mesh.namespaces.get(namespace)
    if defined is None:
        if set(selector) - {NAME_LABEL}:
            return None
        labels = {}
    else:
        labels = dict(defined.labels)
    labels[NAME_LABEL] = namespace
    return selects(selector, labels)
