"""DestinationRule traffic policy -> Envoy clusters, as istiod builds them for one proxy.

Before::

    Service reviews.default :9080 (pods v1 10.244.1.11, v2 10.244.2.12)
    DestinationRule reviews {trafficPolicy: {connectionPool: {tcp: {maxConnections: 100}}},
                             subsets: [{name: v1, labels: {version: v1}}]}

After (the subset cluster keeps only the pods labelled ``version: v1``)::

    outbound|9080||reviews.default.svc.cluster.local    STATIC  10.244.1.11, 10.244.2.12
    outbound|9080|v1|reviews.default.svc.cluster.local  STATIC  10.244.1.11
    (both: LEAST_REQUEST, connect_timeout 10s, max_connections 100, the rest 4294967295)

Istio's choices that differ from Envoy's defaults are written out: LEAST_REQUEST, a 10s
connect timeout, UINT32_MAX circuit-breaker thresholds on every cluster, and, with outlier
detection, success-rate ejection off and the panic threshold at ``minHealthPercent`` (0).

Where istiod would use EDS, the static bootstrap has ``STATIC`` clusters with the endpoints
the inputs show (``endpoints.py``); when they show none, a ``STRICT_DNS`` cluster resolves
the Service name (its ClusterIP) on the Service port, so kube-proxy picks the pod.

>>> _is_prime(65537), _is_prime(1000)
(True, False)
>>> _thresholds(None)["max_retries"]
4294967295
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from meshctl.emit.envoy import names, tls
from meshctl.emit.envoy.build import Build, Json
from meshctl.emit.envoy.endpoints import (
    Destination,
    UpstreamEndpoint,
    destination,
    in_subset,
    load_assignment,
    service_endpoints,
    tcp_port,
    workloads_meshed,
)
from meshctl.emit.envoy.values import (
    HTTP_PROTOCOL_OPTIONS,
    MESH_CONNECT_TIMEOUT,
    UINT32_MAX,
    duration,
    typed,
    whole_seconds,
)
from meshctl.model import hosts
from meshctl.model.mesh import selects
from meshctl.model.objects import (
    DestinationPolicy,
    Protocol,
    Service,
    ServiceEntry,
    Subset,
    TLSSettings,
    TrafficPolicy,
)
from meshctl.model.origin import Origin
from meshctl.model.traffic import ConnectionPool, HashKey, LoadBalancer, OutlierDetection, Warmup

Labels = dict[str, str]

ORIGINAL_DST = "ORIGINAL_DST"
MAGLEV_MAX_TABLE = 5000011  # Envoy: a prime no larger than this
RING_MAX_SIZE = 8388608  # Envoy: minimum_ring_size <= maximum_ring_size (default 8M)
DEFAULT_RING_SIZE = 1024
_SIMPLE_LB = {"ROUND_ROBIN": "ROUND_ROBIN", "RANDOM": "RANDOM"}  # anything else: LEAST_REQUEST
_SLOW_START_CONFIG = {"ROUND_ROBIN": "round_robin_lb_config", "LEAST_REQUEST": "least_request_lb_config"}


# -- which DestinationRule, which policy -----------------------------------------------------
def destination_rule(build: Build, fqdn: str) -> DestinationPolicy | None:
    """The DestinationRule a proxy in ``build.proxy_namespace`` applies to host ``fqdn``.

    Istio looks in the proxy's namespace (its own rules, unless their exportTo leaves out
    their own namespace), then in the host's namespace, then in the root namespace (there,
    only rules exported to the proxy's namespace). At the first namespace
    with a rule for the host, the most specific host wins (exact, else the longest wildcard);
    several rules for that host merge as Istio merges them (see ``_merge``). A rule with a
    ``workloadSelector`` counts only in the proxy's namespace and only when it selects the
    proxy, and then wins over the rules without one; when the proxy's labels are unknown it
    is left out and reported.
    """
    return build.cached("destination_rule", fqdn, lambda: _destination_rule(build, fqdn))  # type: ignore[no-any-return]


def _destination_rule(build: Build, fqdn: str) -> DestinationPolicy | None:
    found = destination(build.mesh, build.proxy_namespace, fqdn)
    home = found.namespace if found is not None else _service_namespace(build, fqdn)
    levels = [build.proxy_namespace] + [ns for ns in (home, build.mesh.mesh_config.root_namespace) if ns]
    for i, namespace in enumerate(levels):
        rules = _rules_at(build, namespace, fqdn, local=i == 0)
        if rules:
            for rule in rules:
                _report_unmodelled(build, rule)
            return _merge(rules)
    return None


def _report_unmodelled(build: Build, rule: DestinationPolicy) -> None:
    """Traffic-policy fields the translation does not carry (tunnel, proxyProtocol, ...)."""
    policies = [rule.traffic_policy] + [s.traffic_policy for s in rule.subsets]
    for policy in policies:
        for level in (policy, *(nested for _, nested in policy.port_level)) if policy is not None else ():
            for name, where in level.unmodelled:
                build.losses.dropped(where, f"trafficPolicy.{name} is not translated to Envoy")


@dataclass(frozen=True, eq=False)
class Policy:
    """The traffic policy one cluster gets once Istio's merge rules have run."""

    connection_pool: ConnectionPool | None = None
    outlier_detection: OutlierDetection | None = None
    load_balancer: LoadBalancer | None = None
    tls: TLSSettings | None = None


