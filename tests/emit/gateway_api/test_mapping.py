"""Each mapping row, Istio in and the Gateway API it becomes, written out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emit.gateway_api.harness import (
    analyzed,
    find,
    has_loss,
    messages,
    resources,
    spec,
    translated,
    validated,
)

SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""

PARENT = {"group": "", "kind": "Service", "name": "reviews", "port": 9080}


def vs(http: str, *, name: str = "reviews", hosts: str = "[reviews]", extra: str = "") -> str:
    """SERVICES plus one VirtualService in shop with the given ``http`` list (YAML, indented 2)."""
    return SERVICES + f"""---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: shop}}
spec:
  hosts: {hosts}
{extra}  http:
{http}"""


def rules(text: str, channel: str = "standard", name: str = "reviews") -> list[dict[str, Any]]:
    out = translated(text, channel)
    assert validated(out, channel) == []
    return spec(out, "HTTPRoute", name)["rules"]  # type: ignore[no-any-return]


# -- §5.1 / §5.2 worked examples ----------------------------------------------------------------
CANARY = vs("""  - name: canary
    route:
    - destination: {host: reviews.shop.svc.cluster.local, subset: v1, port: {number: 9080}}
      weight: 80
    - destination: {host: reviews.shop.svc.cluster.local, subset: v2, port: {number: 9080}}
      weight: 20
    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,reset"}
""", hosts="[reviews.shop.svc.cluster.local]")


def test_canary_with_retries_in_the_experimental_channel() -> None:
    out = translated(CANARY, "experimental")
    route = find(out, "HTTPRoute", "reviews")
    assert route["metadata"] == {
        "name": "reviews", "namespace": "shop",
        "annotations": {"meshctl.io/translated-from": "VirtualService/shop/reviews",
                        "timeout.linkerd.io/request": "3s"},
    }
    assert route["spec"] == {
        "parentRefs": [PARENT],
        "rules": [{
            "name": "canary",
            "backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 80},
                            {"name": "reviews-v2", "port": 9080, "weight": 20}],
            "timeouts": {"request": "3s", "backendRequest": "1s"},
            "retry": {"attempts": 2, "codes": [500, 501, 502, 503, 504]},
        }],
    }
    assert spec(out, "Service", "reviews-v1") == {
        "selector": {"app": "reviews", "version": "v1"},
        "ports": [{"name": "http", "port": 9080, "targetPort": 9080}],
    }
    assert find(out, "Service", "reviews-v2")["metadata"]["annotations"] == {
        "meshctl.io/translated-from": "DestinationRule/shop/reviews"}
    assert has_loss(out, "MSH400", "retryOn reset")
    assert has_loss(out, "MSH401", "generated Service reviews-v1", "subset 'v1'")
    assert validated(out, "experimental") == []


def test_canary_in_the_standard_channel_reports_the_retry_instead() -> None:
    out = translated(CANARY, "standard")
    rule = spec(out, "HTTPRoute", "reviews")["rules"][0]
    assert "retry" not in rule
    assert rule["timeouts"] == {"request": "3s"}  # no backendRequest without a retry stanza
    assert has_loss(out, "MSH400", "experimental channel only")
    assert validated(out, "standard") == []


def test_header_routing_to_v2_default_v1() -> None:
    text = vs("""  - name: jason-to-v2
    match:
    - headers: {end-user: {exact: jason}}
    route:
    - destination: {host: reviews, subset: v2}
  - name: default
    route:
    - destination: {host: reviews, subset: v1}
