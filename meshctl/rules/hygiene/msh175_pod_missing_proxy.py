"""A Pod in a namespace with sidecar injection enabled has no `istio-proxy` container.

## Why it matters
Istio injects the sidecar when a pod is created. A Pod in an injection-enabled
namespace that has no `istio-proxy` was created before the namespace was labelled, or
while the injector was down (the webhook fails open), or by something that bypasses it
(host networking, a static pod). It runs outside the mesh: no mTLS, routing or
policy, and STRICT servers refuse its traffic. Restarting it fixes it. This is what
`istioctl analyze` reports as IST0103 (PodMissingProxy).

Only `Pod` objects are checked (a dump of live pods, say): Deployments and other
controllers get the sidecar when their pods are created, so their templates never
show one. The namespace counts as injection-enabled with `istio-injection: enabled`,
or with `istio.io/rev` and no `istio-injection` (MSH164 reports both together); its
Namespace object must be among the inputs. Pods opting out with
`sidecar.istio.io/inject: "false"` (label or annotation) are skipped.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Pod
metadata: {name: cart-7d9f8, namespace: shop, labels: {app: cart}}
spec:
  containers: [{name: cart, image: shop/cart:1.4}]     # no istio-proxy
```

## Fix
Restart the workload (`kubectl rollout restart deployment/cart -n shop`) so the pod is
recreated with the sidecar, and check the injector's health if it keeps happening. If
the pod must stay out of the mesh, annotate it `sidecar.istio.io/inject: "false"`.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._dataplane import (
    INJECTION_LABEL,
    REVISION_LABEL,
    injection_enabled,
    opted,
)

RULE = Rule(
    "MSH175", "pod-missing-proxy", Severity.WARNING, __doc__, istio_code="IST0103",
    reads=frozenset({"workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for workload in mesh.workloads:
        if not workload.is_pod or workload.has_istio_proxy:
            continue
        if opted(workload.labels, workload.annotations) == "false":
            continue
        namespace = mesh.namespaces.get(workload.namespace)
        if namespace is None or namespace.origin is None or not injection_enabled(namespace):
            continue
        label = REVISION_LABEL if REVISION_LABEL in namespace.labels else INJECTION_LABEL
        yield RULE.on(
            workload.origin.at("spec", "containers"),
            f"pod {workload.name!r} has no istio-proxy container although namespace {workload.namespace!r} "
            f"enables injection ({label}: {namespace.labels[label]}): it was created before the label or "
            "while the injector was unavailable, and runs outside the mesh; restart it, or opt out with "
            'sidecar.istio.io/inject: "false"',
            related=(ctx.related(namespace.origin.at("metadata", "labels", label), "injection enabled by"),),
        )
