"""Gateway API / Linkerd route matches -> Istio matches, in Gateway API precedence.

Gateway API (and Linkerd) pick, among every match of every route of a parent, the most
specific one; Istio takes the first ``http[]`` entry that matches. Istio's own Gateway
API conversion splits each rule into one entry per match and sorts them; so does this
back-end, making the order explicit::

    exact path  >  longest prefix  >  regex  >  with a method  >  more headers  >  more query params

ties keep the route order (namespace/name; Gateway API would prefer the older route,
which the inputs do not say), then the rule and match order.

``PathPrefix`` matches whole segments (``/api`` matches ``/api`` and ``/api/x``, never
``/apix``; a trailing ``/`` is ignored); an Istio ``prefix`` is a string prefix. So a
prefix becomes two Istio matches, ``{exact: /api}`` and ``{prefix: /api/}``, which
together match exactly the same paths::

    {path: {type: PathPrefix, value: /api}, method: GET}
    -> [{uri: {exact: /api}, method: {exact: GET}}, {uri: {prefix: /api/}, method: {exact: GET}}]
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.manifests import Json
from meshctl.model.objects import MatchType, RequestMatch, Route, RouteRule, StringMatch

EXACT, UNDER, WHOLE = "exact", "under", "whole"  # which part of a PathPrefix a match covers


@dataclass(frozen=True)
class Entry:
    """One match of one rule, with what it is attached through (a parent or listener port)."""

    route: Route
    rule: RouteRule
    match: RequestMatch | None  # None: the rule has no matches (everything)
    order: tuple[int, int, int]  # route, rule, match: the tie-breaker
    port: int | None = None

    def key(self) -> tuple[int, int, int, int, int, tuple[int, int, int]]:
        return (*precedence(self.match), self.order)


def stem(path: StringMatch | None) -> str:
    """The segment prefix a PathPrefix stands for, without its trailing ``/`` (``""`` is all)."""
    if path is None:
        return ""
    return path.value.rstrip("/")


def is_prefix(path: StringMatch | None) -> bool:
    return path is None or path.type is MatchType.PREFIX


def precedence(match: RequestMatch | None) -> tuple[int, int, int, int, int]:
    """Smaller sorts first: path kind, longer path, a method, more headers, more query params."""
    if match is None:
        return (1, -1, 1, 0, 0)
    path = match.path
    if is_prefix(path):
        rank, length = 1, len(stem(path)) or 1
    elif path is not None and path.type is MatchType.EXACT:
        rank, length = 0, len(path.value)
    else:
        rank, length = 2, len(path.value) if path is not None else 0
    return (rank, -length, 0 if match.method is not None else 1, -len(match.headers), -len(match.query_params))


def string_match(match: StringMatch) -> Json:
    if match.type is MatchType.REGEX:
        return {"regex": match.value}
    if match.type is MatchType.PREFIX:
        return {"prefix": match.value}
    return {"exact": match.value}


def _common(match: RequestMatch, port: int | None) -> Json:
    out: Json = {}
    if match.method is not None:
        out["method"] = string_match(match.method)
    if match.headers:
        out["headers"] = {name: string_match(m) for name, m in match.headers}
    if match.query_params:
        out["queryParams"] = {name: string_match(m) for name, m in match.query_params}
    if port is not None:
        out["port"] = port
    return out


def istio_matches(match: RequestMatch | None, port: int | None, grpc: bool = False) -> list[tuple[str, Json]]:
    """The Istio matches one Gateway API match becomes, each tagged with the part of a
    PathPrefix it covers (``exact``: the stem itself, ``under``: below it, ``whole``: all).
    A GRPCRoute service match (``/pkg.Service/``) is a plain string prefix already."""
    if match is None:
        return [(WHOLE, {"port": port} if port is not None else {})]
    common = _common(match, port)
    path = match.path
    if grpc and path is not None and path.type is MatchType.PREFIX:
        return [(WHOLE, {"uri": {"prefix": path.value}, **common})]
    if is_prefix(path):
        root = stem(path)
        if not root:
            return [(WHOLE, common)]
        return [(EXACT, {"uri": {"exact": root}, **common}), (UNDER, {"uri": {"prefix": root + "/"}, **common})]
    assert path is not None
    return [(WHOLE, {"uri": string_match(path), **common})]


def sort_entries(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=Entry.key)
