"""What one Envoy translation is asked for: which proxy, seen from where."""

from __future__ import annotations

from dataclasses import dataclass

PROXY_KINDS = ("sidecar", "gateway", "inbound")


@dataclass(frozen=True)
class EnvoyOptions:
    proxy: str = "sidecar"  # sidecar (outbound view) | gateway | inbound
    target: tuple[str, str] | None = None  # (name, namespace) of the gateway or workload
    namespace: str | None = None  # sidecar: the client's namespace (None: the first route's)
    listen_address: str = "0.0.0.0"
