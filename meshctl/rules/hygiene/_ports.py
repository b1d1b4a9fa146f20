"""How Istio reads a Service port's protocol, beyond what the model's ``mesh_protocol`` says.

Istio's ConvertProtocol falls back to TCP for a few well-known ports whose name and
appProtocol say nothing (SMTP, DNS, MySQL, MongoDB), so it does not sniff them::

    ServicePort(name=None, port=3306)  -> mesh_protocol UNKNOWN, but Istio uses TCP
    ServicePort(name="web", port=8080) -> sniffed
    suggested_name("jaeger-collector-grpc") -> "grpc-jaeger-collector"
"""

from __future__ import annotations

from meshctl.model.objects import Protocol, ServicePort

WELL_KNOWN_TCP_PORTS = frozenset({25, 53, 3306, 27017})
PROTOCOL_PREFIXES = ("http", "http2", "https", "grpc", "tcp", "tls", "mongo", "mysql", "redis")


def sniffed(port: ServicePort) -> bool:
    """Neither the name nor appProtocol gives the protocol, and the port number does not either."""
    return port.mesh_protocol is Protocol.UNKNOWN and port.port not in WELL_KNOWN_TCP_PORTS


def describe(port: ServicePort) -> str:
    """``port 8080 ('web')``, ``port 8080 (unnamed)``, ``port 8080 ('web', appProtocol 'h2c')``."""
    name = f"{port.name!r}" if port.name else "unnamed"
    if port.app_protocol:
        return f"port {port.port} ({name}, appProtocol {port.app_protocol!r})"
    return f"port {port.port} ({name})"


def suggested_name(name: str) -> str | None:
    """A protocol written later in the name, moved to the front (``collector-grpc`` -> ``grpc-collector``)."""
    parts = name.lower().split("-")
    for i, part in enumerate(parts):
        if i and part in PROTOCOL_PREFIXES:
            return "-".join([part, *parts[:i], *parts[i + 1:]])
    return None