""")
    assert rules(text) == [
        {"name": "jason-to-v2",
         "matches": [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}],
         "backendRefs": [{"name": "reviews-v2", "port": 9080, "weight": 1}]},
        {"name": "default", "backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 1}]},
    ]
    assert not has_loss(translated(text), "MSH401", "rule order")


# -- matches -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("istio", "gateway_api"), [
    ("{uri: {exact: /a}}", {"path": {"type": "Exact", "value": "/a"}}),
    ("{uri: {prefix: /a/}}", {"path": {"type": "PathPrefix", "value": "/a/"}}),
    ("{uri: {regex: '/a/[0-9]+'}}", {"path": {"type": "RegularExpression", "value": "/a/[0-9]+"}}),
    ("{uri: {exact: /Login}, ignoreUriCase: true}", {"path": {"type": "RegularExpression", "value": "(?i)/Login"}}),
    ("{uri: {exact: '/a b'}}", {"path": {"type": "RegularExpression", "value": "/a b"}}),
    ("{headers: {x-a: {exact: b}}}", {"headers": [{"type": "Exact", "name": "x-a", "value": "b"}]}),
    ("{headers: {x-a: {regex: 'b.+'}}}", {"headers": [{"type": "RegularExpression", "name": "x-a", "value": "b.+"}]}),
    ("{headers: {x-a: {prefix: b.c}}}", {"headers": [{"type": "RegularExpression", "name": "x-a", "value": "b\\.c.*"}]}),
    ("{headers: {x-a: {}}}", {"headers": [{"type": "RegularExpression", "name": "x-a", "value": ".*"}]}),
    ("{headers: {x-a: {exact: ''}}}", {"headers": [{"type": "RegularExpression", "name": "x-a", "value": "^$"}]}),
    ("{queryParams: {v: {exact: '2'}}}", {"queryParams": [{"type": "Exact", "name": "v", "value": "2"}]}),
    ("{queryParams: {v: {regex: '[0-9]'}}}", {"queryParams": [{"type": "RegularExpression", "name": "v",
                                                                "value": "[0-9]"}]}),
    ("{method: {exact: POST}}", {"method": "POST"}),
    ("{uri: {prefix: /}}", None),
])
def test_one_match(istio: str, gateway_api: dict[str, object] | None) -> None:
    text = vs(f"""  - match: [{istio}]
    route: [{{destination: {{host: reviews}}}}]
""")
    rule = rules(text)[0]
    assert rule.get("matches") == ([gateway_api] if gateway_api else None)


def test_a_method_regex_becomes_one_match_per_method() -> None:
    text = vs("""  - match: [{method: {regex: "GET|HEAD"}, uri: {exact: /a}}]
    route: [{destination: {host: reviews}}]
""")
    assert rules(text)[0]["matches"] == [
        {"path": {"type": "Exact", "value": "/a"}, "method": "GET"},
        {"path": {"type": "Exact", "value": "/a"}, "method": "HEAD"},
    ]


def test_matches_of_a_rule_stay_alternatives() -> None:
    text = vs("""  - match: [{uri: {exact: /a}}, {uri: {exact: /b}}]
    route: [{destination: {host: reviews}}]
""")
    assert rules(text)[0]["matches"] == [{"path": {"type": "Exact", "value": "/a"}},
                                         {"path": {"type": "Exact", "value": "/b"}}]


# -- destinations ----------------------------------------------------------------------------------------
def test_weights_ports_and_per_destination_headers() -> None:
    text = vs("""  - route:
    - destination: {host: reviews, subset: v1}
      weight: 70
      headers: {request: {set: {x-v: "1"}}}
    - destination: {host: web}
      weight: 30
""")
    assert rules(text)[0]["backendRefs"] == [
        {"name": "reviews-v1", "port": 9080, "weight": 70, "filters": [
            {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x-v", "value": "1"}]}}]},
        {"name": "web", "port": 80, "weight": 30},
    ]


def test_a_per_version_service_of_the_inputs_is_reused() -> None:
    text = vs("""  - route: [{destination: {host: reviews, subset: v1}}]
""") + """---
apiVersion: v1
kind: Service
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {app: reviews, version: v1}
  ports: [{name: http, port: 9080}]
"""
    out = translated(text)
    assert resources(out, "Service") == []
    assert rules(text)[0]["backendRefs"] == [{"name": "reviews-v1", "port": 9080, "weight": 1}]


def test_a_service_of_the_same_name_with_another_selector_is_not_replaced() -> None:
    text = vs("""  - route: [{destination: {host: reviews, subset: v1}}]
