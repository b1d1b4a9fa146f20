"""Istio resources -> Route, DestinationPolicy, Gateway, ServiceEntry and the policies.

Before::

    kind: VirtualService
    metadata: {name: cart, namespace: shop}
    spec:
      hosts: [cart]
      http:
      - route:
        - {destination: {host: cart, subset: v1}, weight: 90}

After: ``Route(source_kind="VirtualService", hosts=("cart",), parents=(), rules=(
RouteRule(index=0, backends=(Backend(host="cart", fqdn="cart.shop.svc.cluster.local",
subset="v1", weight=90, ...),), ...),))``.
"""

from __future__ import annotations

from typing import Any

from meshctl.load.document import SourceDoc
from meshctl.lower.context import Lowering, dct, dicts, integer, labels, lst, origin, text, texts
from meshctl.model.objects import (
    AuthorizationPolicy,
    AuthorizationRule,
    Backend,
    Condition,
    DestinationPolicy,
    EnvoyFilterConfig,
    EnvoyPatch,
    ExternalPort,
    Fault,
    Gateway,
    JwtRule,
    Listener,
    MatchType,
    Operation,
    ParentRef,
    PeerAuthentication,
    RequestAuthentication,
    RequestMatch,
    Retry,
    Route,
    RouteRule,
    ServiceEntry,
    SidecarConfig,
    Source,
    StringMatch,
    Subset,
    TargetRef,
    TelemetryConfig,
    TLSSettings,
    TrafficPolicy,
    Workload,
    WorkloadPolicy,
)
from meshctl.model.hosts import gateway_reference
from meshctl.model.origin import Origin
from meshctl.model.traffic import (
    ConnectionPool,
    Cors,
    DirectResponse,
    HashKey,
    HeaderOps,
    LoadBalancer,
    OriginMatch,
    OutlierDetection,
    Redirect,
    Rewrite,
    TcpKeepalive,
    Warmup,
)

Path = tuple[str | int, ...]
JWT_CLAIM_PREFIX = "@request.auth.claims"


def string_match(value: Any, *, invert: bool = False, ignore_case: bool = False) -> StringMatch | None:
    data = dct(value)
    for key, kind in (("exact", MatchType.EXACT), ("prefix", MatchType.PREFIX), ("regex", MatchType.REGEX)):
        if isinstance(data.get(key), str):
            return StringMatch(kind, data[key], ignore_case, invert)
    if isinstance(value, dict) and not any(key in data for key in ("exact", "prefix", "regex")):
        return StringMatch(MatchType.PRESENT, "", ignore_case, invert)
    return None  # not a match, or one whose value is not a string (a schema error)


def _named_matches(
    doc: SourceDoc, value: Any, *, invert: bool = False, headers: bool = True
) -> tuple[tuple[str, StringMatch], ...]:
    """Header names are case-insensitive (lower-cased); query parameters and JWT claims are not."""
    out = []
    for name, match in dct(value).items():
        sm = string_match(match, invert=invert)
        if sm is not None:
            key = str(name)
            out.append((key.lower() if headers and not key.startswith(JWT_CLAIM_PREFIX) else key, sm))
    return tuple(sorted(out, key=lambda item: item[0]))


def _request_match(doc: SourceDoc, m: dict[str, Any], path: Path) -> RequestMatch:
    ignore_case = m.get("ignoreUriCase") is True
    return RequestMatch(
        path=string_match(m.get("uri"), ignore_case=ignore_case),
        method=string_match(m.get("method")),
        authority=string_match(m.get("authority")),
        scheme=string_match(m.get("scheme")),
        headers=_named_matches(doc, m.get("headers")) + _named_matches(doc, m.get("withoutHeaders"), invert=True),
        query_params=_named_matches(doc, m.get("queryParams"), headers=False),
        port=integer(m.get("port")),
        source_labels=labels(m.get("sourceLabels")),
        source_namespace=text(m.get("sourceNamespace")),
        gateways=texts(m.get("gateways")),
        origin=origin(doc, *path),
        name=text(m.get("name")),
        stat_prefix=text(m.get("statPrefix")),
    )


