"""ServiceProfiles and TrafficSplits -> VirtualServices, row by row of mesh-translation.md §3.1."""

from __future__ import annotations

from pathlib import Path

from meshctl.model.objects import ProfileCondition, ServiceProfile
from tests.emit.istio.helpers import check_clean, has_loss, kinds, kubernetes_docs, line_of, model, run, spec

SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: web-svc, namespace: emojivoto}
spec:
  selector: {app: web-svc}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc-2, namespace: emojivoto}
spec:
  selector: {app: web-svc-2}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-apex, namespace: emojivoto}
spec:
  selector: {app: web-apex}
  ports: [{name: http, port: 80}]
"""
HOST = "web-svc.emojivoto.svc.cluster.local"
DEST = {"destination": {"host": HOST, "port": {"number": 80}}}
NO_RETRY = {"attempts": 0}


def profile(spec_text: str, name: str = "web-svc.emojivoto.svc.cluster.local", namespace: str = "emojivoto") -> str:
    return SERVICES + f"""---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {{name: {name}, namespace: {namespace}}}
spec:
{spec_text}"""


def test_the_lowering_keeps_routes_budget_overrides_and_opaque_ports() -> None:
    mesh = model(profile("""  routes:
  - name: list
    condition: {method: GET, all: [{pathRegex: /a}], not: {method: POST}}
    responseClasses: [{condition: {status: {min: 500}}, isFailure: true}]
    isRetryable: true
    timeout: 1s
  retryBudget: {retryRatio: 0.5, minRetriesPerSecond: 3, ttl: 5s}
  dstOverrides: [{authority: "web-svc-2.emojivoto.svc.cluster.local:80", weight: 500m}]
  opaquePorts: ["8080"]
"""))
    found: ServiceProfile = mesh.service_profiles[0]
    route = found.routes[0]
    assert (route.name, route.is_retryable, route.timeout) == ("list", True, "1s")
    assert isinstance(route.condition, ProfileCondition)
    assert route.condition.method == "GET" and route.condition.all[0].path_regex == "/a"
    assert route.condition.negated is not None and route.condition.negated.method == "POST"
    assert route.response_classes[0].is_failure and route.response_classes[0].condition is not None
    assert (found.retry_budget.retry_ratio, found.retry_budget.min_retries_per_second, found.retry_budget.ttl) == (
        0.5, 3, "5s")
    assert [(d.authority, d.weight) for d in found.dst_overrides] == [("web-svc-2.emojivoto.svc.cluster.local:80",
                                                                       "500m")]
    assert found.opaque_ports == ("8080",) and found.route_count == 1 and found.has_retries


def test_routes_in_order_with_timeouts_retries_and_the_default_route(tmp_path: Path) -> None:
    text = profile("""  routes:
  - condition: {method: GET, pathRegex: /api/list}
    name: GET /api/list
    isRetryable: true
  - condition: {method: GET, pathRegex: /api/vote}
    name: GET /api/vote
    timeout: 500ms
""")
    out = run(text)
    assert spec(out, "VirtualService", "web-svc") == {"hosts": [HOST], "http": [
        {"match": [{"method": {"exact": "GET"}, "uri": {"regex": "/api/list"}}], "name": "GET /api/list",
         "route": [DEST], "retries": {"attempts": 2, "retryOn": "5xx"}},
        {"match": [{"method": {"exact": "GET"}, "uri": {"regex": "/api/vote"}}], "name": "GET /api/vote",
         "route": [DEST], "timeout": "500ms", "retries": NO_RETRY},
        {"route": [DEST], "retries": NO_RETRY},
    ]}
    assert out.resources[0]["metadata"]["annotations"]["meshctl.io/translated-from"] == \
        "ServiceProfile/emojivoto/web-svc.emojivoto.svc.cluster.local"
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_the_retry_budget_becomes_a_destination_rule_budget_and_is_explained() -> None:
    text = profile("""  routes:
  - {name: r, condition: {pathRegex: /x}, isRetryable: true}
  retryBudget:
    retryRatio: 0.25
    minRetriesPerSecond: 5
    ttl: 10s