def cluster_policy(rule: DestinationPolicy | None, port: int, subset: Subset | None) -> Policy:
    """Istio's merge for one cluster: a ``portLevelSettings`` entry for the port replaces the
    whole top-level policy (what it omits is unset, not inherited); a subset's policy then
    replaces field by field (a set ``connectionPool`` replaces the parent's whole pool), and
    the subset's own port-level entry, if any, replaces all four fields."""
    top = rule.traffic_policy if rule is not None else None
    level = _port_level(top, port)
    base = _policy(level if level is not None else top)
    own = subset.traffic_policy if subset is not None else None
    if own is None:
        return base
    own_level = _port_level(own, port)
    if own_level is not None:
        return _policy(own_level)
    return Policy(
        own.connection_pool if own.connection_pool is not None else base.connection_pool,
        own.outlier_detection if own.outlier_detection is not None else base.outlier_detection,
        own.lb if own.lb is not None else base.load_balancer,
        own.tls if own.tls is not None else base.tls,
    )


# -- consistent hash on routes --------------------------------------------------------------
def hash_policies(build: Build, fqdn: str, port: int, subset: str | None) -> list[Json]:
    """The route ``hash_policy`` for a destination: the consistent hash of its DestinationRule,
    looked up as Istio does for routes (subset port-level > subset > port-level > top level,
    the first that sets one, unlike the cluster merge); [] when none applies."""
    lb = _consistent_hash(build, fqdn, port, subset)
    if lb is None or lb.hash_key is None:
        return []
    found = _hash_policy(lb.hash_key)
    return [found] if found is not None else []


def uses_consistent_hash(build: Build, fqdn: str, port: int, subset: str | None) -> bool:
    """Whether the destination's DestinationRule asks for consistent-hash load balancing."""
    return _consistent_hash(build, fqdn, port, subset) is not None


# -- clusters ---------------------------------------------------------------------------------
def outbound_cluster(build: Build, fqdn: str, port: int, subset: str | None) -> str | None:
    """Register ``outbound|PORT|SUBSET|FQDN`` and return its name; None when the host is no
    Service or ServiceEntry visible to the proxy, has no such port, or the applicable
    DestinationRule defines no such subset (Istio's route then names a missing cluster)."""
    found = destination(build.mesh, build.proxy_namespace, fqdn)
    if found is None or port not in found.ports():
        return None
    rule = destination_rule(build, fqdn)
    chosen = _subset(rule, subset) if subset else None
    if subset and chosen is None:
        return None
    name = names.cluster_name(port, subset, fqdn)
    return build.add_cluster(name, lambda: _cluster(build, name, found, port, chosen, rule))


