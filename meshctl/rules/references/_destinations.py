"""VirtualService destinations and what serves their host (shared by MSH102-MSH104).

A destination is a weighted ``route[]`` entry or a mirror of an HTTP, TCP or TLS rule.
Its host is served by the Services with that FQDN and by the ServiceEntries that declare
it (exactly or through a wildcard) and are exported to the route's namespace::

    for route, backend, role in destinations(mesh):
        served = served_by(mesh, route, backend.fqdn)   # None: MSH101's business
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Backend, Route, Service, ServiceEntry
from meshctl.model.origin import Origin


def destinations(mesh: MeshModel) -> Iterator[tuple[Route, Backend, str]]:
    """Every (VirtualService, destination, "destination" | "mirror"), in input order."""
    for route in mesh.routes:
        if route.source_kind != "VirtualService":
            continue
        for rule in route.rules:
            for backend in rule.backends:
                yield route, backend, "destination"
            for mirror in rule.mirrors:
                yield route, mirror, "mirror"


def destination_field(backend: Backend, *parts: str | int) -> Origin:
    """A field of the destination itself (``subset``, ``port``): a sibling of its ``host``."""
    where = backend.host_origin
    return Origin(where.doc, where.path[:-1]).at(*parts)


@dataclass(frozen=True)
class Served:
    """The Services and visible ServiceEntries behind one destination host."""

    services: tuple[Service, ...]
    entries: tuple[ServiceEntry, ...]

    @property
    def ports(self) -> dict[int, str]:
        """Every port number the host exposes -> how to show it (``9080/http``)."""
        out: dict[int, str] = {}
        declared = [(p.port, p.name) for s in self.services for p in s.ports]
        declared += [(p.number, p.name) for e in self.entries for p in e.ports if p.number]
        for number, name in declared:
            out.setdefault(number, f"{number}/{name}" if name else str(number))
        return dict(sorted(out.items()))

    @property
    def fewest_ports(self) -> int:
        """The port count of the declaration with the fewest ports (Istio keeps one of them)."""
        counts = [len({p.port for p in s.ports}) for s in self.services]
        counts += [len({p.number for p in e.ports if p.number}) for e in self.entries]
        return min(counts)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Where the host is defined (the 'service namespace' of Istio's lookups)."""
        found = {s.namespace for s in self.services} | {e.namespace for e in self.entries}
        return tuple(sorted(found))

    def describe(self) -> str:
        """``Service reviews.bookinfo`` or ``ServiceEntry httpbin.egress``, the first of them."""
        if self.services:
            first = self.services[0]
            return f"Service {first.name}.{first.namespace}"
        entry = self.entries[0]
        return f"ServiceEntry {entry.name}.{entry.namespace}"

    @property
    def origin(self) -> Origin:
        return self.services[0].origin if self.services else self.entries[0].origin


def served_by(mesh: MeshModel, route: Route, fqdn: str) -> Served | None:
    """What serves ``fqdn`` for clients in the route's namespace; None if nothing does.

    When the host is declared in the route's own namespace and elsewhere too, the
    sidecar keeps the declaration of its own namespace, so only that one counts.
    """
    if not fqdn or "*" in fqdn:
        return None
    services = tuple(mesh.services_for(fqdn))
    entries = tuple(
        e for e in mesh.entries_for(fqdn)
        if hosts.visible(e.export_to, e.namespace, route.namespace)
    )
    if not services and not entries:
        return None
    own = Served(
        tuple(s for s in services if s.namespace == route.namespace),
        tuple(e for e in entries if e.namespace == route.namespace),
    )
    if own.services or own.entries:
        return own
    return Served(services, entries)
