"""DestinationRules -> per-subset Services, failure-accrual annotations, and losses.

Linkerd has no subsets: a version is a Service of its own. Each DestinationRule subset of
a Service of the inputs becomes a Service named ``<service>-<subset>`` whose selector is
the parent's selector plus the subset's labels, with the parent's ports; HTTPRoute
backendRefs name it. Before::

    DestinationRule reviews.shop  host: reviews  subsets: [{name: v1, labels: {version: v1}}]
    Service reviews.shop          selector: {app: reviews}  ports: [http 9080]

After::

    Service reviews-v1.shop  selector: {app: reviews, version: v1}  ports: [http 9080]
        labels: {meshctl.io/generated: "true"}

``outlierDetection`` becomes ``balancer.linkerd.io/failure-accrual*`` annotations on the
Service clients address (a copy of the input Service carrying them) and on the subset
Services; connection pools, load balancing and TLS settings have no Linkerd equivalent
and are reported. Linkerd's balancer is always EWMA/P2C and meshed pods always use mTLS.
"""

from __future__ import annotations

from meshctl.emit.linkerd.context import GENERATED, Build, dns_label, source_of
from meshctl.emit.linkerd.durations import linkerd_duration, to_millis
from meshctl.emit.manifests import Json, service_port
from meshctl.model.objects import (
    DestinationPolicy,
    Protocol,
    Service,
    ServicePort,
    Subset,
    TrafficPolicy,
)
from meshctl.model.traffic import OutlierDetection

ACCRUAL = "balancer.linkerd.io/failure-accrual"
MAX_FAILURES = "balancer.linkerd.io/failure-accrual-consecutive-max-failures"
MIN_PENALTY = "balancer.linkerd.io/failure-accrual-consecutive-min-penalty"
MAX_PENALTY = "balancer.linkerd.io/failure-accrual-consecutive-max-penalty"
OPAQUE_PORTS = "config.linkerd.io/opaque-ports"
OPAQUE_APP_PROTOCOL = "linkerd.io/opaque"
_ISTIO_DEFAULT_EJECTION_MS = 30_000  # Istio's baseEjectionTime default
_ISTIO_MAX_EJECTION_MS = 300_000  # Istio's maxEjectionTime default (the cap of base x ejections)
_OPAQUE = frozenset({Protocol.TCP, Protocol.MYSQL, Protocol.MONGO, Protocol.REDIS})


def subset_services(build: Build) -> None:
    """One Service per subset; fills ``build.subset_services`` for the routes to use."""
    for dr in _rules(build):
        service = build.service_of(dr.fqdn)
        for subset in dr.subsets:
            if not subset.name:
                continue
            if service is None:
                build.losses.dropped(
                    subset.origin, f"subset {subset.name!r}: host {dr.host!r} is not a Service of the inputs, so no "
                                   "per-subset Service could be generated (Linkerd has no subsets)")
                continue
            if (service.fqdn, subset.name) in build.subset_services:
                continue
            _subset_service(build, dr, service, subset)


def _rules(build: Build) -> list[DestinationPolicy]:
    return sorted((dr for dr in build.mesh.destination_policies if build.wanted(dr.origin)),
                  key=lambda dr: (dr.namespace, dr.name))


def _subset_service(build: Build, dr: DestinationPolicy, service: Service, subset: Subset) -> None:
    selector = dict(service.selector or {})
    selector.update(subset.labels)
    existing = build.mesh.service(dns_label(f"{service.name}-{subset.name}"), service.namespace)
    if existing is not None and existing.selector == selector:
        # the inputs already define the per-version Service: reuse it
        build.subset_services[(service.fqdn, subset.name)] = existing.name
        return
    name = build.unique("Service", service.namespace, f"{service.name}-{subset.name}")
    build.subset_services[(service.fqdn, subset.name)] = name
    workloads = build.mesh.workloads_selected(service.namespace, selector)
    note = (f"generated Service {name} (selector {_labels(selector)}) for subset {subset.name!r}: "
            "Linkerd has no subsets, routes name this Service instead")
    if not workloads and build.mesh.workloads_in(service.namespace):
        note += "; no workload of the inputs matches its selector, so it has no endpoints"
    build.losses.approximated(subset.origin, note)
    annotations: dict[str, str] = {}
    policy = subset.traffic_policy
    if policy is not None:
        annotations.update(_accrual(build, policy.outlier_detection, f"subset {subset.name!r}"))
        _policy_losses(build, policy, f"subset {subset.name!r}")
        if policy.outlier_detection is not None and not build.options.profile:
            build.losses.approximated(
                policy.origin, f"subset {subset.name!r} traffic policy: set on the generated Service {name}, which "
                               "applies when clients address it directly; requests routed through "
                               f"{service.name} use {service.name}'s settings")
    build.emit(
        "v1", "Service", name, service.namespace,
        {"selector": dict(sorted(selector.items())), "ports": [_port(build, p) for p in service.ports]},
        [source_of("DestinationRule", dr.namespace, dr.name)],
        labels={GENERATED: "true"}, annotations=annotations | _opaque_annotation(build, service),
    )


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _port(build: Build, port: ServicePort) -> Json:
    opaque = not port.app_protocol and port.mesh_protocol in _OPAQUE and build.at_least("2.18")
    return service_port(port, OPAQUE_APP_PROTOCOL if opaque else None)  # 2.18+ reads appProtocol; earlier: the annotation