def all_outbound_clusters(build: Build) -> None:
    """What istiod pushes to a proxy (without a Sidecar resource narrowing it): a cluster per
    port of every Service and ServiceEntry host exported to its namespace, plus one per
    subset of the applicable DestinationRule."""
    viewer = build.proxy_namespace
    ports: dict[str, list[int]] = {}
    for service in build.mesh.services:
        if hosts.visible(service.export_to, service.namespace, viewer):
            ports.setdefault(service.fqdn, [p.port for p in service.ports])
    for entry in build.mesh.service_entries:
        if hosts.visible(entry.export_to, entry.namespace, viewer):
            for host in entry.hosts:
                ports.setdefault(host, [p.number for p in entry.ports])
    for fqdn in sorted(ports):
        rule = destination_rule(build, fqdn)
        for port in ports[fqdn]:
            outbound_cluster(build, fqdn, port, None)
            for subset in rule.subsets if rule is not None else ():
                outbound_cluster(build, fqdn, port, subset.name)


def report_dns_subsets(build: Build) -> None:
    """One note for every Service whose subsets had to resolve the Service name: the same
    fact about the inputs, named once at the first DestinationRule it concerns."""
    found: dict[str, Origin] = build.memo.get("dns_subsets", {})
    if not found:
        return
    names = sorted(found)
    others = f" and {len(names) - 1} more" if len(names) > 1 else ""
    build.losses.approximated(
        found[names[0]],
        f"the inputs show no endpoints (Pods with an IP, EndpointSlices) of Service {names[0]}{others}, so "
        "their subset clusters resolve the Service name and reach all its pods, whatever their version",
    )


def builtin_clusters(build: Build) -> None:
    """``PassthroughCluster`` (original destination, for ALLOW_ANY) and ``BlackHoleCluster``
    (no endpoints). The ``sds-grpc`` cluster is not added here: ``tls.sds_secret`` (or
    ``sds_cluster``) registers it whenever a cluster or listener uses SDS, so it exists
    exactly when something needs it."""
    build.add_cluster(names.PASSTHROUGH, lambda: {
        "name": names.PASSTHROUGH,
        "alt_stat_name": f"{names.PASSTHROUGH};",
        "type": ORIGINAL_DST,
        "connect_timeout": MESH_CONNECT_TIMEOUT,
        "lb_policy": "CLUSTER_PROVIDED",
        "circuit_breakers": {"thresholds": [_thresholds(None)]},
    })
    build.add_cluster(names.BLACKHOLE, lambda: {
        "name": names.BLACKHOLE,
        "alt_stat_name": f"{names.BLACKHOLE};",
        "type": "STATIC",
        "connect_timeout": MESH_CONNECT_TIMEOUT,
    })


def sds_cluster(build: Build) -> str:
    """Register the ``sds-grpc`` cluster (for callers that build their own secret configs;
    ``tls.sds_secret`` does this itself) and return its name."""
    return build.add_cluster(names.SDS_CLUSTER, tls.sds_cluster)


@dataclass(frozen=True)
class _Discovery:
    """How a cluster finds its hosts: its type, DNS settings, and its endpoints (None: none
    listed, the ORIGINAL_DST case)."""

    type: str
    fields: Json = field(default_factory=dict)
    endpoints: list[UpstreamEndpoint] | None = None


def _cluster(
    build: Build, name: str, dest: Destination, port: int, subset: Subset | None,
    rule: DestinationPolicy | None,
) -> Json:
    """One outbound cluster: discovery, then the traffic policy, in Envoy's field order."""
    policy = cluster_policy(rule, port, subset)
    lb = policy.load_balancer
    passthrough = lb is not None and (lb.simple or "").upper() == "PASSTHROUGH"
    found = _Discovery(ORIGINAL_DST) if passthrough else _discovery(build, dest, port, subset)
    pool = policy.connection_pool
    cluster: Json = {"name": name, "alt_stat_name": f"{name};", "type": found.type, **found.fields}
    cluster["connect_timeout"] = _connect_timeout(build, pool)
    cluster.update(_load_balancing(build, lb, found.type))
    cluster["circuit_breakers"] = {"thresholds": [_thresholds(pool)]}
    if policy.outlier_detection is not None:
        cluster["outlier_detection"] = _outlier_detection(build, policy.outlier_detection)
        percent = policy.outlier_detection.min_health_percent or 0
        cluster["common_lb_config"] = {"healthy_panic_threshold": {"value": max(percent, 0)}}
    ignored = tls.credential_ignored(build, policy.tls, rule)
    settings = None if ignored else policy.tls
    options, h2 = _http_options(build, dest.protocol(port), pool, tls.auto_sni_options(settings))
    if options is not None:
        cluster["typed_extension_protocol_options"] = {HTTP_PROTOCOL_OPTIONS: options}
    if pool is not None and pool.tcp_keepalive is not None:
        cluster["upstream_connection_options"] = {"tcp_keepalive": _keepalive(pool)}
    meshed = any(e.meshed for e in found.endpoints or ())
    if not ignored:
        cluster.update(tls.upstream_transport(
            build, dest.fqdn, port, subset.name if subset else None, settings, meshed, h2=h2
        ))
    if found.endpoints is not None:
        cluster["load_assignment"] = load_assignment(name, found.endpoints)
    return cluster