""") + """---
apiVersion: v1
kind: Service
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {app: other}
  ports: [{name: http, port: 9080}]
"""
    out = translated(text)
    assert [r["metadata"]["name"] for r in resources(out, "Service")] == ["reviews-v1-2"]
    assert spec(out, "HTTPRoute", "reviews")["rules"][0]["backendRefs"][0]["name"] == "reviews-v1-2"


def test_a_backend_in_another_namespace_gets_a_reference_grant() -> None:
    text = vs("""  - route: [{destination: {host: auth.sec.svc.cluster.local}}]
""") + """---
apiVersion: v1
kind: Service
metadata: {name: auth, namespace: sec}
spec:
  selector: {app: auth}
  ports: [{name: http, port: 8000}]
"""
    out = translated(text)
    assert spec(out, "HTTPRoute", "reviews")["rules"][0]["backendRefs"] == [
        {"name": "auth", "namespace": "sec", "port": 8000, "weight": 1}]
    grant = find(out, "ReferenceGrant")
    assert grant["apiVersion"] == "gateway.networking.k8s.io/v1beta1"
    assert grant["metadata"]["namespace"] == "sec"
    assert grant["spec"] == {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "shop"}],
        "to": [{"group": "", "kind": "Service", "name": "auth"}],
    }
    assert validated(out) == []
    assert analyzed(out, text) == []


# -- filters -------------------------------------------------------------------------------------------
def test_header_modifiers() -> None:
    text = vs("""  - route: [{destination: {host: reviews}}]
    headers:
      request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
      response: {set: {x-d: "3"}, remove: [x-e]}
""")
    assert rules(text)[0]["filters"] == [
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {
            "set": [{"name": "x-a", "value": "1"}], "add": [{"name": "x-b", "value": "2"}], "remove": ["x-c"]}},
        {"type": "ResponseHeaderModifier", "responseHeaderModifier": {
            "set": [{"name": "x-d", "value": "3"}], "remove": ["x-e"]}},
    ]


@pytest.mark.parametrize(("istio", "redirect"), [
    ("{uri: /new}", {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/new"}, "statusCode": 301}),
    ("{authority: new.example.com, redirectCode: 302}", {"hostname": "new.example.com", "statusCode": 302}),
    ("{authority: 'new.example.com:8443', scheme: https}",
     {"scheme": "https", "hostname": "new.example.com", "port": 8443, "statusCode": 301}),
    ("{port: 8080, redirectCode: 308}", {"port": 8080, "statusCode": 308}),
])
def test_redirects(istio: str, redirect: dict[str, object]) -> None:
    text = vs(f"""  - match: [{{uri: {{exact: /old}}}}]
    redirect: {istio}
""")
    assert rules(text)[0] == {
        "matches": [{"path": {"type": "Exact", "value": "/old"}}],
        "filters": [{"type": "RequestRedirect", "requestRedirect": redirect}],
    }


def test_rewrites_replace_the_full_path_of_an_exact_match() -> None:
    text = vs("""  - match: [{uri: {exact: /a}}, {uri: {exact: /b}}]
    rewrite: {uri: /c, authority: internal.example.com}
    route: [{destination: {host: reviews}}]
""")
    assert rules(text)[0]["filters"] == [{"type": "URLRewrite", "urlRewrite": {
        "hostname": "internal.example.com", "path": {"type": "ReplaceFullPath", "replaceFullPath": "/c"}}}]


def test_a_prefix_rewrite_gets_one_rule_per_prefix() -> None:
    text = vs("""  - name: legacy
    match: [{uri: {prefix: /v1/}}, {uri: {prefix: /old/}}]
    rewrite: {uri: /v2/}
    route: [{destination: {host: reviews}}]
""")
    rewrite = {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/v2/"}}}
    backend = [{"name": "reviews", "port": 9080, "weight": 1}]
    assert rules(text) == [
        {"name": "legacy", "matches": [{"path": {"type": "PathPrefix", "value": "/v1/"}}],
         "filters": [rewrite], "backendRefs": backend},
        {"name": "legacy-2", "matches": [{"path": {"type": "PathPrefix", "value": "/old/"}}],
         "filters": [rewrite], "backendRefs": backend},
    ]


def test_a_prefix_rewrite_of_every_path_names_the_root_prefix() -> None:
    text = vs("""  - rewrite: {uri: /app/}
    route: [{destination: {host: reviews}}]
