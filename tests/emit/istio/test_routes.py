"""Gateway API routes -> VirtualServices, row by row (mesh-translation.md §4, and Istio's own
reading of HTTPRoute: precedence, segment prefixes, filters, 500 for what cannot be reached).

Expected values are written from the reference, not produced by the code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from meshctl.emit.istio import translate
from meshctl.emit.mesh_options import MeshOptions
from meshctl.model.objects import Retry
from tests.emit.istio.helpers import check_clean, has_loss, kinds, kubernetes_docs, line_of, model, run, spec

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
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {app: reviews, version: v1}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews-v2, namespace: shop}
spec:
  selector: {app: reviews, version: v2}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
"""
HOST = "reviews.shop.svc.cluster.local"
RATINGS = "ratings.shop.svc.cluster.local"


def route(rules: str, name: str = "reviews", namespace: str = "shop", parent: str = "reviews",
          extra: str = "") -> str:
    return SERVICES + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  parentRefs: [{{group: "", kind: Service, name: {parent}, namespace: shop, port: 9080}}]
{extra}  rules:
{rules}"""


def dest(host: str = RATINGS, subset: str | None = None, port: int = 9080) -> dict:
    out: dict = {"host": host}
    if subset:
        out["subset"] = subset
    out["port"] = {"number": port}
    return out


def http(text: str, name: str = "reviews", namespace: str = "shop", **options: object) -> list[dict]:
    return spec(run(text, **options), "VirtualService", name, namespace)["http"]


def test_a_service_parented_route_is_a_mesh_virtual_service_for_the_service_fqdn(tmp_path: Path) -> None:
    text = route("  - backendRefs: [{name: ratings, port: 9080}]\n")
    out = run(text)
    assert spec(out, "VirtualService", "reviews") == {
        "hosts": [HOST], "http": [{"match": [{"port": 9080}], "route": [{"destination": dest()}]}]}
    assert find_annotation(out) == "HTTPRoute/shop/reviews"
    check_clean(tmp_path, out, kubernetes_docs(text))


def find_annotation(out: object) -> str:
    return out.resources[0]["metadata"]["annotations"]["meshctl.io/translated-from"]  # type: ignore[attr-defined]


def test_matches_are_ordered_by_gateway_api_precedence() -> None:
    rules = """  - matches: [{path: {type: RegularExpression, value: "/r/.*"}}]
    backendRefs: [{name: ratings, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /a}}]
    backendRefs: [{name: reviews-v2, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /a}, headers: [{name: x, value: "1"}]}]
    backendRefs: [{name: reviews-v1, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /a}, method: POST}]
    backendRefs: [{name: ratings, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /a/b}}]
    backendRefs: [{name: reviews-v2, port: 9080}]
  - matches: [{path: {type: Exact, value: /a}}]
    backendRefs: [{name: reviews-v1, port: 9080}]
