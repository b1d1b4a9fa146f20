"""Small conversions every part of the Envoy back-end shares: durations, shares, types.

>>> duration("1m30s"), duration("250ms"), duration("2h")
('90s', '0.25s', '7200s')
>>> fraction(12.5)
{'numerator': 125000, 'denominator': 'MILLION'}
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

TYPE_PREFIX = "type.googleapis.com/"
HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "envoy.extensions.filters.http.router.v3.Router"
FAULT = "envoy.extensions.filters.http.fault.v3.HTTPFault"
CORS_FILTER = "envoy.extensions.filters.http.cors.v3.Cors"
CORS_POLICY = "envoy.extensions.filters.http.cors.v3.CorsPolicy"
RBAC_HTTP = "envoy.extensions.filters.http.rbac.v3.RBAC"
RBAC_NETWORK = "envoy.extensions.filters.network.rbac.v3.RBAC"
TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
PREVIOUS_HOSTS = "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
PREVIOUS_PRIORITIES = "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig"
HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
UPSTREAM_TLS = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
DOWNSTREAM_TLS = "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
RAW_BUFFER = "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"
TLS_INSPECTOR = "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
HTTP_INSPECTOR = "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"

UINT32_MAX = 4294967295
MESH_CONNECT_TIMEOUT = "10s"

_UNITS = {"h": Decimal(3600), "m": Decimal(60), "s": Decimal(1), "ms": Decimal("0.001"),
          "us": Decimal("0.000001"), "µs": Decimal("0.000001"), "ns": Decimal("0.000000001")}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)")


@lru_cache(maxsize=4096)
def seconds(text: str) -> Decimal | None:
    """A Go duration (``1h2m3.5s``, ``250ms``) in seconds; None if it is not one."""
    text = text.strip()
    if not text:
        return None
    total, pos = Decimal(0), 0
    for m in _PART.finditer(text):
        if m.start() != pos:
            return None
        total += Decimal(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) else None


@lru_cache(maxsize=4096)
def duration(text: str | None) -> str | None:
    """A Go duration as a protobuf JSON duration (``"0.250s"``); None when absent or invalid."""
    if text is None:
        return None
    value = seconds(text)
    if value is None:
        return None
    if value == value.to_integral_value():
        return f"{int(value)}s"
    return f"{value.quantize(Decimal('0.000000001')).normalize():f}s"


def whole_seconds(text: str | None) -> int | None:
    value = seconds(text) if text is not None else None
    return None if value is None else int(value)


def fraction(percent: float) -> dict[str, Any]:
    """An Istio percentage (0-100, a double) as Envoy's FractionalPercent per million."""
    return {"numerator": round(percent * 10000), "denominator": "MILLION"}


def typed(type_name: str, **fields: Any) -> dict[str, Any]:
    """A ``typed_config`` value: ``{"@type": "type.googleapis.com/<type>", **fields}``."""
    return {"@type": TYPE_PREFIX + type_name, **fields}