""")
    assert rules(text)[0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]


def test_mirrors_with_and_without_a_share() -> None:
    text = vs("""  - route: [{destination: {host: reviews, subset: v1}}]
    mirrors:
    - destination: {host: reviews, subset: v2}
      percentage: {value: 12.5}
    - destination: {host: web}
""")
    assert rules(text)[0]["filters"] == [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "reviews-v2", "port": 9080},
                                                   "fraction": {"numerator": 125, "denominator": 1000}}},
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web", "port": 80}}},
    ]


def test_legacy_mirror_percentage() -> None:
    text = vs("""  - route: [{destination: {host: reviews}}]
    mirror: {host: web}
    mirrorPercentage: {value: 50}
""")
    assert rules(text)[0]["filters"] == [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web", "port": 80}, "percent": 50}}]


def test_cors() -> None:
    text = vs("""  - route: [{destination: {host: reviews}}]
    corsPolicy:
      allowOrigins: [{exact: "https://a.example.com"}, {exact: "https://b.example.com:8443"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-token]
      exposeHeaders: [x-trace]
      maxAge: 90s
      allowCredentials: true
""")
    assert rules(text)[0]["filters"] == [{"type": "CORS", "cors": {
        "allowOrigins": ["https://a.example.com", "https://b.example.com:8443"],
        "allowCredentials": True, "allowMethods": ["GET", "POST"], "allowHeaders": ["x-token"],
        "exposeHeaders": ["x-trace"], "maxAge": 90}}]


def test_timeouts_in_gateway_api_durations() -> None:
    text = vs("""  - route: [{destination: {host: reviews}}]
    timeout: 1m30s
""")
    assert rules(text)[0]["timeouts"] == {"request": "90s"}


@pytest.mark.parametrize(("retry_on", "codes"), [
    (None, [503]),
    ("gateway-error,connect-failure", [502, 503, 504]),
    ("retriable-4xx,503", [409, 503]),
    ("connect-failure,refused-stream", None),
])
def test_retry_codes(retry_on: str | None, codes: list[int] | None) -> None:
    on = f", retryOn: '{retry_on}'" if retry_on else ""
    text = vs(f"""  - route: [{{destination: {{host: reviews}}}}]
    retries: {{attempts: 4, retryRemoteLocalities: false{on}, backoff: 250ms}}
""")
    retry = rules(text, "experimental")[0]["retry"]
    expected = {"attempts": 4, "backoff": "250ms"} | ({"codes": codes} if codes else {})
    assert retry == expected


def test_a_per_try_timeout_longer_than_the_request_timeout_is_capped() -> None:
    text = vs("""  - route: [{destination: {host: reviews}}]
    timeout: 2s
    retries: {attempts: 2, perTryTimeout: 5s}
""")
    assert rules(text, "experimental")[0]["timeouts"] == {"request": "2s", "backendRequest": "2s"}


def test_the_losses_are_reported_at_the_field() -> None:
    text = vs("""  - route: [{destination: {host: reviews}}]
    fault: {delay: {fixedDelay: 5s, percentage: {value: 10}}}
""")
    out = translated(text)
    [finding] = [f for f in out.findings if "fault injection" in f.message]
    assert finding.code == "MSH400"
    assert finding.location is not None and finding.location.path == "spec.http[0].fault"
    assert "delay 5s for 10% of requests" in messages(out, "MSH400")[0]


def test_degenerate_uri_matches_stay_valid() -> None:
    text = vs("""  - match: [{uri: {exact: ''}}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {}}]
    route: [{destination: {host: reviews}}]
""")
    assert [r.get("matches") for r in rules(text)] == [[{"path": {"type": "RegularExpression", "value": "^$"}}], None]
