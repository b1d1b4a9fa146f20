"""Pods in a namespace run a proxy version other than their control plane's.

## Why it matters
A proxy is injected with the version of the control plane that created the pod and
keeps it until the pod is recreated. After an upgrade, pods that were not restarted
run the old proxy against the new control plane: outside the supported skew they lose
features or break (new xDS fields ignored, telemetry and security defaults differing),
and within a namespace two proxy versions make the same configuration behave two ways.
This is `istioctl analyze`'s IST0158 (PodsIstioProxyImageMismatchInNamespace), and
`linkerd check`'s data-plane version check.

The control plane's version is the image tag of istiod (per revision, read from the
pod's `sidecar.istio.io/status`) or of the Linkerd destination controller's proxy.
One finding per namespace and skewed version, on one of its pods.

## Example
```
istiod (revision default) runs docker.io/istio/pilot:1.22.3
pod cart-7d9f8 in namespace shop runs docker.io/istio/proxyv2:1.21.0
```

## Fix
Restart the namespace's workloads after an upgrade
(`kubectl rollout restart deployment -n shop`), and check the injector picked the
revision you expect.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    LINKERD_PROXY,
    STATUS_ANNOTATION,
    LiveAnalysis,
    container_image,
    dct,
    image_tag,
    injected,
    istiods,
    labels,
    live_check,
    pod_running,
    proxy_container,
    revision_of,
)

RULE = Rule("MSH501", "proxy-version-skew", Severity.WARNING, __doc__, istio_code="IST0158")


@live_check(RULE, needs=("/Pod", "control-plane"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    if not state.complete("control-plane"):
        return
    istio = _istio_versions(istiods(state))
    linkerd = _linkerd_version(state.objects("apps/Deployment"))
    skewed: dict[tuple[str, str, str, str], list[tuple[SourceDoc, tuple[str | int, ...]]]] = {}
    for pod in state.objects("/Pod"):
        if not pod_running(pod):
            continue
        if istio and injected(pod):
            found = proxy_container(pod)
            assert found is not None
            key, index, container = found
            revision = _revision(pod)
            wanted = istio.get(revision) or (next(iter(istio.values())) if len(istio) == 1 else None)
            tag = image_tag(str(container.get("image", "")))
            if wanted is not None and tag not in ("latest", wanted):
                where = ("spec", key, index, "image")
                skewed.setdefault((str(pod.namespace), "istio-proxy", tag, f"istiod (revision {revision}) runs {wanted}"), []).append((pod, where))
        found = proxy_container(pod, LINKERD_PROXY)
        if linkerd is not None and found is not None:
            key, index, container = found
            tag = image_tag(str(container.get("image", "")))
            if tag not in ("latest", linkerd):
                where = ("spec", key, index, "image")
                skewed.setdefault((str(pod.namespace), "linkerd-proxy", tag, f"the Linkerd control plane runs {linkerd}"), []).append((pod, where))
    for (namespace, proxy, tag, control), pods in sorted(skewed.items(), key=lambda kv: kv[0]):
        pod, where = pods[0]
        names = ", ".join(p.name for p, _ in pods[:5]) + (f" and {len(pods) - 5} more" if len(pods) > 5 else "")
        count = f"{len(pods)} pod{'s' if len(pods) != 1 else ''}"
        yield RULE.at(
            pod, where,
            f"namespace {namespace!r}: {count} run {proxy} {tag} ({names}) but {control}; "
            "restart them to get the control plane's proxy",
        )


def _istio_versions(deployments: list[SourceDoc]) -> dict[str, str]:
    out = {}
    for doc in deployments:
        found = container_image(doc, "discovery")
        if found is not None:
            out[revision_of(doc)] = image_tag(found[1])
    return out


def _linkerd_version(deployments: list[SourceDoc]) -> str | None:
    for doc in deployments:
        if labels(doc).get("linkerd.io/control-plane-component") == "destination":
            found = container_image(doc, LINKERD_PROXY)
            if found is not None:
                return image_tag(found[1])
    return None


def _revision(pod: SourceDoc) -> str:
    try:
        data = json.loads(str(dct(pod.metadata.get("annotations")).get(STATUS_ANNOTATION, "{}")))
    except ValueError:
        data = {}
    revision = data.get("revision") if isinstance(data, dict) else None
    return str(revision or labels(pod).get("istio.io/rev") or "default")
