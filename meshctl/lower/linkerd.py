"""Linkerd resources -> LinkerdServer, policies, routes, ServiceProfile, TrafficSplit.

Before::

    kind: Server
    metadata: {name: books-http, namespace: booksapp}
    spec: {podSelector: {matchLabels: {app: books}}, port: http, proxyProtocol: HTTP/1}

After: ``LinkerdServer(name="books-http", namespace="booksapp", pod_selector={"app": "books"},
port="http", proxy_protocol="HTTP/1", ...)``. Linkerd's HTTPRoute (policy.linkerd.io)
lowers to the same Route as Gateway API's, with its Server or Service parents.
"""

from __future__ import annotations

from meshctl.load.document import SourceDoc
from meshctl.lower.context import Lowering, dct, dicts, labels, lst, origin, text, texts
from meshctl.lower.gateway_api import parent_ref, route_rules
from meshctl.model.objects import (
    LinkerdAuthorizationPolicy,
    LinkerdServer,
    MeshTLSAuthentication,
    NetworkAuthentication,
    Route,
    ServerAuthorization,
    ServiceProfile,
    TargetRef,
    TrafficSplit,
    Workload,
    WorkloadPolicy,
)

POLICY = "policy.linkerd.io"


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
            origin=origin(doc),
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
    ctx.model.network_authentications.append(
        NetworkAuthentication(
            name=doc.name, namespace=ctx.namespace(doc),
            networks=tuple(text(n.get("cidr")) or "" for _, n in dicts(spec.get("networks"))), origin=origin(doc),
        )
    )


def lower_server_authorization(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    server = dct(spec.get("server"))
    client = dct(spec.get("client"))
    mesh_tls = dct(client.get("meshTLS"))
    ctx.model.server_authorizations.append(
        ServerAuthorization(
            name=doc.name, namespace=ctx.namespace(doc), server_name=text(server.get("name")),
            server_selector=labels(dct(server.get("selector")).get("matchLabels")) if "selector" in server else None,
            unauthenticated=client.get("unauthenticated") is True or mesh_tls.get("unauthenticatedTLS") is True,
            mesh_identities=texts(mesh_tls.get("identities")),
            service_accounts=tuple((text(a.get("name")) or "", text(a.get("namespace")))
                                   for _, a in dicts(mesh_tls.get("serviceAccounts"))),
            networks=tuple(text(n.get("cidr")) or "" for _, n in dicts(client.get("networks"))),
            origin=origin(doc),
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


def lower_service_profile(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    routes = [r for _, r in dicts(spec.get("routes"))]
    ctx.model.service_profiles.append(
        ServiceProfile(
            name=doc.name, namespace=ctx.namespace(doc), route_count=len(routes),
            has_retries=any(r.get("isRetryable") is True for r in routes) or "retryBudget" in spec,
            has_timeouts=any("timeout" in r for r in routes), origin=origin(doc),
        )
    )


def lower_traffic_split(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.traffic_splits.append(
        TrafficSplit(
            name=doc.name, namespace=ctx.namespace(doc), service=text(spec.get("service")) or "",
            backends=tuple((text(b.get("service")) or "", str(b.get("weight"))) for _, b in dicts(spec.get("backends"))),
            origin=origin(doc),
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
