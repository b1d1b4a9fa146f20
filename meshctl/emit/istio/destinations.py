"""Route backends -> Istio destinations, with subsets for recognisable per-version Services.

Gateway API and Linkerd split traffic between Services; Istio can do the same, or send to
subsets of one Service. A backend becomes a subset when it is *recognisably a version of
another Service*: both in one namespace, its selector is the other's plus exactly one
label, and the port it is addressed on reaches the same target port through both. The
parent Service of a mesh route is preferred; otherwise exactly one such Service must
exist. Its pods are then exactly the pods of the subset, so nothing changes but the
form::

    Service reviews     selector {app: reviews}
    Service reviews-v2  selector {app: reviews, version: v2}
    backendRef reviews-v2:9080  ->  {host: reviews.shop.svc.cluster.local, subset: v2, port: {number: 9080}}
    DestinationRule reviews: subsets [{name: v2, labels: {version: v2}}]

When an Istio DestinationRule of the inputs already configures the other Service, its
subset with those labels is used, or the backend stays a Service of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.istio.build import Build, dns_label
from meshctl.emit.manifests import Json
from meshctl.model.objects import Backend, Service, ServicePort


@dataclass(frozen=True)
class Subset:
    parent: Service
    name: str
    labels: dict[str, str]


def is_service(backend: Backend) -> bool:
    return backend.kind == "Service"


def service_port(build: Build, backend: Backend) -> int | None:
    """The port a backend names, or the only port of its Service."""
    if backend.port is not None:
        return backend.port
    service = build.service_at(backend.fqdn)
    if service is not None and len(service.ports) == 1:
        return service.ports[0].port
    return None


def destination(build: Build, backend: Backend, parent: Service | None, source: str) -> Json:
    """``{host, subset?, port?}`` for a Service backend (see the module doc for subsets)."""
    return service_destination(build, backend.fqdn, service_port(build, backend), parent, source)


def service_destination(build: Build, fqdn: str, port: int | None, parent: Service | None, source: str) -> Json:
    found = subset_for(build, fqdn, parent, port, source)
    out: Json = {"host": found.parent.fqdn if found else fqdn}
    if found:
        out["subset"] = found.name
    if port is not None:
        out["port"] = {"number": port}
    return out


def host_destination(fqdn: str, port: int | None) -> Json:
    out: Json = {"host": fqdn}
    if port is not None:
        out["port"] = {"number": port}
    return out


def _target(port: ServicePort) -> int | str:
    return port.target_port if port.target_port is not None else port.port


def _version_of(candidate: Service, version: Service, port: int | None) -> dict[str, str] | None:
    """The one extra label when ``version`` is ``candidate`` narrowed by one label."""
    if candidate is version or candidate.namespace != version.namespace:
        return None
    if not candidate.selector or not version.selector:
        return None
    base, narrow = set(candidate.selector.items()), set(version.selector.items())
    if not base < narrow or len(narrow - base) != 1:
        return None
    if port is not None:
        mine, theirs = version.port(port), candidate.port(port)
        if mine is None or theirs is None or _target(mine) != _target(theirs):
            return None
    return dict(narrow - base)


def subset_for(build: Build, fqdn: str, parent: Service | None, port: int | None, source: str) -> Subset | None:
    version = build.service_at(fqdn)
    if version is None:
        return None
    if parent is not None and _version_of(parent, version, port) is not None:
        candidates = [parent]
    else:
        candidates = [s for s in build.mesh.services_in(version.namespace) if _version_of(s, version, port) is not None]
    if len(candidates) != 1:
        return None
    base = candidates[0]
    labels = _version_of(base, version, port)
    assert labels is not None
    if build.mesh.policies_for(base.fqdn):
        for policy in build.mesh.policies_for(base.fqdn):
            for subset in policy.subsets:
                if subset.labels == labels:
                    return Subset(base, subset.name, labels)
        return None
    draft = build.destination_rule(base.fqdn, base.namespace, source)
    if draft is None:
        return None
    name = dns_label(next(iter(labels.values())))
    if draft.subsets.get(name, labels) != labels:
        name = dns_label(version.name)
    draft.subsets[name] = labels
    build.subset_of[version.fqdn] = (base.fqdn, name)
    return Subset(base, name, labels)