def _opaque_annotation(build: Build, service: Service) -> dict[str, str]:
    """Before 2.18 Linkerd reads opaque ports only from ``config.linkerd.io/opaque-ports``."""
    if build.at_least("2.18"):
        return {}
    ports = [str(p.port) for p in service.ports if p.mesh_protocol in _OPAQUE and not p.app_protocol]
    return {OPAQUE_PORTS: ",".join(ports)} if ports else {}


def traffic_policies(build: Build) -> None:
    """The DestinationRule's top-level policy -> annotations on the Service, and losses."""
    for dr in _rules(build):
        if dr.workload_selector is not None:
            build.losses.dropped(dr.origin.at("spec", "workloadSelector"),
                                 "workloadSelector: Linkerd applies client settings per Service, not per client "
                                 "workload; the DestinationRule was not translated")
            continue
        service = build.service_of(dr.fqdn)
        policy = dr.traffic_policy
        if policy is None:
            continue
        source = source_of("DestinationRule", dr.namespace, dr.name)
        annotations = _accrual(build, policy.outlier_detection, "trafficPolicy")
        for number, nested in policy.port_level:
            if nested.outlier_detection is not None:
                build.losses.approximated(
                    nested.outlier_detection.origin,
                    f"portLevelSettings[{number}]: Linkerd's failure accrual is set per Service, not per port; "
                    "applied to every port")
                annotations.update(_accrual(build, nested.outlier_detection, f"port {number}"))
            _policy_losses(build, nested, f"portLevelSettings[{number}]")
        _policy_losses(build, policy, "trafficPolicy")
        if not annotations:
            continue
        if service is None:
            build.losses.dropped(policy.origin, f"host {dr.host!r} is not a Service of the inputs: the failure-accrual "
                                                "annotations have no Service to go on")
            continue
        for key, value in annotations.items():
            build.annotate_service(service, key, value, source)


def _accrual(build: Build, outlier: OutlierDetection | None, where: str) -> dict[str, str]:
    """Istio ejects an endpoint after N consecutive 5xx (default 5) for baseEjectionTime x
    ejections (default 30s, capped at 300s) and never more than maxEjectionPercent (default
    10%); Linkerd's consecutive failure accrual makes it unavailable after N failures, probes
    it again after min-penalty and backs off exponentially to max-penalty, for any share."""
    if outlier is None:
        return {}
    if build.options.profile:
        build.losses.dropped(outlier.origin, f"{where} outlierDetection: Linkerd disables failure accrual for a "
                                             "Service that has a ServiceProfile (--profile); not translated")
        return {}
    failures = outlier.consecutive_5xx
    if failures is None and outlier.consecutive_gateway_errors is not None:
        failures = outlier.consecutive_gateway_errors
        build.losses.approximated(outlier.origin.at("consecutiveGatewayErrors"),
                                  "consecutiveGatewayErrors: Linkerd counts every 5xx response, not only 502-504")
    elif outlier.consecutive_gateway_errors is not None:
        build.losses.approximated(outlier.origin.at("consecutiveGatewayErrors"),
                                  "consecutiveGatewayErrors: Linkerd has one failure count (every 5xx); "
                                  "consecutive5xxErrors was used")
    if failures is None:
        failures = 5
    if failures <= 0:
        return {}
    base = to_millis(outlier.base_ejection_time) if outlier.base_ejection_time else None
    base = base or _ISTIO_DEFAULT_EJECTION_MS
    out = {
        ACCRUAL: "consecutive", MAX_FAILURES: str(failures),
        MIN_PENALTY: linkerd_duration(base), MAX_PENALTY: linkerd_duration(max(base, _ISTIO_MAX_EJECTION_MS)),
    }
    build.losses.approximated(
        outlier.origin, f"{where} outlierDetection -> Linkerd consecutive failure accrual ({failures} failures): "
                        "Linkerd backs off from min-penalty to max-penalty with real requests as probes instead of "
                        "ejecting for baseEjectionTime x ejections, and may take every endpoint out (Istio: at most "
                        "maxEjectionPercent, 10% by default)")
    for field_name, value in (
        ("interval", outlier.interval), ("maxEjectionPercent", outlier.max_ejection_percent),
        ("minHealthPercent", outlier.min_health_percent),
        ("consecutiveLocalOriginFailures", outlier.consecutive_local_origin_failures),
    ):
        if value is not None:
            build.losses.dropped(outlier.origin.at(field_name), f"{field_name}: Linkerd's failure accrual has no "
                                                                "equivalent")
    if outlier.split_external_local_origin_errors:
        build.losses.dropped(outlier.origin.at("splitExternalLocalOriginErrors"),
                             "splitExternalLocalOriginErrors: Linkerd counts only response failures")
    return out


