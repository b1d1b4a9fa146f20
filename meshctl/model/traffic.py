"""The details of what a route rule does and how a destination is reached.

The rules of `analyze` mostly ask *whether* a rule redirects or a destination has a
connection pool; the emitters (`translate`) need *how*. Both read these objects: an
absent feature is ``None``, so ``if rule.redirect:`` reads as before.

Durations stay as written (Go/protobuf duration strings such as ``"1.5s"``); the
emitters normalise them. Every object keeps its origin so what a target cannot express
is reported at the field that asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.model.origin import Origin

HeaderPairs = tuple[tuple[str, str], ...]


# -- what a rule does besides routing ----------------------------------------------------
@dataclass(frozen=True, eq=False)
class HeaderOps:
    """Header changes on the request and the response (Istio `headers`, Gateway API modifiers)."""

    request_set: HeaderPairs = ()
    request_add: HeaderPairs = ()
    request_remove: tuple[str, ...] = ()
    response_set: HeaderPairs = ()
    response_add: HeaderPairs = ()
    response_remove: tuple[str, ...] = ()
    origin: Origin | None = None

    def __bool__(self) -> bool:
        return any((self.request_set, self.request_add, self.request_remove,
                    self.response_set, self.response_add, self.response_remove))


@dataclass(frozen=True, eq=False)
class Redirect:
    """An HTTP redirect. ``uri`` replaces the whole path; ``prefix`` only the matched prefix."""

    uri: str | None
    authority: str | None
    scheme: str | None
    port: int | None
    derive_port: bool  # Istio derivePort: FROM_REQUEST_PORT
    code: int | None  # None: the source's default (Istio 301, Gateway API 302)
    origin: Origin
    prefix: str | None = None  # Gateway API ReplacePrefixMatch


@dataclass(frozen=True, eq=False)
class Rewrite:
    """A rewrite before forwarding: ``uri`` replaces the matched prefix (Istio semantics)."""

    uri: str | None
    regex: tuple[str, str] | None  # (pattern, substitution), Istio uriRegexRewrite
    authority: str | None
    origin: Origin
    full_path: str | None = None  # Gateway API ReplaceFullPath


@dataclass(frozen=True, eq=False)
class DirectResponse:
    status: int
    body: str | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class OriginMatch:
    """One allowed CORS origin: exact, prefix or regex (Istio StringMatch)."""

    type: str  # exact | prefix | regex
    value: str


@dataclass(frozen=True, eq=False)
class Cors:
    allow_origins: tuple[OriginMatch, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: str | None
    allow_credentials: bool | None
    unmatched_preflights: str | None  # FORWARD (default) | IGNORE
    origin: Origin


@dataclass(frozen=True, eq=False)
class StickySession:
    """A client kept on one backend pod by a cookie the proxy sets (ingress-nginx's cookie
    affinity; Gateway API's sessionPersistence)."""

    cookie: str
    max_age: int | None  # seconds; None: a cookie for the browser session
    path: str | None
    origin: Origin


# -- how a destination is reached (DestinationRule trafficPolicy) ---------------------------
@dataclass(frozen=True, eq=False)
class HashKey:
    """What consistent-hash load balancing hashes on."""

    kind: str  # header | cookie | source_ip | query
    name: str | None = None
    path: str | None = None  # cookie path
    ttl: str | None = None  # cookie ttl


@dataclass(frozen=True, eq=False)
class Warmup:
    duration: str
    aggression: float | None
    minimum_percent: float | None


@dataclass(frozen=True, eq=False)
class LoadBalancer:
    simple: str | None  # ROUND_ROBIN | LEAST_REQUEST | LEAST_CONN | RANDOM | PASSTHROUGH | UNSPECIFIED
    hash_key: HashKey | None  # consistent hash, when set
    hash_algorithm: str | None  # ring | maglev | None (Istio's default ring of 1024)
    ring_size: int | None
    table_size: int | None
    warmup: Warmup | None
    locality: bool  # localityLbSetting present
    origin: Origin


@dataclass(frozen=True, eq=False)
class TcpKeepalive:
    probes: int | None
    time: str | None
    interval: str | None


@dataclass(frozen=True, eq=False)
class ConnectionPool:
    """Istio's connectionPool: circuit-breaker thresholds and protocol options."""

    max_connections: int | None
    connect_timeout: str | None
    max_connection_duration: str | None
    tcp_idle_timeout: str | None
    tcp_keepalive: TcpKeepalive | None
    http1_max_pending_requests: int | None
    http2_max_requests: int | None
    max_requests_per_connection: int | None
    max_retries: int | None
    idle_timeout: str | None
    h2_upgrade_policy: str | None
    use_client_protocol: bool
    max_concurrent_streams: int | None
    origin: Origin


@dataclass(frozen=True, eq=False)
class OutlierDetection:
    consecutive_5xx: int | None
    consecutive_gateway_errors: int | None
    consecutive_local_origin_failures: int | None
    split_external_local_origin_errors: bool
    interval: str | None
    base_ejection_time: str | None
    max_ejection_percent: int | None
    min_health_percent: int | None
    consecutive_errors: int | None  # deprecated; Istio no longer translates it
    origin: Origin
