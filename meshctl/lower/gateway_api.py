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

from dataclasses import replace
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
    Retry,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin
from meshctl.model.traffic import Cors, HeaderOps, OriginMatch, Redirect, Rewrite

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


def _header_pairs(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((text(i.get("name")) or "", str(i.get("value", ""))) for _, i in dicts(items) if text(i.get("name"))))


def header_filters(doc: SourceDoc, filters: list[tuple[int, dict[str, Any]]], path: Path) -> HeaderOps | None:
    """RequestHeaderModifier and ResponseHeaderModifier filters as one HeaderOps."""
    request = next((dct(f.get("requestHeaderModifier")) for _, f in filters if f.get("type") == "RequestHeaderModifier"), None)
    response = next((dct(f.get("responseHeaderModifier")) for _, f in filters if f.get("type") == "ResponseHeaderModifier"), None)
    if request is None and response is None:
        return None
    first = next(j for j, f in filters if str(f.get("type", "")).endswith("HeaderModifier"))
    request, response = request or {}, response or {}
    return HeaderOps(
        request_set=_header_pairs(request.get("set")), request_add=_header_pairs(request.get("add")),
        request_remove=tuple(v for v in lst(request.get("remove")) if isinstance(v, str)),
        response_set=_header_pairs(response.get("set")), response_add=_header_pairs(response.get("add")),
        response_remove=tuple(v for v in lst(response.get("remove")) if isinstance(v, str)),
        origin=origin(doc, *path, "filters", first),
    )


def _path_modifier(value: Any) -> tuple[str | None, str | None]:
    """(full path, prefix) of an HTTPPathModifier."""
    data = dct(value)
    if data.get("type") == "ReplaceFullPath":
        return text(data.get("replaceFullPath")), None
    if data.get("type") == "ReplacePrefixMatch":
        return None, text(data.get("replacePrefixMatch"))
    return None, None


def _redirect(doc: SourceDoc, f: dict[str, Any], where: Origin) -> Redirect:
    data = dct(f.get("requestRedirect"))
    full, prefix = _path_modifier(data.get("path"))
    return Redirect(
        uri=full, authority=text(data.get("hostname")), scheme=text(data.get("scheme")),
        port=integer(data.get("port")), derive_port=False, code=integer(data.get("statusCode")) or 302,
        origin=where, prefix=prefix,
    )


def _rewrite(doc: SourceDoc, f: dict[str, Any], where: Origin) -> Rewrite:
    data = dct(f.get("urlRewrite"))
    full, prefix = _path_modifier(data.get("path"))
    return Rewrite(uri=prefix, regex=None, authority=text(data.get("hostname")), origin=where, full_path=full)


def _cors(doc: SourceDoc, f: dict[str, Any], where: Origin) -> Cors:
    data = dct(f.get("cors"))
    age = integer(data.get("maxAge"))
    credentials = data.get("allowCredentials")
    return Cors(
        allow_origins=tuple(OriginMatch("exact", o) for o in lst(data.get("allowOrigins")) if isinstance(o, str)),
        allow_methods=tuple(v for v in lst(data.get("allowMethods")) if isinstance(v, str)),
        allow_headers=tuple(v for v in lst(data.get("allowHeaders")) if isinstance(v, str)),
        expose_headers=tuple(v for v in lst(data.get("exposeHeaders")) if isinstance(v, str)),
        max_age=f"{age}s" if age is not None else None,
        allow_credentials=credentials if isinstance(credentials, bool) else None,
        unmatched_preflights=None, origin=where,
    )


def _mirror_percent(f: dict[str, Any]) -> float | None:
    data = dct(f.get("requestMirror"))
    if isinstance(data.get("percent"), int):
        return float(data["percent"])
    fraction = dct(data.get("fraction"))
    numerator, denominator = integer(fraction.get("numerator")), integer(fraction.get("denominator")) or 100
    return None if numerator is None else 100.0 * numerator / denominator


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
        headers=header_filters(doc, dicts(ref.get("filters")), path),
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
        filters = dicts(rule.get("filters"))
        types = tuple(text(f.get("type")) or "" for _, f in filters)
        mirrors = tuple(
            _with_percent(
                backend_ref(doc, ctx, ns, dct(dct(f.get("requestMirror")).get("backendRef")),
                            (*path, "filters", j, "requestMirror", "backendRef")),
                _mirror_percent(f),
            )
            for j, f in filters if f.get("type") == "RequestMirror"
        )
        by_type = {text(f.get("type")): (f, origin(doc, *path, "filters", j)) for j, f in reversed(filters)}
        matches = tuple(_match(doc, m, (*path, "matches", j), grpc) for j, m in dicts(rule.get("matches")))
        timeouts = dct(rule.get("timeouts"))
        retry = _retry(doc, rule, timeouts, path)
        rules.append(
            RouteRule(
                name=text(rule.get("name")), index=i, protocol=protocol, matches=matches,
                backends=tuple(backend_ref(doc, ctx, ns, b, (*path, "backendRefs", j)) for j, b in dicts(rule.get("backendRefs"))),
                mirrors=mirrors,
                redirect=_redirect(doc, *by_type["RequestRedirect"]) if "RequestRedirect" in by_type else None,
                direct_response=None, delegate=None,
                timeout=text(timeouts.get("request")), retry=retry, fault=None,
                rewrite=_rewrite(doc, *by_type["URLRewrite"]) if "URLRewrite" in by_type else None,
                header_changes=header_filters(doc, filters, path),
                cors=_cors(doc, *by_type["CORS"]) if "CORS" in by_type else None,
                sni_hosts=(), jwt_claim_matches=False, filters=types, origin=origin(doc, *path),
            )
        )
    return tuple(rules)


def _retry(doc: SourceDoc, rule: dict[str, Any], timeouts: dict[str, Any], path: Path) -> Retry | None:
    """Experimental ``rules[].retry`` (attempts, status codes, backoff) and
    ``timeouts.backendRequest`` (the per-try timeout); ``retry_on`` holds the codes only:
    which connection failures are retried too is the implementation's reading."""
    if "retry" not in rule and not text(timeouts.get("backendRequest")):
        return None
    data = dct(rule.get("retry"))
    codes = [str(c) for c in lst(data.get("codes")) if isinstance(c, int) and not isinstance(c, bool)]
    where = origin(doc, *path, "retry") if "retry" in rule else origin(doc, *path, "timeouts", "backendRequest")
    return Retry(integer(data.get("attempts")), text(timeouts.get("backendRequest")), ",".join(codes) or None,
                 where, backoff=text(data.get("backoff")))


def _with_percent(backend: Backend, percent: float | None) -> Backend:
    return replace(backend, percent=percent)


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
