"""The mesh's control plane is not ready: istiod or a Linkerd controller has no ready replica.

## Why it matters
istiod pushes configuration to every proxy, signs their certificates and injects new
pods; Linkerd's destination, identity and proxy-injector do the same for Linkerd.
While they are not ready, proxies keep their last configuration (no change you apply
takes effect), new pods start without a proxy or cannot get a certificate, and
certificates that expire are not renewed. Namespaces that ask for injection while no
istiod runs at all are reported too.

The control plane is found by its labels (`app=istiod`;
`linkerd.io/control-plane-component`) in any namespace, even with `-n`.

## Example
```
Deployment istiod.istio-system: 0 of 2 replicas ready
```

## Fix
Look at the control plane's pods and events (`kubectl -n istio-system describe
deployment istiod`, `kubectl -n istio-system logs deploy/istiod`, `linkerd check`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    INJECTION,
    REVISION,
    LiveAnalysis,
    dct,
    injectors,
    istiods,
    labels,
    live_check,
)

RULE = Rule("MSH515", "control-plane-not-ready", Severity.ERROR, __doc__)
LINKERD_COMPONENTS = frozenset({"destination", "identity", "proxy-injector"})


@live_check(RULE, needs=("control-plane",))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    if not state.complete("control-plane"):
        return
    plane = istiods(state) + [
        d for d in state.objects("apps/Deployment")
        if labels(d).get("linkerd.io/control-plane-component") in LINKERD_COMPONENTS
    ]
    for doc in plane:
        spec, status = dct(doc.data.get("spec")), dct(doc.data.get("status"))
        wanted = spec.get("replicas", 1)
        ready = status.get("readyReplicas", 0) or 0
        if not isinstance(wanted, int) or wanted == 0 or not isinstance(ready, int) or ready >= 1:
            continue
        yield RULE.at(
            doc, ("status", "readyReplicas") if "readyReplicas" in status else ("status",) if status else ("spec", "replicas"),
            f"{doc.kind} {doc.name}.{doc.namespace}: {ready} of {wanted} replicas ready: the mesh's control plane is "
            "down (no configuration pushes, no new certificates, no injection)",
        )
    if istiods(state) or "networking.istio.io" not in state.served:
        return
    if any("url" in dct(h.data.get("clientConfig")) for h in injectors(state)):
        return  # an external control plane serves this cluster
    for namespace in state.objects("/Namespace"):
        ns_labels = labels(namespace)
        label = REVISION if REVISION in ns_labels else INJECTION if ns_labels.get(INJECTION) == "enabled" else None
        if label is not None:
            yield RULE.at(
                namespace, ("metadata", "labels", label),
                f"namespace {namespace.name!r} asks for sidecar injection ({label}: {ns_labels[label]}) but no istiod "
                "runs in the cluster: new pods start without a proxy, or not at all",
            )
            return
