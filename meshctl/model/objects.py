"""The objects of the mesh model. Frozen; identity equality; every one has an ``origin``.

Names follow the mesh-neutral vocabulary: a *Route* is a VirtualService, a Gateway API
HTTPRoute/GRPCRoute/TCPRoute/TLSRoute or a Linkerd HTTPRoute; a *Gateway* is an Istio
Gateway or a Gateway API Gateway; a *TrafficPolicy* is what a DestinationRule says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from meshctl.model.origin import Origin
from meshctl.model.traffic import (
    ConnectionPool,
    Cors,
    DirectResponse,
    HeaderOps,
    LoadBalancer,
    OutlierDetection,
    Redirect,
    Rewrite,
    StickySession,
)

Labels = dict[str, str]


class Protocol(enum.Enum):
    """The application protocol of a port, as the mesh infers it."""

    HTTP = "http"
    HTTP2 = "http2"
    GRPC = "grpc"
    TCP = "tcp"
    TLS = "tls"
    HTTPS = "https"
    UDP = "udp"
    MONGO = "mongo"
    REDIS = "redis"
    MYSQL = "mysql"
    UNKNOWN = "unknown"  # Istio sniffs it; Linkerd treats it as HTTP-detectable

    @property
    def is_http(self) -> bool:
        return self in (Protocol.HTTP, Protocol.HTTP2, Protocol.GRPC)


# -- every resource ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ResourceMeta:
    """The metadata of every lowered input resource, whatever its kind (annotation checks)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None  # None for cluster-scoped kinds and documents without one
    labels: Labels
    annotations: Labels
    origin: Origin


# -- Kubernetes -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Namespace:
    name: str
    labels: Labels
    annotations: Labels
    origin: Origin | None  # None for namespaces only mentioned by other objects


@dataclass(frozen=True, eq=False)
class ServicePort:
    name: str | None
    port: int
    target_port: int | str | None
    protocol: str  # TCP | UDP | SCTP
    app_protocol: str | None
    mesh_protocol: Protocol
    origin: Origin


@dataclass(frozen=True, eq=False)
class Service:
    name: str
    namespace: str
    fqdn: str
    type: str  # ClusterIP | NodePort | LoadBalancer | ExternalName
    ports: tuple[ServicePort, ...]
    selector: Labels | None
    external_name: str | None
    headless: bool
    export_to: tuple[str, ...]  # networking.istio.io/exportTo; () is "*"
    labels: Labels
    annotations: Labels
    origin: Origin

    def port(self, number: int) -> ServicePort | None:
        return next((p for p in self.ports if p.port == number), None)


@dataclass(frozen=True, eq=False)
class Container:
    name: str
    image: str
    ports: tuple[int, ...]
    named_ports: tuple[tuple[str, int], ...]  # (name, containerPort) for ports that have a name
    run_as_user: int | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class Workload:
    """A Pod, or the pods a Deployment/StatefulSet/DaemonSet/ReplicaSet/Job/CronJob creates."""

    kind: str
    name: str
    namespace: str
    labels: Labels  # the pod's labels
    annotations: Labels  # the pod's annotations
    service_account: str
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...]
    run_as_user: int | None  # pod-level securityContext
    has_istio_proxy: bool  # an istio-proxy container is already in the spec (rendered, or a Pod)
    has_linkerd_proxy: bool
    replicas: int | None
    pod_ip: str | None
    ready: bool | None
    origin: Origin
    host_network: bool = False

    @property
    def is_pod(self) -> bool:
        return self.kind == "Pod"


@dataclass(frozen=True, eq=False)
class ServiceAccount:
    name: str
    namespace: str
    origin: Origin


@dataclass(frozen=True, eq=False)
class Secret:
    name: str
    namespace: str
    type: str
    keys: tuple[str, ...]  # the data keys only; meshctl never keeps Secret values
    origin: Origin


@dataclass(frozen=True, eq=False)
class Endpoint:
    address: str
    ready: bool
    target: str | None  # Pod name, when known
    ports: tuple[tuple[str | None, int], ...]


@dataclass(frozen=True, eq=False)
class EndpointSet:
    """An EndpointSlice or Endpoints object: the addresses behind a Service."""

    service: str
    namespace: str
    endpoints: tuple[Endpoint, ...]
    origin: Origin


