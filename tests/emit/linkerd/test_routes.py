"""VirtualService routing rows (§2.1, §2.2, §2.4): matches, destinations, filters, placement."""

from __future__ import annotations

import pytest

from tests.emit.linkerd.helpers import (
    SERVICE,
    SUBSETS,
    has_loss,
    linkerd_annotations,
    messages,
    named,
    of_kind,
    run,
    vs,
)

V1 = "    route: [{destination: {host: reviews, subset: v1}}]\n"


def _rule(out):  # type: ignore[no-untyped-def]
    [route] = of_kind(out, "HTTPRoute")
    return route["spec"]["rules"][0]


@pytest.mark.parametrize("match, expected", [
    ("{uri: {exact: /a}}", [{"path": {"type": "Exact", "value": "/a"}}]),
    ("{uri: {regex: '/a/[0-9]+'}}", [{"path": {"type": "RegularExpression", "value": "/a/[0-9]+"}}]),
    ("{uri: {prefix: /api/}}", [{"path": {"type": "PathPrefix", "value": "/api/"}}]),
    ("{uri: {exact: /A}, ignoreUriCase: true}", [{"path": {"type": "RegularExpression", "value": "(?i)/A"}}]),
    ("{headers: {x-v: {regex: 'a|b'}}}", [{"headers": [{"type": "RegularExpression", "name": "x-v", "value": "a|b"}]}]),
    ("{headers: {x-v: {prefix: a.b}}}", [{"headers": [{"type": "RegularExpression", "name": "x-v", "value": "a\\.b.*"}]}]),
    ("{headers: {x-v: {}}}", [{"headers": [{"type": "RegularExpression", "name": "x-v", "value": ".*"}]}]),
    ("{queryParams: {q: {exact: '1'}}}", [{"queryParams": [{"type": "Exact", "name": "q", "value": "1"}]}]),
    ("{method: {exact: POST}}", [{"method": "POST"}]),
    ("{method: {regex: 'GET|HEAD'}}", [{"method": "GET"}, {"method": "HEAD"}]),
])
def test_match_rows(match: str, expected: list) -> None:  # type: ignore[type-arg]
    out = run(SERVICE, SUBSETS, vs(f"  - match: [{match}]\n{V1}"))
    assert _rule(out)["matches"] == expected


def test_match_alternatives_or_and_mesh_only_ones() -> None:
    out = run(SERVICE, SUBSETS, vs(f"  - match: [{{uri: {{exact: /a}}}}, {{uri: {{exact: /b}}, gateways: [ingress]}}, "
                                   f"{{uri: {{exact: /c}}}}]\n{V1}"))
    assert [m["path"]["value"] for m in _rule(out)["matches"]] == ["/a", "/c"]


@pytest.mark.parametrize("match, text, path", [
    ("{withoutHeaders: {x-debug: {}}}", "no negative match", "spec.http[0].match[0].withoutHeaders.x-debug"),
    ("{scheme: {exact: https}}", "scheme match", "spec.http[0].match[0].scheme"),
    ("{authority: {exact: a.b}}", "authority match", "spec.http[0].match[0].authority"),
    ("{sourceLabels: {app: web}}", "sourceLabels", "spec.http[0].match[0].sourceLabels"),
    ("{sourceNamespace: web}", "sourceNamespace web", "spec.http[0].match[0].sourceNamespace"),
])
def test_unmatchable_conditions_are_dropped_and_reported(match: str, text: str, path: str) -> None:
    out = run(SERVICE, SUBSETS, vs(f"  - match: [{match}]\n{V1}"))
    assert has_loss(out, "MSH400", text, path)
    assert "matches" not in _rule(out)  # broader: every request


def test_prefix_is_reported_and_slash_prefix_is_not() -> None:
    fired = run(SERVICE, SUBSETS, vs(f"  - match: [{{uri: {{prefix: /api}}}}]\n{V1}"))
    assert has_loss(fired, "MSH401", "matches whole path segments", "spec.http[0].match[0].uri")
    clean = run(SERVICE, SUBSETS, vs(f"  - match: [{{uri: {{prefix: /}}}}]\n{V1}"))
    assert "matches" not in _rule(clean) and not has_loss(clean, "MSH401", "PathPrefix")


