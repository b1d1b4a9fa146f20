"""VirtualService http rules -> Envoy routes, row by row of envoy-translation.md §1.

Expected values are written from the reference tables, not produced by the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshctl.emit.envoy import EnvoyOptions, translate
from meshctl.emit.envoy.routes import split_retry_on
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.objects import MeshConfig

SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""

DEFAULT_RETRY = {
    "retry_on": "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
    "num_retries": 2,
    "retry_host_predicate": [{
        "name": "envoy.retry_host_predicates.previous_hosts",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"},
    }],
    "host_selection_retry_max_attempts": 5,
}
V1 = "outbound|9080|v1|reviews.shop.svc.cluster.local"
V2 = "outbound|9080|v2|reviews.shop.svc.cluster.local"


def compile_mesh(extra: str, namespace: str = "shop", config: MeshConfig | None = None) -> Any:
    docs = read_text(SERVICES + "---\n" + extra, "mesh.yaml").docs
    return translate(lower(docs, config), EnvoyOptions(namespace=namespace))


def route_config(out: Any, name: str = "9080") -> dict[str, Any]:
    for listener in out.bootstrap["static_resources"]["listeners"]:
        hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
        if hcm["route_config"]["name"] == name:
            return hcm["route_config"]
    raise AssertionError(f"no route configuration {name}")


def vhost(out: Any, name: str = "reviews.shop.svc.cluster.local:9080") -> dict[str, Any]:
    return next(v for v in route_config(out)["virtual_hosts"] if v["name"] == name)


def vs(http: str) -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: shop}}
spec:
  hosts: [reviews]
  http:
{http}"""


def test_service_without_virtual_service_gets_istios_default_route() -> None:
    out = compile_mesh("")
    assert vhost(out)["routes"] == [{
        "name": "default",
        "match": {"prefix": "/"},
        "route": {
            "cluster": "outbound|9080||reviews.shop.svc.cluster.local",
            "timeout": "0s",
            "max_grpc_timeout": "0s",
            "retry_policy": DEFAULT_RETRY,
        },
        "decorator": {"operation": "reviews.shop.svc.cluster.local:9080/*"},
    }]


def test_domains_for_a_client_in_the_same_and_another_namespace() -> None:
    assert vhost(compile_mesh(""))["domains"] == [
        "reviews.shop.svc.cluster.local", "reviews.shop.svc.cluster.local.", "reviews", "reviews.shop.svc",
        "reviews.shop",
    ]
    assert vhost(compile_mesh("", namespace="web"))["domains"] == [
        "reviews.shop.svc.cluster.local", "reviews.shop.svc.cluster.local.", "reviews.shop", "reviews.shop.svc",
    ]


def test_route_configuration_defaults_and_catch_all_last() -> None:
    config = route_config(compile_mesh(""))
    assert config["validate_clusters"] is False
    assert config["ignore_port_in_host_matching"] is True
    assert config["max_direct_response_body_size_bytes"] == 1048576
    assert [v["name"] for v in config["virtual_hosts"]] == [
        "ratings.shop.svc.cluster.local:9080", "reviews.shop.svc.cluster.local:9080", "allow_any",
    ]
    assert config["virtual_hosts"][-1]["routes"][0]["route"]["cluster"] == "PassthroughCluster"


def test_registry_only_ends_with_block_all() -> None:
    out = compile_mesh("", config=MeshConfig(outbound_traffic_policy="REGISTRY_ONLY"))
    last = route_config(out)["virtual_hosts"][-1]
    assert last["name"] == "block_all"
    assert last["routes"][0]["direct_response"] == {"status": 502}


def test_header_match_then_weighted_split() -> None:
    out = compile_mesh(vs("""
  - name: canary
    match:
    - name: hdr
      headers: {x-canary: {exact: "1"}}
    route: [{destination: {host: reviews, subset: v2}}]
  - name: split
    timeout: 10s
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20}
"""))
    canary, split = vhost(out)["routes"]
    assert canary["name"] == "canary.hdr"
    assert canary["match"] == {
        "prefix": "/", "case_sensitive": True,
        "headers": [{"name": "x-canary", "string_match": {"exact": "1"}}],
    }
    assert canary["route"]["cluster"] == V2
    assert canary["decorator"] == {"operation": "reviews.shop.svc.cluster.local:9080/*"}
    assert split["match"] == {"prefix": "/"}
    assert split["route"]["weighted_clusters"] == {"clusters": [{"name": V1, "weight": 80}, {"name": V2, "weight": 20}]}
    assert split["route"]["timeout"] == "10s" and split["route"]["max_grpc_timeout"] == "10s"
    assert split["decorator"] == {"operation": "reviews:9080/*"}


