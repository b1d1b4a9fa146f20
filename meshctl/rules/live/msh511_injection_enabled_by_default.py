"""Pods in a namespace without injection labels are injected all the same.

## Why it matters
An injector webhook whose namespace selector matches namespaces that carry no
injection label (Istio's `enableNamespacesByDefault`, or a revision tag made the
default with a broad selector) injects every new pod of such namespaces, although
nothing on the namespace says so. Workloads that were never meant to join the mesh
get proxies on their next restart, and STRICT mTLS or authorization policies then
apply to them. This is `istioctl analyze`'s IST0148
(NamespaceInjectionEnabledByDefault).

## Example
```
namespace billing: no istio-injection, no istio.io/rev label
MutatingWebhookConfiguration istio-sidecar-injector: namespaceSelector
  {matchExpressions: [{key: istio-injection, operator: NotIn, values: [disabled]}]}
```

## Fix
Label the namespace explicitly: `istio-injection: enabled` to keep the injection,
`istio-injection: disabled` to keep it out; or narrow the webhook's selector.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    INJECTION,
    REVISION,
    SYSTEM_NAMESPACES,
    LiveAnalysis,
    injector_selects,
    injectors,
    labels,
    live_check,
)

RULE = Rule("MSH511", "injection-enabled-by-default", Severity.INFO, __doc__, istio_code="IST0148")
ISTIO_NAMESPACE_LABELS = (INJECTION, REVISION, "istio.io/dataplane-mode")


@live_check(RULE, needs=("/Namespace", "admissionregistration.k8s.io/MutatingWebhookConfiguration"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    hooks = injectors(ctx.state)
    for namespace in ctx.state.objects("/Namespace"):
        ns_labels = labels(namespace)
        if namespace.name in SYSTEM_NAMESPACES or any(k in ns_labels for k in ISTIO_NAMESPACE_LABELS):
            continue
        hits = [h for h in hooks if injector_selects(h, ns_labels, {})]
        if hits:
            yield RULE.at(
                namespace, ("metadata", "name"),
                f"namespace {namespace.name!r} has no injection label, but injector webhook {hits[0].name!r} "
                f"({hits[0].config.name}) selects its pods: every new pod here gets a sidecar",
            )