# -- routing ----------------------------------------------------------------------------
class MatchType(enum.Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    REGEX = "regex"
    PRESENT = "present"  # header present (Istio `{}` / Gateway API has no such form)


@dataclass(frozen=True, eq=False)
class StringMatch:
    type: MatchType
    value: str
    ignore_case: bool = False
    invert: bool = False  # Istio withoutHeaders

    def key(self) -> tuple[str, str, bool, bool]:
        return (self.type.value, self.value, self.ignore_case, self.invert)


@dataclass(frozen=True, eq=False)
class RequestMatch:
    """One alternative of a rule's matches: every condition must hold."""

    path: StringMatch | None
    method: StringMatch | None
    authority: StringMatch | None
    scheme: StringMatch | None
    headers: tuple[tuple[str, StringMatch], ...]
    query_params: tuple[tuple[str, StringMatch], ...]
    port: int | None
    source_labels: Labels
    source_namespace: str | None
    gateways: tuple[str, ...]
    origin: Origin
    sni_hosts: tuple[str, ...] = ()  # tls matches
    destination_subnets: tuple[str, ...] = ()  # tcp and tls matches
    name: str | None = None  # Istio match name (part of the Envoy route name)
    stat_prefix: str | None = None  # Istio statPrefix
    # Kubernetes Ingress pathType as written (Exact | Prefix | ImplementationSpecific); None for other
    # routes and a v1beta1 path without one (ImplementationSpecific by default)
    path_type: str | None = None

    @property
    def is_catch_all(self) -> bool:
        """Matches every request (an empty match or a prefix "/" with nothing else)."""
        path_all = self.path is None or (
            self.path.type is MatchType.PREFIX and self.path.value in ("", "/") and not self.path.invert
        ) or (self.path.type is MatchType.REGEX and self.path.value in (".*", "^.*$", "/.*"))
        return (
            path_all
            and self.method is None
            and self.authority is None
            and self.scheme is None
            and not self.headers
            and not self.query_params
            and self.port is None
            and not self.source_labels
            and self.source_namespace is None
            and not self.gateways
            and not self.sni_hosts
            and not self.destination_subnets
        )


@dataclass(frozen=True, eq=False)
class Backend:
    """A weighted destination: a host (FQDN when resolvable), optional subset and port."""

    host: str  # as written
    fqdn: str  # resolved in the route's namespace (short names expanded)
    subset: str | None
    port: int | None
    weight: int | None
    kind: str  # Service | ServiceEntry-host | external | ...
    origin: Origin
    host_origin: Origin
    percent: float | None = None  # mirrors: the share of requests copied (None: all)
    headers: HeaderOps | None = None  # per-destination header changes
    port_name: str | None = None  # a Service port named rather than numbered (Ingress service.port.name)


@dataclass(frozen=True, eq=False)
class Retry:
    attempts: int | None
    per_try_timeout: str | None
    retry_on: str | None
    origin: Origin
    ignore_previous_hosts: bool | None = None
    remote_localities: bool = False
    backoff: str | None = None


@dataclass(frozen=True, eq=False)
class Fault:
    delay: str | None
    delay_percent: float | None
    abort_status: int | None
    abort_percent: float | None
    origin: Origin
    abort_grpc: str | None = None  # a gRPC status name or number
    exponential_delay: str | None = None  # not expressible in Envoy's fault filter


@dataclass(frozen=True, eq=False)
class RouteRule:
    """One ordered rule of a route: matches (any of) -> weighted backends, and what else it does."""

    name: str | None
    index: int
    protocol: str  # http | tcp | tls | grpc
    matches: tuple[RequestMatch, ...]  # () matches everything
    backends: tuple[Backend, ...]
    mirrors: tuple[Backend, ...]
    redirect: Redirect | None
    direct_response: DirectResponse | None
    delegate: str | None
    timeout: str | None
    retry: Retry | None
    fault: Fault | None
    rewrite: Rewrite | None
    header_changes: HeaderOps | None
    cors: Cors | None
    sni_hosts: tuple[str, ...]  # tls rules
    jwt_claim_matches: bool  # matches on request.auth.claims
    filters: tuple[str, ...]  # Gateway API filter types
    origin: Origin
    session: StickySession | None = None

    @property
    def catch_all(self) -> bool:
        return not self.matches or any(m.is_catch_all for m in self.matches)


@dataclass(frozen=True, eq=False)
class ParentRef:
    """What a route attaches to: an Istio gateway name, `mesh`, a Gateway or a Service."""

    kind: str  # Gateway | Service | mesh
    group: str
    name: str
    namespace: str
    section: str | None
    port: int | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class Route:
    source_kind: str  # VirtualService | HTTPRoute | GRPCRoute | TCPRoute | TLSRoute | LinkerdHTTPRoute
    api_version: str
    name: str
    namespace: str
    hosts: tuple[str, ...]  # hosts/hostnames as written
    host_origins: tuple[Origin, ...]
    parents: tuple[ParentRef, ...]  # VirtualService gateways; empty means `mesh`
    export_to: tuple[str, ...]
    rules: tuple[RouteRule, ...]
    annotations: Labels
    origin: Origin

    @property
    def binds_mesh(self) -> bool:
        return not self.parents or any(p.kind == "mesh" for p in self.parents)


# -- traffic policy ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TLSSettings:
    mode: str  # DISABLE | SIMPLE | MUTUAL | ISTIO_MUTUAL
    has_ca: bool
    insecure_skip_verify: bool
    credential_name: str | None
    origin: Origin
    sni: str | None = None
    subject_alt_names: tuple[str, ...] = ()
    ca_certificates: str | None = None
    client_certificate: str | None = None
    private_key: str | None = None


@dataclass(frozen=True, eq=False)
class TrafficPolicy:
    load_balancer: str | None  # simple LB name or "consistentHash"
    connection_pool: ConnectionPool | None
    outlier_detection: OutlierDetection | None
    tls: TLSSettings | None
    port_level: tuple[tuple[int, TrafficPolicy], ...]
    origin: Origin
    lb: LoadBalancer | None = None
    # fields present in the input that the model does not carry (tunnel, proxyProtocol, ...):
    # back-ends report them as not translated instead of dropping them silently
    unmodelled: tuple[tuple[str, Origin], ...] = ()


@dataclass(frozen=True, eq=False)
class Subset:
    name: str
    labels: Labels
    traffic_policy: TrafficPolicy | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class DestinationPolicy:
    """A DestinationRule."""

    name: str
    namespace: str
    host: str
    fqdn: str
    export_to: tuple[str, ...]
    workload_selector: Labels | None
    traffic_policy: TrafficPolicy | None
    subsets: tuple[Subset, ...]
    origin: Origin


# -- external services ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ExternalPort:
    number: int
    name: str | None
    protocol: str
    target_port: int | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class ServiceEntry:
    name: str
    namespace: str
    hosts: tuple[str, ...]
    addresses: tuple[str, ...]
    ports: tuple[ExternalPort, ...]
    location: str
    resolution: str
    export_to: tuple[str, ...]
    workload_selector: Labels | None
    endpoint_labels: tuple[Labels, ...]
    origin: Origin


# -- gateways ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Listener:
    """An Istio Gateway server or a Gateway API listener."""

    name: str | None
    port: int
    protocol: str  # HTTP | HTTPS | GRPC | HTTP2 | TCP | TLS | MONGO | UDP ...
    hosts: tuple[str, ...]  # Istio `ns/host` forms, or Gateway API hostname ("*" when unset)
    tls_mode: str | None
    credential_names: tuple[str, ...]  # Istio credentialName(s), Gateway API certificateRefs
    allowed_namespaces: str  # Gateway API allowedRoutes.namespaces.from (Same|All|Selector)
    allowed_selector: Labels | None
    allowed_kinds: tuple[str, ...]
    origin: Origin
    https_redirect: bool = False
    bind: str | None = None
    port_name: str | None = None  # Istio server port.name (part of the HTTPS route configuration name)
    server_certificate: str | None = None  # file-mounted certificates (Istio Gateway tls)
    private_key: str | None = None
    ca_certificates: str | None = None
    # Kubernetes Ingress tls[].secretName: a Secret of the Ingress's namespace (Istio reads it in the
    # ingress gateway's namespace); credential_names stays empty for Ingress listeners
    secret_name: str | None = None


@dataclass(frozen=True, eq=False)
class Gateway:
    source_kind: str  # IstioGateway | Gateway (Gateway API)
    name: str
    namespace: str
    selector: Labels | None  # Istio: the gateway workload's labels
    class_name: str | None  # Gateway API gatewayClassName
    listeners: tuple[Listener, ...]
    annotations: Labels
    origin: Origin


@dataclass(frozen=True, eq=False)
class ReferenceGrant:
    namespace: str
    from_: tuple[tuple[str, str, str], ...]  # (group, kind, namespace)
    to: tuple[tuple[str, str, str | None], ...]  # (group, kind, name)
    origin: Origin


@dataclass(frozen=True, eq=False)
class GatewayClass:
    name: str
    controller: str
    origin: Origin
    source_kind: str = "GatewayClass"  # or IngressClass (networking.k8s.io): the class of Ingresses
    default: bool = False  # IngressClass: ingressclass.kubernetes.io/is-default-class is "true"


# -- security ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TargetRef:
    group: str
    kind: str
    name: str
    namespace: str | None
    section: str | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class PeerAuthentication:
    name: str
    namespace: str
    selector: Labels | None
    mode: str | None  # STRICT | PERMISSIVE | DISABLE | UNSET | None (inherit)
    port_modes: tuple[tuple[int, str], ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class Source:
    principals: tuple[str, ...]
    not_principals: tuple[str, ...]
    namespaces: tuple[str, ...]
    not_namespaces: tuple[str, ...]
    service_accounts: tuple[str, ...]
    not_service_accounts: tuple[str, ...]
    ip_blocks: tuple[str, ...]
    not_ip_blocks: tuple[str, ...]
    request_principals: tuple[str, ...]
    not_request_principals: tuple[str, ...]
    remote_ip_blocks: tuple[str, ...]
    not_remote_ip_blocks: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class Operation:
    hosts: tuple[str, ...]
    not_hosts: tuple[str, ...]
    ports: tuple[str, ...]
    not_ports: tuple[str, ...]
    methods: tuple[str, ...]
    not_methods: tuple[str, ...]
    paths: tuple[str, ...]
    not_paths: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class Condition:
    key: str
    values: tuple[str, ...]
    not_values: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class AuthorizationRule:
    sources: tuple[Source, ...]  # from: any of
    operations: tuple[Operation, ...]  # to: any of
    conditions: tuple[Condition, ...]  # when: all of
    origin: Origin


@dataclass(frozen=True, eq=False)
class AuthorizationPolicy:
    """An Istio AuthorizationPolicy."""

    name: str
    namespace: str
    action: str  # ALLOW | DENY | AUDIT | CUSTOM
    selector: Labels | None
    target_refs: tuple[TargetRef, ...]
    rules: tuple[AuthorizationRule, ...] | None  # None: the field is absent
    provider: str | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class JwtRule:
    issuer: str | None
    audiences: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class RequestAuthentication:
    name: str
    namespace: str
    selector: Labels | None
    target_refs: tuple[TargetRef, ...]
    jwt_rules: tuple[JwtRule, ...]
    origin: Origin


# -- Linkerd policy ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LinkerdServer:
    name: str
    namespace: str
    pod_selector: Labels | None
    pod_expressions: bool  # matchExpressions present (selector not fully known)
    external_selector: bool
    port: int | str
    proxy_protocol: str | None
    access_policy: str | None
    origin: Origin
    labels: Labels = field(default_factory=dict)  # the Server's own labels (ServerAuthorization selects by them)
    match_expressions: tuple[SelectorExpression, ...] = ()  # podSelector.matchExpressions


@dataclass(frozen=True, eq=False)
class SelectorExpression:
    """One ``matchExpressions`` entry: ``key`` In/NotIn/Exists/DoesNotExist ``values``."""

    key: str
    operator: str
    values: tuple[str, ...]
    origin: Origin

    def holds(self, labels: Labels) -> bool:
        value = labels.get(self.key)
        if self.operator == "In":
            return value is not None and value in self.values
        if self.operator == "NotIn":
            return value is None or value not in self.values
        if self.operator == "Exists":
            return value is not None
        if self.operator == "DoesNotExist":
            return value is None
        return False


@dataclass(frozen=True, eq=False)
class LinkerdAuthorizationPolicy:
    name: str
    namespace: str
    target: TargetRef
    required_authentications: tuple[TargetRef, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class MeshTLSAuthentication:
    name: str
    namespace: str
    identities: tuple[str, ...]
    identity_refs: tuple[TargetRef, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class NetworkAuthentication:
    name: str
    namespace: str
    networks: tuple[str, ...]
    origin: Origin
    excepts: tuple[tuple[str, ...], ...] = ()  # networks[i].except, aligned with ``networks``
    network_origins: tuple[Origin, ...] = ()  # networks[i], aligned with ``networks``


@dataclass(frozen=True, eq=False)
class ServerAuthorization:
    name: str
    namespace: str
    server_name: str | None
    server_selector: Labels | None
    unauthenticated: bool
    mesh_identities: tuple[str, ...]
    service_accounts: tuple[tuple[str, str | None], ...]
    networks: tuple[str, ...]
    origin: Origin
    unauthenticated_tls: bool = False  # client.meshTLS.unauthenticatedTLS (also sets ``unauthenticated``)
    network_excepts: tuple[tuple[str, ...], ...] = ()  # client.networks[i].except, aligned with ``networks``


@dataclass(frozen=True, eq=False)
class ProfileCondition:
    """A ServiceProfile request condition: the leaves set in one object are ANDed with
    ``all`` (every one), ``any`` (at least one) and ``not`` (the negation)."""

    method: str | None
    path_regex: str | None
    all: tuple[ProfileCondition, ...]
    any: tuple[ProfileCondition, ...]
    negated: ProfileCondition | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class StatusCondition:
    """A ServiceProfile response condition: ``status: {min, max}`` with ``all``/``any``/``not``."""

    status_min: int | None
    status_max: int | None
    has_status: bool
    all: tuple[StatusCondition, ...]
    any: tuple[StatusCondition, ...]
    negated: StatusCondition | None
    origin: Origin

    def matches(self, status: int) -> bool:
        """Linkerd's semantics: every part set in the object must hold (an empty one holds)."""
        if self.has_status:
            low = self.status_min if self.status_min is not None else 100
            high = self.status_max if self.status_max is not None else 599
            if not low <= status <= high:
                return False
        if not all(c.matches(status) for c in self.all):
            return False
        if self.any and not any(c.matches(status) for c in self.any):
            return False
        return not (self.negated is not None and self.negated.matches(status))


@dataclass(frozen=True, eq=False)
class ResponseClass:
    condition: StatusCondition | None
    is_failure: bool
    origin: Origin


@dataclass(frozen=True, eq=False)
class ProfileRoute:
    """One ServiceProfile route; routes are tried in order and the first that matches wins."""

    name: str
    condition: ProfileCondition | None
    response_classes: tuple[ResponseClass, ...]
    is_retryable: bool
    timeout: str | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class RetryBudget:
    retry_ratio: float | None
    min_retries_per_second: int | None
    ttl: str | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class DstOverride:
    """A weighted destination: ``authority`` (``host[:port]``) and a relative Kubernetes quantity."""

    authority: str
    weight: str
    origin: Origin


@dataclass(frozen=True, eq=False)
class ServiceProfile:
    name: str
    namespace: str
    route_count: int
    has_retries: bool
    has_timeouts: bool
    origin: Origin
    routes: tuple[ProfileRoute, ...] = ()
    retry_budget: RetryBudget | None = None  # None: Linkerd's default budget (0.2, 10/s, 10s)
    dst_overrides: tuple[DstOverride, ...] = ()
    opaque_ports: tuple[str, ...] = ()  # ports or ranges as written
    opaque_ports_origin: Origin | None = None


@dataclass(frozen=True, eq=False)
class TrafficSplit:
    name: str
    namespace: str
    service: str
    backends: tuple[tuple[str, str], ...]  # (service, weight as written)
    origin: Origin
    backend_origins: tuple[Origin, ...] = ()  # spec.backends[i], aligned with ``backends``


# -- Istio workload-scoped configuration -------------------------------------------------
@dataclass(frozen=True, eq=False)
class SidecarConfig:
    """An Istio Sidecar resource."""

    name: str
    namespace: str
    selector: Labels | None
    egress_hosts: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class TelemetryConfig:
    name: str
    namespace: str
    selector: Labels | None
    target_refs: tuple[TargetRef, ...]
    access_logging: tuple[tuple[str, ...], ...]  # providers per accessLogging entry
    access_logging_origins: tuple[Origin, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class EnvoyPatch:
    apply_to: str
    operation: str
    context: str | None
    proxy_version: str | None
    filter_name: str | None  # the filter the patch is anchored on (match), or adds
    value_name: str | None  # patch.value.name: the filter the patch adds or merges
    origin: Origin


@dataclass(frozen=True, eq=False)
class EnvoyFilterConfig:
    name: str
    namespace: str
    selector: Labels | None
    priority: int | None
    patches: tuple[EnvoyPatch, ...]
    origin: Origin


@dataclass(frozen=True, eq=False)
class WorkloadPolicy:
    """A WasmPlugin (or another selector/targetRef-scoped policy without more model)."""

    kind: str
    name: str
    namespace: str
    selector: Labels | None
    target_refs: tuple[TargetRef, ...]
    origin: Origin


# -- mesh-wide settings -----------------------------------------------------------------
@dataclass(frozen=True)
class MeshConfig:
    """The parts of Istio's MeshConfig the rules read (``--mesh-config``)."""

    root_namespace: str = "istio-system"
    trust_domain: str = "cluster.local"
    cluster_domain: str = "cluster.local"
    default_access_log_providers: tuple[str, ...] = ()
    extension_providers: tuple[str, ...] = ()
    enable_auto_mtls: bool = True
    ingress_service: str = "istio-ingressgateway"
    ingress_selector: str = "ingressgateway"
    ingress_class: str = "istio"
    outbound_traffic_policy: str = "ALLOW_ANY"
    dns_auto_allocate: bool = False  # proxyMetadata ISTIO_META_DNS_AUTO_ALLOCATE
    source: str | None = None  # the --mesh-config file; None when Istio's defaults are assumed