"""
    entries = http(route(rules))
    uris = [[m.get("uri") for m in e["match"]] for e in entries]
    assert uris == [
        [{"exact": "/a"}],                                   # exact path first
        [{"exact": "/a/b"}, {"prefix": "/a/b/"}],            # then the longest prefix
        [{"exact": "/a"}, {"prefix": "/a/"}],                # a method
        [{"exact": "/a"}, {"prefix": "/a/"}],                # more headers
        [{"exact": "/a"}, {"prefix": "/a/"}],                # the plain prefix
        [{"regex": "/r/.*"}],                                # regexes after every prefix (as Istio sorts)
    ]
    assert entries[2]["match"][0]["method"] == {"exact": "POST"}
    assert entries[3]["match"][0]["headers"] == {"x": {"exact": "1"}}


def test_a_path_prefix_keeps_segment_semantics() -> None:
    entries = http(route("  - matches: [{path: {type: PathPrefix, value: /api/}}]\n"
                         "    backendRefs: [{name: ratings, port: 9080}]\n"))
    # /api and /api/x, never /apix; the trailing slash of the prefix is ignored
    assert entries[0]["match"] == [{"uri": {"exact": "/api"}, "port": 9080}, {"uri": {"prefix": "/api/"}, "port": 9080}]


def test_query_params_and_headers_are_carried() -> None:
    entries = http(route("  - matches: [{queryParams: [{name: v, value: \"2\"}, {type: RegularExpression, name: w, "
                         "value: \"a.*\"}], headers: [{name: X-Env, value: test}]}]\n"
                         "    backendRefs: [{name: ratings, port: 9080}]\n"))
    assert entries[0]["match"] == [{"headers": {"x-env": {"exact": "test"}},
                                    "queryParams": {"v": {"exact": "2"}, "w": {"regex": "a.*"}}, "port": 9080}]


def test_per_version_services_become_subsets_of_the_parent(tmp_path: Path) -> None:
    text = route("  - backendRefs: [{name: reviews-v1, port: 9080, weight: 3}, {name: reviews-v2, port: 9080, "
                 "weight: 1}]\n")
    out = run(text)
    assert spec(out, "VirtualService", "reviews")["http"][0]["route"] == [
        {"destination": dest(HOST, "v1"), "weight": 75}, {"destination": dest(HOST, "v2"), "weight": 25}]
    assert spec(out, "DestinationRule", "reviews") == {"host": HOST, "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_a_service_narrowed_by_two_labels_or_another_target_port_stays_a_service() -> None:
    text = route("  - backendRefs: [{name: reviews-v1, port: 9080}, {name: reviews-v2, port: 9080}]\n")
    text = text.replace("selector: {app: reviews, version: v1}", "selector: {app: reviews, version: v1, tier: a}")
    text = text.replace("name: reviews-v2, namespace: shop}\nspec:\n  selector: {app: reviews, version: v2}\n"
                        "  ports: [{name: http, port: 9080, targetPort: 9080}]",
                        "name: reviews-v2, namespace: shop}\nspec:\n  selector: {app: reviews, version: v2}\n"
                        "  ports: [{name: http, port: 9080, targetPort: 8080}]")
    out = run(text)
    assert spec(out, "VirtualService", "reviews")["http"][0]["route"] == [
        {"destination": dest("reviews-v1.shop.svc.cluster.local"), "weight": 50},
        {"destination": dest("reviews-v2.shop.svc.cluster.local"), "weight": 50}]
    assert ("DestinationRule", "reviews") not in kinds(out)


def test_an_istio_destination_rule_of_the_inputs_lends_its_subset() -> None:
    text = route("  - backendRefs: [{name: reviews-v2, port: 9080}]\n") + """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: second, labels: {version: v2}}]
"""
    out = run(text)
    assert http(text)[0]["route"] == [{"destination": dest(HOST, "second")}]
    assert ("DestinationRule", "reviews") not in kinds(out)


def test_weights_that_do_not_divide_100_are_rounded_and_reported() -> None:
    text = route("  - backendRefs: [{name: ratings, port: 9080}, {name: reviews-v1, port: 9080}, "
                 "{name: reviews-v2, port: 9080}]\n")
    out = run(text)
    assert [r["weight"] for r in spec(out, "VirtualService", "reviews")["http"][0]["route"]] == [34, 33, 33]
    assert has_loss(out, "MSH401", line_of(text, "  - backendRefs"), "shares of 100: 34/33/33")
    even = route("  - backendRefs: [{name: ratings, port: 9080}, {name: reviews-v1, port: 9080}]\n")
    assert not has_loss(run(even), "MSH401", None, "shares of 100")


def test_header_modifiers_route_and_backend_level() -> None:
    rules = """  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-a, value: "1"}], add: [{name: x-b, value: "2"}], remove: [x-c]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: x-d, value: "3"}]}
    backendRefs:
    - name: ratings
      port: 9080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: x-backend, value: ratings}]}