# -- discovery --------------------------------------------------------------------------------
def _discovery(build: Build, dest: Destination, port: int, subset: Subset | None) -> _Discovery:
    if dest.service is not None:
        return _service_discovery(build, dest.service, port, subset)
    assert dest.entry is not None
    return _entry_discovery(build, dest.entry, dest.fqdn, port, subset)


def _service_discovery(build: Build, service: Service, port: int, subset: Subset | None) -> _Discovery:
    """A Kubernetes Service: its endpoints; an ExternalName resolves the external name; a
    headless Service is passthrough on a sidecar (clients dial pod IPs)."""
    if service.type == "ExternalName" and service.external_name:
        return _dns(service.external_name, port, meshed=False)
    if service.headless and build.options.proxy == "sidecar":
        return _Discovery(ORIGINAL_DST)
    service_port = tcp_port(service, port)
    assert service_port is not None
    found = service_endpoints(build.mesh, service, service_port)
    if found is None:
        if subset is not None and subset.labels:
            subsets = Origin(subset.origin.doc, subset.origin.path[:-1])
            build.memo.setdefault("dns_subsets", {}).setdefault(f"{service.name}.{service.namespace}", subsets)
        return _dns(service.fqdn, port, meshed=workloads_meshed(build.mesh, service))
    labels = subset.labels if subset is not None else None
    if labels and any(e.labels is None for e in found):
        assert subset is not None
        build.losses.approximated(
            subset.origin.at("labels"),
            f"some endpoints of Service {service.name}.{service.namespace} belong to pods that "
            f"are not among the inputs; their labels are unknown, so subset {subset.name} leaves them out",
        )
    return _Discovery("STATIC", endpoints=in_subset(found, labels))


def _entry_discovery(
    build: Build, entry: ServiceEntry, host: str, port: int, subset: Subset | None
) -> _Discovery:
    """A ServiceEntry host by its resolution. meshctl keeps no ServiceEntry endpoint
    addresses: DNS resolves the host itself, STATIC forwards to the address the client
    dialled (ORIGINAL_DST, as NONE does); both are reported."""
    resolution = entry.resolution.upper()
    spec = entry.origin.at("spec")
    if subset is not None and subset.labels:
        build.losses.approximated(
            subset.origin.at("labels"),
            "subset labels select ServiceEntry endpoints, which meshctl does not keep; "
            f"subset {subset.name} reaches the same hosts as {host}",
        )
    if resolution in ("DNS", "DNS_ROUND_ROBIN") and "*" in host:
        build.losses.approximated(
            spec.at("resolution"),
            f"a wildcard host with resolution {resolution} resolves each request's own host, "
            "which a static cluster cannot; it forwards to the original destination instead",
        )
        return _Discovery(ORIGINAL_DST)
    if resolution in ("DNS", "DNS_ROUND_ROBIN"):
        if entry.endpoint_labels:
            build.losses.approximated(
                spec.at("endpoints"),
                f"ServiceEntry endpoint addresses are not in meshctl's model; the cluster resolves {host} instead",
            )
        target = next((p.target_port for p in entry.ports if p.number == port), None) or port
        return _dns(host, target, meshed=False, logical=resolution == "DNS_ROUND_ROBIN")
    if resolution == "STATIC":
        build.losses.approximated(
            spec.at("endpoints") if entry.endpoint_labels else spec.at("resolution"),
            "ServiceEntry endpoint addresses are not in meshctl's model, so the STATIC cluster "
            "forwards to the address the client dialled (ORIGINAL_DST)",
        )
    return _Discovery(ORIGINAL_DST)


