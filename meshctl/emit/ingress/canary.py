"""ingress-nginx canaries: a second Ingress that takes part of its main Ingress's requests.

Before: Ingress ``shop-canary`` with ``canary: "true"``, ``canary-weight: "20"``,
``canary-by-header: x-canary`` and the path ``/api`` of host ``shop.example.com`` that Ingress
``shop`` routes to ``api``. After: the rule of ``shop`` for ``/api`` is three rules, in
ingress-nginx's order (header, cookie, weight): ``x-canary: always`` -> canary,
``x-canary: never`` -> ``api``, and ``api`` 80 / canary 20. A canary path without a main
Ingress for its host and path is reported (ingress-nginx ignores it).
"""

from __future__ import annotations

import re
from dataclasses import replace

from meshctl.emit.ingress import nginx
from meshctl.emit.ingress.reading import Reading
from meshctl.emit.ingress.rules import is_https_redirect
from meshctl.emit.losses import Losses
from meshctl.lower.ingress import (
    is_default_backend,
    routes_of,
)
from meshctl.model.objects import (
    Backend,
    MatchType,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin
from meshctl.rules.values.msh022_invalid_regex import regex_problem


def apply_canaries(losses: Losses, routes: list[Route], canaries: list[Reading],
                    index: dict[int, list[Route]]) -> list[Route]:
    """Merge each canary Ingress path into the main rule of the same host and path."""
    for reading in canaries:
        canary = reading.settings.canary
        assert canary is not None
        problem = regex_problem(_pattern(canary.header_pattern)) if canary.header_pattern else None
        if problem:
            losses.dropped(reading.at(nginx.PREFIX + "canary-by-header-pattern"), f"as a regular expression, {problem}; "
                           "the header condition is not translated")
            reading = replace(reading, settings=replace(reading.settings, canary=replace(
                canary, header=None, header_pattern=None)))
        for lowered in routes_of(index, reading.ingress):
            if is_default_backend(lowered):
                continue
            host = lowered.hosts[0] if lowered.hosts else "*"
            for rule in lowered.rules:
                key = (host, _path_key(rule.matches[0].path))
                hit = _find_main(routes, reading.ingress.namespace, key)
                if hit is None:
                    losses.dropped(rule.origin, f"ingress-nginx ignores a canary path without a main Ingress for "
                                   f"{host} {key[1] or '/'}; not translated")
                    continue
                at, position = hit
                routes[at] = _with_canary(routes[at], position, reading, rule)
    return routes


def contributors(route: Route) -> list[Origin]:
    """The Ingresses a converted route is made of, in order: its own, then the canaries
    merged into its rules (as the origins of their documents)."""
    origins = [route.origin, *(o for rule in route.rules for o in (rule.origin, *(b.origin for b in rule.backends)))]
    docs = {id(o.doc): o.doc for o in origins if o.doc.kind == "Ingress"}  # documents: equal by identity
    return [Origin(doc) for doc in docs.values()]


def _pattern(pattern: str) -> str:
    """A route header match for ingress-nginx's pattern, which it searches for in the value
    (ngx.re.match); routes match the whole value."""
    return f".*(?:{pattern}).*"


def _path_key(path: StringMatch | None) -> str:
    return "" if path is None else path.value.rstrip("/") if path.type is MatchType.PREFIX else path.value


def _find_main(routes: list[Route], namespace: str, key: tuple[str, str]) -> tuple[int, int] | None:
    host, path = key
    order = sorted(range(len(routes)), key=lambda i: routes[i].namespace != namespace)
    for i in order:
        route = routes[i]
        if (route.hosts[0] if route.hosts else "*") != host or is_https_redirect(route):
            continue
        for j, rule in enumerate(route.rules):
            if rule.matches and not rule.matches[0].headers and _path_key(rule.matches[0].path) == path:
                return i, j
    return None


def _with_canary(route: Route, position: int, reading: Reading, canary_rule: RouteRule) -> Route:
    canary = reading.settings.canary
    assert canary is not None
    main = route.rules[position]
    target = tuple(replace(b, weight=None) for b in canary_rule.backends)
    match = main.matches[0]
    added: list[RouteRule] = []

    def when(header: str, condition: StringMatch, backends: tuple[Backend, ...], annotation: str) -> None:
        """The main rule's path with one header condition, sent to ``backends``."""
        added.append(replace(main, matches=(replace(match, headers=((header, condition),)),), backends=backends,
                             origin=reading.at(nginx.PREFIX + annotation)))

    if canary.header and (canary.header_value or canary.header_pattern):
        condition = (StringMatch(MatchType.EXACT, canary.header_value) if canary.header_value
                     else StringMatch(MatchType.REGEX, _pattern(canary.header_pattern or "")))
        when(canary.header, condition, target, "canary-by-header")
    elif canary.header:
        for value, backends in (("always", target), ("never", main.backends)):
            when(canary.header, StringMatch(MatchType.EXACT, value), backends, "canary-by-header")
    if canary.cookie:
        for value, backends in (("always", target), ("never", main.backends)):
            cookie = StringMatch(MatchType.REGEX, f"(.*; *)?{re.escape(canary.cookie)}={value}(;.*)?")
            when("cookie", cookie, backends, "canary-by-cookie")
    weighted = main
    if canary.weight > 0:
        share = min(canary.weight, canary.total)
        weights = [replace(b, weight=canary.total - share) for b in main.backends[:1]] + [
            replace(b, weight=share) for b in target]
        weighted = replace(main, backends=tuple(weights))
    rules = list(route.rules)
    rules[position] = weighted
    rules[position:position] = added
    return replace(route, rules=tuple(replace(r, index=i) for i, r in enumerate(rules)))
