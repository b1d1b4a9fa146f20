"""The Gateway API CRDs installed are older than the mesh needs, or from mixed bundles.

## Why it matters
Each Istio release supports Gateway API from one bundle version on; with older CRDs
the controller ignores fields and kinds it relies on, or refuses to start its Gateway
API support, and `meshctl analyze` may judge fields the cluster's CRDs do not have.
CRDs of different bundle versions side by side (one upgraded by hand) give routes and
Gateways inconsistent schemas. The bundle version is the
`gateway.networking.k8s.io/bundle-version` annotation every CRD of the bundle carries.
This is `istioctl analyze`'s IST0176 (UnsupportedGatewayAPIVersion).

Minimum bundle versions by istiod version: 1.22 and 1.23 need v1.1.0, 1.24 and 1.25
v1.2.0, 1.26 and 1.27 v1.3.0, 1.28 and later v1.4.0; without istiod, v1.0.0 (the
first with the `v1` API). The CRDs are read as metadata only.

## Example
```
CustomResourceDefinition httproutes.gateway.networking.k8s.io:
  gateway.networking.k8s.io/bundle-version: v0.8.1    # istiod 1.24 needs v1.2.0
```

## Fix
Install the Gateway API bundle the mesh's release notes name, all CRDs from the same
release (`kubectl apply --server-side -f standard-install.yaml`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import (
    LiveAnalysis,
    container_image,
    dct,
    image_tag,
    istiods,
    live_check,
    minor,
)

RULE = Rule("MSH514", "unsupported-gateway-api-version", Severity.ERROR, __doc__, istio_code="IST0176")
BUNDLE = "gateway.networking.k8s.io/bundle-version"
GROUP = ".gateway.networking.k8s.io"
# istiod minor -> the oldest Gateway API bundle it supports
ISTIO_MINIMUM = {(1, 22): "v1.1.0", (1, 23): "v1.1.0", (1, 24): "v1.2.0", (1, 25): "v1.2.0",
                 (1, 26): "v1.3.0", (1, 27): "v1.3.0", (1, 28): "v1.4.0"}
DEFAULT_MINIMUM = "v1.0.0"


def _semver(text: str) -> tuple[int, int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)) if match else None


def minimum(ctx: LiveAnalysis) -> tuple[str, str]:
    """(the minimum bundle version, why) from the newest istiod found."""
    best: tuple[tuple[int, int], str] | None = None
    for doc in istiods(ctx.state):
        found = container_image(doc, "discovery")
        version = minor(image_tag(found[1])) if found else None
        if version is not None and (best is None or version > best[0]):
            best = (version, image_tag(found[1]))  # type: ignore[index]
    if best is None:
        return DEFAULT_MINIMUM, "the first release with the v1 API"
    if best[0] in ISTIO_MINIMUM:
        return ISTIO_MINIMUM[best[0]], f"istiod {best[1]} needs it"
    newest = max(ISTIO_MINIMUM)
    if best[0] > newest:
        return ISTIO_MINIMUM[newest], f"istiod {best[1]} needs at least it"
    return DEFAULT_MINIMUM, "the first release with the v1 API"


@live_check(RULE, needs=("apiextensions.k8s.io/CustomResourceDefinition",))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    crds = [d for d in ctx.state.objects("apiextensions.k8s.io/CustomResourceDefinition") if d.name.endswith(GROUP)]
    versions = {d.name: str(dct(d.metadata.get("annotations")).get(BUNDLE) or "") for d in crds}
    versions = {k: v for k, v in versions.items() if _semver(v) is not None}
    if not versions:
        return
    wanted, why = minimum(ctx)
    floor = _semver(wanted)
    common = Counter(versions.values()).most_common(1)[0][0]
    for doc in crds:
        version = versions.get(doc.name)
        if version is None:
            continue
        where = ("metadata", "annotations", BUNDLE)
        if floor is not None and _semver(version) < floor:  # type: ignore[operator]
            yield RULE.at(
                doc, where,
                f"CRD {doc.name} is from Gateway API {version}, older than {wanted} ({why}): upgrade the Gateway API CRDs",
            )
        elif version != common:
            yield RULE.at(
                doc, where,
                f"CRD {doc.name} is from Gateway API {version} while the other Gateway API CRDs are from {common}: "
                "install one bundle for all of them",
            )