def test_unknown_method_leaves_the_rule_out() -> None:
    out = run(SERVICE, SUBSETS, vs(f"  - match: [{{method: {{exact: FETCH}}}}]\n{V1}"))
    assert of_kind(out, "HTTPRoute") == []
    assert has_loss(out, "MSH400", "matches none of the methods") and has_loss(out, "MSH400", "rule was left out")


def test_order_changes_are_reported_only_when_gateway_precedence_differs() -> None:
    shadowed = vs(f"  - match: [{{uri: {{prefix: /}}}}]\n{V1}  - match: [{{uri: {{exact: /x}}}}]\n{V1}")
    assert has_loss(run(SERVICE, SUBSETS, shadowed), "MSH401", "Gateway API precedence")
    safe = vs(f"  - match: [{{uri: {{exact: /x}}}}]\n{V1}  - match: [{{uri: {{prefix: /}}}}]\n{V1}")
    assert not has_loss(run(SERVICE, SUBSETS, safe), "MSH401", "Gateway API precedence")


def test_weights_ports_and_other_hosts() -> None:
    other = """
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: other}
spec: {selector: {app: ratings}, ports: [{name: http, port: 8080}]}
"""
    out = run(SERVICE, SUBSETS, other, vs("""  - route:
    - {destination: {host: reviews, subset: v1}, weight: 70}
    - {destination: {host: ratings.other.svc.cluster.local}, weight: 30}
"""))
    assert _rule(out)["backendRefs"] == [
        {"name": "reviews-v1", "port": 9080, "weight": 70},
        {"name": "ratings", "namespace": "other", "port": 8080, "weight": 30},
    ]
    [grant] = of_kind(out, "ReferenceGrant")
    assert grant["metadata"]["namespace"] == "other"
    assert grant["spec"]["from"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "shop"}]


def test_missing_subset_and_external_hosts_are_left_out() -> None:
    out = run(SERVICE, SUBSETS, vs("""  - route:
    - {destination: {host: reviews, subset: v9}, weight: 50}
    - {destination: {host: reviews, subset: v1}, weight: 50}
"""))
    assert _rule(out)["backendRefs"] == [{"name": "reviews-v1", "port": 9080, "weight": 50}]
    assert has_loss(out, "MSH400", "subset 'v9'", "spec.http[0].route[0].destination.subset")
    external = run(SERVICE, vs("  - route: [{destination: {host: api.example.com}}]\n", hosts="[api.example.com]"))
    assert of_kind(external, "HTTPRoute") == [] and has_loss(external, "MSH400", "not a Kubernetes Service")


def test_a_rule_without_backends_is_never_written() -> None:
    out = run(SERVICE, vs("  - route: [{destination: {host: reviews, subset: v1}}]\n"))
    assert of_kind(out, "HTTPRoute") == []
    assert has_loss(out, "MSH400", "Linkerd would send its requests to the parent Service")


def test_multi_port_service_needs_a_port_per_route() -> None:
    multi = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}, {name: http-admin, port: 9090}]}
"""
    out = run(multi, vs("  - route: [{destination: {host: reviews}}]\n"))
    routes = {r["metadata"]["name"]: r["spec"] for r in of_kind(out, "HTTPRoute")}
    assert sorted(routes) == ["reviews-9080", "reviews-9090"]
    assert routes["reviews-9090"]["parentRefs"][0]["port"] == 9090
    assert routes["reviews-9090"]["rules"][0]["backendRefs"] == [{"name": "reviews", "port": 9090, "weight": 1}]
    explicit = run(multi, vs("  - route: [{destination: {host: reviews, port: {number: 9080}}}]\n"))
    [route] = of_kind(explicit, "HTTPRoute")
    assert "port" not in route["spec"]["parentRefs"][0]


def test_header_filters_and_redirect() -> None:
    out = run(SERVICE, SUBSETS, vs("""  - headers:
      request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
      response: {remove: [server]}
    route:
    - destination: {host: reviews, subset: v1}
      headers: {request: {set: {x-d: "3"}}}
  - redirect: {uri: /new, authority: example.com, scheme: https}