def _dns(host: str, port: int, *, meshed: bool, logical: bool = False) -> _Discovery:
    """A DNS cluster on ``host:port``, IPv4 only as Istio's are. Istio also sets
    ``respect_dns_ttl`` and a 60s ``dns_refresh_rate``; Envoy 1.40 deprecates both fields
    on the Cluster, so they are left to Envoy's defaults (refresh every 5s)."""
    endpoint = UpstreamEndpoint(host, port, meshed, None)
    return _Discovery("LOGICAL_DNS" if logical else "STRICT_DNS", {"dns_lookup_family": "V4_ONLY"}, [endpoint])


# -- traffic policy pieces -----------------------------------------------------------------
def _connect_timeout(build: Build, pool: ConnectionPool | None) -> str:
    """``tcp.connectTimeout``, else the mesh's 10s (Envoy's own default is 5s)."""
    if pool is None or pool.connect_timeout is None:
        return MESH_CONNECT_TIMEOUT
    origin = pool.origin.at("tcp", "connectTimeout")
    found = _duration(build, pool.connect_timeout, origin)
    if found == "0s":
        build.losses.dropped(origin, "Envoy needs a positive connect timeout; the mesh default 10s is used")
    return found if found is not None and found != "0s" else MESH_CONNECT_TIMEOUT


def _thresholds(pool: ConnectionPool | None) -> Json:
    """The one circuit-breaker threshold entry: UINT32_MAX unless the pool sets a positive limit."""

    def limit(value: int | None) -> int:
        return min(value, UINT32_MAX) if value is not None and value > 0 else UINT32_MAX

    return {
        "max_connections": limit(pool.max_connections if pool else None),
        "max_pending_requests": limit(pool.http1_max_pending_requests if pool else None),
        "max_requests": limit(pool.http2_max_requests if pool else None),
        "max_retries": limit(pool.max_retries if pool else None),
    }


def _load_balancing(build: Build, lb: LoadBalancer | None, cluster_type: str) -> Json:
    """``lb_policy`` and its config. Original-destination clusters only allow CLUSTER_PROVIDED;
    LEAST_CONN (no such Envoy policy) and unset become LEAST_REQUEST."""
    if cluster_type == ORIGINAL_DST:
        return {"lb_policy": "CLUSTER_PROVIDED"}
    if lb is None:
        return {"lb_policy": "LEAST_REQUEST"}
    if lb.locality:
        build.losses.dropped(
            lb.origin.at("localityLbSetting"),
            "localityLbSetting is left out: locality weights and failover depend on the client "
            "proxy's locality, which a static bootstrap does not know",
        )
    if lb.hash_algorithm is not None:
        if lb.warmup is not None:
            _drop_warmup(build, lb, "consistent hash")
        return _hash_balancer(build, lb)
    policy = _SIMPLE_LB.get((lb.simple or "").upper(), "LEAST_REQUEST")
    out: Json = {"lb_policy": policy}
    if lb.warmup is not None:
        if policy in _SLOW_START_CONFIG:
            slow_start = _slow_start(build, lb.warmup, lb.origin)
            if slow_start is not None:
                out[_SLOW_START_CONFIG[policy]] = {"slow_start_config": slow_start}
        else:
            _drop_warmup(build, lb, policy)
    return out


def _hash_balancer(build: Build, lb: LoadBalancer) -> Json:
    """RING_HASH (minimum ring size, 1024 by default) or MAGLEV (a prime table size)."""
    if lb.hash_algorithm == "maglev":
        out: Json = {"lb_policy": "MAGLEV"}
        size = lb.table_size
        if size:
            if _is_prime(size) and size <= MAGLEV_MAX_TABLE:
                out["maglev_lb_config"] = {"table_size": size}
            else:
                build.losses.dropped(
                    lb.origin.at("consistentHash", "maglev", "tableSize"),
                    f"maglev tableSize {size} is not a prime up to {MAGLEV_MAX_TABLE}, which Envoy "
                    "requires; Envoy's default table size (65537) is used",
                )
        return out
    ring = lb.ring_size or DEFAULT_RING_SIZE
    if ring > RING_MAX_SIZE:
        build.losses.dropped(
            lb.origin.at("consistentHash"),
            f"minimumRingSize {ring} is above Envoy's maximum ring size {RING_MAX_SIZE}; "
            f"the default {DEFAULT_RING_SIZE} is used",
        )
        ring = DEFAULT_RING_SIZE
    return {"lb_policy": "RING_HASH", "ring_hash_lb_config": {"minimum_ring_size": ring}}


