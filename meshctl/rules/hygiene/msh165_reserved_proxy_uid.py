"""An application container runs as UID 1337, the user ID reserved for the Istio proxy.

## Why it matters
Istio's traffic redirection exempts the proxy's own user, UID 1337, so that the
proxy's outbound connections are not captured again. An application container running
as 1337 is exempted too: its outbound traffic bypasses the sidecar entirely, without
mTLS, routing rules, authorization or telemetry, and STRICT mTLS servers refuse it. This
is what `istioctl analyze` reports as IST0144 (InvalidApplicationUID).

meshctl checks the pods of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets,
Jobs and CronJobs, with the container's `runAsUser` or else the pod's. It skips the
`istio-proxy` (and `istio-operator`) containers, init containers (running an init
container as 1337 is the documented way to let it reach the network before the proxy
starts), Istio's own workloads (labelled `istio: ...` or `release: istio`), and
workloads meshed by Linkerd, whose proxy uses another UID.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
      - name: cart
        image: shop/cart:1.4
        securityContext: {runAsUser: 1337}   # bypasses the sidecar
```

## Fix
Run the application as another user (any UID but 1337).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Container, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._dataplane import (
    PROXY_CONTAINER,
    PROXY_UID,
    istio_managed,
    linkerd_meshed,
)

RULE = Rule(
    "MSH165", "reserved-proxy-uid", Severity.WARNING, __doc__, istio_code="IST0144",
    reads=frozenset({"workloads"}),
)

_ISTIO_CONTAINERS = frozenset({PROXY_CONTAINER, "istio-operator"})
_EFFECT = (
    f"UID {PROXY_UID} is reserved for the Istio proxy, whose traffic redirection exempts it, so the "
    "container's outbound traffic bypasses the sidecar (no mTLS, routing or policy); run it as another user"
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for workload in mesh.workloads:
        if not workload.containers or istio_managed(workload.labels):
            continue
        if linkerd_meshed(workload, mesh.namespaces.get(workload.namespace)):
            continue
        yield from _check(workload)


def _check(workload: Workload) -> Iterator[Finding]:
    inheriting: list[Container] = []
    for container in workload.containers:
        if container.name in _ISTIO_CONTAINERS:
            continue
        if container.run_as_user == PROXY_UID:
            yield RULE.on(
                container.origin.at("securityContext", "runAsUser"),
                f"container {container.name!r} runs as UID {PROXY_UID}: {_EFFECT}",
            )
        elif container.run_as_user is None and workload.run_as_user == PROXY_UID:
            inheriting.append(container)
    if inheriting:
        names = ", ".join(repr(c.name) for c in inheriting)
        noun = "container" if len(inheriting) == 1 else "containers"
        yield RULE.on(
            _pod_spec(inheriting[0]).at("securityContext", "runAsUser"),
            f"the pod's securityContext runs {noun} {names} as UID {PROXY_UID}: {_EFFECT}",
        )


def _pod_spec(container: Container) -> Origin:
    """The pod spec a container belongs to (its origin is ``<pod spec>.containers[i]``)."""
    return Origin(container.origin.doc, container.origin.path[:-2])
