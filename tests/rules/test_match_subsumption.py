"""When one VirtualService match covers another (meshctl/model/subsumption.py).

Every case is a pair of Istio match clauses, lowered as meshctl lowers them; the answer
must be True only when the earlier match surely takes every request the later one would.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.objects import MatchType, Route, StringMatch
from meshctl.model.subsumption import (
    CLAIM,
    HEADER,
    PATH,
    QUERY,
    Scope,
    gateway_key,
    match_covers,
    shadows,
    string_covers,
    takes_everything,
)

DEST = [{"destination": {"host": "svc"}}]


def _route(spec: dict[str, Any], namespace: str = "shop") -> Route:
    doc = {
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "t", "namespace": namespace}, "spec": spec,
    }
    model = lower(read_text(yaml.safe_dump(doc, sort_keys=False), "t.yaml").docs)
    return model.routes[0]


def covers(earlier: dict[str, Any], later: dict[str, Any], *, gateways: list[str] | None = None,
           hosts: list[str] | None = None) -> bool:
    spec: dict[str, Any] = {"hosts": ["svc"] if hosts is None else hosts,
                            "http": [{"match": [earlier, later], "route": DEST}]}
    if gateways is not None:
        spec["gateways"] = gateways
    route = _route(spec)
    first, second = route.rules[0].matches
    return match_covers(first, second, Scope.of(route))


def sm(kind: str, value: str = "", *, ignore_case: bool = False, invert: bool = False) -> StringMatch:
    return StringMatch(MatchType(kind), value, ignore_case, invert)


# -- one string condition ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("earlier", "later", "kind", "expected"),
    [
        (sm("exact", "/a"), sm("exact", "/a"), PATH, True),
        (sm("exact", "/a"), sm("exact", "/b"), PATH, False),
        (sm("exact", "/a"), sm("prefix", "/a"), PATH, False),
        (sm("prefix", "/a"), sm("exact", "/a"), PATH, True),
        (sm("prefix", "/a"), sm("exact", "/ab"), PATH, True),
        (sm("prefix", "/a/"), sm("exact", "/a"), PATH, False),
        (sm("prefix", "/a"), sm("prefix", "/a/b"), PATH, True),
        (sm("prefix", "/a/b"), sm("prefix", "/a"), PATH, False),
        (sm("prefix", "/a"), sm("regex", "/a/.*"), PATH, False),
        (sm("regex", "/a/.*"), sm("regex", "/a/.*"), PATH, True),
        (sm("regex", "/a/.*"), sm("regex", "/a/.+"), PATH, False),
        (sm("regex", "/a/.*"), sm("exact", "/a/b"), PATH, False),  # regexes are not evaluated
        (sm("regex", ".*"), sm("exact", "/a/b"), PATH, True),
        (sm("regex", "^.*$"), sm("regex", "/x[0-9]"), PATH, True),
        (sm("prefix", "/"), sm("regex", "/x[0-9]"), PATH, True),
        (sm("prefix", ""), sm("exact", "/x"), PATH, True),
        # ignoreUriCase
        (sm("prefix", "/API", ignore_case=True), sm("exact", "/api/v1"), PATH, True),
        (sm("exact", "/Api", ignore_case=True), sm("exact", "/aPI", ignore_case=True), PATH, True),
        (sm("prefix", "/api"), sm("prefix", "/api/v1", ignore_case=True), PATH, False),
        (sm("exact", "/api"), sm("exact", "/api", ignore_case=True), PATH, False),
        (sm("prefix", "/1"), sm("exact", "/123", ignore_case=True), PATH, True),  # nothing to fold
        (sm("prefix", "/É", ignore_case=True), sm("exact", "/é"), PATH, False),  # ASCII folding only
        (sm("regex", "/a.*", ignore_case=True), sm("regex", "/a.*"), PATH, True),  # ignored for regex
        # headers (method, authority and scheme too)
        (sm("present"), sm("exact", "x"), HEADER, True),
        (sm("present"), sm("present"), HEADER, True),
        (sm("prefix", ""), sm("regex", "a|b"), HEADER, True),
        (sm("regex", ".*"), sm("prefix", "a"), HEADER, True),
        (sm("prefix", "Bearer "), sm("exact", "Bearer abc"), HEADER, True),
        (sm("exact", "x"), sm("present"), HEADER, False),
        (sm("exact", "x"), sm("exact", "x", invert=True), HEADER, False),
        (sm("present", invert=True), sm("present", invert=True), HEADER, False),  # handled by the caller
        # query parameters: prefix and `{}` have no documented meaning
        (sm("exact", "1"), sm("exact", "1"), QUERY, True),
        (sm("regex", ".*"), sm("exact", "1"), QUERY, True),
        (sm("regex", ".*"), sm("present"), QUERY, False),
        (sm("prefix", "1"), sm("exact", "12"), QUERY, False),
        (sm("present"), sm("present"), QUERY, True),
        # JWT claims: no presence shortcut
        (sm("exact", "a"), sm("exact", "a"), CLAIM, True),
        (sm("prefix", "a"), sm("exact", "ab"), CLAIM, True),
        (sm("present"), sm("exact", "a"), CLAIM, False),
        (sm("regex", ".*"), sm("exact", "a"), CLAIM, False),
    ],
)
def test_string_covers(earlier: StringMatch, later: StringMatch, kind: str, expected: bool) -> None:
    assert string_covers(earlier, later, kind) is expected


# -- whole matches -----------------------------------------------------------------------
URI = [
    ({"uri": {"exact": "/a"}}, {"uri": {"exact": "/a"}}, True),
    ({"uri": {"prefix": "/a"}}, {"uri": {"exact": "/a/b"}}, True),
    ({"uri": {"exact": "/a"}}, {}, False),
    ({"uri": {"prefix": "/"}}, {}, True),
    ({"uri": {"regex": ".*"}}, {"headers": {"x": {"exact": "1"}}}, True),
    ({}, {"uri": {"exact": "/a"}, "port": 80}, True),
    ({"uri": {"prefix": "/A"}, "ignoreUriCase": True}, {"uri": {"prefix": "/a/b"}}, True),
    ({"uri": {"prefix": "/a"}}, {"uri": {"prefix": "/A/b"}, "ignoreUriCase": True}, False),
]

HEADERS = [
    ({"headers": {"x-user": {"exact": "a"}}}, {"headers": {"x-user": {"exact": "a"}, "x-b": {"exact": "1"}}}, True),
    ({"headers": {"X-User": {"exact": "a"}}}, {"headers": {"x-user": {"exact": "a"}}}, True),
    ({"headers": {"x-user": {"exact": "a"}}}, {"uri": {"prefix": "/"}}, False),
    ({"headers": {"x-user": {"exact": "a"}}}, {"headers": {"x-user": {"exact": "b"}}}, False),
    ({"headers": {"x-user": {}}}, {"headers": {"x-user": {"regex": "a.*"}}}, True),
    ({"headers": {"x-user": {"prefix": "adm"}}}, {"headers": {"x-user": {"exact": "admin"}}}, True),
    ({"headers": {"x-user": {"exact": "a"}}}, {"headers": {"x-user": {"regex": "a"}}}, False),
    ({"headers": {"x-user": {}}}, {"withoutHeaders": {"x-user": {"exact": "a"}}}, False),
    ({"headers": {"x-a": {"exact": "1"}, "x-b": {"exact": "2"}}}, {"headers": {"x-a": {"exact": "1"}}}, False),
]

WITHOUT_HEADERS = [
    ({"withoutHeaders": {"x": {"exact": "a"}}}, {"withoutHeaders": {"x": {"exact": "a"}}}, True),
    ({"withoutHeaders": {"x": {"exact": "ab"}}}, {"withoutHeaders": {"x": {"prefix": "a"}}}, True),
    ({"withoutHeaders": {"x": {"prefix": "a"}}}, {"withoutHeaders": {"x": {"exact": "ab"}}}, False),
    ({"withoutHeaders": {"x": {"exact": "b"}}}, {"headers": {"x": {"exact": "a"}}}, True),
    ({"withoutHeaders": {"x": {"exact": "a"}}}, {"headers": {"x": {"exact": "a"}}}, False),
    ({"withoutHeaders": {"x": {"prefix": "b"}}}, {"headers": {"x": {"exact": "a"}}}, False),  # not judged
    ({"withoutHeaders": {"x": {}}}, {"withoutHeaders": {"x": {}}}, True),
    ({"withoutHeaders": {"x": {}}}, {"withoutHeaders": {"x": {"exact": "a"}}}, False),
    ({"withoutHeaders": {"x": {"exact": "a"}}}, {"withoutHeaders": {"x": {}}}, False),  # conservative
    ({"withoutHeaders": {"x": {"exact": "a"}}}, {}, False),
    ({}, {"withoutHeaders": {"x": {"exact": "a"}}}, True),
]

CLAIMS = [
    ({"headers": {"@request.auth.claims.group": {"exact": "a"}}},
     {"headers": {"@request.auth.claims.group": {"exact": "a"}}}, True),
    # a list claim can hold `a` and `b`: exact a does not exclude b
    ({"withoutHeaders": {"@request.auth.claims.group": {"exact": "b"}}},
     {"headers": {"@request.auth.claims.group": {"exact": "a"}}}, False),
    ({"headers": {"@request.auth.claims.group": {}}},
     {"headers": {"@request.auth.claims.group": {"exact": "a"}}}, False),
]

PSEUDO_HEADERS = [
    ({"method": {"exact": "GET"}}, {"method": {"exact": "GET"}, "uri": {"prefix": "/a"}}, True),
    ({"method": {"exact": "GET"}}, {"uri": {"prefix": "/a"}}, False),
    ({"method": {"exact": "GET"}}, {"method": {"exact": "POST"}}, False),
    ({"authority": {"prefix": "api."}}, {"authority": {"exact": "api.example.com"}}, True),
    ({"scheme": {"exact": "https"}}, {"scheme": {"exact": "http"}}, False),
]

QUERY_PARAMS = [
    ({"queryParams": {"v": {"exact": "1"}}}, {"queryParams": {"v": {"exact": "1"}, "w": {"exact": "2"}}}, True),
    ({"queryParams": {"v": {"regex": ".*"}}}, {"queryParams": {"v": {"exact": "1"}}}, True),
    ({"queryParams": {"v": {"exact": "1"}}}, {"queryParams": {"v": {"regex": "1"}}}, False),
    ({"queryParams": {"v": {"exact": "1"}}}, {"headers": {"v": {"exact": "1"}}}, False),
]

PORTS_AND_SOURCES = [
    ({}, {"port": 80}, True),
    ({"port": 80}, {}, False),
    ({"port": 80}, {"port": 80}, True),
    ({"port": 80}, {"port": 8080}, False),
    ({"sourceLabels": {"app": "a"}}, {"sourceLabels": {"app": "a", "v": "1"}}, True),
    ({"sourceLabels": {"app": "a"}}, {}, False),
    ({"sourceLabels": {"app": "a"}}, {"sourceLabels": {"app": "b"}}, False),
    ({}, {"sourceLabels": {"app": "a"}}, True),
    ({"sourceNamespace": "web"}, {"sourceNamespace": "web"}, True),
    ({"sourceNamespace": "web"}, {"sourceLabels": {"app": "a"}}, False),
]


@pytest.mark.parametrize(("earlier", "later", "expected"), URI + HEADERS + WITHOUT_HEADERS + CLAIMS)
def test_request_conditions(earlier: dict[str, Any], later: dict[str, Any], expected: bool) -> None:
    assert covers(earlier, later) is expected


@pytest.mark.parametrize(("earlier", "later", "expected"), PSEUDO_HEADERS + QUERY_PARAMS)
def test_method_authority_scheme_and_query(earlier: dict[str, Any], later: dict[str, Any], expected: bool) -> None:
    assert covers(earlier, later) is expected


@pytest.mark.parametrize(("earlier", "later", "expected"), PORTS_AND_SOURCES)
def test_ports_and_sources(earlier: dict[str, Any], later: dict[str, Any], expected: bool) -> None:
    assert covers(earlier, later) is expected


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        ({"gateways": ["gw"]}, {"gateways": ["gw"], "uri": {"prefix": "/a"}}, True),
        ({"gateways": ["gw"]}, {"gateways": ["shop/gw"]}, True),
        ({"gateways": ["./gw"]}, {"gateways": ["gw"]}, True),
        ({"gateways": ["gw"]}, {"uri": {"prefix": "/a"}}, False),  # the later one applies in the mesh too
        ({"gateways": ["gw"]}, {"gateways": ["mesh"]}, False),
        ({"gateways": ["gw", "mesh"]}, {}, True),  # together they are everywhere the route is
        ({}, {"gateways": ["gw"]}, True),
        ({}, {"gateways": ["other"]}, False),  # applies nowhere the route is bound: not judged
        ({"gateways": ["gw"], "sourceLabels": {"app": "a"}}, {"gateways": ["gw"], "sourceLabels": {"app": "a"}}, False),
    ],
)
def test_gateway_scoped_matches(earlier: dict[str, Any], later: dict[str, Any], expected: bool) -> None:
    assert covers(earlier, later, gateways=["mesh", "gw"]) is expected


def test_a_delegate_inherits_unknown_gateways() -> None:
    assert covers({}, {"gateways": ["gw"]}, hosts=[]) is True
    assert covers({"gateways": ["gw"]}, {}, hosts=[]) is False


@pytest.mark.parametrize(
    ("written", "key"),
    [("gw", "shop/gw"), ("./gw", "shop/gw"), ("edge/gw", "edge/gw"), ("gw.edge", "edge/gw"),
     ("gw.edge.svc.cluster.local", "edge/gw"), ("mesh", "mesh")],
)
def test_gateway_names_resolve_as_istio_does(written: str, key: str) -> None:
    assert gateway_key(written, "shop") == key


def test_takes_everything_ignores_scope_but_not_conditions() -> None:
    route = _route({"hosts": ["svc"], "gateways": ["gw"], "http": [
        {"match": [{"gateways": ["gw"]}, {"uri": {"prefix": "/"}, "port": 80}, {"uri": {"prefix": "/a"}},
                   {"method": {"regex": ".*"}}], "route": DEST},
    ]})
    assert [takes_everything(m) for m in route.rules[0].matches] == [True, True, False, False]


# -- whole routes ------------------------------------------------------------------------
def _rules(route: Route, items: object) -> list[int]:
    return [getattr(item, "rule").index for item in items]  # type: ignore[attr-defined]


def test_rules_after_a_catch_all_are_unreachable_not_ineffective() -> None:
    route = _route({"hosts": ["svc"], "http": [
        {"match": [{"headers": {"x": {"exact": "1"}}}], "route": DEST},
        {"route": DEST},
        {"match": [{"uri": {"prefix": "/a"}}, {"uri": {"exact": "/b"}}], "route": DEST},
        {"route": DEST},
    ]})
    found = shadows(route)
    assert _rules(route, found.unreachable) == [2, 3]
    assert [r.by_rules[0].index for r in found.unreachable] == [1, 1]
    assert found.ineffective == ()


def test_a_rule_whose_matches_are_all_covered_is_unreachable() -> None:
    route = _route({"hosts": ["svc"], "http": [
        {"match": [{"uri": {"prefix": "/api"}}, {"uri": {"prefix": "/web"}}], "route": DEST},
        {"match": [{"uri": {"exact": "/api/x"}}, {"uri": {"prefix": "/web/static"}}], "route": DEST},
        {"match": [{"uri": {"exact": "/api/y"}}, {"uri": {"prefix": "/docs"}}], "route": DEST},
    ]})
    found = shadows(route)
    assert _rules(route, found.unreachable) == [1]
    assert [(c.rule.index, c.match.path.value if c.match.path else None) for c in found.ineffective] == [(2, "/api/y")]


def test_a_match_covered_by_a_dead_sibling_is_dead_too() -> None:
    route = _route({"hosts": ["svc"], "http": [
        {"match": [{"uri": {"prefix": "/a"}}], "route": DEST},
        {"match": [{"uri": {"prefix": "/a/b"}}, {"uri": {"exact": "/a/b/c"}, "headers": {"x": {}}}], "route": DEST},
    ]})
    assert _rules(route, shadows(route).unreachable) == [1]


def test_a_delegating_rule_without_match_falls_through() -> None:
    route = _route({"hosts": ["svc"], "http": [
        {"delegate": {"name": "d"}},
        {"match": [{"uri": {"prefix": "/a"}}], "route": DEST},
        {"route": DEST},
    ]})
    found = shadows(route)
    assert found.unreachable == () and found.ineffective == ()


def test_a_catch_all_for_one_gateway_leaves_the_others() -> None:
    route = _route({"hosts": ["svc"], "gateways": ["mesh", "gw"], "http": [
        {"match": [{"gateways": ["gw"]}], "route": DEST},
        {"match": [{"uri": {"prefix": "/a"}}], "route": DEST},
        {"match": [{"gateways": ["gw"], "uri": {"prefix": "/b"}}], "route": DEST},
        {"route": DEST},
    ]})
    assert _rules(route, shadows(route).unreachable) == [2]


def test_catch_alls_for_every_gateway_shadow_a_rule_without_match() -> None:
    route = _route({"hosts": ["svc"], "gateways": ["mesh", "gw"], "http": [
        {"match": [{"gateways": ["gw"]}, {"gateways": ["mesh"]}], "route": DEST},
        {"route": DEST},
    ]})
    assert _rules(route, shadows(route).unreachable) == [1]


def test_tcp_rules_are_only_judged_after_a_rule_without_match() -> None:
    route = _route({"hosts": ["db"], "tcp": [
        {"match": [{"port": 3306}], "route": DEST},
        {"match": [{"port": 3306}], "route": DEST},  # destinationSubnets are not in the model
        {"route": DEST},
        {"match": [{"port": 5432}], "route": DEST},
    ]})
    found = shadows(route)
    assert [(r.rule.protocol, r.rule.index) for r in found.unreachable] == [("tcp", 3)]
    assert found.ineffective == ()


def test_http_and_tcp_rules_do_not_shadow_each_other() -> None:
    route = _route({"hosts": ["svc"], "http": [{"route": DEST}], "tcp": [{"route": DEST}]})
    found = shadows(route)
    assert found.unreachable == () and found.ineffective == ()


def test_the_index_never_hides_a_covering_match() -> None:
    """The earlier matches are filed by condition for speed; filing must never drop one
    that covers. Checked against the plain pairwise answer on seeded random matches."""
    import random

    from meshctl.model.subsumption import _Earlier

    rng = random.Random(140)
    values = ["", "/", "/a", "/a/b", "/A", "a", "ab", ".*", "b"]

    def condition() -> dict[str, str]:
        kind = rng.choice(["exact", "prefix", "regex", "present"])
        return {} if kind == "present" else {kind: rng.choice(values)}

    def match() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, chance in (("uri", 0.7), ("method", 0.2), ("authority", 0.2)):
            if rng.random() < chance:
                out[field] = condition() or {"exact": "a"}
        if rng.random() < 0.2:
            out["ignoreUriCase"] = True
        for field in ("headers", "withoutHeaders", "queryParams"):
            if rng.random() < 0.4:
                out[field] = {rng.choice(["x", "y", "@request.auth.claims.g"]): condition()}
        if rng.random() < 0.2:
            out["port"] = rng.choice([80, 8080])
        if rng.random() < 0.2:
            out["sourceLabels"] = {"app": rng.choice(["a", "b"])}
        if rng.random() < 0.2:
            out["gateways"] = rng.sample(["gw", "mesh"], rng.choice([1, 2]))
        return out

    checked = 0
    for _ in range(6):
        route = _route({"hosts": ["svc"], "gateways": ["gw", "mesh"],
                        "http": [{"match": [match()], "route": DEST} for _ in range(200)]})
        scope = Scope.of(route)
        earlier = _Earlier()
        for rule in route.rules:
            (later,) = rule.matches
            offered = {id(m) for _, m in earlier.candidates(later)}
            for _, candidate in earlier.items:
                if match_covers(candidate, later, scope):
                    checked += 1
                    assert id(candidate) in offered, (candidate, later)
            earlier.add(rule, later)
    assert checked > 1000, checked  # the random matches do cover one another
