"""DestinationRules (§2.6): per-subset Services, failure accrual, what Linkerd cannot carry."""

from __future__ import annotations

import pytest

from tests.emit.linkerd.helpers import SERVICE, SUBSETS, has_loss, linkerd_annotations, named, of_kind, run

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews, version: v1}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: r, image: r, ports: [{containerPort: 9080}]}]}
"""


def dr(policy: str, subsets: str = "") -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: reviews, namespace: shop}}
spec:
  host: reviews
  trafficPolicy: {policy}
{subsets}"""


def test_subset_services_and_the_note_for_a_subset_without_workloads() -> None:
    out = run(SERVICE, SUBSETS, DEPLOYMENT)
    v1 = named(out, "Service", "reviews-v1")
    assert v1["spec"]["selector"] == {"app": "reviews", "version": "v1"}
    assert v1["metadata"]["labels"] == {"meshctl.io/generated": "true"}
    assert v1["metadata"]["annotations"]["meshctl.io/translated-from"] == "DestinationRule/shop/reviews"
    assert has_loss(out, "MSH401", "no workload of the inputs matches", "spec.subsets[1]")
    assert not has_loss(out, "MSH401", "no workload of the inputs matches", "spec.subsets[0]")


def test_an_existing_per_version_service_is_reused() -> None:
    existing = SERVICE.replace("name: reviews,", "name: reviews-v1,").replace("{app: reviews}",
                                                                              "{app: reviews, version: v1}")
    out = run(SERVICE, existing, SUBSETS)
    assert [s["metadata"]["name"] for s in of_kind(out, "Service")] == ["reviews-v2"]
    clash = existing.replace("version: v1}", "version: other}")
    names = sorted(s["metadata"]["name"] for s in of_kind(run(SERVICE, clash, SUBSETS), "Service"))
    assert names == ["reviews-v1-2", "reviews-v2"]


def test_subset_of_an_unknown_host_is_reported() -> None:
    out = run(SUBSETS)
    assert of_kind(out, "Service") == [] and has_loss(out, "MSH400", "not a Service of the inputs", "spec.subsets[0]")


def test_outlier_detection_becomes_failure_accrual_on_the_service() -> None:
    out = run(SERVICE, dr("{outlierDetection: {consecutive5xxErrors: 3, baseEjectionTime: 10s, interval: 5s}}"))
    [service] = of_kind(out, "Service")
    assert service["metadata"]["name"] == "reviews" and service["spec"]["selector"] == {"app": "reviews"}
    assert linkerd_annotations(service) == {
        "balancer.linkerd.io/failure-accrual": "consecutive",
        "balancer.linkerd.io/failure-accrual-consecutive-max-failures": "3",
        "balancer.linkerd.io/failure-accrual-consecutive-min-penalty": "10s",
        "balancer.linkerd.io/failure-accrual-consecutive-max-penalty": "5m",
    }
    assert has_loss(out, "MSH401", "consecutive failure accrual", "spec.trafficPolicy.outlierDetection")
    assert has_loss(out, "MSH400", "interval", "spec.trafficPolicy.outlierDetection.interval")
    gateway = run(SERVICE, dr("{outlierDetection: {consecutiveGatewayErrors: 4}}"))
    assert has_loss(gateway, "MSH401", "not only 502-504")
    assert not has_loss(out, "MSH401", "not only 502-504")


def test_subset_policy_goes_on_the_subset_service() -> None:
    out = run(SERVICE, dr("{}", """  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {outlierDetection: {consecutive5xxErrors: 2}}
"""))
    assert linkerd_annotations(named(out, "Service", "reviews-v1"))["balancer.linkerd.io/failure-accrual"] == "consecutive"
    assert has_loss(out, "MSH401", "use reviews's settings")


@pytest.mark.parametrize("policy, code, text, path", [
    ("{connectionPool: {tcp: {maxConnections: 10}}}", "MSH400", "no connection-pool limits",
     "spec.trafficPolicy.connectionPool"),
    ("{connectionPool: {tcp: {connectTimeout: 1s}}}", "MSH400", "proxy-outbound-connect-timeout",
     "spec.trafficPolicy.connectionPool.tcp.connectTimeout"),
    ("{loadBalancer: {simple: ROUND_ROBIN}}", "MSH400", "not configurable", "spec.trafficPolicy.loadBalancer"),
    ("{loadBalancer: {consistentHash: {httpHeaderName: x-user}}}", "MSH400", "affinity",
     "spec.trafficPolicy.loadBalancer"),
    ("{loadBalancer: {simple: LEAST_REQUEST}}", "MSH401", "EWMA", "spec.trafficPolicy.loadBalancer"),
    ("{tls: {mode: DISABLE}}", "MSH400", "always talk mTLS", "spec.trafficPolicy.tls.mode"),
    ("{tls: {mode: SIMPLE}}", "MSH400", "never originates TLS", "spec.trafficPolicy.tls.mode"),
])
def test_policy_losses(policy: str, code: str, text: str, path: str) -> None:
    assert has_loss(run(SERVICE, dr(policy)), code, text, path)


def test_istio_mutual_is_exact() -> None:
    out = run(SERVICE, dr("{tls: {mode: ISTIO_MUTUAL}}"))
    assert out.findings == [] and out.resources == []
