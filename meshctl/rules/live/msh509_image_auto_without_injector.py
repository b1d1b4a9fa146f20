"""A Deployment uses `image: auto` but no sidecar injector will fill it in.

## Why it matters
Istio's gateway injection lets a Deployment say `image: auto` for its `istio-proxy`
container: the injector replaces it with the real proxy image when the pods are
created. If no injector webhook selects the pods (the namespace has no injection
label, the pod template opts out, or no injector is installed), the pods are created
with the literal image `auto` and never start (`ImagePullBackOff`). This is
`istioctl analyze`'s IST0146 (ImageAutoWithoutInjectionWarning).

The check uses the injector webhooks actually installed, with their namespace and
object selectors, against the namespace's and the pod template's labels.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: edge}          # namespace edge has no injection label
spec:
  template:
    metadata:
      labels: {istio: ingressgateway}
      annotations: {inject.istio.io/templates: gateway}
    spec:
      containers: [{name: istio-proxy, image: auto}]
```

## Fix
Label the namespace for injection (`istio-injection: enabled` or `istio.io/rev`), or
label the pod template `sidecar.istio.io/inject: "true"` where the injector selects
objects, so that the injector fills in the image.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    LiveAnalysis,
    dct,
    dicts,
    injector_selects,
    injectors,
    live_check,
    namespace_labels,
)

RULE = Rule("MSH509", "image-auto-without-injector", Severity.WARNING, __doc__, istio_code="IST0146")
CONTROLLERS = ("apps/Deployment", "apps/StatefulSet", "apps/DaemonSet")


def uninjected_auto(ctx: LiveAnalysis, doc: SourceDoc, pod_meta: dict, pod_spec: dict, prefix: tuple) -> Iterator[tuple[tuple, str]]:  # type: ignore[type-arg]
    """(path, reason) of each `image: auto` container no injector webhook will fill in."""
    state = ctx.state
    autos = [(key, i) for key in ("containers", "initContainers") for i, c in dicts(pod_spec.get(key)) if c.get("image") == "auto"]
    if not autos:
        return
    ns_labels = namespace_labels(state, doc.namespace)
    if ns_labels is None:
        return  # the namespace was not read: nothing to judge its labels by
    pod_labels = {str(k): str(v) for k, v in dct(pod_meta.get("labels")).items()}
    hooks = injectors(state)
    if any(injector_selects(h, ns_labels, pod_labels) for h in hooks):
        return
    reason = (
        "no sidecar injector webhook is installed" if not hooks
        else f"no injector webhook selects its pods in namespace {doc.namespace!r}"
    )
    for key, i in autos:
        yield prefix + (key, i, "image"), reason


@live_check(RULE, needs=("/Namespace", "admissionregistration.k8s.io/MutatingWebhookConfiguration"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    for kind in CONTROLLERS:
        for doc in ctx.state.objects(kind):
            template = dct(dct(doc.data.get("spec")).get("template"))
            for path, reason in uninjected_auto(
                ctx, doc, dct(template.get("metadata")), dct(template.get("spec")), ("spec", "template", "spec")
            ):
                yield RULE.at(
                    doc, path,
                    f"{doc.kind} {doc.name!r} uses image: auto but {reason}: its pods will not start (ImagePullBackOff)",
                )
