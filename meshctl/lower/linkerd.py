"""Linkerd resources -> LinkerdServer, policies, routes, ServiceProfile, TrafficSplit.

Before::

    kind: Server
    metadata: {name: books-http, namespace: booksapp}
    spec: {podSelector: {matchLabels: {app: books}}, port: http, proxyProtocol: HTTP/1}

After: ``LinkerdServer(name="books-http", namespace="booksapp", pod_selector={"app": "books"},
port="http", proxy_protocol="HTTP/1", ...)``. Linkerd's HTTPRoute (policy.linkerd.io)
lowers to the same Route as Gateway API's, with its Server or Service parents.

A ServiceProfile keeps what the translators need: its routes in order (``ProfileRoute``:
name, the request condition as a tree of method/pathRegex leaves with all/any/not, the
response classes, isRetryable, timeout), the retry budget, the weighted ``dstOverrides``
and ``opaquePorts``, each with its origin::

    routes: [{name: list, condition: {method: GET, pathRegex: /books}, isRetryable: true}]
    -> ProfileRoute("list", ProfileCondition(method="GET", path_regex="/books", ...), (), True, None, ...)
"""

from __future__ import annotations

from meshctl.load.document import SourceDoc
from typing import Any

from meshctl.lower.context import Lowering, dct, dicts, integer, labels, lst, origin, text, texts
from meshctl.lower.gateway_api import parent_ref, route_rules
from meshctl.model.objects import (
    DstOverride,
    LinkerdAuthorizationPolicy,
    LinkerdServer,
    MeshTLSAuthentication,
    NetworkAuthentication,
    ProfileCondition,
    ProfileRoute,
    ResponseClass,
    RetryBudget,
    Route,
    SelectorExpression,
    ServerAuthorization,
    ServiceProfile,
    StatusCondition,
    TargetRef,
    TrafficSplit,
    Workload,
    WorkloadPolicy,
)

POLICY = "policy.linkerd.io"
Path = tuple[str | int, ...]


def _ref(doc: SourceDoc, value: object, path: tuple[str | int, ...]) -> TargetRef:
    ref = dct(value)
    return TargetRef(text(ref.get("group")) or "", text(ref.get("kind")) or "", text(ref.get("name")) or "",
                     text(ref.get("namespace")), None, origin(doc, *path))


