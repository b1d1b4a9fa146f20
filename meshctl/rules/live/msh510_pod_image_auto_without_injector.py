"""A running Pod has a container with `image: auto`: it was not injected.

## Why it matters
`image: auto` is a placeholder that Istio's injector replaces with the proxy image.
A Pod that still carries it was created without injection (no injector selected it,
or the injector was down and the webhook fails open) and cannot pull the image
`auto`: it never becomes ready. This is `istioctl analyze`'s IST0147
(ImageAutoWithoutInjectionError).

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: ingress-6c9d-xk2p4, namespace: edge}
spec:
  containers: [{name: istio-proxy, image: auto}]
status: {phase: Pending}
```

## Fix
Make an injector select the pod (namespace injection label, or
`sidecar.istio.io/inject: "true"`), check the injector is healthy, and recreate the pod.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, containers, live_check

RULE = Rule("MSH510", "pod-image-auto-without-injector", Severity.ERROR, __doc__, istio_code="IST0147")


@live_check(RULE, needs=("/Pod",))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    for pod in ctx.state.objects("/Pod"):
        for key, index, container in containers(pod):
            if container.get("image") == "auto":
                yield RULE.at(
                    pod, ("spec", key, index, "image"),
                    f"pod {pod.name!r} was created with image: auto in container {container.get('name')!r}: "
                    "no injector filled it in, and the pod cannot start",
                )
