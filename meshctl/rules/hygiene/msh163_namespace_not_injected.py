"""A namespace that Istio configuration is written for has no injection label, so its pods get no proxy.

## Why it matters
Istio adds its proxy to a pod only when something asks for it: the namespace label
`istio-injection: enabled`, a revision label `istio.io/rev`, ambient mode
(`istio.io/dataplane-mode: ambient`), or the pod's own `sidecar.istio.io/inject`. A
namespace with none of these runs its pods outside the mesh: no mTLS, no routing rules,
no telemetry, and STRICT PeerAuthentications elsewhere refuse its traffic. Forgetting
the label on a new namespace is a common cause of "my VirtualService does nothing".
This is what `istioctl analyze` reports as IST0102 (NamespaceNotInjected).

`istioctl` reports every unlabelled user namespace. meshctl reports a Namespace only
when the inputs show it is meant for Istio and show what would be left out: Istio
configuration lives in it (a VirtualService, DestinationRule, Sidecar,
AuthorizationPolicy, Telemetry, ...) or names one of its Services, and it holds
workloads that nothing else enrols or opts out. Gateway-API-only or Linkerd-only
namespaces, and namespaces defined for other reasons, stay quiet. It skips the
Kubernetes system namespaces and Istio's root namespace, namespaces annotated
`linkerd.io/inject` or owned by Linkerd, and workloads that run the Linkerd proxy,
already have an `istio-proxy` container, say `sidecar.istio.io/inject` or
`istio.io/dataplane-mode` themselves, or belong to Istio itself (labelled
`istio: ...`).

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop           # no istio-injection / istio.io/rev / istio.io/dataplane-mode
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart]
  http:
  - route:
    - destination: {host: cart}
    timeout: 2s
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers: [{name: cart, image: shop/cart:1.4}]
```

## Fix
Label the namespace: `istio-injection: enabled` (or `istio.io/rev: <revision>`) for
sidecars, `istio.io/dataplane-mode: ambient` for ambient mode, or
`istio-injection: disabled` to state that it stays out of the mesh.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Namespace, Workload
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._dataplane import (
    DATAPLANE_MODE_LABEL,
    SYSTEM_NAMESPACES,
    has_dataplane_label,
    istio_managed,
    linkerd_meshed,
    linkerd_namespace,
    opted,
)
from meshctl.rules.hygiene._scope import config_scope

RULE = Rule(
    "MSH163", "namespace-not-injected", Severity.INFO, __doc__, istio_code="IST0102",
    reads=frozenset({"workloads", "routes", "destination_policies"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    skipped = SYSTEM_NAMESPACES | {mesh.mesh_config.root_namespace, "istio-system"}
    candidates = [
        namespace for namespace in mesh.namespaces.values()
        if namespace.origin is not None
        and namespace.name not in skipped
        and not has_dataplane_label(namespace)
        and not linkerd_namespace(namespace)
    ]
    if not candidates:
        return
    scope = config_scope(mesh, targets=True)
    for namespace in candidates:
        config = scope.istio.get(namespace.name)
        if config is None or namespace.origin is None:
            continue
        workloads = [w for w in mesh.workloads_in(namespace.name) if _left_out(w, namespace)]
        if not workloads:
            continue
        first = workloads[0]
        more = f" and {len(workloads) - 1} more" if len(workloads) > 1 else ""
        where = namespace.origin.at("metadata", "labels" if namespace.labels else "name")
        yield RULE.on(
            where,
            f"namespace {namespace.name!r} has no istio-injection, istio.io/rev or {DATAPLANE_MODE_LABEL} "
            f"label, so its workloads ({first.kind} {first.name}{more}) run without an Istio proxy although "
            f"Istio configuration is written for them ({config.ref.display()}); label it to enrol them, or "
            "istio-injection: disabled to keep it out of the mesh",
            related=(ctx.related(first.origin, "runs"), ctx.related(config, "configured by")),
        )


def _left_out(workload: Workload, namespace: Namespace) -> bool:
    """A pod workload that neither the namespace nor anything of its own enrols in a dataplane."""
    return not (
        workload.kind == "WorkloadEntry"
        or workload.has_istio_proxy
        or opted(workload.labels, workload.annotations) is not None
        or DATAPLANE_MODE_LABEL in workload.labels
        or istio_managed(workload.labels)
        or linkerd_meshed(workload, namespace)
    )