def _backend(
    doc: SourceDoc, ctx: Lowering, ns: str, dest: dict[str, Any], weight: Any, path: Path, dest_path: Path,
    *, percent: float | None = None, headers: HeaderOps | None = None,
) -> Backend:
    host = text(dest.get("host")) or ""
    return Backend(
        host=host, fqdn=ctx.fqdn(host, ns), subset=text(dest.get("subset")),
        port=integer(dct(dest.get("port")).get("number")), weight=integer(weight), kind="host",
        origin=origin(doc, *path), host_origin=origin(doc, *dest_path, "host"),
        percent=percent, headers=headers,
    )


def _backends(doc: SourceDoc, ctx: Lowering, ns: str, rule: dict[str, Any], path: Path) -> tuple[Backend, ...]:
    out = []
    for i, r in dicts(rule.get("route")):
        out.append(_backend(doc, ctx, ns, dct(r.get("destination")), r.get("weight"),
                            (*path, "route", i), (*path, "route", i, "destination"),
                            headers=header_ops(doc, r.get("headers"), (*path, "route", i, "headers"))))
    return tuple(out)


def _mirrors(doc: SourceDoc, ctx: Lowering, ns: str, rule: dict[str, Any], path: Path) -> tuple[Backend, ...]:
    out = []
    if isinstance(rule.get("mirror"), dict):
        legacy = integer(rule.get("mirrorPercent"))
        percent = _percent(rule, "mirrorPercentage")
        out.append(_backend(doc, ctx, ns, rule["mirror"], None, (*path, "mirror"), (*path, "mirror"),
                            percent=float(legacy) if percent is None and legacy is not None else percent))
    for i, m in dicts(rule.get("mirrors")):
        out.append(_backend(doc, ctx, ns, dct(m.get("destination")), None,
                            (*path, "mirrors", i), (*path, "mirrors", i, "destination"), percent=_percent(m)))
    return tuple(out)


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), "" if v is None else str(v)) for k, v in dct(value).items()))


def header_ops(doc: SourceDoc, value: Any, path: Path) -> HeaderOps | None:
    """Istio ``Headers``: ``{request: {set, add, remove}, response: {...}}``."""
    if not isinstance(value, dict):
        return None
    request, response = dct(value.get("request")), dct(value.get("response"))
    return HeaderOps(
        request_set=_pairs(request.get("set")), request_add=_pairs(request.get("add")),
        request_remove=texts(request.get("remove")),
        response_set=_pairs(response.get("set")), response_add=_pairs(response.get("add")),
        response_remove=texts(response.get("remove")),
        origin=origin(doc, *path),
    )


def _redirect(doc: SourceDoc, value: Any, path: Path) -> Redirect | None:
    if not isinstance(value, dict):
        return None
    return Redirect(
        uri=text(value.get("uri")), authority=text(value.get("authority")), scheme=text(value.get("scheme")),
        port=integer(value.get("port")), derive_port=value.get("derivePort") == "FROM_REQUEST_PORT",
        code=integer(value.get("redirectCode")), origin=origin(doc, *path),
    )


def _rewrite(doc: SourceDoc, value: Any, path: Path) -> Rewrite | None:
    if not isinstance(value, dict):
        return None
    regex = dct(value.get("uriRegexRewrite"))
    pattern, substitution = text(regex.get("match")), text(regex.get("rewrite"))
    return Rewrite(
        uri=text(value.get("uri")),
        regex=(pattern, substitution or "") if pattern is not None else None,
        authority=text(value.get("authority")), origin=origin(doc, *path),
    )


def _direct_response(doc: SourceDoc, value: Any, path: Path) -> DirectResponse | None:
    if not isinstance(value, dict):
        return None
    body = dct(value.get("body"))
    return DirectResponse(
        status=integer(value.get("status")) or 200,
        body=text(body.get("string")) if "string" in body else text(body.get("bytes")),
        origin=origin(doc, *path),
    )


