"""Retries and timeouts (§2.3, §1.4): annotations, splitting, Istio's default retries."""

from __future__ import annotations

import doctest

import pytest

from meshctl.emit.linkerd import durations
from tests.emit.linkerd.helpers import SERVICE, SUBSETS, has_loss, linkerd_annotations, of_kind, run, vs

ROUTE = "    route: [{destination: {host: reviews, subset: v1}}]\n"


def _annotations(retries: str) -> tuple:  # type: ignore[type-arg]
    out = run(SERVICE, SUBSETS, vs(f"  - retries: {retries}\n{ROUTE}"))
    [route] = of_kind(out, "HTTPRoute")
    return linkerd_annotations(route), out


@pytest.mark.parametrize("retries, expected", [
    ("{attempts: 3, retryOn: 5xx}", {"retry.linkerd.io/limit": "3", "retry.linkerd.io/http": "5xx"}),
    ("{attempts: 1, retryOn: 'gateway-error,503'}", {"retry.linkerd.io/limit": "1",
                                                     "retry.linkerd.io/http": "gateway-error,503"}),
    ("{attempts: 2, retryOn: retriable-4xx}", {"retry.linkerd.io/limit": "2", "retry.linkerd.io/http": "409"}),
    ("{attempts: 2, perTryTimeout: 250ms, retryOn: reset}", {"retry.linkerd.io/limit": "2",
                                                             "retry.linkerd.io/timeout": "250ms"}),
])
def test_retry_rows(retries: str, expected: dict) -> None:  # type: ignore[type-arg]
    assert _annotations(retries)[0] == expected


def test_attempts_zero_disables_retries_without_limit_zero() -> None:
    annotations, out = _annotations("{attempts: 0}")
    assert annotations == {}
    assert "retry.linkerd.io/limit" not in str(out.resources)
    assert not has_loss(out, "MSH401", "Istio retries this route by default")


def test_istio_default_retries_are_reported_where_retries_are_unset() -> None:
    out = run(SERVICE, SUBSETS, vs("  - route: [{destination: {host: reviews, subset: v1}}]\n"))
    assert has_loss(out, "MSH401", "Linkerd does not retry by default", "spec.http[0]")
    assert linkerd_annotations(of_kind(out, "HTTPRoute")[0]) == {}


@pytest.mark.parametrize("retries, text, path", [
    ("{attempts: 2, retryOn: 'reset,5xx'}", "'reset' has no Linkerd equivalent", "spec.http[0].retries.retryOn"),
    ("{attempts: 2, retryOn: 'unavailable,5xx'}", "is a gRPC status", "spec.http[0].retries.retryOn"),
    ("{attempts: 2, retryOn: 'connect-failure'}", "no retry annotation was emitted", "spec.http[0].retries"),
    ("{attempts: 2}", "retries without retryOn", "spec.http[0].retries"),
    ("{attempts: 2, retryOn: 5xx, backoff: 1s}", "no backoff", "spec.http[0].retries.backoff"),
    ("{attempts: 2, retryOn: 5xx, retryRemoteLocalities: true}", "retryRemoteLocalities",
     "spec.http[0].retries.retryRemoteLocalities"),
])
def test_retry_losses_fire(retries: str, text: str, path: str) -> None:
    assert has_loss(_annotations(retries)[1], "MSH400", text, path)


def test_retry_losses_do_not_fire_on_expressible_retries() -> None:
    _, out = _annotations("{attempts: 2, perTryTimeout: 1s, retryOn: '503,retriable-4xx'}")
    assert [f for f in out.findings if "retries" in (f.location.path if f.location else "")] == []


def test_timeouts_annotation_and_field() -> None:
    out = run(SERVICE, SUBSETS, vs(f"  - timeout: 1.5s\n{ROUTE}"))
    [route] = of_kind(out, "HTTPRoute")
    assert linkerd_annotations(route)["timeout.linkerd.io/request"] == "1500ms"
    assert route["spec"]["rules"][0]["timeouts"] == {"request": "1500ms"}
    zero = run(SERVICE, SUBSETS, vs(f"  - timeout: 0s\n{ROUTE}"))
    assert "timeout.linkerd.io/request" not in linkerd_annotations(of_kind(zero, "HTTPRoute")[0])
    fine = run(SERVICE, SUBSETS, vs(f"  - timeout: 1500us\n{ROUTE}"))
    assert has_loss(fine, "MSH401", "rounded up to 2ms", "spec.http[0].timeout")


def test_rules_with_different_settings_are_split_into_routes() -> None:
    out = run(SERVICE, SUBSETS, vs(f"""  - match: [{{uri: {{exact: /slow}}}}]
    timeout: 10s
{ROUTE}  - match: [{{uri: {{exact: /fast}}}}]
    timeout: 1s
{ROUTE}  - match: [{{uri: {{exact: /also-slow}}}}]
    timeout: 10s
{ROUTE}"""))
    routes = {r["metadata"]["name"]: r for r in of_kind(out, "HTTPRoute")}
    assert sorted(routes) == ["reviews-1", "reviews-2"]
    assert linkerd_annotations(routes["reviews-1"]) == {"timeout.linkerd.io/request": "10s"}
    assert [r["matches"][0]["path"]["value"] for r in routes["reviews-1"]["spec"]["rules"]] == ["/slow", "/also-slow"]
    assert has_loss(out, "MSH401", "split into several HTTPRoutes", "spec.http")
    same = run(SERVICE, SUBSETS, vs(f"  - timeout: 1s\n{ROUTE}  - timeout: 1s\n{ROUTE}"))
    assert len(of_kind(same, "HTTPRoute")) == 1 and not has_loss(same, "MSH401", "split into")


def test_durations_doctests() -> None:
    assert doctest.testmod(durations).failed == 0
