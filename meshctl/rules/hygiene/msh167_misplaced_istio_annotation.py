"""An Istio annotation is on a kind of resource it does not apply to.

## Why it matters
Each Istio annotation is read from one kind of object: the injector reads pod
annotations from the pod it is creating, the service registry reads
`networking.istio.io/exportTo` from Services. Written anywhere else it is ignored. The
classic case is a pod annotation (`sidecar.istio.io/proxyCPU`,
`traffic.sidecar.istio.io/excludeOutboundPorts`, `proxy.istio.io/config`) on a
Deployment's own `metadata.annotations`: the pods never get it, because only the pod
template's metadata is copied onto them. Istio labels written as annotations
(`topology.istio.io/network`, `istio.io/dataplane-mode`) are never seen either. This
is what `istioctl analyze` reports as IST0107 (MisplacedAnnotation).

meshctl checks the `metadata.annotations` of every resource and the pod templates of
Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, and says where
the annotation belongs. A Gateway API Gateway may carry pod and Service annotations:
Istio copies them onto the Deployment and Service it generates for the Gateway.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop
  annotations:
    sidecar.istio.io/proxyMemory: 512Mi   # on the Deployment: the pods never see it
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers: [{name: cart, image: shop/cart:1.4}]
```

## Fix
Move the annotation where the message says: a pod annotation to the pod template's
`metadata.annotations` (`spec.template.metadata.annotations`), a Service annotation to
the Service, an Istio label to `metadata.labels`.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import MeshModel, selects
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._istio_annotations import (
    LABELS,
    NAMESPACE,
    POD,
    SERVICE,
    IstioAnnotation,
    Placement,
    kinds_text,
    lookup,
    placements,
)

RULE = Rule(
    "MSH167", "misplaced-istio-annotation", Severity.WARNING, __doc__, istio_code="IST0107",
    reads=frozenset({"resources", "workloads", "services"}),
)

# What to do instead, for pod annotations written on a Namespace.
_NAMESPACE_INSTEAD = {
    "sidecar.istio.io/inject": (
        "to enrol or exclude the whole namespace, label it istio-injection: enabled or disabled"
    ),
    "istio.io/rev": "to pick the namespace's control-plane revision, use the istio.io/rev label",
}


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for placement in placements(ctx):
        annotation = lookup(placement.key)
        if annotation is None:
            if placement.key in LABELS:
                yield RULE.on(
                    placement.origin,
                    f"{placement.key!r} is an Istio label, not an annotation, so Istio never "
                    f"reads it here: move it to {placement.where}.labels",
                    key=True,
                )
            continue
        if not annotation.applies_to(placement.kind):
            yield RULE.on(placement.origin, _message(ctx.mesh, placement, annotation), key=True)


def _message(mesh: MeshModel, placement: Placement, annotation: IstioAnnotation) -> str:
    key, owner = placement.key, placement.owner
    if annotation.kinds == {POD}:
        if placement.template is not None:
            return _on_controller(placement, annotation)
        message = f"{key!r} applies to Pods only and Istio ignores it on a {owner}"
        instead = _NAMESPACE_INSTEAD.get(key) if placement.kind == NAMESPACE else None
        if instead is not None:
            return f"{message}: {instead}"
        return (
            f"{message}: set it in the pod template (spec.template.metadata.annotations) of the "
            "workloads it is meant for"
        )
    if annotation.kinds == {SERVICE}:
        message = f"{key!r} applies to Services only and Istio ignores it on a {owner}"
        if placement.kind != POD:
            return f"{message}: move it to the metadata.annotations of the Service it is meant for"
        services = sorted(
            s.name for s in mesh.services_in(placement.namespace or "default")
            if s.selector and selects(s.selector, placement.labels)
        )
        if not services:
            return f"{message}: move it to the annotations of the Service in front of its pods"
        names = ", ".join(repr(n) for n in services)
        return f"{message}: move it to the annotations of Service {names}, which selects its pods"
    return f"{key!r} applies to {kinds_text(annotation)} and Istio ignores it on a {owner}"


def _on_controller(placement: Placement, annotation: IstioAnnotation) -> str:
    """A pod annotation on a Deployment's (StatefulSet's, ...) own metadata."""
    assert placement.template is not None
    template = ".".join(map(str, placement.template))
    key, elsewhere = placement.key, placement.template_annotations
    lead = (
        f"{key!r} applies to pods, and a {placement.owner}'s own metadata.annotations are not "
        "copied onto its pods"
    )
    if key in LABELS:
        why = " (the annotation form is deprecated)" if annotation.deprecated else ""
        return f"{lead}: set it as a label in {template}.labels{why}"
    message = f"{lead}: move it to {template}.annotations"
    if elsewhere.get(key) == placement.value:
        message += ", where it is already set: remove this copy"
    elif key in elsewhere:
        message += f", where it is set to {elsewhere[key]!r} already: this copy has no effect"
    return message
