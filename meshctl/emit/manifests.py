"""What a mesh-to-mesh back-end returns: Kubernetes resources, the losses, a summary.

The Istio, Linkerd and Gateway API back-ends build plain dicts with ``resource()``;
``render()`` writes them as one multi-document YAML stream in a stable order (kinds in
the order they must be applied, then namespace and name), so the output diffs cleanly
and ``kubectl apply -f`` takes it as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshctl.diagnostics import Finding
from meshctl.emit.yaml_out import dump
from meshctl.model.objects import ServicePort

Json = dict[str, Any]

# Apply order: what others refer to first.
KIND_ORDER = (
    "Namespace", "ServiceAccount", "Service", "Deployment", "ServiceProfile",
    "Gateway", "ReferenceGrant", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute",
    "VirtualService", "DestinationRule", "ServiceEntry", "Sidecar",
    "Server", "MeshTLSAuthentication", "NetworkAuthentication", "AuthorizationPolicy", "PeerAuthentication",
)


@dataclass
class Manifests:
    resources: list[Json] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    summary: str = ""  # what was translated, for the line the CLI prints

    def add(self, item: Json) -> Json:
        self.resources.append(item)
        return item


def resource(
    api_version: str, kind: str, name: str, namespace: str | None, spec: Json | None = None, *,
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None, **top: Any,
) -> Json:
    """A Kubernetes object: ``apiVersion``, ``kind``, ``metadata`` (name, namespace, labels,
    annotations when given), then ``spec`` and any other top-level fields."""
    metadata: Json = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(sorted(labels.items()))
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    out: Json = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    if spec is not None:
        out["spec"] = spec
    out.update(top)
    return out


def service_port(port: ServicePort, app_protocol: str | None = None) -> Json:
    """A Service port as Kubernetes writes it (defaults left out); ``app_protocol``
    replaces the input's ``appProtocol`` when a translation needs another one."""
    out: Json = {}
    if port.name:
        out["name"] = port.name
    out["port"] = port.port
    if port.target_port is not None:
        out["targetPort"] = port.target_port
    if port.protocol != "TCP":
        out["protocol"] = port.protocol
    app = app_protocol or port.app_protocol
    if app:
        out["appProtocol"] = app
    return out


def _order(item: Json) -> tuple[int, str, str, str]:
    kind = str(item.get("kind", ""))
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    meta = item.get("metadata", {})
    return (rank, kind, str(meta.get("namespace", "")), str(meta.get("name", "")))


SOURCE_ANNOTATION = "meshctl.io/translated-from"
MANAGED_BY = {"app.kubernetes.io/managed-by": "meshctl"}


def sources_of(item: Json) -> list[str]:
    """The ``Kind/namespace/name`` of every input object a resource was translated from."""
    value = item.get("metadata", {}).get("annotations", {}).get(SOURCE_ANNOTATION, "")
    return [part.strip() for part in str(value).split(",") if part.strip()]


def by_namespace(resources: list[Json]) -> dict[str, list[Json]]:
    """Resources grouped by namespace (cluster-scoped ones under ``""``)."""
    groups: dict[str, list[Json]] = {}
    for item in resources:
        groups.setdefault(str(item.get("metadata", {}).get("namespace", "")), []).append(item)
    return groups


def labelled(item: Json) -> Json:
    """The resource with ``app.kubernetes.io/managed-by: meshctl`` among its labels."""
    metadata = dict(item.get("metadata", {}))
    metadata["labels"] = dict(sorted({**metadata.get("labels", {}), **MANAGED_BY}.items()))
    return {**item, "metadata": metadata}


def render(resources: list[Json], header: str, where: Callable[[str], str | None] | None = None) -> str:
    """One YAML stream: a comment header, then every resource in apply order, each one
    preceded by a comment naming the input it came from (``where`` turns a
    ``Kind/namespace/name`` into ``file:line``)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    docs = []
    for item in sorted(resources, key=_order):
        origins = [f"{where(source) or source}" if where else source for source in sources_of(item)]
        comment = "".join(f"# from {origin}\n" for origin in origins)
        docs.append(f"---\n{comment}{dump(labelled(item))}")
    return "\n".join(lines) + "\n" + "".join(docs)
