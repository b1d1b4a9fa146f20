"""A Service port's name and appProtocol do not tell Istio its protocol, so Istio sniffs it.

## Why it matters
Istio picks a port's protocol from `appProtocol`, or else from the port name's prefix
(`http`, `http2`, `grpc`, `grpc-web`, `tcp`, `tls`, `https`, `mongo`, `mysql`, `redis`,
optionally followed by `-suffix`). A port that says neither is *sniffed*: the proxy
waits for the first bytes to tell HTTP from anything else. Sniffing adds latency,
can time out for server-first protocols (MySQL, SMTP, many databases send first), and
the port gets no HTTP routing, retries or metrics when detection guesses TCP. This is
what `istioctl analyze` reports as IST0118 (PortNameIsNotUnderNamingConvention).

Like Istio, meshctl skips the control-plane and gateway Services Istio installs or
generates (labelled `istio: ...`, `release: istio`, `app: istiod`, or managed by a
Gateway API gateway), the Kubernetes system namespaces, UDP ports, and the well-known
ports Istio treats as TCP (25, 53, 3306, 27017). ExternalName Services are MSH161's.
Istio's conventions matter where Istio runs, so meshctl stays quiet when the inputs
hold no Istio resource and no Istio-labelled Namespace, and it skips Services of
Linkerd's world: in a namespace annotated `linkerd.io/inject`, in a namespace whose
inputs hold Linkerd resources and no Istio ones, or whose pods all run the Linkerd
proxy.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports:
  - name: web          # not a protocol prefix: Istio sniffs port 9080
    port: 9080
```

## Fix
Prefix the port name with its protocol (`name: http-web`), or set
`appProtocol: http` (any of Istio's protocol names, or `kubernetes.io/h2c`,
`kubernetes.io/ws`, `kubernetes.io/wss`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Service, ServicePort
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._dataplane import (
    SYSTEM_NAMESPACES,
    istio_managed,
    linkerd_meshed,
    linkerd_namespace,
)
from meshctl.rules.hygiene._ports import describe, sniffed, suggested_name
from meshctl.rules.hygiene._scope import config_scope

RULE = Rule(
    "MSH160", "port-protocol-not-explicit", Severity.INFO, __doc__, istio_code="IST0118",
    reads=frozenset({"services", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    scope = config_scope(ctx.mesh)
    if not scope.uses_istio:
        return
    for service in ctx.mesh.services:
        if service.type == "ExternalName" or service.namespace in SYSTEM_NAMESPACES:
            continue
        if istio_managed(service.labels):
            continue
        ports = [p for p in service.ports if sniffed(p)]
        if not ports or scope.linkerd_only(service.namespace) or _linkerd_service(ctx, service):
            continue
        for port in ports:
            yield RULE.on(_field(port), _message(port))


def _linkerd_service(ctx: Analysis, service: Service) -> bool:
    """The Service belongs to a Linkerd namespace, or every pod it selects runs the Linkerd proxy."""
    namespace = ctx.mesh.namespaces.get(service.namespace)
    if linkerd_namespace(namespace):
        return True
    workloads = ctx.mesh.workloads_of(service)
    return bool(workloads) and all(linkerd_meshed(w, namespace) for w in workloads)


def _field(port: ServicePort) -> Origin:
    if port.app_protocol:
        return port.origin.at("appProtocol")
    if port.name:
        return port.origin.at("name")
    return port.origin


def _message(port: ServicePort) -> str:
    if port.app_protocol:
        return (
            f"{describe(port)}: appProtocol {port.app_protocol!r} is not a protocol Istio knows, so Istio "
            "sniffs the traffic to guess it; use http, http2, grpc, tcp, tls, https, mongo, mysql or redis"
        )
    if port.name:
        better = suggested_name(port.name)
        advice = f"did you mean {better!r}?" if better else f"name it '<protocol>-{port.name}' or set appProtocol"
        return (
            f"{describe(port)}: the name has no protocol prefix, so Istio sniffs the traffic to guess it; "
            f"{advice}"
        )
    return (
        f"{describe(port)} has no name or appProtocol, so Istio sniffs the traffic to guess its protocol; "
        "name it '<protocol>[-suffix]' (e.g. 'http') or set appProtocol"
    )
