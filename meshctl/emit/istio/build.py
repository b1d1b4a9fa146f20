"""What every step of the Linkerd / Gateway API -> Istio translation shares.

``Build`` holds the model, the options, the losses and the resources emitted so far, and
the objects several steps contribute to: one DestinationRule per host (subsets from
routes, outlier detection from failure accrual, a retry budget from a ServiceProfile),
one copy of a Service whose ports change protocol, one Namespace whose labels change.
Those are emitted last, by ``finish``, so each says where all of its parts came from
(``meshctl.io/translated-from: ServiceProfile/shop/web.shop.svc.cluster.local,Service/shop/web``).

It also answers the questions each step asks the same way: is an object translated
(``--from``), whose semantics does a route carry (Linkerd's or Istio's reading of Gateway
API), what is an unused name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from meshctl.emit.ingress.canary import contributors
from meshctl.emit.losses import Losses
from meshctl.emit.manifests import Json, resource
from meshctl.emit.mesh_options import MeshOptions
from meshctl.emit.sources import family_of, wanted
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Route, Service
from meshctl.model.origin import Origin

TARGET = "istio"
TRANSLATED_FROM = "meshctl.io/translated-from"
NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"
LINKERD_ROUTE = "LinkerdHTTPRoute"
GATEWAY_GROUP = "gateway.networking.k8s.io"
# Linkerd's default clusterNetworks (Helm value), what cluster-* policies admit.
CLUSTER_NETWORKS = ("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8")
LINKERD_PREFIXES = ("linkerd.io/", "config.linkerd.io/", "retry.linkerd.io/", "timeout.linkerd.io/",
                    "balancer.linkerd.io/", "config.alpha.linkerd.io/", "balancer.alpha.linkerd.io/")

_DNS_INVALID = re.compile(r"[^a-z0-9-]+")


def dns_label(text: str, limit: int = 63) -> str:
    """``Reviews_V1.x`` -> ``reviews-v1-x``: a valid DNS-1123 label."""
    label = _DNS_INVALID.sub("-", text.lower()).strip("-") or "x"
    if not label[0].isalnum():
        label = "x" + label
    return label[:limit].rstrip("-")


def source_of(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def document_source(origin: Origin) -> str:
    """``Ingress/shop/web``: the input document ``origin`` is in."""
    doc = origin.doc
    return source_of(doc.kind, doc.namespace or "default", doc.name)


def route_source(route: Route) -> str:
    """The input document of a route (an Ingress for the routes made of one)."""
    doc = route.origin.doc
    if doc.kind == "Ingress":
        return source_of(doc.kind, route.namespace, doc.name)
    kind = "HTTPRoute" if route.source_kind == LINKERD_ROUTE else route.source_kind
    return source_of(kind, route.namespace, route.name)


def route_sources(route: Route) -> list[str]:
    """The input documents of a route: for one made of Ingresses, each Ingress merged into it."""
    if route.origin.doc.kind != "Ingress":
        return [route_source(route)]
    return [document_source(o) for o in contributors(route)]


def annotation_origin(origin: Origin, key: str) -> Origin:
    """The position of ``metadata.annotations[key]`` of the document ``origin`` is in."""
    return Origin(origin.doc, ("metadata", "annotations", key))


@dataclass
class DestinationDraft:
    """A DestinationRule under construction for one host."""

    host: str
    namespace: str
    name: str
    subsets: dict[str, dict[str, str]] = field(default_factory=dict)
    subset_policies: dict[str, Json] = field(default_factory=dict)
    traffic_policy: Json = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass
class ServiceDraft:
    """A copy of an input Service whose ports get an Istio ``appProtocol``."""

    service: Service
    app_protocols: dict[int, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass
class Build:
    mesh: MeshModel
    options: MeshOptions
    losses: Losses = field(default_factory=Losses)
    resources: list[Json] = field(default_factory=list)
    destination_rules: dict[str, DestinationDraft] = field(default_factory=dict)
    services: dict[str, ServiceDraft] = field(default_factory=dict)
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    namespace_sources: dict[str, list[str]] = field(default_factory=dict)
    subset_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # version Service -> (host, subset)
    gateway_names: dict[tuple[str, str], str] = field(default_factory=dict)  # Gateway API -> Istio Gateway
    made_from: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # Gateways made of several Ingresses
    _names: set[tuple[str, str, str]] = field(default_factory=set)

    # -- what is translated -------------------------------------------------------------
    def wanted(self, origin: Origin) -> bool:
        """A Linkerd or Gateway API object that ``--from`` selects."""
        return family_of(origin) != TARGET and wanted(origin, self.options.source, TARGET)

    @property
    def takes_linkerd(self) -> bool:
        """Are Linkerd annotations on Kubernetes objects (Services, pods, Namespaces) read?"""
        return self.options.source in ("auto", "linkerd")

    def route_wanted(self, route: Route) -> bool:
        """Gateway API routes follow ``--from``; with ``--from linkerd`` the Service-parented
        HTTPRoutes and GRPCRoutes Linkerd reads are taken too."""
        if self.wanted(route.origin):
            return True
        return (self.options.source == "linkerd" and route.source_kind in ("HTTPRoute", "GRPCRoute")
                and any(p.kind.lower() == "service" for p in route.parents))

    @cached_property
    def linkerd_mesh(self) -> bool:
        """Do the inputs run Linkerd (its objects, annotations or proxies)? Then a
        Service-parented Gateway API route meant what Linkerd makes of it."""
        if self.options.source == "linkerd":
            return True
        if self.options.source == "gateway-api":
            return False
        if any(family_of(r.origin) == "linkerd" for r in self.mesh.resources):
            return True
        if any(w.has_linkerd_proxy for w in self.mesh.workloads):
            return True
        annotated = [*self.mesh.services, *self.mesh.workloads, *self.mesh.namespaces.values(), *self.mesh.routes]
        return any(key.startswith(LINKERD_PREFIXES) for o in annotated for key in o.annotations)

    def linkerd_semantics(self, route: Route) -> bool:
        """Is the route read as Linkerd reads it (mesh routes in a Linkerd mesh)?"""
        if route.source_kind == LINKERD_ROUTE:
            return True
        return self.linkerd_mesh and any(p.kind.lower() == "service" for p in route.parents)

    # -- names and objects ---------------------------------------------------------------
    def unique(self, kind: str, namespace: str, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when this translation or an Istio object of the
        inputs already uses it."""
        base = dns_label(name)
        candidate, n = base, 1
        while (kind, namespace, candidate) in self._names or (kind, namespace, candidate) in self._input_names:
            n += 1
            suffix = f"-{n}"
            candidate = base[: 63 - len(suffix)].rstrip("-") + suffix
        self._names.add((kind, namespace, candidate))
        return candidate

    @cached_property
    def _input_names(self) -> set[tuple[str, str, str]]:
        return {(r.kind, r.namespace or "default", r.name) for r in self.mesh.resources
                if family_of(r.origin) == TARGET}

    def emit(self, api_version: str, kind: str, name: str, namespace: str | None, spec: Json | None,
             sources: list[str] | tuple[str, ...], *, labels: dict[str, str] | None = None,
             annotations: dict[str, str] | None = None, **top: Any) -> Json:
        notes = dict(annotations or {})
        notes[TRANSLATED_FROM] = ",".join(dict.fromkeys(sources))
        item = resource(api_version, kind, name, namespace, spec, labels=labels, annotations=notes, **top)
        self.resources.append(item)
        return item

    # -- look-ups ------------------------------------------------------------------------
    def service_at(self, fqdn: str) -> Service | None:
        found = self.mesh.services_for(fqdn)
        return found[0] if found else None

    def fqdn(self, name: str, namespace: str) -> str:
        return hosts.service_fqdn(name, namespace, self.mesh.domain)

    @cached_property
    def istio_mesh_hosts(self) -> set[str]:
        """Hosts an Istio VirtualService of the inputs already routes for sidecars."""
        found = set()
        for route in self.mesh.routes:
            if route.source_kind == "VirtualService" and route.binds_mesh:
                found.update(hosts.fqdn(h, route.namespace, self.mesh.domain) for h in route.hosts)
        return found

    # -- shared drafts -------------------------------------------------------------------
    def destination_rule(self, fqdn: str, namespace: str, source: str) -> DestinationDraft | None:
        """The DestinationRule draft for a host; None when an Istio DestinationRule of the
        inputs already configures it (a second one would conflict)."""
        if self.mesh.policies_for(fqdn):
            return None
        draft = self.destination_rules.get(fqdn)
        if draft is None:
            service = self.service_at(fqdn)
            name = service.name if service is not None else fqdn.split(".")[0]
            draft = self.destination_rules[fqdn] = DestinationDraft(fqdn, namespace, name)
        draft.sources.append(source)
        return draft

    def service_draft(self, service: Service, source: str) -> ServiceDraft:
        draft = self.services.setdefault(service.fqdn, ServiceDraft(service))
        draft.sources.append(source)
        return draft

    def label_namespace(self, namespace: str, key: str, value: str, source: str) -> None:
        self.namespace_labels.setdefault(namespace, {})[key] = value
        self.namespace_sources.setdefault(namespace, []).append(source)
