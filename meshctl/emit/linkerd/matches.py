"""Istio request matches -> Gateway API ``HTTPRouteMatch`` entries as Linkerd reads them.

Before (one VirtualService ``match`` entry)::

    {uri: {prefix: /api}, method: {regex: "GET|HEAD"}, headers: {end-user: {exact: jason}}}

After (a method regex is expanded into the methods it matches)::

    [{path: {type: PathPrefix, value: /api}, method: GET, headers: [{type: Exact, name: end-user, value: jason}]},
     {path: {type: PathPrefix, value: /api}, method: HEAD, headers: [...]}]

Exact, regex, presence and header/query prefixes translate exactly (a prefix becomes an
anchored ``<escaped>.*`` regex; Linkerd anchors regexes to the whole value). An Istio
URI prefix is a string prefix while ``PathPrefix`` matches whole segments, so it is
reported. Conditions Linkerd cannot match on (``withoutHeaders``, scheme, authority,
``sourceLabels``, ``sourceNamespace``, JWT claims) are dropped and reported: the match
gets broader. ``match.port`` is returned for the caller, which sets the parentRef port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from meshctl.emit.linkerd.context import Build
from meshctl.emit.manifests import Json
from meshctl.model.objects import MatchType, RequestMatch, RouteRule, StringMatch

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
JWT_CLAIM_PREFIX = "@request.auth.claims"


def escape(text: str) -> str:
    """Escape only the characters both RE2 and Rust's regex treat as special."""
    return _META.sub(r"\\\1", text)


@dataclass
class Matches:
    """A rule's matches for the mesh: ``entries`` (empty: every request), the port each
    alternative asked for, and ``applies`` False when no alternative concerns the mesh."""

    entries: list[Json] = field(default_factory=list)
    ports: set[int | None] = field(default_factory=set)
    applies: bool = True
    unexpressible: bool = False  # some alternatives could not be expressed at all


def rule_matches(build: Build, rule: RouteRule) -> Matches:
    out = Matches()
    if not rule.matches:
        out.ports.add(None)
        return out
    kept = 0
    for match in rule.matches:
        if match.gateways and "mesh" not in match.gateways:
            continue  # this alternative is for gateways only
        kept += 1
        entries = _one(build, match)
        if entries is None:
            out.unexpressible = True
            continue
        out.ports.add(match.port)
        if entries == [{}]:
            return Matches([], {match.port}, True, out.unexpressible)  # one alternative matches everything
        out.entries.extend(entries)
    if kept == 0:
        out.applies = False
    elif not out.entries:
        out.applies = False
        out.unexpressible = True
    return out


def _one(build: Build, m: RequestMatch) -> list[Json] | None:
    """One Istio match -> one or more Gateway API matches (several when a method pattern
    expands); None when the alternative can match nothing Linkerd can express."""
    losses = build.losses
    entry: Json = {}
    if m.path is not None:
        path = _path(build, m)
        if path is not None:
            entry["path"] = path
    headers = []
    for name, sm in m.headers:
        if name.startswith(JWT_CLAIM_PREFIX):
            losses.dropped(m.origin.at("headers", name), f"match on JWT claim {name[len(JWT_CLAIM_PREFIX):].strip('[]')}: "
                                                         "Linkerd does not validate JWTs; the condition was dropped "
                                                         "and the rule now matches more requests")
            continue
        if sm.invert:
            losses.dropped(m.origin.at("withoutHeaders", name), f"withoutHeaders {name}: Linkerd has no negative "
                                                                "match; dropped, so the rule now matches more requests")
            continue
        headers.append(named_match(name, sm))
    if headers:
        entry["headers"] = headers
    params = [named_match(name, sm) for name, sm in m.query_params]
    if params:
        entry["queryParams"] = params
    for what, value, key in (("scheme", m.scheme, "scheme"), ("authority", m.authority, "authority")):
        if value is not None:
            losses.dropped(m.origin.at(key), f"{what} match: Linkerd routes meshed traffic by the Service addressed, "
                                             f"not by {what}; dropped, so the rule now matches more requests")
    if m.source_labels:
        losses.dropped(m.origin.at("sourceLabels"), "sourceLabels: routing per client workload is not expressible in "
                                                    "Linkerd; the rule now applies to every client")
    if m.source_namespace is not None:
        losses.dropped(m.origin.at("sourceNamespace"),
                       f"sourceNamespace {m.source_namespace}: dropped, the rule now applies to every client (a consumer "
                       f"HTTPRoute in namespace {m.source_namespace} with all of this Service's rules would express it)")
    if m.method is None:
        return [entry]
    methods = _methods(m.method)
    if not methods:
        losses.dropped(m.origin.at("method"), f"method {m.method.value!r} matches none of the methods Gateway API can "
                                              "match; this alternative was left out")
        return None
    return [dict(entry, method=method) for method in methods]


