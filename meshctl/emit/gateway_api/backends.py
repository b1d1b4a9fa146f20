"""Istio destinations -> Gateway API backendRefs, and the per-version Services subsets need.

A backendRef names a Service and, for Services, a port. The port comes from
``destination.port``, else from the Service's only port, else (as Istio does) from the
port the request arrived on, known once a mesh route is placed on one Service port;
otherwise the destination is reported and left out.

Gateway API has no subsets: a subset becomes a Service of its own, named
``<service>-<subset>``, whose selector is the Service's plus the subset's labels, with the
same ports. Before::

    DestinationRule reviews  subsets: [{name: v2, labels: {version: v2}}]
    Service reviews          selector: {app: reviews}  ports: [http 9080]
    VirtualService ... route: [{destination: {host: reviews, subset: v2}}]

After::

    Service reviews-v2  selector: {app: reviews, version: v2}  ports: [http 9080]
    HTTPRoute ... backendRefs: [{name: reviews-v2, port: 9080, weight: 1}]

A Service of the inputs with that name and selector is used as it is. A backendRef to
another namespace gets a ReferenceGrant there.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.gateway_api.context import Build, source_of
from meshctl.emit.gateway_api.values import dns_label, port_ok
from meshctl.emit.manifests import Json, service_port
from meshctl.model.objects import Backend, DestinationPolicy, Service, ServicePort, Subset


@dataclass(frozen=True)
class Site:
    """Where a route is placed: its namespace, and the Service port requests arrive on (mesh
    routes placed on one port; None when unknown or for gateway routes)."""

    namespace: str
    port: int | None = None


def backend_ref(build: Build, backend: Backend, site: Site, *, mirror: bool = False) -> Json | None:
    """``{name, namespace?, port}`` for a destination, or None (reported) when it has none."""
    what = "mirror" if mirror else "destination"
    target = build.service_name(backend.fqdn)
    if target is None:
        kind = "a ServiceEntry host" if build.mesh.entries_for(backend.fqdn) else "not a Kubernetes Service"
        build.losses.dropped(
            backend.host_origin,
            f"{what} {backend.host!r} is {kind}; Gateway API backendRefs name Services, so it is left out",
        )
        return None
    name, namespace = target
    service = build.service_of(backend.fqdn)
    port = _port(build, backend, service, site, what)
    if port is None:
        return None
    if backend.subset:
        subset_name = subset_service(build, backend, service, name)
        if subset_name is None:
            return None
        name = subset_name
    ref: Json = {"name": name}
    if namespace != site.namespace:
        ref["namespace"] = namespace  # the route's ReferenceGrant is added when it is emitted
    ref["port"] = port
    return ref


def _port(build: Build, backend: Backend, service: Service | None, site: Site, what: str) -> int | None:
    if backend.port is not None:
        if port_ok(backend.port):
            return backend.port
        build.losses.dropped(backend.origin, f"{what} {backend.host!r} has port {backend.port}, which is not a "
                                             "port number; left out")
        return None
    if service is not None and len(service.ports) == 1:
        return service.ports[0].port
    if site.port is not None:
        return site.port  # Istio's choice: the port the request arrived on
    if service is None:
        reason = "its Service is not among the inputs"
    elif not service.ports:
        reason = f"Service {service.name} declares no port"
    else:
        reason = f"Service {service.name} has {len(service.ports)} ports"
    build.losses.dropped(
        backend.origin,
        f"{what} {backend.host!r} has no port and {reason}; Gateway API requires the port of a Service "
        "backendRef, so it is left out (set destination.port)",
    )
    return None


# -- subsets -----------------------------------------------------------------------------------
def subset_service(build: Build, backend: Backend, service: Service | None, service_name: str) -> str | None:
    """The Service standing for ``backend.subset``: generated once, or one of the inputs."""
    assert backend.subset is not None
    key = (backend.fqdn, backend.subset)
    known = build.subset_services.get(key)
    if known is not None:
        return known
    found = _subset(build, backend.fqdn, backend.subset)
    if found is None:
        build.losses.dropped(
            backend.origin,
            f"subset {backend.subset!r} of {backend.host!r} is defined by no DestinationRule of the inputs; "
            "the destination is left out",
        )
        return None
    rule, subset = found
    if service is None or not service.selector:
        name = dns_label(f"{service_name}-{backend.subset}")
        why = "is not among the inputs" if service is None else "has no selector"
        build.losses.dropped(
            subset.origin,
            f"subset {subset.name!r}: Gateway API has no subsets and the Service {why}, so no per-version "
            f"Service could be generated; routes name {name!r}, which you must create",
        )
        build.subset_services[key] = name
        return name
    build.subset_services[key] = name = _generate(build, rule, service, subset)
    return name


def _subset(build: Build, fqdn: str, name: str) -> tuple[DestinationPolicy, Subset] | None:
    """The DestinationRule subset for a host: the Service's namespace first, then by name."""
    host_ns = fqdn.split(".")[1] if fqdn.count(".") >= 2 else ""
    rules = sorted(build.mesh.policies_for(fqdn), key=lambda r: (r.namespace != host_ns, r.namespace, r.name))
    for rule in rules:
        for subset in rule.subsets:
            if subset.name == name:
                return rule, subset
    return None


def _generate(build: Build, rule: DestinationPolicy, service: Service, subset: Subset) -> str:
    selector = dict(service.selector or {})
    selector.update(subset.labels)
    wanted_name = f"{service.name}-{subset.name}"
    existing = build.mesh.service(wanted_name, service.namespace)
    if existing is not None and existing.selector == selector:
        return existing.name  # the inputs already define the per-version Service
    name = build.unique("Service", service.namespace, wanted_name)
    labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    note = (f"generated Service {name} (selector {labels}, the ports of {service.name}) for subset "
            f"{subset.name!r}: Gateway API has no subsets, so routes name this Service")
    if existing is not None:
        note += f" (a Service {wanted_name} of the inputs selects other pods)"
    if build.mesh.workloads_in(service.namespace) and not build.mesh.workloads_selected(service.namespace, selector):
        note += "; no workload of the inputs matches its selector, so it has no endpoints yet"
    build.losses.approximated(subset.origin, note)
    spec = {"selector": dict(sorted(selector.items())), "ports": _service_ports(service)}
    build.emit("v1", "Service", name, service.namespace, spec, [source_of(rule.origin)])
    return name


def _service_ports(service: Service) -> list[Json]:
    """The parent's ports, as a valid Service needs them: each number and name once, every
    port named when there are several."""
    out: list[Json] = []
    seen: set[object] = set()
    for port in service.ports:
        key = (port.port, port.protocol)
        if not port_ok(port.port) or key in seen or (port.name and port.name in seen):
            continue
        seen.update({key, port.name})
        out.append(_service_port(port))
    if len(out) > 1:
        out = [item if "name" in item else {"name": f"port-{item['port']}", **item} for item in out]
    return out


def _service_port(port: ServicePort) -> Json:
    return service_port(port)
