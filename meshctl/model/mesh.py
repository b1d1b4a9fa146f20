"""MeshModel: every lowered object, with the indexes rules use (no pairwise scans).

Indexes are built once, in ``index()``, by host, by namespace and by label; rules ask
``services_for(fqdn)``, ``workloads_selected(ns, labels)`` and so on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from meshctl.model import hosts
from meshctl.model.objects import (
    AuthorizationPolicy,
    DestinationPolicy,
    EndpointSet,
    EnvoyFilterConfig,
    Gateway,
    GatewayClass,
    LinkerdAuthorizationPolicy,
    LinkerdServer,
    MeshConfig,
    MeshTLSAuthentication,
    Namespace,
    NetworkAuthentication,
    PeerAuthentication,
    ReferenceGrant,
    RequestAuthentication,
    ResourceMeta,
    Route,
    Secret,
    Service,
    ServiceAccount,
    ServerAuthorization,
    ServiceEntry,
    ServiceProfile,
    SidecarConfig,
    TelemetryConfig,
    TrafficSplit,
    Workload,
    WorkloadPolicy,
)

Labels = dict[str, str]


def selects(selector: Labels | None, labels: Labels) -> bool:
    """A matchLabels selector; None or {} selects everything."""
    if not selector:
        return True
    return all(labels.get(k) == v for k, v in selector.items())


@dataclass
class MeshModel:
    mesh_config: MeshConfig = field(default_factory=MeshConfig)
    resources: list[ResourceMeta] = field(default_factory=list)  # every lowered document
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    endpoints: list[EndpointSet] = field(default_factory=list)
    service_entries: list[ServiceEntry] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    destination_policies: list[DestinationPolicy] = field(default_factory=list)
    gateways: list[Gateway] = field(default_factory=list)
    gateway_classes: list[GatewayClass] = field(default_factory=list)
    reference_grants: list[ReferenceGrant] = field(default_factory=list)
    peer_authentications: list[PeerAuthentication] = field(default_factory=list)
    authorization_policies: list[AuthorizationPolicy] = field(default_factory=list)
    request_authentications: list[RequestAuthentication] = field(default_factory=list)
    sidecars: list[SidecarConfig] = field(default_factory=list)
    telemetries: list[TelemetryConfig] = field(default_factory=list)
    envoy_filters: list[EnvoyFilterConfig] = field(default_factory=list)
    workload_policies: list[WorkloadPolicy] = field(default_factory=list)
    linkerd_servers: list[LinkerdServer] = field(default_factory=list)
    linkerd_authorizations: list[LinkerdAuthorizationPolicy] = field(default_factory=list)
    server_authorizations: list[ServerAuthorization] = field(default_factory=list)
    mesh_tls_authentications: list[MeshTLSAuthentication] = field(default_factory=list)
    network_authentications: list[NetworkAuthentication] = field(default_factory=list)
    service_profiles: list[ServiceProfile] = field(default_factory=list)
    traffic_splits: list[TrafficSplit] = field(default_factory=list)
    # namespaces any object lives in or names, defined or not (open-world reasoning)
    mentioned_namespaces: set[str] = field(default_factory=set)

    # -- indexes -----------------------------------------------------------------------
    def index(self) -> MeshModel:
        self._services_by_fqdn: dict[str, list[Service]] = defaultdict(list)
        self._services_by_ns: dict[str, list[Service]] = defaultdict(list)
        for s in self.services:
            self._services_by_fqdn[s.fqdn].append(s)
            self._services_by_ns[s.namespace].append(s)
        self._entries_by_host: dict[str, list[ServiceEntry]] = defaultdict(list)
        self._wildcard_entries: list[tuple[str, ServiceEntry]] = []
        for e in self.service_entries:
            for h in e.hosts:
                if h.startswith("*"):
                    self._wildcard_entries.append((h, e))
                else:
                    self._entries_by_host[h].append(e)
        self._workloads_by_ns: dict[str, list[Workload]] = defaultdict(list)
        self._workloads_by_label: dict[tuple[str, str, str], list[Workload]] = defaultdict(list)
        for w in self.workloads:
            self._workloads_by_ns[w.namespace].append(w)
            for key, value in w.labels.items():
                self._workloads_by_label[(w.namespace, key, value)].append(w)
        self._policies_by_fqdn: dict[str, list[DestinationPolicy]] = defaultdict(list)
        for p in self.destination_policies:
            self._policies_by_fqdn[p.fqdn].append(p)
        self._gateways_by_key: dict[tuple[str, str], list[Gateway]] = defaultdict(list)
        for g in self.gateways:
            self._gateways_by_key[(g.namespace, g.name)].append(g)
        self._secrets: set[tuple[str, str]] = {(s.namespace, s.name) for s in self.secrets}
        self._service_accounts: set[tuple[str, str]] = {(a.namespace, a.name) for a in self.service_accounts}
        return self

    @property
    def domain(self) -> str:
        return self.mesh_config.cluster_domain

    def services_for(self, fqdn: str) -> list[Service]:
        return self._services_by_fqdn.get(fqdn, [])

    def services_in(self, namespace: str) -> list[Service]:
        return self._services_by_ns.get(namespace, [])

    def service(self, name: str, namespace: str) -> Service | None:
        found = self._services_by_fqdn.get(hosts.service_fqdn(name, namespace, self.domain))
        return found[0] if found else None

    def entries_for(self, host: str) -> list[ServiceEntry]:
        """ServiceEntries declaring ``host`` exactly or through a wildcard."""
        found = list(self._entries_by_host.get(host, []))
        found += [e for pattern, e in self._wildcard_entries if hosts.matches(pattern, host)]
        return found

    def workloads_in(self, namespace: str) -> list[Workload]:
        return self._workloads_by_ns.get(namespace, [])

    def workloads_selected(self, namespace: str, selector: Labels | None) -> list[Workload]:
        """Workloads of ``namespace`` whose labels match; indexed by label, not scanned."""
        if not selector:
            return list(self.workloads_in(namespace))
        candidates = min(
            (self._workloads_by_label.get((namespace, k, v), []) for k, v in selector.items()), key=len
        )
        return [w for w in candidates if selects(selector, w.labels)]

    def workloads_of(self, service: Service) -> list[Workload]:
        if not service.selector:
            return []
        return self.workloads_selected(service.namespace, service.selector)

    def policies_for(self, fqdn: str) -> list[DestinationPolicy]:
        return self._policies_by_fqdn.get(fqdn, [])

    def gateways_named(self, namespace: str, name: str) -> list[Gateway]:
        return self._gateways_by_key.get((namespace, name), [])

    def has_secret(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self._secrets

    def has_service_account(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self._service_accounts

    def namespace_known(self, namespace: str) -> bool:
        """Defined by a Namespace object or used by any input object."""
        return namespace in self.namespaces or namespace in self.mentioned_namespaces

    @property
    def has_workloads(self) -> bool:
        return bool(self.workloads)

    @property
    def has_secrets(self) -> bool:
        return bool(self.secrets)
