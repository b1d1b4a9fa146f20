"""Which namespaces the inputs tie to Istio configuration, and which to Linkerd's.

Istio's naming and injection conventions only matter where Istio runs. The inputs say so
through the Istio resources they hold (by namespace, or through the Services their hosts
name) and through Istio labels on Namespace objects::

    VirtualService reviews.bookinfo -> host reviews.bookinfo    istio["bookinfo"]
    DestinationRule ratings.front   -> host ratings.back...     istio["front"], istio["back"]
    ServiceProfile web.booksapp                                 linkerd {"booksapp"}
    Gateway, ServiceEntry, WorkloadEntry                        (configure no app pod: not counted)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.origin import Origin
from meshctl.rules.hygiene._dataplane import has_dataplane_label

_ISTIO_GROUP = "istio.io"
_LINKERD_GROUPS = ("linkerd.io", "smi-spec.io")
# Istio kinds that configure gateways or external endpoints, not the pods of their namespace.
_NOT_POD_CONFIG = frozenset({"Gateway", "ServiceEntry", "WorkloadEntry", "WorkloadGroup"})


@dataclass
class ConfigScope:
    uses_istio: bool = False  # any Istio resource or Istio-labelled Namespace among the inputs
    istio: dict[str, Origin] = field(default_factory=dict)  # namespace -> first Istio config for it
    linkerd: set[str] = field(default_factory=set)  # namespaces holding Linkerd (or SMI) resources

    def linkerd_only(self, namespace: str) -> bool:
        return namespace in self.linkerd and namespace not in self.istio


def config_scope(mesh: MeshModel, *, targets: bool = False) -> ConfigScope:
    """Index the inputs' Istio and Linkerd configuration by namespace (one pass).

    With ``targets``, a VirtualService destination or DestinationRule host naming a
    Service ``name.ns.svc.<domain>`` also ties ``ns`` to Istio.
    """
    scope = ConfigScope()
    for resource in mesh.resources:
        group = resource.api_version.rpartition("/")[0]
        namespace = resource.namespace or "default"
        if group.endswith(_ISTIO_GROUP):
            scope.uses_istio = True
            if resource.kind not in _NOT_POD_CONFIG:
                scope.istio.setdefault(namespace, resource.origin)
        elif group.endswith(_LINKERD_GROUPS):
            scope.linkerd.add(namespace)
    for declared in mesh.namespaces.values():
        if declared.origin is not None and has_dataplane_label(declared):
            scope.uses_istio = True
    if targets:
        _add_targets(mesh, scope)
    return scope


def _add_targets(mesh: MeshModel, scope: ConfigScope) -> None:
    domain = mesh.domain
    for route in mesh.routes:
        if route.source_kind != "VirtualService":
            continue
        for rule in route.rules:
            for backend in rule.backends + rule.mirrors:
                found = hosts.split_service_fqdn(backend.fqdn, domain)
                if found is not None:
                    scope.istio.setdefault(found[1], route.origin)
    for policy in mesh.destination_policies:
        found = hosts.split_service_fqdn(policy.fqdn, domain)
        if found is not None:
            scope.istio.setdefault(found[1], policy.origin)