def _slow_start(build: Build, warmup: Warmup, origin: Origin) -> Json | None:
    """``slow_start_config``: the window, and aggression / minimum weight when set (Envoy's
    defaults, 1.0 and 10%, are Istio's too)."""
    window = _duration(build, warmup.duration, origin.at("warmup", "duration"))
    if window is None:
        return None
    out: Json = {"slow_start_window": window}
    if warmup.aggression is not None:
        out["aggression"] = {"default_value": warmup.aggression}
    if warmup.minimum_percent is not None:
        out["min_weight_percent"] = {"value": warmup.minimum_percent}
    return out


def _drop_warmup(build: Build, lb: LoadBalancer, policy: str) -> None:
    """Reported on the loadBalancer: the model does not say whether ``warmup`` or the
    deprecated ``warmupDurationSecs`` asked for it."""
    build.losses.dropped(
        lb.origin,
        f"warmup applies only to ROUND_ROBIN and LEAST_REQUEST; Envoy has no slow start for {policy}",
    )


def _outlier_detection(build: Build, od: OutlierDetection) -> Json:
    """Istio's ``applyOutlierDetection``: success-rate ejection always off, each consecutive
    error count enforced at 100% (0% when the count is 0). Setting only
    ``consecutiveGatewayErrors`` leaves Envoy's default ``consecutive_5xx`` (5) active."""
    out: Json = {}
    if od.consecutive_5xx is not None:
        out["consecutive_5xx"] = od.consecutive_5xx
        out["enforcing_consecutive_5xx"] = 100 if od.consecutive_5xx > 0 else 0
    if od.consecutive_gateway_errors is not None:
        out["consecutive_gateway_failure"] = od.consecutive_gateway_errors
        out["enforcing_consecutive_gateway_failure"] = 100 if od.consecutive_gateway_errors > 0 else 0
    out["enforcing_success_rate"] = 0
    interval = _duration(build, od.interval, od.origin.at("interval"))
    if interval is not None:
        out["interval"] = interval
    ejection = _duration(build, od.base_ejection_time, od.origin.at("baseEjectionTime"))
    if ejection is not None:
        out["base_ejection_time"] = ejection
    if od.max_ejection_percent is not None and od.max_ejection_percent > 0:
        if od.max_ejection_percent <= 100:
            out["max_ejection_percent"] = od.max_ejection_percent
        else:
            build.losses.dropped(
                od.origin.at("maxEjectionPercent"),
                f"maxEjectionPercent {od.max_ejection_percent} is above 100, which Envoy rejects; "
                "Envoy's default (10) is used",
            )
    if od.split_external_local_origin_errors:
        out["split_external_local_origin_errors"] = True
        failures = od.consecutive_local_origin_failures
        if failures is not None and failures > 0:
            out["consecutive_local_origin_failure"] = failures
            out["enforcing_consecutive_local_origin_failure"] = 100
        out["enforcing_local_origin_success_rate"] = 0
    if od.consecutive_errors is not None:
        build.losses.dropped(
            od.origin.at("consecutiveErrors"),
            "outlierDetection.consecutiveErrors is deprecated and Istio no longer translates it; "
            "use consecutive5xxErrors",
        )
    return out


