"""Linkerd's routes and their annotations -> VirtualServices (mesh-translation.md §1.3, §1.4, §3.2).

A Service-parented route in a Linkerd mesh means what Linkerd makes of it: retries and
timeouts from ``retry.linkerd.io/*`` and ``timeout.linkerd.io/*`` (the route's, else the
Service's), the parent Service for a rule without backends, nothing at all while a
ServiceProfile exists for the Service.
"""

from __future__ import annotations

from pathlib import Path

from tests.emit.istio.helpers import check_clean, has_loss, kinds, kubernetes_docs, line_of, losses, run, spec

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: books
  namespace: booksapp
  annotations:
{annotations}spec:
  selector: {{app: books}}
  ports: [{{name: service, port: 7002}}]
---
apiVersion: v1
kind: Service
metadata: {{name: authors, namespace: booksapp}}
spec:
  selector: {{app: authors}}
  ports: [{{name: service, port: 7001}}]
"""
HOST = "books.booksapp.svc.cluster.local"


def mesh(route_annotations: str = "", service_annotations: str = "    linkerd.io/inject: enabled\n",
         rules: str = "  - backendRefs: [{name: books, port: 7002}]\n", kind: str = "HTTPRoute",
         api: str = "gateway.networking.k8s.io/v1") -> str:
    route_meta = f"\n  annotations:\n{route_annotations}" if route_annotations else "\n"
    return SERVICE.format(annotations=service_annotations) + f"""---
apiVersion: {api}
kind: {kind}
metadata:
  name: books
  namespace: booksapp{route_meta}spec:
  parentRefs: [{{group: "", kind: Service, name: books, port: 7002}}]
  rules:
{rules}"""


def first(text: str, **options: object) -> dict:
    return spec(run(text, **options), "VirtualService", "books")["http"][0]


def test_route_retry_and_timeout_annotations(tmp_path: Path) -> None:
    text = mesh('    retry.linkerd.io/http: "5xx,429"\n    retry.linkerd.io/limit: "3"\n'
                "    retry.linkerd.io/timeout: 300ms\n    timeout.linkerd.io/request: 2s\n")
    out = run(text)
    entry = spec(out, "VirtualService", "books")["http"][0]
    assert entry["retries"] == {"attempts": 3, "retryOn": "429,5xx", "perTryTimeout": "300ms"}
    assert entry["timeout"] == "2s"
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_gateway_error_and_ranges_are_enumerated_codes() -> None:
    entry = first(mesh('    retry.linkerd.io/http: "gateway-error,429-430"\n'))
    assert entry["retries"] == {"attempts": 1, "retryOn": "429,430,502,503,504"}


def test_a_per_try_timeout_alone_retries_under_reset() -> None:
    text = mesh("    retry.linkerd.io/timeout: 1s\n")
    out = run(text)
    assert spec(out, "VirtualService", "books")["http"][0]["retries"] == {
        "attempts": 1, "retryOn": "reset", "perTryTimeout": "1s"}
    assert has_loss(out, "MSH401", line_of(text, "retry.linkerd.io/timeout"), "reset was added")


def test_a_limit_alone_retries_nothing() -> None:
    text = mesh('    retry.linkerd.io/limit: "2"\n')
    out = run(text)
    assert spec(out, "VirtualService", "books")["http"][0]["retries"] == {"attempts": 0}
    assert has_loss(out, "MSH401", line_of(text, "retry.linkerd.io/limit"), "retry nothing")


def test_limit_zero_is_linkerds_default_of_one() -> None:
    text = mesh('    retry.linkerd.io/http: "503"\n    retry.linkerd.io/limit: "0"\n')
    out = run(text)
    assert spec(out, "VirtualService", "books")["http"][0]["retries"]["attempts"] == 1
    assert has_loss(out, "MSH401", line_of(text, "retry.linkerd.io/limit"), "attempts: 1")


def test_service_annotations_are_the_default_and_a_route_replaces_them() -> None:
    service = '    retry.linkerd.io/http: "5xx"\n    timeout.linkerd.io/request: 10s\n'
    inherited = first(mesh(service_annotations=service))
    assert inherited["retries"] == {"attempts": 1, "retryOn": "5xx"} and inherited["timeout"] == "10s"
    # any retry annotation on the route replaces all of the Service's; timeouts stay the Service's
    replaced = first(mesh('    retry.linkerd.io/http: "503"\n', service_annotations=service))
    assert replaced["retries"] == {"attempts": 1, "retryOn": "503"} and replaced["timeout"] == "10s"


def test_grpc_retry_conditions_on_a_grpc_route_and_http_ones_ignored() -> None:
    text = mesh('    retry.linkerd.io/grpc: "unavailable,cancelled"\n    retry.linkerd.io/http: "5xx"\n',
                rules="  - matches: [{method: {service: books.Books}}]\n    backendRefs: [{name: books, port: 7002}]\n",
                kind="GRPCRoute")
    out = run(text)
    assert spec(out, "VirtualService", "books")["http"][0]["retries"] == {"attempts": 1,
                                                                           "retryOn": "unavailable,cancelled"}
    assert has_loss(out, "MSH400", line_of(text, "retry.linkerd.io/http"),
                    "ignores retry.linkerd.io/http on a GRPCRoute")


def test_response_and_idle_timeouts() -> None:
    text = mesh("    timeout.linkerd.io/response: 4s\n    timeout.linkerd.io/idle: 1m\n")
    out = run(text)
    assert spec(out, "VirtualService", "books")["http"][0]["timeout"] == "4s"
    assert spec(out, "DestinationRule", "books")["trafficPolicy"] == {"connectionPool": {"http": {"idleTimeout": "1m"}}}
    assert has_loss(out, "MSH401", line_of(text, "timeout.linkerd.io/response"), "route timeout")
    assert has_loss(out, "MSH401", line_of(text, "timeout.linkerd.io/idle"), "idleTimeout")
    both = mesh("    timeout.linkerd.io/request: 5s\n    timeout.linkerd.io/response: 4s\n")
    out = run(both)
    assert spec(out, "VirtualService", "books")["http"][0]["timeout"] == "5s"
    assert has_loss(out, "MSH400", line_of(both, "timeout.linkerd.io/response"), "not translated")


def test_a_day_is_written_in_hours() -> None:
    assert first(mesh("    timeout.linkerd.io/request: 1d\n"))["timeout"] == "24h"


def test_the_annotation_wins_over_timeouts_request() -> None:
    entry = first(mesh("    timeout.linkerd.io/request: 2s\n",
                       rules="  - timeouts: {request: 9s}\n    backendRefs: [{name: books, port: 7002}]\n"))
    assert entry["timeout"] == "2s"


def test_without_retry_annotations_istios_default_retries_are_reported() -> None:
    text = mesh()
    out = run(text)
    assert "retries" not in spec(out, "VirtualService", "books")["http"][0]
    assert has_loss(out, "MSH401", line_of(text, "apiVersion: gateway"), "Istio retries failed connections twice")


def test_a_rule_without_backends_goes_to_the_parent_service_in_linkerd() -> None:
    text = mesh(rules="  - matches: [{path: {type: Exact, value: /x}}]\n")
    out = run(text)
    entry = spec(out, "VirtualService", "books")["http"][0]
    assert entry["route"] == [{"destination": {"host": HOST, "port": {"number": 7002}}}]
    assert has_loss(out, "MSH401", line_of(text, "  - matches"), "goes to the parent Service")


def test_linkerds_own_httproute_with_a_service_parent() -> None:
    text = mesh('    retry.linkerd.io/http: "5xx"\n', api="policy.linkerd.io/v1beta3",
                rules="  - matches: [{path: {value: /books}}]\n    backendRefs: [{name: authors, port: 7001}]\n")
    out = run(text)
    assert spec(out, "VirtualService", "books") == {"hosts": [HOST], "http": [{
        "match": [{"uri": {"exact": "/books"}, "port": 7002}, {"uri": {"prefix": "/books/"}, "port": 7002}],
        "route": [{"destination": {"host": "authors.booksapp.svc.cluster.local", "port": {"number": 7001}}}],
        "retries": {"attempts": 1, "retryOn": "5xx"}}]}


def test_a_filter_linkerd_rejects_is_translated_and_reported() -> None:
    text = mesh(rules="""  - filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /v2}}
    backendRefs: [{name: books, port: 7002}]