def _cors(doc: SourceDoc, value: Any, path: Path) -> Cors | None:
    if not isinstance(value, dict):
        return None
    origins = [OriginMatch("exact", o) for o in texts(value.get("allowOrigin"))]
    for item in lst(value.get("allowOrigins")):
        sm = string_match(item)
        if sm is not None and sm.type is not MatchType.PRESENT:
            origins.append(OriginMatch(sm.type.value, sm.value))
    credentials = value.get("allowCredentials")
    return Cors(
        allow_origins=tuple(origins), allow_methods=texts(value.get("allowMethods")),
        allow_headers=texts(value.get("allowHeaders")), expose_headers=texts(value.get("exposeHeaders")),
        max_age=text(value.get("maxAge")),
        allow_credentials=credentials if isinstance(credentials, bool) else None,
        unmatched_preflights=text(value.get("unmatchedPreflights")), origin=origin(doc, *path),
    )


def _http_rule(doc: SourceDoc, ctx: Lowering, ns: str, i: int, rule: dict[str, Any]) -> RouteRule:
    path: Path = ("spec", "http", i)
    matches = tuple(_request_match(doc, m, (*path, "match", j)) for j, m in dicts(rule.get("match")))
    retries = dct(rule.get("retries")) if "retries" in rule else None
    fault = dct(rule.get("fault")) if "fault" in rule else None
    delegate = dct(rule.get("delegate"))
    delay, abort = dct(dct(fault).get("delay")), dct(dct(fault).get("abort"))
    jwt = any(
        name.startswith(JWT_CLAIM_PREFIX)
        for m in lst(rule.get("match")) for key in ("headers", "withoutHeaders") for name in dct(dct(m).get(key))
    )
    return RouteRule(
        name=text(rule.get("name")), index=i, protocol="http", matches=matches,
        backends=_backends(doc, ctx, ns, rule, path), mirrors=_mirrors(doc, ctx, ns, rule, path),
        redirect=_redirect(doc, rule.get("redirect"), (*path, "redirect")),
        direct_response=_direct_response(doc, rule.get("directResponse"), (*path, "directResponse")),
        delegate=(f"{text(delegate.get('namespace')) or ns}/{text(delegate.get('name'))}" if delegate else None),
        timeout=text(rule.get("timeout")),
        retry=None if retries is None else Retry(
            integer(retries.get("attempts")), text(retries.get("perTryTimeout")),
            text(retries.get("retryOn")), origin(doc, *path, "retries"),
            ignore_previous_hosts=_flag(retries.get("retryIgnorePreviousHosts")),
            remote_localities=retries.get("retryRemoteLocalities") is True,
            backoff=text(retries.get("backoff")),
        ),
        fault=None if fault is None else Fault(
            text(delay.get("fixedDelay")), _fault_percent(delay), integer(abort.get("httpStatus")),
            _fault_percent(abort), origin(doc, *path, "fault"),
            abort_grpc=text(abort.get("grpcStatus")) or _int_text(abort.get("grpcStatus")),
            exponential_delay=text(delay.get("exponentialDelay")),
        ),
        rewrite=_rewrite(doc, rule.get("rewrite"), (*path, "rewrite")),
        header_changes=header_ops(doc, rule.get("headers"), (*path, "headers")),
        cors=_cors(doc, rule.get("corsPolicy"), (*path, "corsPolicy")),
        sni_hosts=(), jwt_claim_matches=jwt, filters=(), origin=origin(doc, *path),
    )


def _percent(section: dict[str, Any], key: str = "percentage") -> float | None:
    value = dct(section.get(key)).get("value")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fault_percent(section: dict[str, Any]) -> float | None:
    """``percentage.value``, else the deprecated integer ``percent``; None when neither is set."""
    legacy = integer(section.get("percent"))
    value = _percent(section)
    return float(legacy) if value is None and legacy is not None else value


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _int_text(value: Any) -> str | None:
    number = integer(value)
    return None if number is None else str(number)


