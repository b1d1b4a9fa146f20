"""Istio request matches -> HTTPRoute matches, and what Gateway API cannot match on.

| Istio                        | HTTPRoute                                   | Exactness |
|------------------------------|---------------------------------------------|-----------|
| ``uri.exact``                | ``path: {type: Exact}``                     | exact     |
| ``uri.prefix`` ``/`` or ``""`` | no path (every path)                      | exact     |
| ``uri.prefix`` other         | ``PathPrefix`` (whole segments)             | approx    |
| ``uri.regex``                | ``RegularExpression``                       | exact     |
| ``ignoreUriCase``            | ``RegularExpression`` ``(?i)...``           | approx    |
| ``headers`` exact / regex    | ``headers`` Exact / RegularExpression       | exact     |
| ``headers`` prefix / ``{}``  | RegularExpression ``<escaped>.*`` / ``.*``  | exact     |
| ``queryParams``              | ``queryParams`` (prefix as a regex)         | exact     |
| ``method`` exact             | ``method``                                  | exact     |
| ``method`` prefix / regex    | one match per standard method it accepts    | exact     |
| ``withoutHeaders``, ``scheme``, ``sourceLabels``, JWT claims | condition left out (broader) | lost |

``port``, ``gateways``, ``sourceNamespace`` and (on gateways) an exact ``authority`` say
where a match applies, not what it matches: ``placement`` turns them into parentRefs,
consumer routes and hostnames before a match gets here.

PathPrefix is chosen over a regular expression for Istio's string prefixes because it
keeps Gateway API's precedence (a regex ranks below every prefix) and both meshes read it
alike; the difference (Istio's ``/api`` also takes ``/apix``, and ``/api/`` does not take
``/api``) is reported as an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.gateway_api.context import Build
from meshctl.emit.gateway_api.values import (
    METHODS,
    escape,
    header_name_ok,
    header_value_ok,
    regex_matches,
)
from meshctl.emit.manifests import Json
from meshctl.model.objects import MatchType, RequestMatch, StringMatch
from meshctl.model.origin import Origin
from meshctl.rules.values.msh022_invalid_regex import regex_problem
from meshctl.rules.values.msh044_invalid_path_match import path_problem

EXACT, PREFIX, REGEX = "Exact", "PathPrefix", "RegularExpression"
JWT_CLAIM_PREFIX = "@request.auth.claims"
MAX_CONDITIONS = 16
MAX_PATH = 1024
_RANK = {EXACT: 3, PREFIX: 2, REGEX: 1}


@dataclass(frozen=True)
class Condition:
    """One header or query parameter condition."""

    name: str
    type: str  # Exact | RegularExpression
    value: str

    def json(self) -> Json:
        return {"type": self.type, "name": self.name, "value": self.value}


@dataclass(frozen=True)
class HttpMatch:
    """One HTTPRoute match; ``origin`` is the Istio match (or rule) it stands for."""

    origin: Origin
    path_type: str | None = None  # None: every path (the CRD default, PathPrefix "/")
    path: str | None = None
    method: str | None = None
    headers: tuple[Condition, ...] = ()
    query: tuple[Condition, ...] = ()

    def json(self) -> Json:
        out: Json = {}
        if self.path_type is not None:
            out["path"] = {"type": self.path_type, "value": self.path}
        if self.headers:
            out["headers"] = [c.json() for c in self.headers]
        if self.query:
            out["queryParams"] = [c.json() for c in self.query]
        if self.method is not None:
            out["method"] = self.method
        return out

    @property
    def precedence(self) -> tuple[int, int, int, int, int]:
        """Higher wins: path kind (Exact > PathPrefix > RegularExpression, as Istio ranks them),
        path length, a method, the number of header matches, the number of query matches."""
        kind, length = (_RANK[self.path_type], len(self.path or "")) if self.path_type else (_RANK[PREFIX], 1)
        return (kind, length, 1 if self.method else 0, len(self.headers), len(self.query))

    @property
    def every_request(self) -> bool:
        return self.path_type is None and self.method is None and not self.headers and not self.query

    def describe(self) -> str:
        parts = []
        if self.path_type:
            parts.append(f"path {self.path_type} {self.path!r}")
        if self.method:
            parts.append(f"method {self.method}")
        parts += [f"header {c.name} {c.type} {c.value!r}" for c in self.headers]
        parts += [f"query {c.name} {c.type} {c.value!r}" for c in self.query]
        return ", ".join(parts) or "every request"


def convert(build: Build, match: RequestMatch) -> list[HttpMatch]:
    """The HTTPRoute matches standing for ``match`` (several when a method regex expands,
    none when nothing Gateway API can match is left); losses are reported."""
    origin = match.origin
    bad = _bad_regex(match)
    if bad is not None:
        build.losses.dropped(origin, f"regex {bad[0]!r} is invalid ({bad[1]}); Istio refuses the VirtualService, "
                                     "and the match is left out")
        return []
    path_type, path = _path(build, match.path, origin)
    if path is not None and len(path) > MAX_PATH:
        build.losses.dropped(origin.at("uri"), f"uri of {len(path)} characters: Gateway API paths have at most "
                                               f"{MAX_PATH}; the match is left out")
        return []
    headers = _conditions(build, match.headers, origin, "header")
    query = _conditions(build, match.query_params, origin, "query parameter")
    _unexpressible(build, match)
    methods = _methods(build, match.method, origin)
    if methods is None:
        return []
    return [HttpMatch(origin, path_type, path, method, headers, query) for method in methods]


def _bad_regex(match: RequestMatch) -> tuple[str, str] | None:
    """The first regex of the match RE2 (Envoy's engine) refuses, and why."""
    conditions = [match.path, *(sm for _, sm in match.headers), *(sm for _, sm in match.query_params)]
    for sm in conditions:
        if sm is not None and sm.type is MatchType.REGEX and not sm.invert:
            problem = regex_problem(sm.value)
            if problem is not None:
                return sm.value, problem
    return None


def _path(build: Build, sm: StringMatch | None, origin: Origin) -> tuple[str | None, str | None]:
    if sm is None:
        return None, None
    where = origin.at("uri")
    if sm.type is MatchType.PRESENT or (sm.type is MatchType.PREFIX and sm.value in ("", "/")):
        return None, None
    if not sm.value:  # an empty exact path or regex: no request has it
        return REGEX, "^$"
    if sm.ignore_case and sm.type in (MatchType.EXACT, MatchType.PREFIX) and any(c.isalpha() for c in sm.value):
        pattern = "(?i)" + escape(sm.value) + (".*" if sm.type is MatchType.PREFIX else "")
        build.losses.approximated(
            origin.at("ignoreUriCase"),
            f"ignoreUriCase: Gateway API matches paths case-sensitively, so the path is the regular "
            f"expression {pattern!r}, which ranks below every Exact and PathPrefix match",
        )
        return REGEX, pattern
    if sm.type is MatchType.REGEX:
        return REGEX, sm.value
    problem = path_problem(sm.value)
    if problem is not None:
        pattern = escape(sm.value) + (".*" if sm.type is MatchType.PREFIX else "")
        build.losses.approximated(
            where, f"uri {sm.type.value} {sm.value!r} is not a path Gateway API accepts as "
                   f"{'Exact' if sm.type is MatchType.EXACT else 'PathPrefix'} ({problem}); "
                   f"matched as the regular expression {pattern!r}",
        )
        return REGEX, pattern
    if sm.type is MatchType.EXACT:
        return EXACT, sm.value
    if sm.value.endswith("/"):
        build.losses.approximated(
            where, f"uri prefix {sm.value!r}: Istio compares characters and does not match "
                   f"{sm.value.rstrip('/')!r}; Gateway API's PathPrefix matches whole path segments "
                   "and ignores the trailing '/', so it does",
        )
    else:
        build.losses.approximated(
            where, f"uri prefix {sm.value!r}: Istio compares characters and also matches "
                   f"{sm.value + 'x'!r}; Gateway API's PathPrefix matches whole path segments only "
                   f"({sm.value!r} and {sm.value + '/...'!r})",
        )
    return PREFIX, sm.value


def _conditions(
    build: Build, items: tuple[tuple[str, StringMatch], ...], origin: Origin, what: str
) -> tuple[Condition, ...]:
    field = "headers" if what == "header" else "queryParams"
    out: list[Condition] = []
    for name, sm in items:
        if sm.invert:
            build.losses.dropped(
                origin.at("withoutHeaders", name),
                f"withoutHeaders {name}: Gateway API has no negative match; the condition is left out, "
                "so the match now also takes requests that carry the header",
            )
            continue
        where = origin.at(field, name)
        if name.startswith(JWT_CLAIM_PREFIX):
            build.losses.dropped(
                where, f"JWT claim match {name}: Gateway API cannot route on validated JWT claims; "
                       "the condition is left out, so the match is broader",
            )
            continue
        if not header_name_ok(name):
            build.losses.dropped(
                where, f"{what} {name!r} is not a name Gateway API can match on; the condition is left out, "
                       "so the match is broader",
            )
            continue
        condition = _condition(build, name, sm, where, what)
        if condition is not None:
            out.append(condition)
    if len(out) > MAX_CONDITIONS:
        build.losses.dropped(
            origin.at(field), f"{len(out)} {what} conditions: Gateway API allows {MAX_CONDITIONS} per match; "
                              "the others are left out, so the match is broader",
        )
        out = out[:MAX_CONDITIONS]
    return tuple(out)


def _condition(build: Build, name: str, sm: StringMatch, where: Origin, what: str) -> Condition | None:
    if sm.type is MatchType.EXACT:
        kind, value = (EXACT, sm.value) if sm.value else (REGEX, "^$")
    elif sm.type is MatchType.REGEX:
        kind, value = REGEX, sm.value
    elif sm.type is MatchType.PRESENT or (sm.type is MatchType.PREFIX and not sm.value):
        kind, value = REGEX, ".*"
    else:
        kind, value = REGEX, escape(sm.value) + ".*"
        build.losses.approximated(
            where, f"{what} {name} prefix {sm.value!r}: Gateway API has no prefix match, so it is the "
                   f"regular expression {value!r} (the same requests; both meshes anchor it to the whole value)",
        )
    limit_ok = len(value) <= 1024 if what != "header" else header_value_ok(value)
    if not limit_ok:
        build.losses.dropped(
            where, f"{what} {name} value {sm.value!r} cannot be written as a Gateway API match value; "
                   "the condition is left out, so the match is broader",
        )
        return None
    return Condition(name, kind, value)


def _methods(build: Build, sm: StringMatch | None, origin: Origin) -> list[str | None] | None:
    """The methods to match (``[None]``: any), or None when no standard method is accepted."""
    if sm is None or sm.type is MatchType.PRESENT:
        return [None]
    where = origin.at("method")
    if sm.type is MatchType.EXACT:
        if sm.value in METHODS:
            return [sm.value]
        build.losses.dropped(
            where, f"method {sm.value!r} is not one Gateway API can match ({', '.join(METHODS)}); "
                   "the match is left out",
        )
        return None
    pattern = sm.value + ".*" if sm.type is MatchType.PREFIX else sm.value
    if sm.type is MatchType.PREFIX:
        accepted = [m for m in METHODS if m.startswith(sm.value)]
    else:
        tried = [(m, regex_matches(pattern, m)) for m in METHODS]
        if any(result is None for _, result in tried):
            build.losses.dropped(
                where, f"method regex {sm.value!r} could not be evaluated; the condition is left out, "
                       "so the match is broader",
            )
            return [None]
        accepted = [m for m, result in tried if result]
    if not accepted:
        build.losses.dropped(
            where, f"method {sm.type.value} {sm.value!r} accepts none of the methods Gateway API can match; "
                   "the match is left out",
        )
        return None
    if len(accepted) < len(METHODS):
        return list(accepted)
    return [None]


def _unexpressible(build: Build, match: RequestMatch) -> None:
    """Conditions left after placement that Gateway API cannot express: reported, left out."""
    origin = match.origin
    if match.authority is not None:
        build.losses.dropped(
            origin.at("authority"),
            f"authority {match.authority.type.value} {match.authority.value!r}: only an exact authority on a "
            "gateway route becomes route hostnames; the condition is left out, so the match is broader",
        )
    if match.scheme is not None:
        build.losses.dropped(
            origin.at("scheme"),
            f"scheme {match.scheme.type.value} {match.scheme.value!r}: Gateway API cannot match the scheme; "
            "the condition is left out, so the match is broader",
        )
    if match.source_labels:
        labels = ",".join(f"{k}={v}" for k, v in sorted(match.source_labels.items()))
        build.losses.dropped(
            origin.at("sourceLabels"),
            f"sourceLabels {labels}: Gateway API cannot route by client workload; the condition is left out, "
            "so the rule now applies to every client",
        )
    if match.source_namespace is not None:
        build.losses.dropped(
            origin.at("sourceNamespace"),
            f"sourceNamespace {match.source_namespace}: a consumer route applies to one namespace's clients "
            "only when it is not the Service's own namespace; the condition is left out, so the rule now "
            "applies to every client",
        )
    if match.port is not None:
        build.losses.dropped(
            origin.at("port"),
            f"port {match.port}: the parent's ports are not known, so the route cannot be placed on that "
            "port alone; the condition is left out",
        )