"""
    entry = http(route(rules))[0]
    assert entry["headers"] == {"request": {"set": {"x-a": "1"}, "add": {"x-b": "2"}, "remove": ["x-c"]},
                                "response": {"set": {"x-d": "3"}}}
    assert entry["route"] == [{"destination": dest(), "headers": {"request": {"set": {"x-backend": "ratings"}}}}]


def test_a_redirect_writes_gateway_apis_302_and_the_schemes_port() -> None:
    rules = """  - filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, hostname: secure.example.com}
"""
    entry = http(route(rules))[0]
    assert entry["redirect"] == {"authority": "secure.example.com", "scheme": "https",
                                 "derivePort": "FROM_PROTOCOL_DEFAULT", "redirectCode": 302}
    assert "route" not in entry
    full = """  - filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}, statusCode: 301, port: 8443}
"""
    assert http(route(full))[0]["redirect"] == {"uri": "/new", "port": 8443, "redirectCode": 301}


def test_a_prefix_redirect_is_exact_for_the_prefix_itself_and_reported_below_it() -> None:
    text = route("""  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
""")
    out = run(text)
    entries = spec(out, "VirtualService", "reviews")["http"]
    assert [m["uri"] for m in entries[0]["match"]] == [{"exact": "/old"}, {"prefix": "/old/"}]
    assert entries[0]["redirect"] == {"uri": "/new", "redirectCode": 302}
    assert has_loss(out, "MSH400", line_of(text, "- type: RequestRedirect"), "replaces the whole path")


def test_a_prefix_rewrite_keeps_gateway_api_slash_semantics() -> None:
    entries = http(route("""  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: backend.internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    backendRefs: [{name: ratings, port: 9080}]
"""))
    # /api -> /v2 and /api/x -> /v2/x (an Istio prefix rewrite of /api/ by /v2 would give /v2x)
    assert [(e["match"][0]["uri"], e["rewrite"]) for e in entries] == [
        ({"exact": "/api"}, {"uri": "/v2", "authority": "backend.internal"}),
        ({"prefix": "/api/"}, {"uri": "/v2/", "authority": "backend.internal"})]


def test_a_root_prefix_rewrite_is_split_at_the_root_too() -> None:
    entries = http(route("""  - filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /app}}
    backendRefs: [{name: ratings, port: 9080}]
"""))
    assert [(e["match"][0]["uri"], e["rewrite"]["uri"]) for e in entries] == [
        ({"exact": "/"}, "/app"), ({"prefix": "/"}, "/app/")]


def test_a_full_path_rewrite_is_a_regex_rewrite_of_the_whole_path() -> None:
    entry = http(route("""  - filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /index.html}}
    backendRefs: [{name: ratings, port: 9080}]
"""))[0]
    assert entry["rewrite"] == {"uriRegexRewrite": {"match": "^/.*$", "rewrite": "/index.html"}}


def test_request_mirror_with_percent_and_fraction() -> None:
    entry = http(route("""  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: reviews-v2, port: 9080}, percent: 10}
    - type: RequestMirror
      requestMirror: {backendRef: {name: ratings, port: 9080}, fraction: {numerator: 1, denominator: 4}}
    backendRefs: [{name: reviews-v1, port: 9080}]
"""))[0]
    assert entry["mirrors"] == [  # reviews-v2 is recognisably a version of reviews: a subset
        {"destination": dest(HOST, "v2"), "percentage": {"value": 10.0}},
        {"destination": dest(), "percentage": {"value": 25.0}}]


def test_cors_filter_is_a_cors_policy() -> None:
    entry = http(route("""  - filters:
    - type: CORS
      cors:
        allowOrigins: ["https://shop.example.com", "https://*.example.org"]
        allowMethods: [GET, POST]
        allowHeaders: [x-user]
        exposeHeaders: [x-trace]
        maxAge: 600
        allowCredentials: true
    backendRefs: [{name: ratings, port: 9080}]