def test_match_forms() -> None:
    out = compile_mesh(vs("""
  - match:
    - uri: {regex: "/api/v[12]/.*"}
      ignoreUriCase: true
      method: {exact: POST}
      authority: {prefix: reviews}
      headers:
        x-present: {}
        x-b: {prefix: beta}
      withoutHeaders:
        x-debug: {exact: "1"}
      queryParams:
        q: {exact: "yes"}
        flag: {}
    route: [{destination: {host: reviews}}]
"""))
    assert vhost(out)["routes"][0]["match"] == {
        "safe_regex": {"regex": "/api/v[12]/.*"},
        "case_sensitive": False,
        "headers": [
            {"name": "x-b", "string_match": {"prefix": "beta"}},
            {"name": "x-debug", "string_match": {"exact": "1"}, "invert_match": True,
             "treat_missing_header_as_empty": True},
            {"name": "x-present", "present_match": True},
            {"name": ":method", "string_match": {"exact": "POST"}},
            {"name": ":authority", "string_match": {"prefix": "reviews"}},
        ],
        "query_parameters": [
            {"name": "flag", "present_match": True},
            {"name": "q", "string_match": {"exact": "yes"}},
        ],
    }


def test_routes_after_a_catch_all_are_dropped_and_port_matches_filter() -> None:
    out = compile_mesh(vs("""
  - name: other-port
    match: [{port: 8080, uri: {prefix: /x}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: all
    match: [{uri: {prefix: /}}, {uri: {prefix: /never}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - name: unreachable
    route: [{destination: {host: reviews, subset: v2}}]
"""))
    assert [r["name"] for r in vhost(out)["routes"]] == ["all"]


@pytest.mark.parametrize(
    ("retries", "expected"),
    [
        ("attempts: 0", None),
        ("attempts: 5", {**DEFAULT_RETRY, "num_retries": 5}),
        (
            'attempts: 3\n      perTryTimeout: 2s\n      retryOn: "gateway-error,connect-failure,503"',
            {
                "retry_on": "gateway-error,connect-failure,retriable-status-codes",
                "num_retries": 3,
                "per_try_timeout": "2s",
                "retriable_status_codes": [503],
                "retry_host_predicate": DEFAULT_RETRY["retry_host_predicate"],
                "host_selection_retry_max_attempts": 5,
            },
        ),
        (
            "attempts: 2\n      retryIgnorePreviousHosts: false\n      backoff: 250ms",
            {"retry_on": DEFAULT_RETRY["retry_on"], "num_retries": 2, "retry_back_off": {"base_interval": "0.25s"}},
        ),
    ],
)
def test_retries(retries: str, expected: dict[str, Any] | None) -> None:
    out = compile_mesh(vs(f"""
  - retries:
      {retries}
    route: [{{destination: {{host: reviews}}}}]
"""))
    assert vhost(out)["routes"][0]["route"].get("retry_policy") == expected


def test_retry_on_split() -> None:
    assert split_retry_on("5xx, 503 ,gateway-error") == ("5xx,gateway-error,retriable-status-codes", [503])
    assert split_retry_on("503,retriable-status-codes") == ("retriable-status-codes", [503])
    assert split_retry_on("connect-failure") == ("connect-failure", [])


def test_fault_delay_and_abort() -> None:
    out = compile_mesh(vs("""
  - fault:
      delay: {fixedDelay: 2s, percentage: {value: 5}}
      abort: {httpStatus: 503, percentage: {value: 1}}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /b}}]
    fault:
      abort: {httpStatus: 500}
    route: [{destination: {host: reviews}}]
"""))
    first = vhost(out)["routes"][0]["typed_per_filter_config"]["envoy.filters.http.fault"]
    assert first == {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        "delay": {"fixed_delay": "2s", "percentage": {"numerator": 50000, "denominator": "MILLION"}},
        "abort": {"http_status": 503, "percentage": {"numerator": 10000, "denominator": "MILLION"}},
    }


