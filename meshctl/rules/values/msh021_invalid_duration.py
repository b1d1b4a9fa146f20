"""A duration is not in the syntax its field accepts, or is below the field's minimum.

## Why it matters
Istio and Linkerd fields take Go durations (`1.5s`, `300ms`, `1h2m`); Gateway API
takes a stricter form (`10s`, `1h30m`: units h, m, s and ms, integers only). A
plain number (`timeout: 5`) or an unknown unit (`5sec`) is rejected by the API
server or the webhook, so the timeout or retry you meant never applies. Istio's
CRDs also require most durations (timeouts, retry and outlier-detection intervals,
connection-pool timeouts, JWKS fetch timeout, metric reporting interval) to be at
least 1ms: `timeout: 0s` is rejected, it does not mean "no timeout".

## Example
```yaml
http:
- route:
  - destination: {host: reviews}
  timeout: 5        # no unit
  retries:
    attempts: 3
    perTryTimeout: 500us   # below 1ms
```

## Fix
Write the number with a unit: `timeout: 5s`. Use at least `1ms`; to have no
timeout, leave the field out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import find_all

VIRTUAL_SERVICE = "networking.istio.io/VirtualService"
DESTINATION_RULE = "networking.istio.io/DestinationRule"
SIDECAR = "networking.istio.io/Sidecar"
REQUEST_AUTHENTICATION = "security.istio.io/RequestAuthentication"
TELEMETRY = "telemetry.istio.io/Telemetry"

RULE = Rule(
    "MSH021",
    "invalid-duration",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset(
        {VIRTUAL_SERVICE, DESTINATION_RULE, SIDECAR, REQUEST_AUTHENTICATION, TELEMETRY}
    ),
)

_NANOS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NANOS = 2**63 - 1
MINIMUM_NANOS = 1_000_000

# Durations Istio's CRDs require to be >= 1ms, relative to a connection pool or traffic policy.
_POOL = (
    "http.idleTimeout",
    "tcp.connectTimeout",
    "tcp.maxConnectionDuration",
    "tcp.tcpKeepalive.interval",
    "tcp.tcpKeepalive.time",
)
_POLICY = (
    *(f"connectionPool.{field}" for field in _POOL),
    "loadBalancer.warmup.duration",
    "loadBalancer.warmupDurationSecs",
    "outlierDetection.baseEjectionTime",
    "outlierDetection.interval",
)
_POLICY_ROOTS = (
    "spec.trafficPolicy",
    "spec.trafficPolicy.portLevelSettings[]",
    "spec.subsets[].trafficPolicy",
    "spec.subsets[].trafficPolicy.portLevelSettings[]",
)
_HTTP_ROUTE = (
    "timeout",
    "retries.perTryTimeout",
    "retries.backoff",
    "fault.delay.fixedDelay",
    "fault.delay.exponentialDelay",
    "corsPolicy.maxAge",
)
MINIMUM_FIELDS: dict[str, tuple[str, ...]] = {
    VIRTUAL_SERVICE: tuple(f"spec.http[].{field}" for field in _HTTP_ROUTE),
    DESTINATION_RULE: tuple(f"{root}.{field}" for root in _POLICY_ROOTS for field in _POLICY),
    SIDECAR: tuple(
        f"{root}.{field}"
        for root in ("spec.inboundConnectionPool", "spec.ingress[].connectionPool")
        for field in _POOL
    ),
    REQUEST_AUTHENTICATION: ("spec.jwtRules[].timeout",),
    TELEMETRY: ("spec.metrics[].reportingInterval",),
}


def describe(value: object, where: str) -> str:
    """The message for a value that failed a Duration or GatewayDuration definition."""
    shown = repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
    if "GatewayDuration" in where:
        return (
            f"invalid duration {shown}: Gateway API durations are integers with units "
            "h, m, s or ms, like 10s or 1h30m"
        )
    return f"invalid duration {shown}: expected a Go duration like 1s, 500ms or 1h30m"


def parse_go_duration(text: str) -> float | None:
    """Seconds in ``text`` read as Go's ``time.ParseDuration`` reads it, or None if Go rejects it.

    ``1h2m3.5s`` -> 3723.5, ``300ms`` -> 0.3, ``1.5us`` and ``1.5µs`` -> 1.5e-06, ``-2s`` -> -2.0,
    ``0`` -> 0.0. Every number needs a unit (ns, us, µs, ms, s, m, h); fractions are truncated
    to whole nanoseconds and values past Go's int64 nanoseconds are rejected, as in Go.
    """
    nanos = _parse_nanos(text)
    return None if nanos is None else nanos / 1e9


def _parse_nanos(text: str) -> int | None:
    sign = 1
    rest = text
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        return None
    total = 0
    while rest:
        whole, rest = _take(rest, _is_digit)
        fraction = ""
        if rest[:1] == ".":
            fraction, rest = _take(rest[1:], _is_digit)
        if not whole and not fraction:
            return None
        unit, rest = _take(rest, lambda c: not (_is_digit(c) or c == "."))
        scale = _NANOS.get(unit)
        if scale is None:
            return None
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        if total > _MAX_NANOS:
            return None
    return sign * total


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _take(text: str, wanted: Callable[[str], bool]) -> tuple[str, str]:
    """Split ``text`` after its longest prefix of characters ``wanted`` accepts."""
    end = 0
    while end < len(text) and wanted(text[end]):
        end += 1
    return text[:end], text[end:]


def _shown_by_schema(text: str) -> bool:
    """Whether the schema's Duration syntax takes ``text``: unsigned, a unit after every number.

    Go also reads ``0`` and signed values, but the schema reports those as syntax errors
    (MSH021 already), so the minimum is checked only for values that pass the syntax.
    """
    return _is_digit(text[:1]) and text != "0"


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    patterns = MINIMUM_FIELDS.get(doc.kind_key)
    if not patterns:
        return
    for path, text in find_all(doc.data, patterns):
        if isinstance(text, str):
            nanos = _parse_nanos(text)
            if nanos is None or not _shown_by_schema(text) or nanos >= MINIMUM_NANOS:
                continue
            yield RULE.at(doc, path, f"{path[-1]} {text!r} is below Istio's minimum of 1ms")