"""))[0]
    assert entry["corsPolicy"] == {
        "allowOrigins": [{"exact": "https://shop.example.com"}, {"regex": r"https://.*\.example\.org"}],
        "allowMethods": ["GET", "POST"], "allowHeaders": ["x-user"], "exposeHeaders": ["x-trace"],
        "maxAge": "600s", "allowCredentials": True}


def test_timeouts_request_is_the_route_timeout() -> None:
    entry = http(route("  - timeouts: {request: 5s}\n    backendRefs: [{name: ratings, port: 9080}]\n"))[0]
    assert entry["timeout"] == "5s"


def test_an_experimental_retry_is_istio_retries_with_its_connection_conditions() -> None:
    """The lowering does not read ``rules[].retry`` yet: the rule is given one here."""
    mesh = model(route("  - backendRefs: [{name: ratings, port: 9080}]\n"))
    found = next(r for r in mesh.routes if r.name == "reviews")
    rule = found.rules[0]
    retried = replace(rule, retry=Retry(3, "1s", "500,503", rule.origin, backoff="100ms"))
    mesh.routes[mesh.routes.index(found)] = replace(found, rules=(retried,))
    out = translate(mesh, MeshOptions())
    assert spec(out, "VirtualService", "reviews")["http"][0]["retries"] == {
        "attempts": 3, "retryOn": "connect-failure,refused-stream,unavailable,cancelled,500,503",
        "perTryTimeout": "1s", "backoff": "100ms"}


def test_extension_ref_is_reported_and_left_out() -> None:
    text = route("""  - filters:
    - type: ExtensionRef
      extensionRef: {group: example.com, kind: Rewriter, name: mine}
    backendRefs: [{name: ratings, port: 9080}]
""")
    out = run(text)
    assert has_loss(out, "MSH400", line_of(text, "- type: ExtensionRef"), "ExtensionRef")
    assert spec(out, "VirtualService", "reviews")["http"][0] == {"match": [{"port": 9080}],
                                                                 "route": [{"destination": dest()}]}


def test_an_unreachable_backend_share_is_a_500_abort() -> None:
    text = route("""  - backendRefs:
    - {name: ratings, port: 9080, weight: 3}
    - {group: example.com, kind: Bucket, name: static, weight: 1}
""")
    out = run(text)
    entry = spec(out, "VirtualService", "reviews")["http"][0]
    assert entry["fault"] == {"abort": {"httpStatus": 500, "percentage": {"value": 25.0}}}
    assert entry["route"] == [{"destination": dest()}]
    assert has_loss(out, "MSH400", line_of(text, "kind: Bucket"), "not a Service")


def test_another_namespace_needs_a_reference_grant() -> None:
    base = route("  - backendRefs: [{name: ratings, namespace: shop, port: 9080}]\n", namespace="front")
    out = run(base)
    entry = spec(out, "VirtualService", "reviews", "front")["http"][0]
    assert entry == {"match": [{"port": 9080}], "directResponse": {"status": 500}}
    assert has_loss(out, "MSH400", line_of(base, "- backendRefs"), "no ReferenceGrant in namespace shop")
    granted = base + """---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: front-to-shop, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}]
  to: [{group: "", kind: Service}]
"""
    out = run(granted)
    assert spec(out, "VirtualService", "reviews", "front")["http"][0]["route"] == [{"destination": dest()}]
    assert has_loss(out, "MSH401", line_of(granted, "kind: ReferenceGrant") - 1, "without a ReferenceGrant")


def test_a_rule_without_backends_is_a_500_for_istio() -> None:
    assert http(route("  - matches: [{path: {type: Exact, value: /gone}}]\n"))[0]["directResponse"] == {"status": 500}


def test_a_consumer_route_is_exported_to_its_namespace_only() -> None:
    out = run(route("  - backendRefs: [{name: ratings, namespace: shop, port: 9080}]\n", namespace="front")
              + """---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}]
  to: [{group: "", kind: Service}]