def _policy_losses(build: Build, policy: TrafficPolicy, where: str) -> None:
    """What a traffic policy says that Linkerd cannot: connection pools, LB, TLS, the rest."""
    pool = policy.connection_pool
    if pool is not None:
        if pool.connect_timeout is not None:
            build.losses.dropped(pool.origin.at("tcp", "connectTimeout"),
                                 f"{where} connectTimeout: Linkerd sets it per client pod for every destination "
                                 "(config.linkerd.io/proxy-outbound-connect-timeout on the callers); not emitted")
        limits = [name for name, value in (
            ("tcp.maxConnections", pool.max_connections), ("tcp.maxConnectionDuration", pool.max_connection_duration),
            ("tcp.idleTimeout", pool.tcp_idle_timeout), ("tcp.tcpKeepalive", pool.tcp_keepalive),
            ("http.http1MaxPendingRequests", pool.http1_max_pending_requests),
            ("http.http2MaxRequests", pool.http2_max_requests),
            ("http.maxRequestsPerConnection", pool.max_requests_per_connection),
            ("http.maxRetries", pool.max_retries), ("http.idleTimeout", pool.idle_timeout),
            ("http.h2UpgradePolicy", pool.h2_upgrade_policy), ("http.maxConcurrentStreams", pool.max_concurrent_streams),
        ) if value is not None]
        if pool.use_client_protocol:
            limits.append("http.useClientProtocol")
        if limits:
            build.losses.dropped(pool.origin, f"{where} connectionPool ({', '.join(limits)}): Linkerd has no "
                                              "connection-pool limits or circuit-breaker thresholds")
    lb = policy.lb
    if lb is not None:
        if lb.simple == "LEAST_REQUEST" and lb.hash_key is None and lb.warmup is None:
            build.losses.approximated(lb.origin, f"{where} loadBalancer LEAST_REQUEST: Linkerd always balances "
                                                 "HTTP by latency (EWMA, power of two choices)")
        elif lb.simple not in (None, "UNSPECIFIED") or lb.hash_key is not None or lb.warmup is not None:
            what = "consistentHash" if lb.hash_key is not None else (lb.simple or "warmup")
            build.losses.dropped(lb.origin, f"{where} loadBalancer {what}: Linkerd's balancer is not configurable "
                                            "(EWMA, power of two choices); affinity and the algorithm are lost")
        if lb.locality:
            build.losses.dropped(lb.origin.at("localityLbSetting"),
                                 f"{where} localityLbSetting: not emitted; Linkerd honours Kubernetes topology-aware "
                                 "routing (service.kubernetes.io/topology-mode: Auto on the Service) for zone "
                                 "preference only")
    tls = policy.tls
    if tls is not None and tls.mode != "ISTIO_MUTUAL":
        if tls.mode == "DISABLE":
            build.losses.dropped(tls.origin.at("mode"), f"{where} tls.mode DISABLE: meshed Linkerd pods always talk "
                                                        "mTLS; only config.linkerd.io/skip-outbound-ports bypasses "
                                                        "the proxy")
        else:
            build.losses.dropped(tls.origin.at("mode"), f"{where} tls.mode {tls.mode}: Linkerd never originates TLS; "
                                                        "the application must speak TLS itself")
    for field_name, origin in policy.unmodelled:
        build.losses.dropped(origin, f"{where} {field_name}: no Linkerd equivalent")


def service_copies(build: Build) -> None:
    """Input Services that need Linkerd annotations, re-emitted with them (``kubectl apply``
    merges the annotations into the live object)."""
    for fqdn in sorted(build.service_annotations):
        service = build.service_of(fqdn)
        if service is None:
            continue
        spec: Json = {}
        if service.type != "ClusterIP":
            spec["type"] = service.type
        if service.selector is not None:
            spec["selector"] = dict(sorted(service.selector.items()))
        spec["ports"] = [_input_port(p) for p in service.ports]
        annotations = {k: v for k, v in service.annotations.items() if k != "kubectl.kubernetes.io/last-applied-configuration"}
        annotations.update(build.service_annotations[fqdn])
        build.emit("v1", "Service", service.name, service.namespace, spec, build.service_sources[fqdn],
                   labels=dict(service.labels) or None, annotations=annotations)


def _input_port(port: ServicePort) -> Json:
    return service_port(port)


def protocol_notes(build: Build) -> None:
    """Ports of the routed Services that Istio treats as TCP and Linkerd would try to detect."""
    for fqdn in sorted(build.touched):
        service = build.service_of(fqdn)
        if service is None:
            continue
        for port in service.ports:
            if port.mesh_protocol in _OPAQUE and not port.app_protocol and port.protocol == "TCP":
                if port.port in (25, 587, 3306, 4444, 5432, 6379, 9300, 11211):
                    continue  # in Linkerd's default opaque-ports list
                hint = ("appProtocol: linkerd.io/opaque on the port" if build.at_least("2.18")
                        else f"{OPAQUE_PORTS}: \"{port.port}\" on the Service and its pods")
                build.losses.approximated(
                    port.origin, f"port {port.port} is TCP for Istio (its name); Linkerd detects the protocol, which "
                                 f"stalls server-speaks-first protocols: mark it opaque ({hint})")