def lower_server(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    selector = dct(spec.get("podSelector"))
    port = spec.get("port")
    ctx.model.linkerd_servers.append(
        LinkerdServer(
            name=doc.name, namespace=ctx.namespace(doc),
            pod_selector=labels(selector.get("matchLabels")) if "podSelector" in spec else None,
            pod_expressions=bool(selector.get("matchExpressions")),
            external_selector="externalWorkloadSelector" in spec,
            port=port if isinstance(port, (int, str)) and not isinstance(port, bool) else "",
            proxy_protocol=text(spec.get("proxyProtocol")), access_policy=text(spec.get("accessPolicy")),
            origin=origin(doc), labels=labels(doc.metadata.get("labels")),
            match_expressions=tuple(
                SelectorExpression(text(e.get("key")) or "", text(e.get("operator")) or "", texts(e.get("values")),
                                   origin(doc, "spec", "podSelector", "matchExpressions", i))
                for i, e in dicts(selector.get("matchExpressions"))
            ),
        )
    )


def lower_authorization_policy(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.linkerd_authorizations.append(
        LinkerdAuthorizationPolicy(
            name=doc.name, namespace=ctx.namespace(doc), target=_ref(doc, spec.get("targetRef"), ("spec", "targetRef")),
            required_authentications=tuple(
                _ref(doc, r, ("spec", "requiredAuthenticationRefs", i)) for i, r in dicts(spec.get("requiredAuthenticationRefs"))
            ),
            origin=origin(doc),
        )
    )


def lower_mesh_tls_authentication(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.mesh_tls_authentications.append(
        MeshTLSAuthentication(
            name=doc.name, namespace=ctx.namespace(doc), identities=texts(spec.get("identities")),
            identity_refs=tuple(_ref(doc, r, ("spec", "identityRefs", i)) for i, r in dicts(spec.get("identityRefs"))),
            origin=origin(doc),
        )
    )


def lower_network_authentication(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    networks = dicts(spec.get("networks"))
    ctx.model.network_authentications.append(
        NetworkAuthentication(
            name=doc.name, namespace=ctx.namespace(doc),
            networks=tuple(text(n.get("cidr")) or "" for _, n in networks), origin=origin(doc),
            excepts=tuple(texts(n.get("except")) for _, n in networks),
            network_origins=tuple(origin(doc, "spec", "networks", i) for i, _ in networks),
        )
    )


def lower_server_authorization(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    server = dct(spec.get("server"))
    client = dct(spec.get("client"))
    mesh_tls = dct(client.get("meshTLS"))
    networks = dicts(client.get("networks"))
    ctx.model.server_authorizations.append(
        ServerAuthorization(
            name=doc.name, namespace=ctx.namespace(doc), server_name=text(server.get("name")),
            server_selector=labels(dct(server.get("selector")).get("matchLabels")) if "selector" in server else None,
            unauthenticated=client.get("unauthenticated") is True or mesh_tls.get("unauthenticatedTLS") is True,
            mesh_identities=texts(mesh_tls.get("identities")),
            service_accounts=tuple((text(a.get("name")) or "", text(a.get("namespace")))
                                   for _, a in dicts(mesh_tls.get("serviceAccounts"))),
            networks=tuple(text(n.get("cidr")) or "" for _, n in networks),
            origin=origin(doc), unauthenticated_tls=mesh_tls.get("unauthenticatedTLS") is True,
            network_excepts=tuple(texts(n.get("except")) for _, n in networks),
        )
    )


def lower_http_route(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ns = ctx.namespace(doc)
    names = lst(spec.get("hostnames"))
    ctx.model.routes.append(
        Route(
            source_kind="LinkerdHTTPRoute", api_version=doc.api_version, name=doc.name, namespace=ns,
            hosts=tuple(h for h in names if isinstance(h, str)),
            host_origins=tuple(origin(doc, "spec", "hostnames", i) for i, h in enumerate(names) if isinstance(h, str)),
            parents=tuple(parent_ref(doc, ns, p, ("spec", "parentRefs", i), POLICY) for i, p in dicts(spec.get("parentRefs"))),
            export_to=(), rules=route_rules(doc, ctx, ns, "http"),
            annotations=labels(doc.metadata.get("annotations")), origin=origin(doc),
        )
    )


def _condition(doc: SourceDoc, value: Any, path: Path) -> ProfileCondition | None:
    """A request condition; a ``not`` written as a list (the CRD allows it at the top level,
    Linkerd's Go type does not) is read as the negation of all its items."""
    data = dct(value)
    if not data:
        return None
    negated = data.get("not")
    if isinstance(negated, list):
        inner = tuple(c for i, item in enumerate(negated) if (c := _condition(doc, item, (*path, "not", i))))
        negation = ProfileCondition(None, None, inner, (), None, origin(doc, *path, "not")) if inner else None
    else:
        negation = _condition(doc, negated, (*path, "not"))
    return ProfileCondition(
        method=text(data.get("method")), path_regex=text(data.get("pathRegex")),
        all=tuple(c for i, item in dicts(data.get("all")) if (c := _condition(doc, item, (*path, "all", i)))),
        any=tuple(c for i, item in dicts(data.get("any")) if (c := _condition(doc, item, (*path, "any", i)))),
        negated=negation, origin=origin(doc, *path),
    )


def _status(doc: SourceDoc, value: Any, path: Path) -> StatusCondition | None:
    data = dct(value)
    if not data:
        return None
    status = dct(data.get("status"))
    return StatusCondition(
        status_min=integer(status.get("min")), status_max=integer(status.get("max")), has_status="status" in data,
        all=tuple(c for i, item in dicts(data.get("all")) if (c := _status(doc, item, (*path, "all", i)))),
        any=tuple(c for i, item in dicts(data.get("any")) if (c := _status(doc, item, (*path, "any", i)))),
        negated=_status(doc, data.get("not"), (*path, "not")), origin=origin(doc, *path),
    )


def _profile_route(doc: SourceDoc, route: dict[str, Any], path: Path) -> ProfileRoute:
    return ProfileRoute(
        name=text(route.get("name")) or "",
        condition=_condition(doc, route.get("condition"), (*path, "condition")),
        response_classes=tuple(
            ResponseClass(_status(doc, c.get("condition"), (*path, "responseClasses", i, "condition")),
                          c.get("isFailure") is True, origin(doc, *path, "responseClasses", i))
            for i, c in dicts(route.get("responseClasses"))
        ),
        is_retryable=route.get("isRetryable") is True, timeout=text(route.get("timeout")), origin=origin(doc, *path),
    )


def _retry_budget(doc: SourceDoc, spec: dict[str, Any]) -> RetryBudget | None:
    if "retryBudget" not in spec:
        return None
    budget = dct(spec.get("retryBudget"))
    ratio = budget.get("retryRatio")
    return RetryBudget(
        retry_ratio=float(ratio) if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) else None,
        min_retries_per_second=integer(budget.get("minRetriesPerSecond")), ttl=text(budget.get("ttl")),
        origin=origin(doc, "spec", "retryBudget"),
    )


def lower_service_profile(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    routes = [r for _, r in dicts(spec.get("routes"))]
    ctx.model.service_profiles.append(
        ServiceProfile(
            name=doc.name, namespace=ctx.namespace(doc), route_count=len(routes),
            has_retries=any(r.get("isRetryable") is True for r in routes) or "retryBudget" in spec,
            has_timeouts=any("timeout" in r for r in routes), origin=origin(doc),
            routes=tuple(_profile_route(doc, r, ("spec", "routes", i)) for i, r in dicts(spec.get("routes"))),
            retry_budget=_retry_budget(doc, spec),
            dst_overrides=tuple(
                DstOverride(text(d.get("authority")) or "", _quantity(d.get("weight")),
                            origin(doc, "spec", "dstOverrides", i))
                for i, d in dicts(spec.get("dstOverrides"))
            ),
            opaque_ports=tuple(str(p) for p in lst(spec.get("opaquePorts")) if isinstance(p, (str, int))),
            opaque_ports_origin=origin(doc, "spec", "opaquePorts") if "opaquePorts" in spec else None,
        )
    )


def _quantity(value: Any) -> str:
    """A Kubernetes quantity as written (``500m``, ``1``); YAML numbers become their text."""
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def lower_traffic_split(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    backends = dicts(spec.get("backends"))
    ctx.model.traffic_splits.append(
        TrafficSplit(
            name=doc.name, namespace=ctx.namespace(doc), service=text(spec.get("service")) or "",
            backends=tuple((text(b.get("service")) or "", str(b.get("weight"))) for _, b in backends),
            origin=origin(doc), backend_origins=tuple(origin(doc, "spec", "backends", i) for i, _ in backends),
        )
    )


def lower_rate_limit_policy(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.workload_policies.append(
        WorkloadPolicy(
            doc.kind, doc.name, ctx.namespace(doc), None,
            (_ref(doc, spec.get("targetRef"), ("spec", "targetRef")),) if "targetRef" in spec else (), origin(doc),
        )
    )


def lower_external_workload(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    tls = dct(spec.get("meshTLS") or spec.get("meshTls"))
    identity = text(tls.get("identity")) or ""
    ips = [text(dct(ip).get("ip")) for ip in lst(spec.get("workloadIPs"))]
    ctx.model.workloads.append(
        Workload(
            kind="ExternalWorkload", name=doc.name, namespace=ctx.namespace(doc),
            labels=labels(doc.metadata.get("labels")), annotations={},
            service_account=identity.split(".")[0] if identity else "default",
            containers=(), init_containers=(), run_as_user=None, has_istio_proxy=False, has_linkerd_proxy=True,
            replicas=1, pod_ip=ips[0] if ips else None, ready=None, origin=origin(doc),
        )
    )


LOWERERS = {
    f"{POLICY}/Server": lower_server,
    f"{POLICY}/AuthorizationPolicy": lower_authorization_policy,
    f"{POLICY}/MeshTLSAuthentication": lower_mesh_tls_authentication,
    f"{POLICY}/NetworkAuthentication": lower_network_authentication,
    f"{POLICY}/ServerAuthorization": lower_server_authorization,
    f"{POLICY}/HTTPRoute": lower_http_route,
    f"{POLICY}/HTTPLocalRateLimitPolicy": lower_rate_limit_policy,
    "linkerd.io/ServiceProfile": lower_service_profile,
    "split.smi-spec.io/TrafficSplit": lower_traffic_split,
    "workload.linkerd.io/ExternalWorkload": lower_external_workload,
}