def _l4_rule(doc: SourceDoc, ctx: Lowering, ns: str, kind: str, i: int, rule: dict[str, Any]) -> RouteRule:
    path: Path = ("spec", kind, i)
    matches = []
    sni: list[str] = []
    for j, m in dicts(rule.get("match")):
        sni.extend(texts(m.get("sniHosts")))
        matches.append(
            RequestMatch(
                path=None, method=None, authority=None, scheme=None, headers=(), query_params=(),
                port=integer(m.get("port")), source_labels=labels(m.get("sourceLabels")),
                source_namespace=text(m.get("sourceNamespace")), gateways=texts(m.get("gateways")),
                origin=origin(doc, *path, "match", j),
                sni_hosts=texts(m.get("sniHosts")), destination_subnets=texts(m.get("destinationSubnets")),
            )
        )
    return RouteRule(
        name=None, index=i, protocol=kind, matches=tuple(matches),
        backends=_backends(doc, ctx, ns, rule, path), mirrors=(), redirect=None, direct_response=None,
        delegate=None, timeout=None, retry=None, fault=None, rewrite=None, header_changes=None,
        cors=None, sni_hosts=tuple(sni), jwt_claim_matches=False, filters=(), origin=origin(doc, *path),
    )


def _gateway_ref(doc: SourceDoc, ns: str, value: str, path: Path) -> ParentRef:
    if value == "mesh":
        return ParentRef("mesh", "", "mesh", "", None, None, origin(doc, *path))
    gw_ns, name = gateway_reference(value, ns)
    return ParentRef("Gateway", "networking.istio.io", name, gw_ns, None, None, origin(doc, *path))