"""))
    first, second = of_kind(out, "HTTPRoute")[0]["spec"]["rules"]
    assert first["filters"] == [
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {
            "set": [{"name": "x-a", "value": "1"}], "add": [{"name": "x-b", "value": "2"}], "remove": ["x-c"]}},
        {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"remove": ["server"]}},
    ]
    assert first["backendRefs"][0]["filters"] == [
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x-d", "value": "3"}]}}]
    assert second == {"filters": [{"type": "RequestRedirect", "requestRedirect": {
        "scheme": "https", "hostname": "example.com", "path": {"type": "ReplaceFullPath", "replaceFullPath": "/new"},
        "statusCode": 301}}]}
    assert has_loss(out, "MSH401", "ReplaceFullPath", "spec.http[1].redirect.uri")


@pytest.mark.parametrize("feature, text, path", [
    ("rewrite: {uri: /v2}", "URLRewrite", "spec.http[0].rewrite"),
    ("mirror: {host: reviews, subset: v2}", "no request mirroring", "spec.http[0].mirror"),
    ("corsPolicy: {allowOrigins: [{exact: 'https://a'}]}", "no CORS support", "spec.http[0].corsPolicy"),
    ("fault: {abort: {httpStatus: 500, percentage: {value: 10}}}", "fault.abort", "spec.http[0].fault.abort"),
    ("fault: {delay: {fixedDelay: 1s, percentage: {value: 10}}}", "fault.delay", "spec.http[0].fault.delay"),
])
def test_filters_linkerd_would_reject_are_never_written(feature: str, text: str, path: str) -> None:
    out = run(SERVICE, SUBSETS, vs(f"  - {feature}\n{V1}"))
    assert has_loss(out, "MSH400", text, path)
    rule = _rule(out)
    assert "filters" not in rule and rule["backendRefs"] == [{"name": "reviews-v1", "port": 9080, "weight": 1}]


def test_direct_response_and_delegate_leave_the_rule_out() -> None:
    out = run(SERVICE, SUBSETS, vs(f"  - directResponse: {{status: 503}}\n  - delegate: {{name: other}}\n{V1}"))
    assert has_loss(out, "MSH400", "directResponse") and has_loss(out, "MSH400", "delegate shop/other")


def test_placement_producer_consumer_and_ingress() -> None:
    svc = SERVICE.replace("namespace: shop", "namespace: books")
    base = vs("  - route: [{destination: {host: reviews.books.svc.cluster.local}}]\n",
              hosts="[reviews.books.svc.cluster.local]")
    [producer] = of_kind(run(svc, base), "HTTPRoute")
    assert producer["metadata"]["namespace"] == "books"
    consumer_vs = base.replace("spec:\n", "spec:\n  exportTo: ['.']\n")
    [consumer] = of_kind(run(svc, consumer_vs), "HTTPRoute")
    assert consumer["metadata"]["namespace"] == "shop"
    assert consumer["spec"]["parentRefs"][0]["namespace"] == "books"
    ingress = run(SERVICE, SUBSETS, vs(V1.replace("    route", "  - route"), extra="  gateways: [public]\n"))
    assert of_kind(ingress, "HTTPRoute") == [] and has_loss(ingress, "MSH400", "Linkerd has no ingress")
    both = run(SERVICE, SUBSETS, vs(V1.replace("    route", "  - route"), extra="  gateways: [public, mesh]\n"))
    assert len(of_kind(both, "HTTPRoute")) == 1 and has_loss(both, "MSH400", "mesh traffic only")


def test_tcp_routes_and_service_profiles_in_the_inputs() -> None:
    profile = """
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: reviews.shop.svc.cluster.local, namespace: shop}
spec: {routes: [{name: all, condition: {pathRegex: '.*'}}]}
"""
    out = run(SERVICE, SUBSETS, profile, vs(V1.replace("    route", "  - route")
                                            + "  tcp:\n  - route: [{destination: {host: reviews}}]\n"))
    assert has_loss(out, "MSH400", "tcp route")
    assert has_loss(out, "MSH400", "Linkerd ignores HTTPRoutes")
    assert not has_loss(run(SERVICE, SUBSETS, vs(V1.replace("    route", "  - route"))), "MSH400", "ignores HTTPRoutes")


def test_output_is_deterministic_and_stamped() -> None:
    texts = (SERVICE, SUBSETS, vs(f"  - match: [{{uri: {{exact: /a}}}}]\n{V1}"))
    assert run(*texts).resources == run(*texts).resources
    route = named(run(*texts), "HTTPRoute", "reviews")
    assert route["metadata"]["annotations"]["meshctl.io/translated-from"] == "VirtualService/shop/reviews"
    assert linkerd_annotations(route) == {}
    assert messages(run(*texts)) == messages(run(*texts))
