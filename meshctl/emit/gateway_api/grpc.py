"""HTTPRoute rules -> GRPCRoute rules, for routes whose every port speaks gRPC.

An HTTPRoute carries gRPC too (gRPC is HTTP/2 POSTs to ``/<package.Service>/<Method>``),
so this only happens when nothing is lost: every match is a path that names a service
(``/pkg.Svc/`` prefix) or a method (``/pkg.Svc/Method`` exact) plus headers, and every
filter is a header modifier or a mirror. A GRPCRoute has no timeouts, retry, redirect,
rewrite or CORS, so a rule with one of those keeps the whole route an HTTPRoute::

    uri: {exact: /shop.Cart/Add}   ->  method: {type: Exact, service: shop.Cart, method: Add}
    uri: {prefix: /shop.Cart/}     ->  method: {type: Exact, service: shop.Cart}
"""

from __future__ import annotations

import re

from meshctl.emit.gateway_api.matches import EXACT, PREFIX, HttpMatch
from meshctl.emit.gateway_api.rules import HttpRule
from meshctl.emit.manifests import Json

SERVICE = re.compile(r"^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$")
METHOD = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
GRPC_FILTERS = frozenset({"RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror"})


def as_grpc(rules: list[HttpRule]) -> list[Json] | None:
    """The GRPCRoute rules saying the same, or None when one rule needs an HTTPRoute."""
    out = []
    for rule in rules:
        converted = _rule(rule)
        if converted is None:
            return None
        out.append(converted)
    return out


def _rule(rule: HttpRule) -> Json | None:
    if rule.timeouts or rule.retry is not None or not rule.backend_refs:
        return None
    if any(f["type"] not in GRPC_FILTERS for f in rule.filters):
        return None
    if any(f["type"] not in GRPC_FILTERS for ref in rule.backend_refs for f in ref.get("filters", [])):
        return None
    matches = []
    for match in rule.matches:
        converted = _match(match)
        if converted is None:
            return None
        if converted:
            matches.append(converted)
    out: Json = {}
    if rule.name:
        out["name"] = rule.name
    if matches and len(matches) == len(rule.matches):
        out["matches"] = matches
    if rule.filters:
        out["filters"] = rule.filters
    out["backendRefs"] = rule.backend_refs
    return out


def _match(match: HttpMatch) -> Json | None:
    """``{}`` for a match taking every call; None when GRPCRoute cannot say it."""
    if match.query or match.method not in (None, "POST"):
        return None
    out: Json = {}
    if match.path_type is not None:
        method = _method(match)
        if method is None:
            return None
        if method:
            out["method"] = method
    if match.headers:
        out["headers"] = [c.json() for c in match.headers]
    return out


def _method(match: HttpMatch) -> Json | None:
    path = match.path or ""
    if match.path_type == PREFIX and path in ("/", ""):
        return {}
    parts = path.strip("/").split("/")
    if match.path_type == PREFIX and len(parts) == 1 and SERVICE.match(parts[0]):
        return {"type": "Exact", "service": parts[0]}
    exact = match.path_type == EXACT and len(parts) == 2 and path.startswith("/") and not path.endswith("/")
    if exact and SERVICE.match(parts[0]) and METHOD.match(parts[1]):
        return {"type": "Exact", "service": parts[0], "method": parts[1]}
    return None