def _http_options(
    build: Build, protocol: Protocol, pool: ConnectionPool | None, auto_sni: Json
) -> tuple[Json | None, bool]:
    """The cluster's ``HttpProtocolOptions`` (None when Istio sets none) and whether it speaks
    HTTP/2 upstream.

    HTTP/2 for http2/grpc ports and for ``h2UpgradePolicy: UPGRADE`` (on any port: Istio
    takes it as the user's word that the port is HTTP); the client's protocol for ports
    whose protocol a sidecar sniffs and for ``useClientProtocol`` (which also disables the
    upgrade). When only other options are set, Istio fills in HTTP/1.1.
    """
    upstream: str | None = None
    if protocol in (Protocol.HTTP2, Protocol.GRPC):
        upstream = "h2"
    elif protocol is Protocol.UNKNOWN and build.options.proxy == "sidecar":
        upstream = "downstream"
    common: Json = {}
    if pool is not None:
        common = _common_http_options(build, pool)
        if pool.use_client_protocol:
            upstream = "downstream"
        elif (pool.h2_upgrade_policy or "").upper() == "UPGRADE":
            upstream = "h2"
    if upstream is None and not common and not auto_sni:
        return None, False
    options: Json = {}
    if common:
        options["common_http_protocol_options"] = common
    if auto_sni:
        options["upstream_http_protocol_options"] = auto_sni
    if upstream == "downstream":
        options["use_downstream_protocol_config"] = {"http_protocol_options": {}, "http2_protocol_options": {}}
    elif upstream == "h2":
        streams = pool.max_concurrent_streams if pool is not None else None
        h2: Json = {"max_concurrent_streams": streams} if streams and streams > 0 else {}
        options["explicit_http_config"] = {"http2_protocol_options": h2}
    else:
        options["explicit_http_config"] = {"http_protocol_options": {}}
    return typed(HTTP_PROTOCOL_OPTIONS, **options), upstream == "h2"


def _common_http_options(build: Build, pool: ConnectionPool) -> Json:
    """idle timeout (http, else tcp), requests per connection, connection lifetime."""
    out: Json = {}
    if pool.idle_timeout is not None:
        idle = _duration(build, pool.idle_timeout, pool.origin.at("http", "idleTimeout"))
    else:
        idle = _duration(build, pool.tcp_idle_timeout, pool.origin.at("tcp", "idleTimeout"))
    if idle is not None:
        out["idle_timeout"] = idle
    if pool.max_requests_per_connection is not None and pool.max_requests_per_connection > 0:
        out["max_requests_per_connection"] = pool.max_requests_per_connection
    lifetime = _duration(build, pool.max_connection_duration, pool.origin.at("tcp", "maxConnectionDuration"))
    if lifetime is not None:
        out["max_connection_duration"] = lifetime
    return out


def _keepalive(pool: ConnectionPool) -> Json:
    """``tcp_keepalive``: SO_KEEPALIVE with the OS defaults, overridden by the positive
    probes / time / interval (whole seconds, as Istio truncates them)."""
    keepalive = pool.tcp_keepalive
    assert keepalive is not None
    out: Json = {}
    if keepalive.probes is not None and keepalive.probes > 0:
        out["keepalive_probes"] = keepalive.probes
    time, interval = whole_seconds(keepalive.time), whole_seconds(keepalive.interval)
    if time:
        out["keepalive_time"] = time
    if interval:
        out["keepalive_interval"] = interval
    return out


def _duration(build: Build, text: str | None, origin: Origin) -> str | None:
    """A protobuf duration, or None (reported) when ``text`` is not a duration."""
    if text is None:
        return None
    found = duration(text)
    if found is None:
        build.losses.dropped(origin, f"{text!r} is not a duration, so it is left out")
    return found


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n**0.5) + 1))


# -- DestinationRule lookup helpers ------------------------------------------------------
def _service_namespace(build: Build, fqdn: str) -> str | None:
    found = hosts.split_service_fqdn(fqdn, build.mesh.domain)
    return found[1] if found is not None else None


def _rules_at(build: Build, namespace: str, fqdn: str, *, local: bool) -> list[DestinationPolicy]:
    """The rules of ``namespace`` that apply to ``fqdn`` for this proxy, in input order."""
    labels = build.cached("proxy_labels", None, lambda: _proxy_labels(build))
    viewer = namespace if local else build.proxy_namespace
    found = []
    for rule in _rules_in(build, namespace):
        if not rule.fqdn or not hosts.matches(rule.fqdn, fqdn) \
                or not hosts.visible(rule.export_to, rule.namespace, viewer):
            continue
        if rule.workload_selector is None:
            found.append(rule)
        elif local and labels is None:
            build.losses.approximated(
                rule.origin.at("spec", "workloadSelector"),
                "a DestinationRule with a workloadSelector applies only to the proxies it selects, "
                "and this proxy's labels are unknown, so it is left out",
            )
        elif local and labels is not None and selects(rule.workload_selector, labels):
            found.append(rule)
    if not found:
        return []
    best = _most_specific(fqdn, [rule.fqdn for rule in found])
    at_host = [rule for rule in found if rule.fqdn == best]
    return [rule for rule in at_host if rule.workload_selector is not None] or at_host


