"""Two sidecar injector webhooks select the same pods.

## Why it matters
Each Istio revision (and each revision tag) installs its own injector webhook with a
namespace and object selector. When two of them select the same pod (a namespace
labelled for a revision while the default injector still matches unlabelled
namespaces, two tags pointing at overlapping selectors) the pod is injected twice or
by the wrong revision: duplicate containers that fail admission, or proxies of a
version you did not choose. This is `istioctl analyze`'s IST0139 (InvalidWebhook,
"webhook overlaps with others").

meshctl evaluates the webhooks' selectors against every namespace it read, for a pod
with no labels and a pod labelled `sidecar.istio.io/inject: "true"`.

## Example
```
istio-sidecar-injector (default) selects namespaces without istio.io/rev
istio-revision-tag-canary selects namespaces with istio.io/rev=canary
namespace shop has istio-injection: enabled and istio.io/rev: canary -> both inject
```

## Fix
Keep one injection label per namespace (`kubectl label namespace shop istio-injection-`),
and remove injector webhooks of revisions and tags no longer used
(`istioctl tag list`, `istioctl x revision list`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    INJECT,
    LiveAnalysis,
    injector_selects,
    injectors,
    labels,
    live_check,
)

RULE = Rule("MSH506", "overlapping-injection-webhooks", Severity.ERROR, __doc__, istio_code="IST0139")
PODS = ({}, {INJECT: "true"})


@live_check(RULE, needs=("/Namespace", "admissionregistration.k8s.io/MutatingWebhookConfiguration"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    hooks = injectors(state)
    if len(hooks) < 2:
        return
    reported: set[tuple[str, str]] = set()
    for namespace in state.objects("/Namespace"):
        ns_labels = labels(namespace)
        for pod in PODS:
            hits = [h for h in hooks if injector_selects(h, ns_labels, pod)]
            configs = {h.config.name for h in hits}
            if len(configs) < 2:
                continue
            first, *others = sorted(hits, key=lambda h: (h.config.name, h.index))
            for other in others:
                pair = (first.config.name, other.config.name)
                if other.config.name == first.config.name or pair in reported:
                    continue
                reported.add(pair)
                pod_text = "any pod" if not pod else f'a pod labelled {INJECT}: "true"'
                yield RULE.at(
                    other.config, other.path + ("namespaceSelector",),
                    f"injector webhook {other.name!r} ({other.config.name}) and {first.name!r} ({first.config.name}) "
                    f"both select {pod_text} in namespace {namespace.name!r}: its pods are injected twice or by "
                    "the wrong revision",
                )
