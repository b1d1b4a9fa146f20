"""A Service's ports are missing, unnamed, repeated, or set a nodePort on a ClusterIP.

## Why it matters
The API server rejects the Service when:

- it has no `ports` and is neither headless (`clusterIP: None`) nor of type
  `ExternalName`;
- it has more than one port and one of them has no `name`, or two ports share a
  name (meshes route by port name, and Endpoints are keyed by it);
- two ports have the same `port` and `protocol` (the protocol defaults to TCP), or
  the same `nodePort` and protocol;
- a port sets `nodePort` while the type is `ClusterIP` (the default).

## Example
```yaml
apiVersion: v1
kind: Service
spec:
  selector: {app: web}
  ports:
  - port: 80                # two ports: each needs a name
    targetPort: 8080
  - name: admin
    port: 80                # port 80/TCP is already listed
    targetPort: 9990
```

## Fix
Name every port of a multi-port Service (`http`, `grpc`, `admin`...), give each
(port, protocol) pair its own entry, and set `type: NodePort` (or drop `nodePort`)
when a node port is meant.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Related, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import number

RULE = Rule(
    "MSH070",
    "invalid-service-ports",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({"/Service"}),
)

DEFAULT_PROTOCOL = "TCP"
DEFAULT_TYPE = "ClusterIP"
HEADLESS = "None"
EXTERNAL_NAME = "ExternalName"


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    spec = doc.data.get("spec")
    if not isinstance(spec, dict):
        return
    ports = spec.get("ports")
    service_type = spec.get("type") or DEFAULT_TYPE
    if ports is None or ports == []:
        if spec.get("clusterIP") != HEADLESS and service_type != EXTERNAL_NAME:
            yield RULE.at(
                doc,
                ("spec", "ports"),
                f"a Service of type {service_type} needs at least one port "
                "(only headless Services, clusterIP: None, and ExternalName Services "
                "may have none)",
            )
        return
    if not isinstance(ports, list):
        return
    path: FieldPath = ("spec", "ports")
    entries = [(index, port) for index, port in enumerate(ports) if isinstance(port, dict)]
    yield from _names(doc, path, entries, several=len(ports) > 1)
    yield from _repeated(doc, path, entries, "port")
    yield from _repeated(doc, path, entries, "nodePort")
    if service_type == DEFAULT_TYPE:
        for index, port in entries:
            if number(port.get("nodePort")):
                yield RULE.at(
                    doc,
                    (*path, index, "nodePort"),
                    f"nodePort {port['nodePort']} is set, but a ClusterIP Service has no node "
                    "ports; use type NodePort or LoadBalancer, or remove it",
                )


def _names(
    doc: SourceDoc, path: FieldPath, entries: list[tuple[int, dict[str, Any]]], *, several: bool
) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, port in entries:
        name = port.get("name")
        if not name:
            if several:
                yield RULE.at(
                    doc,
                    (*path, index, "name"),
                    f"port {_shown(port)} has no name; every port of a Service with several "
                    "ports needs one",
                )
            continue
        if not isinstance(name, str):
            continue
        first = seen.setdefault(name, index)
        if first != index:
            yield _again(doc, path, index, first, "name", f"port name {name!r} is used twice")


def _repeated(
    doc: SourceDoc, path: FieldPath, entries: list[tuple[int, dict[str, Any]]], field: str
) -> Iterator[Finding]:
    """Ports that repeat the (``field``, protocol) pair of an earlier port."""
    seen: dict[tuple[int, str], int] = {}
    for index, port in entries:
        value = number(port.get(field))
        protocol = port.get("protocol") or DEFAULT_PROTOCOL
        if not value or not isinstance(protocol, str):
            continue
        first = seen.setdefault((value, protocol), index)
        if first != index:
            message = (
                f"{field} {value}/{protocol} is listed twice; each {field} and protocol "
                "pair may appear once"
            )
            yield _again(doc, path, index, first, field, message)


def _again(
    doc: SourceDoc, path: FieldPath, index: int, first: int, field: str, message: str
) -> Finding:
    first_path = (*path, first)
    return RULE.finding(
        message,
        doc.locate((*path, index, field)),
        doc.ref,
        related=(Related(f"first at {format_path(first_path)}", doc.locate(first_path)),),
    )


def _shown(port: dict[str, Any]) -> str:
    value = port.get("port")
    return str(value) if number(value) is not None else "entry"