def test_abort_without_percentage_has_no_percentage_field() -> None:
    out = compile_mesh(vs("""
  - fault:
      abort: {httpStatus: 500}
    route: [{destination: {host: reviews}}]
"""))
    fault = vhost(out)["routes"][0]["typed_per_filter_config"]["envoy.filters.http.fault"]
    assert fault["abort"] == {"http_status": 500}


def test_exponential_delay_is_a_loss_at_its_position() -> None:
    out = compile_mesh(vs("""
  - fault:
      delay: {exponentialDelay: 1s, percentage: {value: 10}}
    route: [{destination: {host: reviews}}]
"""))
    losses = [f for f in out.findings if f.code == "MSH400"]
    assert len(losses) == 1 and "exponential delay" in losses[0].message
    assert losses[0].location is not None and losses[0].location.path == "spec.http[0].fault"
    assert "typed_per_filter_config" not in vhost(out)["routes"][0]


def test_mirrors_redirect_rewrite_and_direct_response() -> None:
    out = compile_mesh(vs("""
  - name: mirror
    match: [{uri: {prefix: /m}}]
    mirror: {host: ratings}
    mirrorPercentage: {value: 25.5}
    mirrors:
    - destination: {host: reviews, subset: v2}
      percentage: {value: 0}
    route: [{destination: {host: reviews, subset: v1}}]
  - name: moved
    match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: example.com, redirectCode: 302}
  - name: perm
    match: [{uri: {exact: /perm}}]
    redirect: {uri: /p, derivePort: FROM_REQUEST_PORT}
  - name: rewrite
    match: [{uri: {prefix: /api}}]
    rewrite: {uri: /v2, authority: internal}
    route: [{destination: {host: reviews}}]
  - name: regex
    match: [{uri: {prefix: /r}}]
    rewrite: {uriRegexRewrite: {match: "^/r/(.*)$", rewrite: "/\\\\1"}}
    route: [{destination: {host: reviews}}]
  - name: teapot
    directResponse: {status: 418, body: {string: "short and stout"}}
"""))
    routes = {r["name"]: r for r in vhost(out)["routes"]}
    assert routes["mirror"]["route"]["request_mirror_policies"] == [{
        "cluster": "outbound|9080||ratings.shop.svc.cluster.local",
        "runtime_fraction": {"default_value": {"numerator": 255000, "denominator": "MILLION"}},
        "trace_sampled": False,
        "disable_shadow_host_suffix_append": True,
    }]
    assert routes["moved"]["redirect"] == {"path_redirect": "/new", "host_redirect": "example.com",
                                           "response_code": "FOUND"}
    assert routes["perm"]["redirect"] == {"path_redirect": "/p", "port_redirect": 9080,
                                          "response_code": "MOVED_PERMANENTLY"}
    assert routes["rewrite"]["route"]["prefix_rewrite"] == "/v2"
    assert routes["rewrite"]["route"]["host_rewrite_literal"] == "internal"
    assert routes["regex"]["route"]["regex_rewrite"] == {"pattern": {"regex": "^/r/(.*)$"}, "substitution": "/\\1"}
    assert routes["teapot"] == {"name": "teapot", "match": {"prefix": "/"},
                                "direct_response": {"status": 418, "body": {"inline_string": "short and stout"}}}


