"""An ExternalName Service has a port named `tcp`, or one whose name tells no protocol.

## Why it matters
An ExternalName Service has no cluster IP: Istio turns it into a DNS cluster for the
external name, and a TCP (or sniffed) port of it becomes an outbound listener on
`0.0.0.0:<port>` that is matched by port alone. That listener can take the TCP traffic
of every other destination on the same port, or be shadowed by it, so the proxy may
send TCP connections to the wrong place or drop them. This is what `istioctl analyze`
reports as IST0150 (ExternalNameServiceTypeInvalidPortName).

meshctl reports this only when the inputs involve Istio (an Istio resource or an
Istio-labelled Namespace), and not in Linkerd namespaces.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Service
metadata: {name: payments, namespace: shop}
spec:
  type: ExternalName
  externalName: api.payments.example.com
  ports:
  - name: tcp          # a port-wide TCP listener
    port: 443
```

## Fix
Name the port after the protocol it really carries (`https`, `tls`, `http`, ...) or set
`appProtocol`. For raw TCP to an external host, prefer a ServiceEntry with `addresses`
(or DNS auto-allocation) over an ExternalName Service.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import ServicePort
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._dataplane import linkerd_namespace
from meshctl.rules.hygiene._ports import describe, sniffed
from meshctl.rules.hygiene._scope import config_scope

RULE = Rule(
    "MSH161", "external-name-port-name", Severity.WARNING, __doc__, istio_code="IST0150",
    reads=frozenset({"services"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    scope = config_scope(ctx.mesh)
    if not scope.uses_istio:
        return
    for service in ctx.mesh.services:
        if service.type != "ExternalName" or scope.linkerd_only(service.namespace):
            continue
        if linkerd_namespace(ctx.mesh.namespaces.get(service.namespace)):
            continue
        target = f"ExternalName {service.external_name!r}" if service.external_name else "the ExternalName"
        for port in service.ports:
            message = _problem(port)
            if message is not None:
                where = port.origin.at("name") if port.name else port.origin
                yield RULE.on(where, f"{describe(port)} of {target}: {message}")


def _problem(port: ServicePort) -> str | None:
    if port.name == "tcp":
        return (
            "a port named 'tcp' becomes a port-wide TCP listener that can capture or lose other "
            "destinations' traffic on this port; name it after the protocol it carries "
            "(https, tls, http, ...)"
        )
    if sniffed(port):
        what = f"appProtocol {port.app_protocol!r} is" if port.app_protocol else "the name is"
        return (
            f"{what} not a protocol Istio knows, so the proxy may mishandle its TCP traffic; "
            "name it '<protocol>[-suffix]' (https, tls, http, ...) or set appProtocol"
        )
    return None
