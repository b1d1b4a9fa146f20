"""Gateway API resources -> Gateway, Route, ReferenceGrant, GatewayClass.

Before::

    kind: HTTPRoute
    metadata: {name: catalog, namespace: shop}
    spec:
      parentRefs: [{name: public, namespace: ingress}]
      rules:
      - backendRefs: [{name: catalog-v1, port: 8080, weight: 80}, {name: catalog-v2, port: 8080, weight: 20}]

After: ``Route(source_kind="HTTPRoute", parents=(ParentRef(kind="Gateway", name="public",
namespace="ingress"),), rules=(RouteRule(matches=(), backends=(Backend(fqdn=
"catalog-v1.shop.svc.cluster.local", port=8080, weight=80), ...)),))``. The API's
defaults are applied here: path matches default to PathPrefix "/", backends to core
Services, parents to Gateways in the route's namespace.
"""

from __future__ import annotations

from typing import Any

from meshctl.load.document import SourceDoc
from meshctl.lower.context import Lowering, dct, dicts, integer, labels, lst, origin, text
from meshctl.model import hosts
from meshctl.model.objects import (
    Backend,
    Gateway,
    GatewayClass,
    Listener,
    MatchType,
    ParentRef,
    ReferenceGrant,
    RequestMatch,
    Route,
    RouteRule,
    StringMatch,
)

Path = tuple[str | int, ...]
GROUP = "gateway.networking.k8s.io"
_MATCH_TYPES = {
    "Exact": MatchType.EXACT, "PathPrefix": MatchType.PREFIX, "RegularExpression": MatchType.REGEX,
}


def _string(kind: Any, value: Any, default_kind: str = "Exact") -> StringMatch | None:
    if not isinstance(value, str):
        return None
    return StringMatch(_MATCH_TYPES.get(text(kind) or default_kind, MatchType.EXACT), value)


def _named(items: Any) -> tuple[tuple[str, StringMatch], ...]:
    out = []
    for _, item in dicts(items):
        name, match = text(item.get("name")), _string(item.get("type"), item.get("value"))
        if name and match:
            out.append((name.lower(), match))
    return tuple(sorted(out, key=lambda x: x[0]))


def _match(doc: SourceDoc, m: dict[str, Any], path: Path, grpc: bool) -> RequestMatch:
    if grpc:
        method = dct(m.get("method"))
        service, name = text(method.get("service")), text(method.get("method"))
        regex = method.get("type") == "RegularExpression"
        if service and name:
            path_match = StringMatch(MatchType.REGEX if regex else MatchType.EXACT, f"/{service}/{name}")
        elif service:
            path_match = StringMatch(MatchType.REGEX if regex else MatchType.PREFIX, f"/{service}/")
        elif name:
            path_match = StringMatch(MatchType.REGEX, f"/[^/]+/{name}")
        else:
            path_match = None
    else:
        p = dct(m.get("path"))
        path_match = _string(p.get("type"), p.get("value", "/"), "PathPrefix") if "path" in m else None
    method_value = text(m.get("method")) if not grpc else None
    return RequestMatch(
        path=path_match, method=StringMatch(MatchType.EXACT, method_value) if method_value else None,
        authority=None, scheme=None, headers=_named(m.get("headers")), query_params=_named(m.get("queryParams")),
        port=None, source_labels={}, source_namespace=None, gateways=(), origin=origin(doc, *path),
    )


def backend_ref(doc: SourceDoc, ctx: Lowering, ns: str, ref: dict[str, Any], path: Path) -> Backend:
    group = text(ref.get("group")) or ""
    kind = text(ref.get("kind")) or "Service"
    name = text(ref.get("name")) or ""
    ref_ns = text(ref.get("namespace")) or ns
    is_service = group in ("", "core") and kind == "Service"
    fqdn = hosts.service_fqdn(name, ref_ns, ctx.model.domain) if is_service else name
    return Backend(
        host=name, fqdn=fqdn, subset=None, port=integer(ref.get("port")),
        weight=integer(ref.get("weight")) if "weight" in ref else 1,
        kind=kind if is_service or not group else f"{kind}.{group}",
        origin=origin(doc, *path), host_origin=origin(doc, *path, "name"),
    )


def parent_ref(doc: SourceDoc, ns: str, ref: dict[str, Any], path: Path, default_group: str = GROUP) -> ParentRef:
    group = text(ref.get("group"))
    kind = text(ref.get("kind")) or "Gateway"
    return ParentRef(
        kind=kind, group=default_group if group is None else group, name=text(ref.get("name")) or "",
        namespace=text(ref.get("namespace")) or ns, section=text(ref.get("sectionName")),
        port=integer(ref.get("port")), origin=origin(doc, *path),
    )


