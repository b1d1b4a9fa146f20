"""A `linkerd.io/inject` setting is written where Linkerd does not read it, or with a value it does not know.

## Why it matters
Linkerd's proxy injector decides from the **annotation** `linkerd.io/inject` on the
pod (a controller's pod template, `spec.template.metadata.annotations`) and on its
Namespace, and it compares the value exactly with `enabled`, `ingress` and
`disabled`. So the pods are not meshed as intended when the setting is

- on a Deployment's (StatefulSet's, DaemonSet's, Job's...) own `metadata` instead of
  its pod template: the pods never see it;
- a **label** instead of an annotation (Istio's `sidecar.istio.io/inject` habit);
- another value, such as `"true"` or `"false"`: `true` does not enable injection, and
  in an injected namespace `false` does not keep a pod out (only `disabled` does).

The pods then run without the proxy (no mTLS, no policy, no metrics), or with it when
they were meant to stay out.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: emojivoto
  annotations:
    linkerd.io/inject: enabled      # on the Deployment: the pods never see it
spec:
  selector: {matchLabels: {app: web-svc}}
  template:
    metadata:
      labels: {app: web-svc}
    spec:
      containers: [{name: web-svc, image: buoyantio/emojivoto-web:v11}]
```

## Fix
Write `linkerd.io/inject: enabled` (or `disabled`, `ingress`) as an annotation of the
pod template or of the Namespace. A misplaced setting that repeats what the Namespace
already says is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Namespace, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import INJECT, INJECT_VALUES, pod_metadata

RULE = Rule(
    "MSH329", "linkerd-inject-ignored", Severity.WARNING, __doc__,
    reads=frozenset({"resources", "workloads"}),
)
CONTROLLERS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for defined in mesh.namespaces.values():
        if defined.origin is not None:
            yield from _object(defined.origin.at("metadata"), "the Namespace", defined.labels,
                               defined.annotations, None)
    misplaced = [
        r for r in mesh.resources if r.kind in CONTROLLERS and (INJECT in r.annotations or INJECT in r.labels)
    ]
    if misplaced:
        by_origin = {w.origin: w for w in mesh.workloads}
        for resource in misplaced:
            workload = by_origin.get(resource.origin)
            if workload is None or INJECT in workload.annotations or INJECT in workload.labels:
                continue
            field = "annotations" if INJECT in resource.annotations else "labels"
            meant = resource.annotations.get(INJECT, resource.labels.get(INJECT, ""))
            yield from _controller(ctx, resource.origin, resource.kind, meant, field, workload)
    for workload in mesh.workloads:
        if (INJECT in workload.labels or INJECT in workload.annotations) and workload.kind != "ExternalWorkload":
            namespace = mesh.namespaces.get(workload.namespace)
            yield from _object(pod_metadata(workload), "the pod", workload.labels, workload.annotations, namespace)


def _controller(
    ctx: Analysis, origin: Origin, kind: str, meant: str, field: str, workload: Workload
) -> Iterator[Finding]:
    """``linkerd.io/inject`` on a controller's own metadata, not on its pod template."""
    namespace = ctx.mesh.namespaces.get(workload.namespace)
    effective = namespace.annotations.get(INJECT) if namespace is not None else None
    if effective == meant:
        return  # the Namespace says the same: the misplaced setting changes nothing
    if namespace is None:
        outcome = "the Namespace's annotation (not among the inputs) decides"
    elif effective in ("enabled", "ingress"):
        outcome = "its pods are injected as the Namespace says"
    else:
        outcome = "its pods are not injected"
    yield RULE.on(
        origin.at("metadata", field, INJECT), key=True,
        message=f"{INJECT} on the {kind}'s own metadata.{field} is never read: the injector sees only the "
        f"pod template and the Namespace, so {outcome}; move it to spec.template.metadata.annotations",
    )


def _object(
    metadata: Origin, what: str, labels: dict[str, str], annotations: dict[str, str], namespace: Namespace | None
) -> Iterator[Finding]:
    """A label instead of an annotation, or a value the injector does not know."""
    if INJECT in labels and INJECT not in annotations:
        yield RULE.on(
            metadata.at("labels", INJECT), key=True,
            message=f"{INJECT} is a label of {what}, but Linkerd reads only the annotation; "
            "make it an annotation",
        )
        return
    value = annotations.get(INJECT)
    if value is None or value in INJECT_VALUES:
        return
    if what == "the pod" and namespace is not None and namespace.annotations.get(INJECT) in ("enabled", "ingress"):
        effect = "the pod is injected anyway, as its Namespace says (only 'disabled' keeps it out)"
    elif what == "the pod":
        effect = "it neither enables injection nor keeps the pod out of an injected namespace"
    else:
        effect = "it does not enable injection of the namespace's pods"
    yield RULE.on(
        metadata.at("annotations", INJECT),
        f"{INJECT}: {value!r} is not a value Linkerd knows (enabled, disabled, ingress); {effect}",
    )
