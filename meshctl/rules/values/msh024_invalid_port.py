"""A port is missing, repeated, misnamed or of an unknown protocol.

## Why it matters
Istio's webhook (or the CRD's own rules) rejects the resource: ServiceEntry port
numbers and names must be unique, endpoint ports must name one of the entry's ports,
port names must be DNS labels, protocols must be ones Istio knows, a Gateway's
server port names must be unique, Sidecar listeners may not share a port (and the
one egress listener without a port must come last), a destination `port` needs a
`number`, and a PeerAuthentication can set `portLevelMtls` only when a selector
picks the workloads whose ports those are.

## Example
```yaml
kind: ServiceEntry
spec:
  hosts: [api.example.com]
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  - {number: 443, name: tls, protocol: TLS}      # 443 again
```

## Fix
Give each port its own number and name, use a protocol from the list in the
message, and add `selector.matchLabels` before `portLevelMtls`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._hostnames import is_dns1123_label
from meshctl.rules.values._walk import find, items, mapping, number, present

SERVICE_ENTRY = "networking.istio.io/ServiceEntry"
WORKLOAD_ENTRY = "networking.istio.io/WorkloadEntry"
WORKLOAD_GROUP = "networking.istio.io/WorkloadGroup"
GATEWAY = "networking.istio.io/Gateway"
SIDECAR = "networking.istio.io/Sidecar"
VIRTUAL_SERVICE = "networking.istio.io/VirtualService"
DESTINATION_RULE = "networking.istio.io/DestinationRule"
PEER_AUTHENTICATION = "security.istio.io/PeerAuthentication"

RULE = Rule(
    "MSH024",
    "invalid-port",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset(
        {
            SERVICE_ENTRY,
            WORKLOAD_ENTRY,
            WORKLOAD_GROUP,
            GATEWAY,
            SIDECAR,
            VIRTUAL_SERVICE,
            DESTINATION_RULE,
            PEER_AUTHENTICATION,
        }
    ),
)

PROTOCOLS = (
    "HTTP",
    "HTTPS",
    "HTTP2",
    "GRPC",
    "GRPC-WEB",
    "HTTP_PROXY",
    "TCP",
    "TLS",
    "UDP",
    "MONGO",
    "REDIS",
    "MYSQL",
)
MAX_ENDPOINT_PORT_NAME = 62  # the CRDs' rule is size < 63
ENDPOINT_PORT_MAPS = {
    SERVICE_ENTRY: "spec.endpoints[].ports",
    WORKLOAD_ENTRY: "spec.ports",
    WORKLOAD_GROUP: "spec.template.ports",
}
DESTINATION_PORTS = (
    "spec.http[].route[].destination.port",
    "spec.http[].mirror.port",
    "spec.http[].mirrors[].destination.port",
    "spec.tcp[].route[].destination.port",
    "spec.tls[].route[].destination.port",
)
PORT_LEVEL_SETTINGS = (
    "spec.trafficPolicy.portLevelSettings[]",
    "spec.subsets[].trafficPolicy.portLevelSettings[]",
)
# Resolutions whose endpoints carry ports matched by name against the entry's ports.
NAMED_ENDPOINT_RESOLUTIONS = ("STATIC", "DNS", "DNS_ROUND_ROBIN")


def protocol_problem(value: str) -> str | None:
    """Why Istio does not know ``value`` as a port protocol (case-insensitive), or None."""
    if value.upper() in PROTOCOLS:
        return None
    return f"protocol {value!r} is not one Istio knows ({', '.join(PROTOCOLS)})"


def endpoint_port_name_problem(name: str) -> str | None:
    if len(name) <= MAX_ENDPOINT_PORT_NAME and is_dns1123_label(name):
        return None
    return (
        f"port name {name!r} must be letters, digits and '-', at most "
        f"{MAX_ENDPOINT_PORT_NAME} long, starting and ending with a letter or digit"
    )


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    kind = doc.kind_key
    spec = mapping(doc.data.get("spec"))
    if kind in ENDPOINT_PORT_MAPS:
        for path, ports in find(doc.data, ENDPOINT_PORT_MAPS[kind]):
            for name in mapping(ports):
                problem = endpoint_port_name_problem(str(name))
                if problem:
                    yield RULE.at(doc, (*path, str(name)), problem, key=True)
    by_kind = _BY_KIND.get(kind)
    if by_kind is not None:
        yield from by_kind(doc, spec)


def _gateway(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    yield from _unique(doc, _ports(doc, "spec.servers[].port"), "name", "server port name")
    for path, port in _ports(doc, "spec.servers[].port"):
        yield from _protocol(doc, path, port)


def _destination_ports(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    for pattern in DESTINATION_PORTS:
        for path, port in _ports(doc, pattern):
            if _unset(port.get("number")):
                yield RULE.at(doc, path, "destination port needs a number from 1 to 65535")


def _port_level_settings(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    for pattern in PORT_LEVEL_SETTINGS:
        for path, setting in find(doc.data, pattern):
            if isinstance(setting, dict) and not present(setting, "port"):
                yield RULE.at(doc, path, "a portLevelSettings entry needs port.number")


def _port_level_mtls(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    selected = mapping(mapping(spec.get("selector")).get("matchLabels"))
    if present(spec, "portLevelMtls") and not selected:
        yield RULE.at(
            doc,
            ("spec", "portLevelMtls"),
            "portLevelMtls needs a selector with matchLabels: port numbers mean "
            "something only for the workloads a selector picks",
            key=True,
        )


def _ports(doc: SourceDoc, pattern: str) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for path, port in find(doc.data, pattern):
        if isinstance(port, dict):
            yield path, port


def _unset(value: Any) -> bool:
    """A port number left out or 0 (other wrong values are the schema's to report)."""
    return value is None or number(value) == 0


def _protocol(doc: SourceDoc, path: FieldPath, port: dict[str, Any]) -> Iterator[Finding]:
    protocol = port.get("protocol")
    if isinstance(protocol, str) and protocol:
        problem = protocol_problem(protocol)
        if problem:
            yield RULE.at(doc, (*path, "protocol"), problem)


def _unique(
    doc: SourceDoc, ports: Iterator[tuple[FieldPath, dict[str, Any]]], field: str, what: str
) -> Iterator[Finding]:
    seen: dict[object, FieldPath] = {}
    for path, port in ports:
        value = port.get(field)
        if value is None or isinstance(value, (dict, list)):
            continue
        if value in seen:
            first = format_path(seen[value])
            yield RULE.at(doc, (*path, field), f"{what} {value!r} is already used by {first}")
        else:
            seen[value] = path


def _service_entry_ports(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    ports = list(_ports(doc, "spec.ports[]"))
    yield from _unique(doc, iter(ports), "number", "port number")
    yield from _unique(doc, iter(ports), "name", "port name")
    names: set[str] = set()
    for path, port in ports:
        name = port.get("name")
        if isinstance(name, str):
            names.add(name)
            if not is_dns1123_label(name):
                yield RULE.at(doc, (*path, "name"), f"port name {name!r} is not a DNS label")
        yield from _protocol(doc, path, port)
    if spec.get("resolution") not in NAMED_ENDPOINT_RESOLUTIONS:
        return
    for path, endpoint_ports in find(doc.data, "spec.endpoints[].ports"):
        for name in mapping(endpoint_ports):
            if str(name) not in names:
                yield RULE.at(
                    doc,
                    (*path, str(name)),
                    f"endpoint port {name!r} is not one of the ServiceEntry's port names "
                    f"({', '.join(sorted(names)) or 'none'})",
                    key=True,
                )


def _sidecar(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    ingress = list(_ports(doc, "spec.ingress[].port"))
    for path, port in ingress:
        if _unset(port.get("number")):
            yield RULE.at(doc, path, "an ingress listener port needs a number from 1 to 65535")
    yield from _unique(doc, iter(ingress), "number", "ingress port")
    egress = items(spec.get("egress"))
    catch_all_seen = False
    for index, listener in enumerate(egress):
        if not isinstance(listener, dict) or present(listener, "port"):
            continue
        path = ("spec", "egress", index)
        if catch_all_seen:
            yield RULE.at(doc, path, "only one egress listener may leave out the port")
        elif index != len(egress) - 1:
            yield RULE.at(
                doc, path, "the egress listener without a port (the catch-all) must be the last one"
            )
        catch_all_seen = True
    numbered = (
        (path, port)
        for path, port in _ports(doc, "spec.egress[].port")
        if number(port.get("number"))
    )
    yield from _unique(doc, numbered, "number", "egress port")


_BY_KIND: dict[str, Callable[[SourceDoc, dict[str, Any]], Iterator[Finding]]] = {
    SERVICE_ENTRY: _service_entry_ports,
    GATEWAY: _gateway,
    SIDECAR: _sidecar,
    VIRTUAL_SERVICE: _destination_ports,
    DESTINATION_RULE: _port_level_settings,
    PEER_AUTHENTICATION: _port_level_mtls,
}