def lower_virtual_service(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ns = ctx.namespace(doc)
    host_list = lst(spec.get("hosts"))
    rules = [_http_rule(doc, ctx, ns, i, r) for i, r in dicts(spec.get("http"))]
    rules += [_l4_rule(doc, ctx, ns, "tcp", i, r) for i, r in dicts(spec.get("tcp"))]
    rules += [_l4_rule(doc, ctx, ns, "tls", i, r) for i, r in dicts(spec.get("tls"))]
    ctx.model.routes.append(
        Route(
            source_kind="VirtualService", api_version=doc.api_version, name=doc.name, namespace=ns,
            hosts=tuple(h for h in host_list if isinstance(h, str)),
            host_origins=tuple(origin(doc, "spec", "hosts", i) for i, h in enumerate(host_list) if isinstance(h, str)),
            parents=tuple(
                _gateway_ref(doc, ns, g, ("spec", "gateways", i))
                for i, g in enumerate(lst(spec.get("gateways"))) if isinstance(g, str)
            ),
            export_to=texts(spec.get("exportTo")), rules=tuple(rules),
            annotations=labels(doc.metadata.get("annotations")), origin=origin(doc),
        )
    )


def _tls(value: Any, where: Origin) -> TLSSettings | None:
    if not isinstance(value, dict):
        return None
    return TLSSettings(
        mode=text(value.get("mode")) or "DISABLE",
        has_ca=bool(value.get("caCertificates")) or bool(value.get("credentialName")),
        insecure_skip_verify=value.get("insecureSkipVerify") is True,
        credential_name=text(value.get("credentialName")),
        origin=where,
        sni=text(value.get("sni")),
        subject_alt_names=texts(value.get("subjectAltNames")),
        ca_certificates=text(value.get("caCertificates")),
        client_certificate=text(value.get("clientCertificate")),
        private_key=text(value.get("privateKey")),
    )


def _load_balancer(doc: SourceDoc, value: Any, path: Path) -> LoadBalancer | None:
    if not isinstance(value, dict):
        return None
    ch = value.get("consistentHash")
    hash_key = None
    algorithm = ring = table = None
    if isinstance(ch, dict):
        cookie = dct(ch.get("httpCookie"))
        if text(ch.get("httpHeaderName")):
            hash_key = HashKey("header", text(ch.get("httpHeaderName")))
        elif cookie:
            hash_key = HashKey("cookie", text(cookie.get("name")), text(cookie.get("path")), text(cookie.get("ttl")))
        elif ch.get("useSourceIp") is True:
            hash_key = HashKey("source_ip")
        elif text(ch.get("httpQueryParameterName")):
            hash_key = HashKey("query", text(ch.get("httpQueryParameterName")))
        if isinstance(ch.get("maglev"), dict):
            algorithm, table = "maglev", integer(dct(ch["maglev"]).get("tableSize"))
        else:
            algorithm = "ring"
            ring = integer(dct(ch.get("ringHash")).get("minimumRingSize")) or integer(ch.get("minimumRingSize"))
    warmup = dct(value.get("warmup"))
    legacy_warmup = text(value.get("warmupDurationSecs"))
    return LoadBalancer(
        simple=text(value.get("simple")), hash_key=hash_key if isinstance(ch, dict) else None,
        hash_algorithm=algorithm, ring_size=ring, table_size=table,
        warmup=(
            Warmup(text(warmup.get("duration")) or "", _number(warmup.get("aggression")),
                   _number(dct(warmup.get("minimumPercent")).get("value", warmup.get("minimumPercent"))))
            if text(warmup.get("duration")) else Warmup(legacy_warmup, None, None) if legacy_warmup else None
        ),
        locality="localityLbSetting" in value, origin=origin(doc, *path),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _connection_pool(doc: SourceDoc, value: Any, path: Path) -> ConnectionPool | None:
    if not isinstance(value, dict):
        return None
    tcp, http = dct(value.get("tcp")), dct(value.get("http"))
    keepalive = tcp.get("tcpKeepalive")
    return ConnectionPool(
        max_connections=integer(tcp.get("maxConnections")), connect_timeout=text(tcp.get("connectTimeout")),
        max_connection_duration=text(tcp.get("maxConnectionDuration")), tcp_idle_timeout=text(tcp.get("idleTimeout")),
        tcp_keepalive=TcpKeepalive(integer(dct(keepalive).get("probes")), text(dct(keepalive).get("time")),
                                   text(dct(keepalive).get("interval"))) if isinstance(keepalive, dict) else None,
        http1_max_pending_requests=integer(http.get("http1MaxPendingRequests")),
        http2_max_requests=integer(http.get("http2MaxRequests")),
        max_requests_per_connection=integer(http.get("maxRequestsPerConnection")),
        max_retries=integer(http.get("maxRetries")), idle_timeout=text(http.get("idleTimeout")),
        h2_upgrade_policy=text(http.get("h2UpgradePolicy")), use_client_protocol=http.get("useClientProtocol") is True,
        max_concurrent_streams=integer(http.get("maxConcurrentStreams")), origin=origin(doc, *path),
    )


def _outlier_detection(doc: SourceDoc, value: Any, path: Path) -> OutlierDetection | None:
    if not isinstance(value, dict):
        return None
    return OutlierDetection(
        consecutive_5xx=integer(value.get("consecutive5xxErrors")),
        consecutive_gateway_errors=integer(value.get("consecutiveGatewayErrors")),
        consecutive_local_origin_failures=integer(value.get("consecutiveLocalOriginFailures")),
        split_external_local_origin_errors=value.get("splitExternalLocalOriginErrors") is True,
        interval=text(value.get("interval")), base_ejection_time=text(value.get("baseEjectionTime")),
        max_ejection_percent=integer(value.get("maxEjectionPercent")),
        min_health_percent=integer(value.get("minHealthPercent")),
        consecutive_errors=integer(value.get("consecutiveErrors")), origin=origin(doc, *path),
    )


def _traffic_policy(doc: SourceDoc, value: Any, path: Path) -> TrafficPolicy | None:
    if not isinstance(value, dict):
        return None
    lb = dct(value.get("loadBalancer"))
    port_level = []
    for i, setting in dicts(value.get("portLevelSettings")):
        number = integer(dct(setting.get("port")).get("number"))
        nested = _traffic_policy(doc, setting, (*path, "portLevelSettings", i))
        if number is not None and nested is not None:
            port_level.append((number, nested))
    return TrafficPolicy(
        load_balancer=text(lb.get("simple")) or ("consistentHash" if "consistentHash" in lb else None),
        connection_pool=_connection_pool(doc, value.get("connectionPool"), (*path, "connectionPool")),
        outlier_detection=_outlier_detection(doc, value.get("outlierDetection"), (*path, "outlierDetection")),
        tls=_tls(value.get("tls"), origin(doc, *path, "tls")), port_level=tuple(port_level),
        origin=origin(doc, *path), lb=_load_balancer(doc, value.get("loadBalancer"), (*path, "loadBalancer")),
        unmodelled=_unmodelled(doc, value, path),
    )


UNMODELLED_POLICY = {
    (): ("tunnel", "proxyProtocol", "retryBudget"),
    ("connectionPool", "http"): ("http2KeepAlive",),
    ("loadBalancer", "consistentHash", "httpCookie"): ("attributes",),
    ("outlierDetection",): ("outlierDetectionHttpErrorCodes",),
}


def _unmodelled(doc: SourceDoc, value: dict[str, Any], path: Path) -> tuple[tuple[str, Origin], ...]:
    """Traffic-policy fields the model does not carry, with where they are."""
    out = []
    for parent, keys in UNMODELLED_POLICY.items():
        section: Any = value
        for part in parent:
            section = dct(section).get(part)
        for key in keys:
            if isinstance(section, dict) and key in section:
                out.append((".".join((*parent, key)), origin(doc, *path, *parent, key)))
    return tuple(out)


def lower_destination_rule(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ns = ctx.namespace(doc)
    host = text(spec.get("host")) or ""
    ctx.model.destination_policies.append(
        DestinationPolicy(
            name=doc.name, namespace=ns, host=host, fqdn=ctx.fqdn(host, ns),
            export_to=texts(spec.get("exportTo")),
            workload_selector=labels(dct(spec.get("workloadSelector")).get("matchLabels")) if "workloadSelector" in spec else None,
            traffic_policy=_traffic_policy(doc, spec.get("trafficPolicy"), ("spec", "trafficPolicy")),
            subsets=tuple(
                Subset(
                    name=text(s.get("name")) or "", labels=labels(s.get("labels")),
                    traffic_policy=_traffic_policy(doc, s.get("trafficPolicy"), ("spec", "subsets", i, "trafficPolicy")),
                    origin=origin(doc, "spec", "subsets", i),
                )
                for i, s in dicts(spec.get("subsets"))
            ),
            origin=origin(doc),
        )
    )


def lower_gateway(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    listeners = []
    for i, server in dicts(spec.get("servers")):
        port = dct(server.get("port"))
        tls = dct(server.get("tls"))
        credentials = texts(tls.get("credentialNames")) or ((tls["credentialName"],) if isinstance(tls.get("credentialName"), str) else ())
        listeners.append(
            Listener(
                name=text(server.get("name")) or text(port.get("name")), port=integer(port.get("number")) or 0,
                protocol=(text(port.get("protocol")) or "").upper(), hosts=texts(server.get("hosts")),
                tls_mode=text(tls.get("mode")) if tls else None, credential_names=credentials,
                allowed_namespaces="All", allowed_selector=None, allowed_kinds=(),
                origin=origin(doc, "spec", "servers", i),
                https_redirect=tls.get("httpsRedirect") is True, bind=text(server.get("bind")),
                port_name=text(port.get("name")),
                server_certificate=text(tls.get("serverCertificate")), private_key=text(tls.get("privateKey")),
                ca_certificates=text(tls.get("caCertificates")),
            )
        )
    selector = spec.get("selector")
    ctx.model.gateways.append(
        Gateway(
            source_kind="IstioGateway", name=doc.name, namespace=ctx.namespace(doc),
            selector=labels(selector) if isinstance(selector, dict) else None, class_name=None,
            listeners=tuple(listeners), annotations=labels(doc.metadata.get("annotations")), origin=origin(doc),
        )
    )


def lower_service_entry(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.service_entries.append(
        ServiceEntry(
            name=doc.name, namespace=ctx.namespace(doc), hosts=texts(spec.get("hosts")),
            addresses=texts(spec.get("addresses")),
            ports=tuple(
                ExternalPort(integer(p.get("number")) or 0, text(p.get("name")), (text(p.get("protocol")) or "").upper(),
                             integer(p.get("targetPort")), origin(doc, "spec", "ports", i))
                for i, p in dicts(spec.get("ports"))
            ),
            location=text(spec.get("location")) or "MESH_EXTERNAL",
            resolution=text(spec.get("resolution")) or "NONE",
            export_to=texts(spec.get("exportTo")),
            workload_selector=labels(dct(spec.get("workloadSelector")).get("labels")) if "workloadSelector" in spec else None,
            endpoint_labels=tuple(labels(e.get("labels")) for _, e in dicts(spec.get("endpoints"))),
            origin=origin(doc),
        )
    )


def lower_workload_entry(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.workloads.append(
        Workload(
            kind="WorkloadEntry", name=doc.name, namespace=ctx.namespace(doc), labels=labels(spec.get("labels")),
            annotations={}, service_account=text(spec.get("serviceAccount")) or "default",
            containers=(), init_containers=(), run_as_user=None, has_istio_proxy=True, has_linkerd_proxy=False,
            replicas=1, pod_ip=text(spec.get("address")), ready=None, origin=origin(doc),
        )
    )


def _selector(spec: dict[str, Any], key: str = "selector", field: str = "matchLabels") -> dict[str, str] | None:
    if key not in spec:
        return None
    return labels(dct(spec.get(key)).get(field))


def target_refs(doc: SourceDoc, spec: dict[str, Any]) -> tuple[TargetRef, ...]:
    refs: list[tuple[dict[str, Any], Path]] = []
    if isinstance(spec.get("targetRef"), dict):
        refs.append((spec["targetRef"], ("spec", "targetRef")))
    refs += [(r, ("spec", "targetRefs", i)) for i, r in dicts(spec.get("targetRefs"))]
    return tuple(
        TargetRef(text(r.get("group")) or "", text(r.get("kind")) or "", text(r.get("name")) or "",
                  text(r.get("namespace")), text(r.get("sectionName")), origin(doc, *path))
        for r, path in refs
    )


def lower_peer_authentication(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    port_modes = []
    for port, setting in dct(spec.get("portLevelMtls")).items():
        mode = text(dct(setting).get("mode"))
        if str(port).isdigit() and mode:
            port_modes.append((int(port), mode))
    ctx.model.peer_authentications.append(
        PeerAuthentication(
            name=doc.name, namespace=ctx.namespace(doc), selector=_selector(spec),
            mode=text(dct(spec.get("mtls")).get("mode")), port_modes=tuple(sorted(port_modes)), origin=origin(doc),
        )
    )


def _source(doc: SourceDoc, s: dict[str, Any], path: Path) -> Source:
    return Source(
        principals=texts(s.get("principals")), not_principals=texts(s.get("notPrincipals")),
        namespaces=texts(s.get("namespaces")), not_namespaces=texts(s.get("notNamespaces")),
        service_accounts=texts(s.get("serviceAccounts")),
        not_service_accounts=texts(s.get("notServiceAccounts")),
        ip_blocks=texts(s.get("ipBlocks")), not_ip_blocks=texts(s.get("notIpBlocks")),
        request_principals=texts(s.get("requestPrincipals")),
        not_request_principals=texts(s.get("notRequestPrincipals")),
        remote_ip_blocks=texts(s.get("remoteIpBlocks")), not_remote_ip_blocks=texts(s.get("notRemoteIpBlocks")),
        origin=origin(doc, *path),
    )


def _operation(doc: SourceDoc, o: dict[str, Any], path: Path) -> Operation:
    return Operation(
        hosts=texts(o.get("hosts")), not_hosts=texts(o.get("notHosts")),
        ports=texts(o.get("ports")), not_ports=texts(o.get("notPorts")),
        methods=texts(o.get("methods")), not_methods=texts(o.get("notMethods")),
        paths=texts(o.get("paths")), not_paths=texts(o.get("notPaths")),
        origin=origin(doc, *path),
    )


def lower_authorization_policy(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    rules = None
    if "rules" in spec:
        rules = tuple(
            AuthorizationRule(
                sources=tuple(_source(doc, dct(f.get("source")), ("spec", "rules", i, "from", j, "source"))
                              for j, f in dicts(r.get("from"))),
                operations=tuple(_operation(doc, dct(t.get("operation")), ("spec", "rules", i, "to", j, "operation"))
                                 for j, t in dicts(r.get("to"))),
                conditions=tuple(Condition(text(c.get("key")) or "", texts(c.get("values")), texts(c.get("notValues")),
                                           origin(doc, "spec", "rules", i, "when", j))
                                 for j, c in dicts(r.get("when"))),
                origin=origin(doc, "spec", "rules", i),
            )
            for i, r in dicts(spec.get("rules"))
        )
    ctx.model.authorization_policies.append(
        AuthorizationPolicy(
            name=doc.name, namespace=ctx.namespace(doc), action=text(spec.get("action")) or "ALLOW",
            selector=_selector(spec), target_refs=target_refs(doc, spec), rules=rules,
            provider=text(dct(spec.get("provider")).get("name")), origin=origin(doc),
        )
    )


def lower_request_authentication(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.request_authentications.append(
        RequestAuthentication(
            name=doc.name, namespace=ctx.namespace(doc), selector=_selector(spec), target_refs=target_refs(doc, spec),
            jwt_rules=tuple(JwtRule(text(r.get("issuer")), texts(r.get("audiences")), origin(doc, "spec", "jwtRules", i))
                            for i, r in dicts(spec.get("jwtRules"))),
            origin=origin(doc),
        )
    )


def lower_telemetry(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    entries = dicts(spec.get("accessLogging"))
    ctx.model.telemetries.append(
        TelemetryConfig(
            name=doc.name, namespace=ctx.namespace(doc), selector=_selector(spec), target_refs=target_refs(doc, spec),
            access_logging=tuple(tuple(text(dct(p).get("name")) or "" for p in lst(e.get("providers"))) for _, e in entries),
            access_logging_origins=tuple(origin(doc, "spec", "accessLogging", i) for i, _ in entries),
            origin=origin(doc),
        )
    )


def lower_sidecar(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.sidecars.append(
        SidecarConfig(
            name=doc.name, namespace=ctx.namespace(doc), selector=_selector(spec, "workloadSelector", "labels"),
            egress_hosts=tuple(h for _, e in dicts(spec.get("egress")) for h in texts(e.get("hosts"))),
            origin=origin(doc),
        )
    )


def _filter_name(patch: dict[str, Any]) -> str | None:
    chain = dct(dct(dct(patch.get("match")).get("listener")).get("filterChain"))
    flt = dct(chain.get("filter"))
    return text(dct(flt.get("subFilter")).get("name")) or text(flt.get("name")) or text(dct(dct(patch.get("patch")).get("value")).get("name"))


def lower_envoy_filter(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.envoy_filters.append(
        EnvoyFilterConfig(
            name=doc.name, namespace=ctx.namespace(doc), selector=_selector(spec, "workloadSelector", "labels"),
            priority=integer(spec.get("priority")),
            patches=tuple(
                EnvoyPatch(
                    apply_to=text(p.get("applyTo")) or "", operation=text(dct(p.get("patch")).get("operation")) or "",
                    context=text(dct(p.get("match")).get("context")),
                    proxy_version=text(dct(dct(p.get("match")).get("proxy")).get("proxyVersion")),
                    filter_name=_filter_name(p),
                    value_name=text(dct(dct(p.get("patch")).get("value")).get("name")),
                    origin=origin(doc, "spec", "configPatches", i),
                )
                for i, p in dicts(spec.get("configPatches"))
            ),
            origin=origin(doc),
        )
    )


def lower_workload_policy(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.workload_policies.append(
        WorkloadPolicy(doc.kind, doc.name, ctx.namespace(doc), _selector(spec), target_refs(doc, spec), origin(doc))
    )


LOWERERS = {
    "networking.istio.io/VirtualService": lower_virtual_service,
    "networking.istio.io/DestinationRule": lower_destination_rule,
    "networking.istio.io/Gateway": lower_gateway,
    "networking.istio.io/ServiceEntry": lower_service_entry,
    "networking.istio.io/WorkloadEntry": lower_workload_entry,
    "networking.istio.io/Sidecar": lower_sidecar,
    "networking.istio.io/EnvoyFilter": lower_envoy_filter,
    "security.istio.io/PeerAuthentication": lower_peer_authentication,
    "security.istio.io/AuthorizationPolicy": lower_authorization_policy,
    "security.istio.io/RequestAuthentication": lower_request_authentication,
    "telemetry.istio.io/Telemetry": lower_telemetry,
    "extensions.istio.io/WasmPlugin": lower_workload_policy,
    "extensions.istio.io/TrafficExtension": lower_workload_policy,
}