""")
    out = run(text)
    assert spec(out, "DestinationRule", "web-svc") == {
        "host": HOST, "trafficPolicy": {"retryBudget": {"percent": 25.0, "minRetryConcurrency": 5}}}
    assert has_loss(out, "MSH401", line_of(text, "retryRatio"), "became attempts: 2 per request and a "
                    "DestinationRule retryBudget of 25% of active requests with minRetryConcurrency 5")
    default = run(profile("  routes:\n  - {name: r, condition: {pathRegex: /x}, isRetryable: true}\n"))
    assert spec(default, "DestinationRule", "web-svc")["trafficPolicy"]["retryBudget"] == {
        "percent": 20.0, "minRetryConcurrency": 10}


def test_a_budget_without_a_retryable_route_bounds_nothing() -> None:
    text = profile("  routes:\n  - {name: r, condition: {pathRegex: /x}}\n"
                   "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}\n")
    out = run(text)
    assert ("DestinationRule", "web-svc") not in kinds(out)
    assert has_loss(out, "MSH401", line_of(text, "retryBudget"), "nothing to bound")


def test_response_classes_decide_the_retried_statuses() -> None:
    text = profile("""  routes:
  - name: r
    condition: {pathRegex: /x}
    isRetryable: true
    responseClasses:
    - condition: {status: {min: 500, max: 502}}
      isFailure: false
    - condition: {any: [{status: {min: 429, max: 429}}, {status: {min: 503, max: 503}}]}
      isFailure: true
""")
    entry = spec(run(text), "VirtualService", "web-svc")["http"][0]
    assert entry["retries"] == {"attempts": 2, "retryOn": ",".join(map(str, [429, *range(503, 600)]))}


def test_any_all_and_not_become_matches_and_guards() -> None:
    text = profile("""  routes:
  - name: writes
    condition:
      any:
      - method: POST
      - all: [{pathRegex: /admin/.*}, {not: {method: GET}}]
  - name: not-health
    condition:
      all: [{method: GET}, {not: {pathRegex: /health}}]
  - name: last
    condition: {pathRegex: /.*}
""")
    out = run(text)
    entries = spec(out, "VirtualService", "web-svc")["http"]
    others = "CONNECT|DELETE|HEAD|OPTIONS|PATCH|POST|PUT|TRACE"
    assert entries[0]["match"] == [{"method": {"exact": "POST"}},
                                   {"method": {"regex": others}, "uri": {"regex": "/admin/.*"}}]
    # not pathRegex: requests of the negated condition skip the route (to the default route)
    assert entries[1] == {"match": [{"method": {"exact": "GET"}, "uri": {"regex": "/health"}}], "route": [DEST],
                          "retries": NO_RETRY}
    assert entries[2]["name"] == "not-health" and entries[2]["match"] == [{"method": {"exact": "GET"}}]
    assert has_loss(out, "MSH401", line_of(text, "name: not-health") + 2, "later routes of the profile no longer")
    assert has_loss(out, "MSH401", line_of(text, "name: writes") + 2, "extension methods are not matched")


def test_two_anded_path_regexes_keep_the_first() -> None:
    text = profile("  routes:\n  - name: r\n    condition: {all: [{pathRegex: /a.*}, {pathRegex: .*b}]}\n")
    out = run(text)
    assert spec(out, "VirtualService", "web-svc")["http"][0]["match"] == [{"uri": {"regex": "/a.*"}}]
    assert has_loss(out, "MSH401", line_of(text, "condition:"), "only '/a.*' is kept")


def test_dst_overrides_are_weighted_destinations_of_every_entry() -> None:
    text = profile("""  routes:
  - {name: r, condition: {pathRegex: /x}}
  dstOverrides:
  - {authority: "web-svc.emojivoto.svc.cluster.local:80", weight: 900m}
  - {authority: "web-svc-2.emojivoto.svc.cluster.local:80", weight: 100m}