""")
    out = run(text)
    assert "rewrite" in spec(out, "VirtualService", "books")["http"][0]
    assert has_loss(out, "MSH401", line_of(text, "apiVersion: gateway"), "Linkerd ignores this whole route")


def test_a_service_profile_shadows_routes_and_annotations() -> None:
    text = mesh('    retry.linkerd.io/http: "5xx"\n', service_annotations='    timeout.linkerd.io/request: 3s\n'
                "    balancer.linkerd.io/failure-accrual: consecutive\n") + """---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: books.booksapp.svc.cluster.local, namespace: booksapp}
spec:
  routes:
  - name: list
    condition: {method: GET, pathRegex: /books}
"""
    out = run(text)
    assert spec(out, "VirtualService", "books")["http"][0]["name"] == "list"
    assert has_loss(out, "MSH400", line_of(text, "parentRefs"), "ignores routes to this Service while ServiceProfile")
    assert has_loss(out, "MSH400", line_of(text, "balancer.linkerd.io/failure-accrual"), "disables failure accrual")


def test_service_annotations_without_routes_make_a_catch_all() -> None:
    text = SERVICE.format(annotations='    retry.linkerd.io/http: "5xx"\n    timeout.linkerd.io/request: 3s\n')
    out = run(text)
    assert spec(out, "VirtualService", "books") == {"hosts": [HOST], "http": [{
        "route": [{"destination": {"host": HOST}}], "timeout": "3s", "retries": {"attempts": 1, "retryOn": "5xx"}}]}
    assert out.resources[0]["metadata"]["annotations"]["meshctl.io/translated-from"] == "Service/booksapp/books"


def test_service_annotations_are_not_read_from_gateway_api() -> None:
    text = SERVICE.format(annotations='    retry.linkerd.io/http: "5xx"\n')
    assert kinds(run(text, source="gateway-api")) == []


def test_invalid_annotation_values_are_reported() -> None:
    text = mesh('    retry.linkerd.io/http: "teapot"\n    retry.linkerd.io/limit: many\n'
                "    timeout.linkerd.io/request: soon\n")
    found = losses(run(text))
    assert ("MSH400", line_of(text, "retry.linkerd.io/http"), "retry.linkerd.io/http condition 'teapot' is not a "
            "status, range, 5xx or gateway-error; not translated") in found
    assert any(c == "MSH400" and ln == line_of(text, "retry.linkerd.io/limit") for c, ln, _ in found)
    assert any(c == "MSH400" and ln == line_of(text, "timeout.linkerd.io/request") for c, ln, _ in found)
