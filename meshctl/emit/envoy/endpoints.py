"""Where a host's traffic goes: the Service or ServiceEntry behind a name, and its endpoints.

Istio learns a Service's endpoints from its EndpointSlices, the labels of each endpoint from
its Pod, and whether the endpoint runs a sidecar from the pod's ``security.istio.io/tlsMode``
label (which the injector sets). meshctl reads the same facts from the inputs: EndpointSlices
and Endpoints objects when there are some for the Service, else the running Pods (with a
``status.podIP``) its selector picks. Not-ready endpoints are left out, as Istio does not send
them by default (``PILOT_SEND_UNHEALTHY_ENDPOINTS=false``).

Before::

    Service reviews.default :9080 -> targetPort http
    Pod reviews-v1-a {version: v1} podIP 10.244.1.11, istio-proxy, containerPort http=9080

After (one Envoy ``LbEndpoint``; the metadata lets auto mTLS pick TLS for it)::

    {endpoint: {address: {socket_address: {address: 10.244.1.11, port_value: 9080}}},
     metadata: {filter_metadata: {envoy.transport_socket_match: {tlsMode: istio}}}}

>>> e = UpstreamEndpoint("10.0.0.9", 80, meshed=False, labels=None)
>>> load_assignment("c", [e])["endpoints"]
[{'lb_endpoints': [{'endpoint': {'address': {'socket_address': {'address': '10.0.0.9', 'port_value': 80}}}}]}]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from meshctl.emit.envoy.build import Json
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import (
    EndpointSet,
    Protocol,
    Service,
    ServiceEntry,
    ServicePort,
    Workload,
)
from meshctl.security.mtls import ISTIO, sidecar_of

Labels = dict[str, str]

TRANSPORT_SOCKET_MATCH = "envoy.transport_socket_match"
ISTIO_TLS_MODE = {"tlsMode": "istio"}
_LOCALITY_LABELS = (
    ("region", "topology.kubernetes.io/region"),
    ("zone", "topology.kubernetes.io/zone"),
    ("sub_zone", "topology.istio.io/subzone"),
)


# -- destinations -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Destination:
    """What a host name is for one proxy: a Kubernetes Service or a ServiceEntry host."""

    fqdn: str
    namespace: str  # the Service's or ServiceEntry's namespace
    service: Service | None = None
    entry: ServiceEntry | None = None

    @property
    def mesh_external(self) -> bool:
        """Outside the mesh: a MESH_EXTERNAL ServiceEntry or an ExternalName Service."""
        if self.entry is not None:
            return self.entry.location.upper() != "MESH_INTERNAL"
        return self.service is not None and self.service.type == "ExternalName"

    def ports(self) -> list[int]:
        """The port numbers Istio builds clusters for (UDP and SCTP Service ports get none)."""
        if self.service is not None:
            return [p.port for p in self.service.ports if _is_tcp(p)]
        return [p.number for p in self.entry.ports] if self.entry is not None else []

    def protocol(self, port: int) -> Protocol:
        """The application protocol of ``port`` (UNKNOWN: Istio sniffs it)."""
        if self.service is not None:
            found = tcp_port(self.service, port)
            return found.mesh_protocol if found is not None else Protocol.UNKNOWN
        declared = next((p.protocol for p in self.entry.ports if p.number == port), "") \
            if self.entry is not None else ""
        try:
            return Protocol(declared.lower())
        except ValueError:
            return Protocol.UNKNOWN


def tcp_port(service: Service, number: int) -> ServicePort | None:
    """The TCP port ``number`` of a Service (a UDP port may share the number, as DNS does)."""
    return next((p for p in service.ports if p.port == number and _is_tcp(p)), None)


def _is_tcp(port: ServicePort) -> bool:
    return port.protocol.upper() == "TCP"


def destination(mesh: MeshModel, viewer: str, fqdn: str) -> Destination | None:
    """The Service, else the ServiceEntry declaring exactly ``fqdn``, exported to ``viewer``.

    A Kubernetes Service wins over a ServiceEntry for the same name; among ServiceEntries,
    one in the viewer's own namespace wins, then the first in input order.
    """
    for service in mesh.services_for(fqdn):
        if hosts.visible(service.export_to, service.namespace, viewer):
            return Destination(fqdn, service.namespace, service=service)
    entries = [
        e for e in mesh.entries_for(fqdn)
        if fqdn in e.hosts and hosts.visible(e.export_to, e.namespace, viewer)
    ]
    if not entries:
        return None
    entry = next((e for e in entries if e.namespace == viewer), entries[0])
    return Destination(fqdn, entry.namespace, entry=entry)


# -- endpoints ------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpstreamEndpoint:
    """One address a cluster sends to. ``labels`` is None when its pod is not among the inputs."""

    address: str  # an IP, or a host name for DNS clusters
    port: int
    meshed: bool  # runs an Istio sidecar: auto mTLS sends Istio mTLS to it
    labels: Labels | None

    def locality(self) -> Json:
        """Envoy's locality from the pod's topology labels (empty when it has none)."""
        labels = self.labels or {}
        return {key: labels[label] for key, label in _LOCALITY_LABELS if labels.get(label)}

    def json(self) -> Json:
        """The Envoy ``LbEndpoint``."""
        out: Json = {
            "endpoint": {"address": {"socket_address": {"address": self.address, "port_value": self.port}}}
        }
        if self.meshed:
            out["metadata"] = {"filter_metadata": {TRANSPORT_SOCKET_MATCH: dict(ISTIO_TLS_MODE)}}
        return out


def lb_endpoints(
    mesh: MeshModel, service: Service, port: ServicePort, subset_labels: Labels | None
) -> list[Json] | None:
    """The Envoy ``LbEndpoint``s of a Service port (of one subset when ``subset_labels`` is
    given), sorted by address and port; None when the inputs say nothing about its endpoints."""
    found = service_endpoints(mesh, service, port)
    if found is None:
        return None
    return [e.json() for e in in_subset(found, subset_labels)]


def service_endpoints(mesh: MeshModel, service: Service, port: ServicePort) -> list[UpstreamEndpoint] | None:
    """The ready endpoints of a Service port, sorted; None when nothing is known about them.

    EndpointSlices/Endpoints of the Service are what Istio reads, so they win; without them
    the running Pods the selector picks stand in. An endpoint whose address is not an IP is
    left out (a static cluster cannot hold a host name).
    """
    sets = [s for s in mesh.endpoints if s.service == service.name and s.namespace == service.namespace]
    if sets:
        return _unique(_from_sets(mesh, service, port, sets))
    pods = [w for w in mesh.workloads_of(service) if w.is_pod and w.pod_ip]
    if pods:
        return _unique(_from_pods(mesh, port, pods))
    return None


def in_subset(endpoints: list[UpstreamEndpoint], subset_labels: Labels | None) -> list[UpstreamEndpoint]:
    """The endpoints a subset keeps: those whose labels include the subset's. An endpoint
    whose labels are unknown is kept only by a subset without labels (or by no subset)."""
    if not subset_labels:
        return list(endpoints)
    return [e for e in endpoints if e.labels is not None and selects(subset_labels, e.labels)]


def workloads_meshed(mesh: MeshModel, service: Service) -> bool:
    """Whether every workload the Service selects (at least one) runs an Istio sidecar.

    Used for endpoints whose pod is not among the inputs: they come from these workloads.
    """
    workloads = mesh.workloads_of(service)
    return bool(workloads) and all(_meshed(mesh, w) for w in workloads)


def load_assignment(cluster_name: str, endpoints: Iterable[UpstreamEndpoint]) -> Json:
    """A ``ClusterLoadAssignment``: the endpoints grouped by locality (no locality first)."""
    groups: dict[tuple[tuple[str, str], ...], list[Json]] = {}
    for e in endpoints:
        groups.setdefault(tuple(e.locality().items()), []).append(e.json())
    out = []
    for key in sorted(groups):
        group: Json = {"locality": dict(key)} if key else {}
        group["lb_endpoints"] = groups[key]
        out.append(group)
    return {"cluster_name": cluster_name, "endpoints": out}


# -- reading the inputs ---------------------------------------------------------------------
def _meshed(mesh: MeshModel, workload: Workload) -> bool:
    """The Istio injector labels a pod ``security.istio.io/tlsMode: istio`` when it adds the
    sidecar; ``sidecar_of`` decides that from the spec, the namespace and the annotations."""
    return sidecar_of(mesh, workload) == ISTIO


def _target_port(pod: Workload, port: ServicePort) -> int | None:
    """The container port a Service port sends to on ``pod`` (a named targetPort resolves
    through the pod's container ports; None when the pod does not declare that name)."""
    target = port.target_port
    if target is None:
        return port.port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    return next((number for c in pod.containers for name, number in c.named_ports if name == target), None)


def _from_pods(mesh: MeshModel, port: ServicePort, pods: list[Workload]) -> list[UpstreamEndpoint]:
    out = []
    for pod in pods:
        number = _target_port(pod, port)
        if pod.ready is not False and number is not None and pod.pod_ip and is_ip(pod.pod_ip):
            out.append(UpstreamEndpoint(pod.pod_ip, number, _meshed(mesh, pod), dict(pod.labels)))
    return out


def _from_sets(
    mesh: MeshModel, service: Service, port: ServicePort, sets: list[EndpointSet]
) -> list[UpstreamEndpoint]:
    """Endpoints of EndpointSlices/Endpoints: the slice port named like the Service port."""
    pods = {w.name: w for w in mesh.workloads_in(service.namespace) if w.is_pod}
    fallback = workloads_meshed(mesh, service)
    out = []
    for endpoint_set in sets:
        for endpoint in endpoint_set.endpoints:
            number = next((n for name, n in endpoint.ports if (name or "") == (port.name or "")), None)
            if not endpoint.ready or number is None or not is_ip(endpoint.address):
                continue
            pod = pods.get(endpoint.target) if endpoint.target else None
            if pod is None:
                out.append(UpstreamEndpoint(endpoint.address, number, fallback, None))
            else:
                out.append(UpstreamEndpoint(endpoint.address, number, _meshed(mesh, pod), dict(pod.labels)))
    return out


def _unique(endpoints: list[UpstreamEndpoint]) -> list[UpstreamEndpoint]:
    """One endpoint per (address, port), the first kept, sorted numerically by address."""
    seen: dict[tuple[str, int], UpstreamEndpoint] = {}
    for e in endpoints:
        seen.setdefault((e.address, e.port), e)
    return sorted(seen.values(), key=_order)


def _order(e: UpstreamEndpoint) -> tuple[int, int, int]:
    ip = ipaddress.ip_address(e.address)
    return ip.version, int(ip), e.port


def is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
