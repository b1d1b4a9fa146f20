"""``--profile``: ServiceProfiles instead of HTTPRoutes (§1.2)."""

from __future__ import annotations

from pathlib import Path

from tests.emit.linkerd.helpers import SERVICE, SUBSETS, check_output, has_loss, of_kind, run, vs

CANARY = vs("""  - name: canary
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20}
    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 1s, retryOn: 5xx}
""")


def test_canary_becomes_a_profile_with_dst_overrides() -> None:
    out = run(SERVICE, SUBSETS, CANARY, profile=True)
    assert of_kind(out, "HTTPRoute") == []
    [profile] = of_kind(out, "ServiceProfile", "linkerd.io/v1alpha2")
    assert profile["metadata"]["name"] == "reviews.shop.svc.cluster.local"
    assert profile["spec"] == {
        "routes": [{"name": "canary", "condition": {"pathRegex": ".*"}, "timeout": "3s", "isRetryable": True}],
        "retryBudget": {"retryRatio": 0.2, "minRetriesPerSecond": 10, "ttl": "10s"},
        "dstOverrides": [{"authority": "reviews-v1.shop.svc.cluster.local:9080", "weight": 80},
                         {"authority": "reviews-v2.shop.svc.cluster.local:9080", "weight": 20}],
    }
    assert has_loss(out, "MSH401", "budget", "spec.http[0].retries")
    assert has_loss(out, "MSH400", "no per-try timeout", "spec.http[0].retries.perTryTimeout")


def test_what_profiles_cannot_express() -> None:
    out = run(SERVICE, SUBSETS, vs("""  - match: [{uri: {prefix: /api}, method: {exact: GET}, headers: {x-a: {exact: b}}}]
    headers: {request: {set: {x-b: c}}}
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
"""), profile=True)
    [profile] = of_kind(out, "ServiceProfile")
    assert profile["spec"]["routes"][0]["condition"] == {"pathRegex": "/api.*", "method": "GET"}
    assert profile["spec"]["dstOverrides"] == [{"authority": "reviews-v1.shop.svc.cluster.local:9080", "weight": 1}]
    assert has_loss(out, "MSH400", "match only path and method", "spec.http[0].match[0].headers")
    assert has_loss(out, "MSH400", "dstOverrides apply to every request", "spec.http[0].route")
    assert has_loss(out, "MSH400", "headers: a ServiceProfile cannot express it", "spec.http[0].headers")


def test_failure_accrual_is_not_emitted_with_profiles() -> None:
    rule = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec: {host: reviews, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}}
"""
    out = run(SERVICE, rule, profile=True)
    assert of_kind(out, "Service") == []
    assert has_loss(out, "MSH400", "disables failure accrual", "spec.trafficPolicy.outlierDetection")


def test_profiles_validate_and_analyze_clean(tmp_path: Path) -> None:
    out = run(SERVICE, SUBSETS, CANARY, profile=True)
    assert check_output(tmp_path, out, SERVICE, SUBSETS, CANARY) == []
