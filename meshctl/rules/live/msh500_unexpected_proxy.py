"""A pod runs a mesh proxy its namespace or its own labels say it should not have.

## Why it matters
Sidecars are injected when a pod is created. When a namespace is relabelled
`istio-injection: disabled` (or Linkerd's `linkerd.io/inject: disabled`), or a pod
template is marked `sidecar.istio.io/inject: "false"`, the pods already running keep
their proxy until they are recreated: the cluster does not do what its labels say.
Traffic of such a pod still goes through a proxy configured by the mesh (mTLS,
routing, authorization), which is exactly what the label meant to stop; and a proxy in
`kube-system` can break the cluster's own components. This is the other half of
`istioctl analyze`'s IST0103 (MSH175 reports pods *missing* the proxy).

Only proxies added by an injector are judged (`sidecar.istio.io/status` or
`linkerd.io/proxy-version` on the pod): gateways that run `istio-proxy` as their main
container are left alone.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata: {name: batch, labels: {istio-injection: disabled}}
---
apiVersion: v1
kind: Pod
metadata:
  name: report-5f7c9
  namespace: batch
  annotations: {sidecar.istio.io/status: '{"containers":["istio-proxy"]}'}
spec:
  containers: [{name: report, image: batch/report:2}, {name: istio-proxy, image: istio/proxyv2:1.22.0}]
```

## Fix
Restart the workload (`kubectl rollout restart deployment/report -n batch`) so its
pods are recreated without the proxy, or remove the label if the proxy is wanted.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    INJECT,
    INJECTION,
    LINKERD_PROXY,
    SYSTEM_NAMESPACES,
    LiveAnalysis,
    dct,
    injected,
    labels,
    live_check,
    namespace_labels,
    pod_running,
    proxy_container,
)

RULE = Rule("MSH500", "unexpected-proxy", Severity.WARNING, __doc__)
LINKERD_INJECT = "linkerd.io/inject"


@live_check(RULE, needs=("/Pod", "/Namespace"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    for pod in state.objects("/Pod"):
        if not pod_running(pod) and dct(pod.data.get("status")).get("phase") != "Pending":
            continue
        ns = pod.namespace
        ns_labels = namespace_labels(state, ns) or {}
        ns_doc = state.find("/Namespace", None, ns) if ns else None
        ns_annotations = dct(ns_doc.metadata.get("annotations")) if ns_doc is not None else {}
        pod_labels, pod_annotations = labels(pod), dct(pod.metadata.get("annotations"))
        istio = proxy_container(pod)
        if istio is not None and injected(pod):
            reason = None
            opt = pod_labels.get(INJECT) or pod_annotations.get(INJECT)
            if str(opt).lower() == "false":
                reason = f'the pod itself says {INJECT}: "false"'
            elif ns_labels.get(INJECTION) == "disabled":
                reason = f"namespace {ns!r} says {INJECTION}: disabled"
            elif ns in SYSTEM_NAMESPACES:
                reason = f"{ns} is a system namespace Istio never injects"
            if reason is not None:
                key, index, _ = istio
                yield RULE.at(
                    pod, ("spec", key, index),
                    f"pod {pod.name!r} runs an injected istio-proxy although {reason}: it was created before "
                    "the change and keeps the proxy until it is recreated; restart its workload",
                )
        linkerd = proxy_container(pod, LINKERD_PROXY)
        if linkerd is not None and "linkerd.io/proxy-version" in pod_annotations:
            own = pod_annotations.get(LINKERD_INJECT)
            if own == "disabled" or (own is None and ns_annotations.get(LINKERD_INJECT) == "disabled"):
                where = "the pod itself" if own == "disabled" else f"namespace {ns!r}"
                key, index, _ = linkerd
                yield RULE.at(
                    pod, ("spec", key, index),
                    f"pod {pod.name!r} runs an injected linkerd-proxy although {where} says "
                    f"{LINKERD_INJECT}: disabled: it was created before the change; restart its workload",
                )