""")
    entries = spec(run(text), "VirtualService", "web-svc")["http"]
    split = [{"destination": {"host": HOST, "port": {"number": 80}}, "weight": 90},
             {"destination": {"host": "web-svc-2.emojivoto.svc.cluster.local", "port": {"number": 80}}, "weight": 10}]
    assert [e["route"] for e in entries] == [split, split]


def test_opaque_ports_make_the_service_port_tcp() -> None:
    text = profile('  opaquePorts: ["80"]\n  routes:\n  - {name: r, condition: {pathRegex: /x}}\n')
    out = run(text)
    service = next(r for r in out.resources if r["kind"] == "Service")
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080, "appProtocol": "tcp"}]
    assert has_loss(out, "MSH401", line_of(text, "opaquePorts"), "appProtocol tcp")


def test_a_client_side_profile_is_exported_to_its_namespace() -> None:
    text = profile("  routes:\n  - {name: r, condition: {pathRegex: /x}, isRetryable: true}\n", namespace="voting")
    out = run(text)
    assert spec(out, "VirtualService", "web-svc", "voting")["exportTo"] == ["."]
    assert has_loss(out, "MSH401", line_of(text, "kind: ServiceProfile") - 1, "client's namespace")
    assert has_loss(out, "MSH400", line_of(text, "kind: ServiceProfile") - 1, "client-side profile")


def test_a_profile_not_named_after_a_service_is_reported() -> None:
    text = profile("  routes:\n  - {name: r, condition: {pathRegex: /x}}\n", name="web-svc")
    out = run(text)
    assert kinds(out) == []
    assert has_loss(out, "MSH400", line_of(text, "{name: web-svc, namespace", 2), "Linkerd never uses this profile")


def test_an_empty_profile_emits_nothing_but_still_shadows() -> None:
    text = profile("  routes: []\n")
    out = run(text)
    assert kinds(out) == []
    assert has_loss(out, "MSH401", line_of(text, "kind: ServiceProfile") - 1, "nothing to emit")


TRAFFIC_SPLIT = SERVICES + """---
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: {name: web-svc-ts, namespace: emojivoto}
spec:
  service: web-apex
  backends:
  - {service: web-svc, weight: 250m}
  - {service: web-svc-2, weight: 750m}
"""


def test_a_traffic_split_is_a_weighted_virtual_service(tmp_path: Path) -> None:
    out = run(TRAFFIC_SPLIT)
    assert spec(out, "VirtualService", "web-apex") == {"hosts": ["web-apex.emojivoto.svc.cluster.local"], "http": [{
        "route": [{"destination": {"host": HOST, "port": {"number": 80}}, "weight": 25},
                  {"destination": {"host": "web-svc-2.emojivoto.svc.cluster.local", "port": {"number": 80}},
                   "weight": 75}],
        "retries": NO_RETRY}]}
    check_clean(tmp_path, out, kubernetes_docs(TRAFFIC_SPLIT))


def test_a_traffic_split_feeds_the_profile_of_its_apex() -> None:
    text = TRAFFIC_SPLIT + """---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web-apex.emojivoto.svc.cluster.local, namespace: emojivoto}
spec:
  routes:
  - {name: r, condition: {pathRegex: /x}, timeout: 1s}
"""
    out = run(text)
    vs = spec(out, "VirtualService", "web-apex")
    assert [e["route"][1]["weight"] for e in vs["http"]] == [75, 75]
    assert vs["http"][0]["timeout"] == "1s"
    assert [k for k in kinds(out) if k[0] == "VirtualService"] == [("VirtualService", "web-apex")]


def test_a_bad_weight_is_reported() -> None:
    text = TRAFFIC_SPLIT.replace("weight: 750m", "weight: lots")
    out = run(text)
    assert has_loss(out, "MSH400", line_of(text, "weight: lots"), "not a Kubernetes quantity")
