"""The cluster's Kubernetes version is older than the installed Istio supports.

## Why it matters
Each Istio release is tested and supported on a window of Kubernetes versions. Below
it, istiod may rely on APIs the API server does not serve yet (newer EndpointSlice,
admission or Gateway API features), and upgrades of either side become risky. This is
`istioctl analyze`'s IST0142 (UnsupportedKubernetesVersion), read from the API
server's `/version` and istiod's image tag.

Minimum Kubernetes versions: Istio 1.22 and 1.23 need 1.27, 1.24 needs 1.28, 1.25 to
1.27 need 1.29, 1.28 needs 1.30.

## Example
```
istiod 1.24.2 runs on Kubernetes v1.26.9 (needs 1.28 or later)
```

## Fix
Upgrade the cluster, or run an Istio release that supports this Kubernetes version.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    LiveAnalysis,
    container_image,
    image_tag,
    istiods,
    live_check,
    minor,
)

RULE = Rule("MSH517", "unsupported-kubernetes-version", Severity.WARNING, __doc__, istio_code="IST0142")
MINIMUM = {(1, 22): (1, 27), (1, 23): (1, 27), (1, 24): (1, 28), (1, 25): (1, 29), (1, 26): (1, 29),
           (1, 27): (1, 29), (1, 28): (1, 30)}


@live_check(RULE, needs=("control-plane",))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    git = str(state.version.get("gitVersion") or "")
    cluster = minor(git)
    if cluster is None:
        return
    for doc in istiods(state):
        found = container_image(doc, "discovery")
        if found is None:
            continue
        path, image = found
        version = minor(image_tag(image))
        if version is None:
            continue
        needed = MINIMUM.get(version) or (MINIMUM[max(MINIMUM)] if version > max(MINIMUM) else None)
        if needed is not None and cluster < needed:
            yield RULE.at(
                doc, path,
                f"istiod {image_tag(image)} runs on Kubernetes {git}, older than it supports "
                f"({needed[0]}.{needed[1]} or later)",
            )
