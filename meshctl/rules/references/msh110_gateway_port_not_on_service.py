"""An Istio Gateway listens on a port that no Service in front of its workloads exposes.

## Why it matters
A Gateway server makes the gateway proxy listen on `port.number`, but traffic reaches
the proxy only through a Service that selects the gateway pods. When no such Service
has that port (as `port` or `targetPort`), the listener is unreachable: clients get
connection refused or time out, while the config looks right. Istio checks this against
the Services selecting the pods the Gateway's `selector` picks, in every namespace.
This is what `istioctl analyze` reports as IST0162 (GatewayPortNotDefinedOnService).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: ingress}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 9443, name: https, protocol: HTTPS}     # the Service has 80 and 443
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: public-cert}
```

## Fix
Use a port the gateway's Service exposes, or add the port to the Service (as `port`,
with `targetPort` the server port). The rule runs only when the gateway workloads and
their Services are among the inputs.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import selects
from meshctl.model.objects import Gateway, Service, Workload
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._workload_selectors import WorkloadIndex, describe

RULE = Rule(
    "MSH110",
    "gateway-port-not-on-service",
    Severity.WARNING,
    __doc__,
    istio_code="IST0162",
    reads=frozenset({"gateways", "workloads", "services"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    index: WorkloadIndex | None = None
    for gateway in mesh.gateways:
        if gateway.source_kind != "IstioGateway" or not gateway.selector or not gateway.listeners:
            continue
        index = index or WorkloadIndex(mesh)
        workloads = index.anywhere(gateway.selector)
        if not workloads:
            continue  # nothing to check (MSH112 reports the selector)
        services = _services_in_front(ctx, workloads)
        if not services:
            continue  # the Services are not among the inputs
        yield from _check(ctx, gateway, workloads, services)


def _services_in_front(ctx: Analysis, workloads: list[Workload]) -> list[Service]:
    """The Services selecting any of the workloads (Services select in their own namespace)."""
    found: list[Service] = []
    for ns in sorted({w.namespace for w in workloads}):
        local = [w for w in workloads if w.namespace == ns]
        for service in ctx.mesh.services_in(ns):
            if service.selector and any(selects(service.selector, w.labels) for w in local):
                found.append(service)
    return found


def _exposed(services: list[Service], workloads: list[Workload]) -> set[int] | None:
    """Ports the Services reach the proxy on: `port` and numeric `targetPort`s.

    A named `targetPort` resolves through the pods' container ports, which the model keeps
    without names: every container port of the workloads then counts as reachable, and
    with no container port declared the answer is unknown (None).
    """
    ports: set[int] = set()
    named = False
    for service in services:
        for port in service.ports:
            ports.add(port.port)
            if isinstance(port.target_port, int):
                ports.add(port.target_port)
            elif isinstance(port.target_port, str):
                named = True
    if named:
        declared = {p for w in workloads for c in w.containers for p in c.ports}
        if not declared:
            return None
        ports |= declared
    return ports


def _check(
    ctx: Analysis, gateway: Gateway, workloads: list[Workload], services: list[Service]
) -> Iterator[Finding]:
    exposed = _exposed(services, workloads)
    if exposed is None:
        return
    names = ", ".join(f"{s.name}.{s.namespace}" for s in services[:3]) + (
        ", ..." if len(services) > 3 else ""
    )
    offered = ", ".join(
        f"{p.port}" + (f"->{p.target_port}" if p.target_port not in (None, p.port) else "")
        for s in services
        for p in s.ports
    )
    assert gateway.selector is not None
    for listener in gateway.listeners:
        if listener.port in exposed or listener.port == 0:
            continue
        yield RULE.on(
            listener.origin.at("port", "number"),
            f"server port {listener.port} is not exposed by the Services selecting the gateway "
            "workloads "
            f"({describe(gateway.selector)}): {names} expose only {offered or 'no port'}",
            related=(ctx.related(services[0].origin, "see"),),
        )