def _rules_in(build: Build, namespace: str) -> list[DestinationPolicy]:
    def index() -> dict[str, list[DestinationPolicy]]:
        by_namespace: dict[str, list[DestinationPolicy]] = {}
        for rule in build.mesh.destination_policies:
            by_namespace.setdefault(rule.namespace, []).append(rule)
        return by_namespace

    return build.cached("rules_by_namespace", None, index).get(namespace, [])  # type: ignore[no-any-return]


def _most_specific(fqdn: str, patterns: list[str]) -> str:
    """Istio's MostSpecificHostMatch: the exact host, else the longest matching wildcard."""
    return fqdn if fqdn in patterns else max(patterns, key=len)


def _proxy_labels(build: Build) -> Labels | None:
    """The proxy's pod labels when the translation names it: a gateway's selector, or the
    labels of the target workload; None when they are unknown (the plain outbound view)."""
    if build.options.target is None:
        return None
    name, namespace = build.options.target
    if build.options.proxy == "gateway":
        gateway = next(iter(build.mesh.gateways_named(namespace, name)), None)
        return dict(gateway.selector) if gateway is not None and gateway.selector is not None else None
    workload = next((w for w in build.mesh.workloads_in(namespace) if w.name == name), None)
    return dict(workload.labels) if workload is not None else None


def _merge(rules: list[DestinationPolicy]) -> DestinationPolicy:
    """Istio's merge of several rules for one host in one namespace: the first (input order
    stands for creation time) keeps its traffic policy, or takes the first later one's when
    it has none; later rules only add subsets with new names."""
    first = rules[0]
    if len(rules) == 1:
        return first
    policy = next((r.traffic_policy for r in rules if r.traffic_policy is not None), None)
    subsets: dict[str, Subset] = {}
    for rule in rules:
        for subset in rule.subsets:
            subsets.setdefault(subset.name, subset)
    return replace(first, traffic_policy=policy, subsets=tuple(subsets.values()))


def _subset(rule: DestinationPolicy | None, name: str) -> Subset | None:
    return next((s for s in rule.subsets if s.name == name), None) if rule is not None else None


def _port_level(policy: TrafficPolicy | None, port: int) -> TrafficPolicy | None:
    if policy is None:
        return None
    return next((level for number, level in policy.port_level if number == port), None)


def _policy(policy: TrafficPolicy | None) -> Policy:
    if policy is None:
        return Policy()
    return Policy(policy.connection_pool, policy.outlier_detection, policy.lb, policy.tls)


def _consistent_hash(build: Build, fqdn: str, port: int, subset: str | None) -> LoadBalancer | None:
    rule = destination_rule(build, fqdn)
    if rule is None:
        return None
    chosen = _subset(rule, subset) if subset else None
    own = chosen.traffic_policy if chosen is not None else None
    top = rule.traffic_policy
    for policy in (_port_level(own, port), own, _port_level(top, port), top):
        if policy is not None and policy.lb is not None and policy.lb.hash_algorithm is not None:
            return policy.lb
    return None


def _hash_policy(key: HashKey) -> Json | None:
    """One route ``hash_policy`` entry from Istio's consistentHash key."""
    if key.kind == "header" and key.name:
        return {"header": {"header_name": key.name}}
    if key.kind == "cookie" and key.name:
        cookie: Json = {"name": key.name}
        if key.path:
            cookie["path"] = key.path
        ttl = duration(key.ttl)
        if ttl is not None:
            cookie["ttl"] = ttl
        return {"cookie": cookie}
    if key.kind == "source_ip":
        return {"connection_properties": {"source_ip": True}}
    if key.kind == "query" and key.name:
        return {"query_parameter": {"name": key.name}}
    return None