def _path(build: Build, m: RequestMatch) -> Json | None:
    sm = m.path
    assert sm is not None
    where = m.origin.at("uri")
    value = sm.value
    if sm.ignore_case:
        build.losses.approximated(m.origin.at("ignoreUriCase"), "ignoreUriCase: written as a case-insensitive "
                                                                "RegularExpression path match ((?i))")
        if sm.type is MatchType.EXACT:
            return {"type": "RegularExpression", "value": f"(?i){escape(value)}"}
        if sm.type is MatchType.PREFIX:
            return {"type": "RegularExpression", "value": f"(?i){escape(value)}.*"}
        return {"type": "RegularExpression", "value": f"(?i){value}"}
    if sm.type is MatchType.EXACT and value.startswith("/"):
        return {"type": "Exact", "value": value}
    if sm.type is MatchType.EXACT:
        return {"type": "RegularExpression", "value": escape(value)}
    if sm.type is MatchType.PREFIX:
        if value in ("", "/"):
            return None  # every path: Gateway API's default
        if not value.startswith("/"):
            return {"type": "RegularExpression", "value": f"{escape(value)}.*"}
        if value.endswith("/"):
            diff = f"also matches {value.rstrip('/') or '/'} itself, which Istio's prefix does not"
        else:
            diff = f"does not match {value}x or {value}-y, which Istio's string prefix does"
        build.losses.approximated(where, f"uri prefix {value!r} -> PathPrefix, which matches whole path segments: it "
                                         f"{diff}")
        return {"type": "PathPrefix", "value": value}
    return {"type": "RegularExpression", "value": value}


def named_match(name: str, sm: StringMatch) -> Json:
    """A header or query parameter match."""
    if sm.type is MatchType.EXACT:
        return {"type": "Exact", "name": name, "value": sm.value}
    if sm.type is MatchType.PREFIX:
        return {"type": "RegularExpression", "name": name, "value": f"{escape(sm.value)}.*"}
    if sm.type is MatchType.PRESENT:
        return {"type": "RegularExpression", "name": name, "value": ".*"}
    return {"type": "RegularExpression", "name": name, "value": sm.value}


def _methods(sm: StringMatch) -> list[str]:
    if sm.type is MatchType.EXACT:
        return [sm.value] if sm.value in METHODS else []
    if sm.type is MatchType.PREFIX:
        return [m for m in METHODS if m.startswith(sm.value)]
    if sm.type is MatchType.PRESENT:
        return list(METHODS)
    try:
        pattern = re.compile(sm.value)
    except re.error:
        return []
    return [m for m in METHODS if pattern.fullmatch(m)]


# -- precedence: Istio's first match against Gateway API's most specific match -------------

def _rank(entry: Json) -> tuple[int, int, int, int, int] | None:
    """Gateway API precedence key (higher wins). Regular expressions rank below every prefix:
    the API leaves their rank to the implementation, and Istio's reading (and the safe
    assumption for a migration) puts them last, so an earlier regex rule followed by a
    broader one is reported."""
    path = entry.get("path")
    if path is None:
        kind, length = 1, 1
    elif path["type"] == "Exact":
        kind, length = 2, len(path["value"])
    elif path["type"] == "PathPrefix":
        kind, length = 1, len(path["value"].rstrip("/")) + 1
    else:
        kind, length = 0, len(path["value"])
    return (kind, length, 1 if "method" in entry else 0, len(entry.get("headers", ())), len(entry.get("queryParams", ())))


def _may_overlap(a: Json, b: Json) -> bool:
    """Can one request match both (conservative: True unless a condition clearly conflicts)?"""
    if "method" in a and "method" in b and a["method"] != b["method"]:
        return False
    pa, pb = a.get("path"), b.get("path")
    if pa is not None and pb is not None:
        if pa["type"] == "Exact" and pb["type"] == "Exact" and pa["value"] != pb["value"]:
            return False
        for exact, prefix in ((pa, pb), (pb, pa)):
            if exact["type"] == "Exact" and prefix["type"] == "PathPrefix" and not _under(exact["value"], prefix["value"]):
                return False
        if pa["type"] == pb["type"] == "PathPrefix" and not (
            _under(pa["value"], pb["value"]) or _under(pb["value"], pa["value"])
        ):
            return False
    for key in ("headers", "queryParams"):
        left = {h["name"]: h for h in a.get(key, ()) if h["type"] == "Exact"}
        for h in b.get(key, ()):
            other = left.get(h["name"])
            if other is not None and h["type"] == "Exact" and other["value"] != h["value"]:
                return False
    return True


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or prefix == ""


def reordered(earlier: list[Json], later: list[Json]) -> bool:
    """Would Gateway API give a request to the later rule that Istio gives to the earlier one?
    (An empty list is the catch-all.)"""
    for b in later or [{}]:
        rb = _rank(b)
        if rb is None:
            continue
        for a in earlier or [{}]:
            ra = _rank(a)
            if ra is not None and rb > ra and _may_overlap(a, b):
                return True
    return False
