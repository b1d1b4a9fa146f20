"""VirtualService ``retries`` and ``timeout`` -> Linkerd's route annotations.

Linkerd reads retries and timeouts only from annotations (``retry.linkerd.io/*``,
``timeout.linkerd.io/*``) on the Service or on a Service-parented route; never from
Gateway API's ``retry`` stanza. Before::

    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,reset"}

After (``reset`` has no equivalent and is reported)::

    retry.linkerd.io/http: 5xx
    retry.linkerd.io/limit: "2"
    retry.linkerd.io/timeout: 1s
    timeout.linkerd.io/request: 3s

Istio's ``attempts`` is the number of retries, as Linkerd's ``limit`` is. ``attempts: 0``
(or ``retries`` without attempts) disables retries in Istio: no annotation is written, and
never ``limit: "0"``, which Linkerd reads as unset (one retry once another retry annotation
is present). A rule without ``retries`` gets Istio's default (2 attempts on
connect-failure, refused-stream, unavailable, cancelled): none of these conditions is a
response status, so no annotation expresses it and Linkerd will not retry (reported).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.linkerd.context import Build
from meshctl.emit.linkerd.durations import (
    exact_millis,
    gateway_duration,
    linkerd_duration,
    to_millis,
)
from meshctl.model.objects import Retry, RouteRule
from meshctl.model.origin import Origin

RETRY_HTTP = "retry.linkerd.io/http"
RETRY_LIMIT = "retry.linkerd.io/limit"
RETRY_TIMEOUT = "retry.linkerd.io/timeout"
TIMEOUT_REQUEST = "timeout.linkerd.io/request"
GRPC_CONDITIONS = frozenset({"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"})
UNEXPRESSIBLE = frozenset({
    "reset", "connect-failure", "refused-stream", "retriable-status-codes", "retriable-headers",
    "envoy-ratelimited", "http3-post-connect-failure", "reset-before-request",
})
ISTIO_DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"


@dataclass(frozen=True)
class Resilience:
    """What a rule's retries and timeout become: the route annotations, the
    ``rules[].timeouts.request`` value, and the pieces ServiceProfiles use."""

    annotations: tuple[tuple[str, str], ...]
    request_timeout: str | None  # Gateway API duration
    retries: int  # 0: no retries
    http_conditions: tuple[str, ...]


def duration(build: Build, text: str, origin: Origin, what: str) -> int | None:
    """Milliseconds of a positive duration; None for zero (disabled) or unreadable."""
    millis = to_millis(text)
    if millis is None:
        build.losses.dropped(origin, f"{what} {text!r} is not a duration; not translated")
        return None
    if millis and not exact_millis(text):
        build.losses.approximated(origin, f"{what} {text}: rounded up to {millis}ms (Linkerd's resolution)")
    return millis or None


def resilience(build: Build, rule: RouteRule) -> Resilience:
    annotations: dict[str, str] = {}
    request_timeout = None
    if rule.timeout is not None:
        millis = duration(build, rule.timeout, rule.origin.at("timeout"), "timeout")
        if millis:
            annotations[TIMEOUT_REQUEST] = linkerd_duration(millis)
            request_timeout = gateway_duration(millis)
    retries, conditions = _retry(build, rule, annotations)
    return Resilience(tuple(sorted(annotations.items())), request_timeout, retries, conditions)


def _retry(build: Build, rule: RouteRule, annotations: dict[str, str]) -> tuple[int, tuple[str, ...]]:
    retry = rule.retry
    losses = build.losses
    if retry is None:
        losses.approximated(
            rule.origin, "no retries: Istio retries this route by default (2 attempts on connect-failure, "
                         "refused-stream, unavailable, cancelled); Linkerd does not retry by default and none of "
                         "these conditions is a response status an annotation could name, so nothing was emitted")
        return 0, ()
    if not retry.attempts or retry.attempts <= 0:
        return 0, ()  # Istio: retries disabled; Linkerd retries nothing without annotations
    http = _conditions(build, retry)
    per_try = None
    if retry.per_try_timeout is not None:
        millis = duration(build, retry.per_try_timeout, retry.origin.at("perTryTimeout"), "perTryTimeout")
        per_try = linkerd_duration(millis) if millis else None
    if not http and per_try is None:
        losses.dropped(retry.origin, "retries: none of the retry conditions has a Linkerd equivalent and there is no "
                                     "perTryTimeout, so no retry annotation was emitted (Linkerd will not retry)")
        return 0, ()
    annotations[RETRY_LIMIT] = str(retry.attempts)
    if http:
        annotations[RETRY_HTTP] = ",".join(http)
    if per_try is not None:
        annotations[RETRY_TIMEOUT] = per_try
    if retry.backoff is not None:
        losses.dropped(retry.origin.at("backoff"), "retries.backoff: Linkerd retries immediately (no backoff)")
    if retry.remote_localities:
        losses.dropped(retry.origin.at("retryRemoteLocalities"), "retryRemoteLocalities: no Linkerd equivalent "
                                                                 "(Linkerd may retry on any endpoint)")
    if retry.ignore_previous_hosts is not None:
        losses.dropped(retry.origin.at("retryIgnorePreviousHosts"), "retryIgnorePreviousHosts: no Linkerd equivalent "
                                                                    "(the balancer picks the endpoint of each attempt)")
    return retry.attempts, tuple(http)


def _conditions(build: Build, retry: Retry) -> list[str]:
    """``retryOn`` -> the ``retry.linkerd.io/http`` list; the rest is reported."""
    losses = build.losses
    where = retry.origin.at("retryOn")
    text = retry.retry_on
    if text is None:
        losses.dropped(retry.origin, f"retries without retryOn: Istio retries on {ISTIO_DEFAULT_RETRY_ON}; none of "
                                     "these is a response status Linkerd can retry on")
        return []
    http: list[str] = []
    approximate: list[str] = []
    for raw in text.split(","):
        condition = raw.strip()
        if not condition:
            continue
        if condition in ("5xx", "gateway-error"):
            http.append(condition)
            approximate.append(condition)
        elif condition == "retriable-4xx":
            http.append("409")
        elif condition.isdigit() and 100 <= int(condition) <= 599:
            http.append(condition)
        elif condition in GRPC_CONDITIONS:
            losses.dropped(where, f"retry condition {condition!r} is a gRPC status: Linkerd reads "
                                  "retry.linkerd.io/grpc only on a GRPCRoute or the Service, not on an HTTPRoute; "
                                  "dropped")
        elif condition in UNEXPRESSIBLE:
            losses.dropped(where, f"retry condition {condition!r} has no Linkerd equivalent (Linkerd retries on "
                                  "response status and per-try timeouts only); dropped")
        else:
            losses.dropped(where, f"retry condition {condition!r} is not one Linkerd knows; dropped")
    if approximate:
        losses.approximated(where, f"retryOn {', '.join(approximate)}: Linkerd retries on the response status only; "
                                   "Envoy's also fires on connect failures, resets and timeouts")
    return list(dict.fromkeys(http))
