"""Routes attached to a Linkerd Server -> Istio AuthorizationPolicy ``to.operation`` and ``when``.

A request a Server-parented route matches is what an authorization of the route admits::

    Exact /login                      -> paths: [/login]
    PathPrefix /api                   -> paths: [/api, /api/*]
    RegularExpression "/files/.*"     -> paths: [/files/*]     (prefixes and suffixes only)
    method POST                       -> methods: [POST]
    headers [{name: x, value: 1}]     -> when: [{key: "request.headers[x]", values: ["1"]}]
    hostnames [a.example.com]         -> hosts: [a.example.com]
    GRPCRoute shop.Web/Get            -> paths: [/shop.Web/Get], methods: [POST]

A match Istio cannot say (another regex, a regex header, query parameters) is left out and
reported: the requests it admitted are no longer authorized (never more than before).
"""

from __future__ import annotations

import re

from meshctl.emit.istio.build import Build
from meshctl.emit.manifests import Json
from meshctl.model.objects import MatchType, RequestMatch, Route

Operation = tuple[Json, list[Json]]  # (to.operation, when)


def regex_path(value: str) -> str | None:
    """An anchored path regex as an Istio path pattern, when it is a prefix or a suffix."""
    body = value.removeprefix("^").removesuffix("$")
    if body in (".*", "/.*"):
        return "*"
    literal = r"[^\\.*+?()\[\]{}|^$]*"
    if re.fullmatch(literal + r"\.\*", body):
        return body[:-2] + "*"
    if re.fullmatch(r"\.\*" + literal, body):
        return "*" + body[2:]
    if re.fullmatch(literal, body):
        return body
    return None


def _match_operation(build: Build, match: RequestMatch, grpc: bool) -> Operation | None:
    op: Json = {}
    when: list[Json] = []
    path = match.path
    if path is not None:
        if path.type is MatchType.EXACT:
            op["paths"] = [path.value]
        elif path.type is MatchType.PREFIX:
            root = path.value.rstrip("/")
            if root:
                op["paths"] = [f"{path.value}*"] if grpc else [root, f"{root}/*"]
        else:
            pattern = regex_path(path.value)
            if pattern is None:
                build.losses.dropped(match.origin, f"path regex {path.value!r} has no Istio path pattern (exact, "
                                     "prefix* or *suffix); requests it matched are no longer authorized")
                return None
            if pattern != "*":
                op["paths"] = [pattern]
    if grpc:
        op["methods"] = ["POST"]
    elif match.method is not None:
        op["methods"] = [match.method.value]
    for name, value in match.headers:
        if value.type is not MatchType.EXACT:
            build.losses.dropped(match.origin, f"a {value.type.value} match on header {name!r} has no Istio "
                                 "authorization condition; requests it matched are no longer authorized")
            return None
        when.append({"key": f"request.headers[{name}]", "values": [value.value]})
    if match.query_params:
        build.losses.dropped(match.origin, "Istio authorization cannot match query parameters; requests this match "
                             "admitted are no longer authorized")
        return None
    return op, when


def route_operations(build: Build, route: Route) -> list[Operation] | None:
    """The requests a Server-parented route matches; None when it matches every request."""
    out: list[Operation] = []
    grpc = route.source_kind == "GRPCRoute"
    for rule in route.rules:
        if not rule.matches:
            out = []
            break
        for match in rule.matches:
            found = _match_operation(build, match, grpc)
            if found is not None:
                out.append(found)
    else:
        if route.hosts:
            for op, _ in out:
                op["hosts"] = list(route.hosts)
        return out
    if route.hosts:
        return [({"hosts": list(route.hosts)}, [])]
    return None