""")
    assert spec(out, "VirtualService", "reviews", "front")["exportTo"] == ["."]


def test_routes_for_one_service_are_merged_in_precedence_order() -> None:
    text = route("  - matches: [{path: {type: PathPrefix, value: /}}]\n"
                 "    backendRefs: [{name: reviews-v1, port: 9080}]\n")
    text += """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a-special, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - matches: [{path: {type: Exact, value: /special}}]
    backendRefs: [{name: reviews-v2, port: 9080}]
"""
    out = run(text)
    assert [k for k in kinds(out) if k[0] == "VirtualService"] == [("VirtualService", "reviews")]
    entries = spec(out, "VirtualService", "reviews")["http"]
    assert entries[0]["match"] == [{"uri": {"exact": "/special"}, "port": 9080}]
    assert entries[1]["match"] == [{"port": 9080}]
    assert out.resources[0]["metadata"]["annotations"]["meshctl.io/translated-from"] == \
        "HTTPRoute/shop/a-special,HTTPRoute/shop/reviews"


def test_adjacent_matches_with_the_same_action_share_one_entry() -> None:
    entries = http(route("""  - matches: [{path: {type: Exact, value: /a}}, {path: {type: Exact, value: /b}}]
    backendRefs: [{name: ratings, port: 9080}]
"""))
    assert entries == [{"match": [{"uri": {"exact": "/a"}, "port": 9080}, {"uri": {"exact": "/b"}, "port": 9080}],
                        "route": [{"destination": dest()}]}]


def test_a_grpc_route_matches_service_and_method_paths() -> None:
    text = SERVICES + """---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: ratings, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: ratings, port: 9080}]
  rules:
  - matches: [{method: {service: shop.Ratings, method: Get}}]
    backendRefs: [{name: reviews-v1, port: 9080}]
  - matches: [{method: {service: shop.Ratings}}]
    backendRefs: [{name: reviews-v2, port: 9080}]
"""
    entries = http(text, "ratings")
    assert [e["match"][0]["uri"] for e in entries] == [{"exact": "/shop.Ratings/Get"}, {"prefix": "/shop.Ratings/"}]


def test_tcp_and_udp_routes_on_a_service() -> None:
    text = SERVICES + """---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: ratings, port: 9080}]
  rules:
  - backendRefs: [{name: reviews-v1, port: 9080, weight: 1}, {name: reviews-v2, port: 9080, weight: 1}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: dns, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: ratings}]
  rules:
  - backendRefs: [{name: ratings, port: 53}]
"""
    out = run(text)
    assert spec(out, "VirtualService", "ratings")["tcp"] == [{"route": [
        {"destination": dest(HOST, "v1"), "weight": 50}, {"destination": dest(HOST, "v2"), "weight": 50}],
        "match": [{"port": 9080}]}]
    assert has_loss(out, "MSH400", line_of(text, "kind: UDPRoute") - 1, "no UDP")


def test_an_istio_virtual_service_for_the_host_wins_over_a_translation() -> None:
    text = route("  - backendRefs: [{name: ratings, port: 9080}]\n") + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]
"""
    out = run(text)
    assert not [r for r in out.resources if r["kind"] == "VirtualService"]
    assert has_loss(out, "MSH400", line_of(text, "parentRefs"), "already routes")


def test_from_linkerd_leaves_pure_gateway_api_routes_alone() -> None:
    text = route("  - backendRefs: [{name: ratings, port: 9080}]\n").replace(
        'parentRefs: [{group: "", kind: Service, name: reviews, namespace: shop, port: 9080}]',
        "parentRefs: [{name: public, namespace: shop}]")
    assert run(text, source="linkerd").resources == []
