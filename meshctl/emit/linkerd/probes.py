"""The HTTP probes of a workload's containers (kubelet ``httpGet`` readiness, liveness, startup).

Linkerd authorizes kubelet probes by itself only on ports without inbound routes; once
the translation attaches routes to a Server, the probe paths must be authorized
explicitly, so the policy step needs them.

The model does not carry probes yet (``Container`` has ports only), so until it does
this module reads them from the workload's already-parsed document, at the container's
origin: the one place in this package that looks past the model. With a model field
``Container.http_probes`` (see the report of this back-end) it is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshctl.model.objects import Container, Workload

PROBE_KINDS = ("readinessProbe", "livenessProbe", "startupProbe")


@dataclass(frozen=True)
class HttpProbe:
    path: str
    port: int | None  # the container port number (a named port resolved), None if unknown
    container: str


def http_probes(workload: Workload) -> list[HttpProbe]:
    out: list[HttpProbe] = []
    for container in workload.containers:
        modelled = getattr(container, "http_probes", None)
        if modelled is not None:
            out.extend(HttpProbe(p.path, _port(container, p.port), container.name) for p in modelled)
            continue
        data = _container_data(container)
        for kind in PROBE_KINDS:
            probe = data.get(kind)
            get = probe.get("httpGet") if isinstance(probe, dict) else None
            if not isinstance(get, dict):
                continue
            path = get.get("path") if isinstance(get.get("path"), str) else "/"
            scheme = get.get("scheme")
            if isinstance(scheme, str) and scheme.upper() == "HTTPS":
                continue  # Linkerd proxies HTTPS probes as TLS: no route needed
            out.append(HttpProbe(path or "/", _port(container, get.get("port")), container.name))
    return list(dict.fromkeys(out))


def _container_data(container: Container) -> dict[str, Any]:
    value: Any = container.origin.doc.data
    for part in container.origin.path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return {}
    return value if isinstance(value, dict) else {}


def _port(container: Container, port: Any) -> int | None:
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        return dict(container.named_ports).get(port)
    return None