def test_header_manipulation_and_authority() -> None:
    out = compile_mesh(vs("""
  - headers:
      request:
        set: {x-b: "2", x-a: "1", ":authority": set.example}
        add: {x-c: "3", host: added.example}
        remove: [x-secret]
      response:
        add: {x-served: "yes"}
        remove: [server]
    route: [{destination: {host: reviews}}]
"""))
    route = vhost(out)["routes"][0]
    assert route["request_headers_to_add"] == [
        {"header": {"key": "x-a", "value": "1"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
        {"header": {"key": "x-b", "value": "2"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
        {"header": {"key": "x-c", "value": "3"}, "append_action": "APPEND_IF_EXISTS_OR_ADD"},
    ]
    assert route["request_headers_to_remove"] == ["x-secret"]
    assert route["response_headers_to_add"] == [
        {"header": {"key": "x-served", "value": "yes"}, "append_action": "APPEND_IF_EXISTS_OR_ADD"},
    ]
    assert route["response_headers_to_remove"] == ["server"]
    assert route["route"]["host_rewrite_literal"] == "set.example"


def test_cors_policy() -> None:
    out = compile_mesh(vs("""
  - corsPolicy:
      allowOrigins: [{exact: "https://a.example"}, {regex: "https://.*\\\\.b\\\\.example"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-token]
      exposeHeaders: [x-trace]
      maxAge: 24h
      allowCredentials: true
      unmatchedPreflights: IGNORE
    route: [{destination: {host: reviews}}]
"""))
    cors = vhost(out)["routes"][0]["typed_per_filter_config"]["envoy.filters.http.cors"]
    assert cors == {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": "https://a.example"}, {"safe_regex": {"regex": "https://.*\\.b\\.example"}}],
        "allow_methods": "GET,POST",
        "allow_headers": "x-token",
        "expose_headers": "x-trace",
        "max_age": "86400",
        "allow_credentials": True,
        "filter_enabled": {"default_value": {"numerator": 100, "denominator": "HUNDRED"}},
        "forward_not_matching_preflights": False,
    }


def test_zero_weights_are_dropped_and_an_all_zero_rule_is_a_loss() -> None:
    out = compile_mesh(vs("""
  - match: [{uri: {prefix: /a}}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 100}
    - {destination: {host: reviews, subset: v2}, weight: 0}
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 0}
    - {destination: {host: reviews, subset: v2}, weight: 0}
"""))
    routes = vhost(out)["routes"]
    assert routes[0]["route"]["cluster"] == V1
    assert len(routes) == 1
    assert any(f.code == "MSH400" and "weight" in f.message for f in out.findings)


def test_unknown_destination_keeps_istios_cluster_name_and_says_so() -> None:
    out = compile_mesh(vs("""
  - route: [{destination: {host: missing, port: {number: 80}}}]
"""))
    assert vhost(out)["routes"][0]["route"]["cluster"] == "outbound|80||missing.shop.svc.cluster.local"
    assert any(f.code == "MSH401" and "missing.shop.svc.cluster.local" in f.message for f in out.findings)


def test_source_labels_match_is_left_out_with_a_note() -> None:
    out = compile_mesh(vs("""
  - match: [{sourceLabels: {app: web}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
"""))
    assert [r["route"]["cluster"] for r in vhost(out)["routes"]] == [V1]
    assert any(f.code == "MSH401" and "sourceLabels" in f.message for f in out.findings)


def test_virtual_service_bound_to_a_gateway_only_does_not_touch_sidecars() -> None:
    out = compile_mesh(vs("""
  - route: [{destination: {host: reviews, subset: v2}}]
""").replace("hosts: [reviews]", "hosts: [reviews]\n  gateways: [public]"))
    assert vhost(out)["routes"][0]["name"] == "default"


def test_stat_prefix_names_the_routes_stats() -> None:
    out = compile_mesh(vs("""
  - match: [{uri: {prefix: /a}, statPrefix: reviews_a}]
    route: [{destination: {host: reviews}}]
"""))
    assert vhost(out)["routes"][0]["stat_prefix"] == "reviews_a"


def test_traffic_policy_fields_the_model_does_not_carry_are_losses() -> None:
    out = compile_mesh("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: shop}
spec:
  host: ratings
  trafficPolicy:
    proxyProtocol: {version: V1}
    connectionPool:
      http: {http2KeepAlive: {time: 10s}}
""")
    lost = sorted((f.location.path, f.code) for f in out.findings if "is not translated to Envoy" in f.message)
    assert lost == [("spec.trafficPolicy.connectionPool.http.http2KeepAlive", "MSH400"),
                    ("spec.trafficPolicy.proxyProtocol", "MSH400")]
    assert not [f for f in compile_mesh("").findings if "is not translated" in f.message]