def route_rules(doc: SourceDoc, ctx: Lowering, ns: str, protocol: str) -> tuple[RouteRule, ...]:
    spec = dct(doc.data.get("spec"))
    grpc = protocol == "grpc"
    rules = []
    for i, rule in dicts(spec.get("rules")):
        path: Path = ("spec", "rules", i)
        filters = [f for _, f in dicts(rule.get("filters"))]
        types = tuple(text(f.get("type")) or "" for f in filters)
        mirrors = tuple(
            backend_ref(doc, ctx, ns, dct(dct(f.get("requestMirror")).get("backendRef")), (*path, "filters", j, "requestMirror", "backendRef"))
            for j, f in dicts(rule.get("filters")) if f.get("type") == "RequestMirror"
        )
        matches = tuple(_match(doc, m, (*path, "matches", j), grpc) for j, m in dicts(rule.get("matches")))
        timeouts = dct(rule.get("timeouts"))
        rules.append(
            RouteRule(
                name=text(rule.get("name")), index=i, protocol=protocol, matches=matches,
                backends=tuple(backend_ref(doc, ctx, ns, b, (*path, "backendRefs", j)) for j, b in dicts(rule.get("backendRefs"))),
                mirrors=mirrors, redirect="RequestRedirect" in types, direct_response=False, delegate=None,
                timeout=text(timeouts.get("request")), retry=None, fault=None, rewrite="URLRewrite" in types,
                header_changes=any(t.endswith("HeaderModifier") for t in types), cors="CORS" in types,
                sni_hosts=(), jwt_claim_matches=False, filters=types, origin=origin(doc, *path),
            )
        )
    return tuple(rules)


def lower_route(doc: SourceDoc, ctx: Lowering, protocol: str) -> None:
    spec = dct(doc.data.get("spec"))
    ns = ctx.namespace(doc)
    names = lst(spec.get("hostnames"))
    ctx.model.routes.append(
        Route(
            source_kind=doc.kind, api_version=doc.api_version, name=doc.name, namespace=ns,
            hosts=tuple(h for h in names if isinstance(h, str)),
            host_origins=tuple(origin(doc, "spec", "hostnames", i) for i, h in enumerate(names) if isinstance(h, str)),
            parents=tuple(parent_ref(doc, ns, p, ("spec", "parentRefs", i)) for i, p in dicts(spec.get("parentRefs"))),
            export_to=(), rules=route_rules(doc, ctx, ns, protocol),
            annotations=labels(doc.metadata.get("annotations")), origin=origin(doc),
        )
    )


def lower_gateway(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    listeners = []
    for i, listener in dicts(spec.get("listeners")):
        tls = dct(listener.get("tls"))
        allowed = dct(listener.get("allowedRoutes"))
        namespaces = dct(allowed.get("namespaces"))
        protocol = (text(listener.get("protocol")) or "").upper()
        listeners.append(
            Listener(
                name=text(listener.get("name")), port=integer(listener.get("port")) or 0, protocol=protocol,
                hosts=(text(listener.get("hostname")) or "*",),
                tls_mode=(text(tls.get("mode")) or "Terminate") if tls else None,
                credential_names=tuple(
                    f"{text(r.get('namespace')) or ctx.namespace(doc)}/{text(r.get('name')) or ''}"
                    for _, r in dicts(tls.get("certificateRefs"))
                ),
                allowed_namespaces=text(namespaces.get("from")) or "Same",
                allowed_selector=labels(dct(namespaces.get("selector")).get("matchLabels")) if "selector" in namespaces else None,
                allowed_kinds=tuple(text(k.get("kind")) or "" for _, k in dicts(allowed.get("kinds"))),
                origin=origin(doc, "spec", "listeners", i),
            )
        )
    ctx.model.gateways.append(
        Gateway(
            source_kind="Gateway", name=doc.name, namespace=ctx.namespace(doc), selector=None,
            class_name=text(spec.get("gatewayClassName")), listeners=tuple(listeners),
            annotations=labels(doc.metadata.get("annotations")), origin=origin(doc),
        )
    )


def lower_reference_grant(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.reference_grants.append(
        ReferenceGrant(
            namespace=ctx.namespace(doc),
            from_=tuple((text(f.get("group")) or "", text(f.get("kind")) or "", text(f.get("namespace")) or "")
                        for _, f in dicts(spec.get("from"))),
            to=tuple((text(t.get("group")) or "", text(t.get("kind")) or "", text(t.get("name")))
                     for _, t in dicts(spec.get("to"))),
            origin=origin(doc),
        )
    )


def lower_gateway_class(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ctx.model.gateway_classes.append(GatewayClass(doc.name, text(spec.get("controllerName")) or "", origin(doc)))


LOWERERS = {
    f"{GROUP}/Gateway": lower_gateway,
    f"{GROUP}/HTTPRoute": lambda doc, ctx: lower_route(doc, ctx, "http"),
    f"{GROUP}/GRPCRoute": lambda doc, ctx: lower_route(doc, ctx, "grpc"),
    f"{GROUP}/TCPRoute": lambda doc, ctx: lower_route(doc, ctx, "tcp"),
    f"{GROUP}/TLSRoute": lambda doc, ctx: lower_route(doc, ctx, "tls"),
    f"{GROUP}/UDPRoute": lambda doc, ctx: lower_route(doc, ctx, "udp"),
    f"{GROUP}/ReferenceGrant": lower_reference_grant,
    f"{GROUP}/GatewayClass": lower_gateway_class,
}
