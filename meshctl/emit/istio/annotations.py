"""Linkerd's retry and timeout annotations -> Istio ``retries`` and ``timeout``.

Linkerd reads ``retry.linkerd.io/*`` and ``timeout.linkerd.io/*`` on a Service (defaults for
every route to it) and on a Service-parented HTTPRoute/GRPCRoute. A route carrying *any*
retry annotation replaces all of the Service's retry annotations; timeouts likewise::

    retry.linkerd.io/http: 5xx,429     retries: {attempts: 2, retryOn: "5xx,429", perTryTimeout: 300ms}
    retry.linkerd.io/limit: "2"    ->  timeout: 3s
    retry.linkerd.io/timeout: 300ms
    timeout.linkerd.io/request: 3s

``5xx`` stays Envoy's ``5xx`` (which also retries connect failures and resets: reported);
``gateway-error`` becomes the codes 502,503,504 (Envoy's ``gateway-error`` would add
connection failures); ranges are enumerated. A per-try timeout is retried by Envoy only
under ``5xx``, ``gateway-error`` or ``reset``: ``reset`` is added when needed (reported).
``timeout.linkerd.io/response`` bounds one response: it becomes the route timeout when
nothing else bounds the request, else it is reported; ``idle`` becomes the
DestinationRule's ``connectionPool.http.idleTimeout`` (connection idle, not stream idle).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.istio.build import Build, annotation_origin
from meshctl.emit.istio.values import istio_duration, status_text
from meshctl.emit.manifests import Json
from meshctl.model.origin import Origin

RETRY_HTTP = "retry.linkerd.io/http"
RETRY_GRPC = "retry.linkerd.io/grpc"
RETRY_LIMIT = "retry.linkerd.io/limit"
RETRY_TIMEOUT = "retry.linkerd.io/timeout"
TIMEOUT_REQUEST = "timeout.linkerd.io/request"
TIMEOUT_RESPONSE = "timeout.linkerd.io/response"
TIMEOUT_IDLE = "timeout.linkerd.io/idle"
RETRY_KEYS = (RETRY_HTTP, RETRY_GRPC, RETRY_LIMIT, RETRY_TIMEOUT)
TIMEOUT_KEYS = (TIMEOUT_REQUEST, TIMEOUT_RESPONSE, TIMEOUT_IDLE)
GRPC_CONDITIONS = ("cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable")
PER_TRY_RETRIED = ("5xx", "gateway-error", "reset")


@dataclass(frozen=True)
class Annotated:
    """Annotations and the document they sit on (a route or a Service)."""

    values: dict[str, str]
    origin: Origin
    on_service: bool  # a Service's (defaults for every route) rather than a route's

    def at(self, key: str) -> Origin:
        return annotation_origin(self.origin, key)


@dataclass(frozen=True)
class Resilience:
    retries: Json | None  # None: no retry annotation (Linkerd does not retry)
    timeout: str | None
    idle_timeout: str | None
    idle_origin: Origin | None = None


NONE = Resilience(None, None, None)


def _has(annotated: Annotated | None, keys: tuple[str, ...]) -> bool:
    return annotated is not None and any(k in annotated.values for k in keys)


def resilience(build: Build, route: Annotated | None, service: Annotated | None, grpc: bool | None) -> Resilience:
    """What the route (or, where it sets nothing, its Service) asks for, as Istio fields.
    ``grpc``: the route is a GRPCRoute (True), an HTTPRoute (False), or there is no route,
    only the Service (None: both kinds of conditions apply)."""
    retry_from = route if _has(route, RETRY_KEYS) else service if _has(service, RETRY_KEYS) else None
    timeout_from = route if _has(route, TIMEOUT_KEYS) else service if _has(service, TIMEOUT_KEYS) else None
    retries = _retries(build, retry_from, grpc) if retry_from is not None else None
    timeout, idle, idle_origin = None, None, None
    if timeout_from is not None:
        timeout, idle = _timeouts(build, timeout_from, retries is not None)
        idle_origin = timeout_from.at(TIMEOUT_IDLE) if idle else None
    return Resilience(retries, timeout, idle, idle_origin)


def _retries(build: Build, source: Annotated, grpc: bool | None) -> Json:
    values = source.values
    conditions: list[str] = []
    if grpc is not None and not source.on_service:
        ignored, kind = (RETRY_HTTP, "GRPCRoute") if grpc else (RETRY_GRPC, "HTTPRoute")
        if ignored in values:
            build.losses.dropped(source.at(ignored), f"Linkerd ignores {ignored} on a {kind}; not translated")
    if grpc is not True and RETRY_HTTP in values:
        conditions += _http_conditions(build, source)
    if grpc is not False and RETRY_GRPC in values:
        conditions += _grpc_conditions(build, source)
    attempts = 1
    if RETRY_LIMIT in values:
        raw = values[RETRY_LIMIT].strip()
        if raw.isdigit():
            attempts = int(raw) or 1
            if int(raw) == 0:
                build.losses.approximated(source.at(RETRY_LIMIT), "retry.linkerd.io/limit 0 means the default "
                                          "(1 retry) to Linkerd; emitted as attempts: 1")
        else:
            build.losses.dropped(source.at(RETRY_LIMIT), f"retry.linkerd.io/limit {raw!r} is not a number; "
                                 "Linkerd's default of 1 retry is emitted")
    out: Json = {"attempts": attempts}
    per_try = None
    if RETRY_TIMEOUT in values:
        per_try = istio_duration(values[RETRY_TIMEOUT])
        if per_try is None:
            build.losses.dropped(source.at(RETRY_TIMEOUT), f"retry.linkerd.io/timeout {values[RETRY_TIMEOUT]!r} "
                                 "is not a duration; not translated")
    if per_try is not None and not any(c in PER_TRY_RETRIED for word in conditions for c in word.split(",")):
        conditions.append("reset")
        build.losses.approximated(source.at(RETRY_TIMEOUT), "Envoy retries an attempt that timed out only under "
                                  "retryOn reset (or 5xx), which also retries dropped connections; reset was added")
    if not conditions:
        build.losses.approximated(source.origin if RETRY_LIMIT not in values else source.at(RETRY_LIMIT),
                                  "retry annotations without conditions or a timeout make Linkerd retry nothing; "
                                  "emitted as attempts: 0 (Istio would otherwise retry by default)")
        return {"attempts": 0}
    out["retryOn"] = ",".join(dict.fromkeys(conditions))
    if per_try is not None:
        out["perTryTimeout"] = per_try
    return out


def _http_conditions(build: Build, source: Annotated) -> list[str]:
    where = source.at(RETRY_HTTP)
    codes: set[int] = set()
    words: list[str] = []
    for token in (t.strip().lower() for t in source.values[RETRY_HTTP].split(",")):
        if not token:
            continue
        low, _, high = token.partition("-")
        if token == "5xx":
            codes.update(range(500, 600))
        elif token == "gateway-error":
            codes.update((502, 503, 504))
        elif low.isdigit() and (not high or high.isdigit()) and 100 <= int(low) <= int(high or low) <= 599:
            codes.update(range(int(low), int(high or low) + 1))
        else:
            build.losses.dropped(where, f"retry.linkerd.io/http condition {token!r} is not a status, range, 5xx or "
                                 "gateway-error; not translated")
    if codes:
        text = status_text(codes)
        if "5xx" in text.split(","):
            build.losses.approximated(where, "Envoy's retryOn 5xx also retries connect failures and resets; "
                                      "Linkerd retries on the response status only")
        words.append(text)
    return words


def _grpc_conditions(build: Build, source: Annotated) -> list[str]:
    out = []
    for token in (t.strip().lower() for t in source.values[RETRY_GRPC].split(",")):
        if token in GRPC_CONDITIONS:
            out.append(token)
        elif token:
            build.losses.dropped(source.at(RETRY_GRPC), f"retry.linkerd.io/grpc condition {token!r} is not one "
                                 f"Linkerd knows ({', '.join(GRPC_CONDITIONS)}); not translated")
    return out


def _timeouts(build: Build, source: Annotated, retried: bool) -> tuple[str | None, str | None]:
    values = source.values
    parsed: dict[str, str | None] = {}
    for key in TIMEOUT_KEYS:
        if key in values:
            parsed[key] = istio_duration(values[key])
            if parsed[key] is None:
                build.losses.dropped(source.at(key), f"{key} {values[key]!r} is not a duration; not translated")
    timeout = parsed.get(TIMEOUT_REQUEST)
    response = parsed.get(TIMEOUT_RESPONSE)
    if response is not None:
        if timeout is None and not retried:
            timeout = response
            build.losses.approximated(source.at(TIMEOUT_RESPONSE), "Istio has no response-only timeout; "
                                      "timeout.linkerd.io/response became the route timeout")
        else:
            build.losses.dropped(source.at(TIMEOUT_RESPONSE), "Istio has no response-only timeout beside the "
                                 "request timeout and retries; timeout.linkerd.io/response is not translated")
    idle = parsed.get(TIMEOUT_IDLE)
    if idle is not None:
        build.losses.approximated(source.at(TIMEOUT_IDLE), "timeout.linkerd.io/idle (a stream's idle time) became "
                                  "the DestinationRule connectionPool.http.idleTimeout (a connection's idle time)")
    return timeout, idle
