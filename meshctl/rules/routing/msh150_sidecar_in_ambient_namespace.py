"""A Sidecar resource applies to ambient-mode workloads, which have no sidecar for it to configure.

## Why it matters
A `Sidecar` resource configures the Envoy sidecar injected next to each pod. In a
namespace labelled `istio.io/dataplane-mode: ambient`, or for pods so labelled, traffic
goes through ztunnel and waypoints instead: there is no sidecar, and the egress hosts,
ingress listeners and outbound policy the resource declares do nothing. This is what
`istioctl analyze` reports as IST0167 (IneffectivePolicy).

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - hosts: ["./*", "istio-system/*"]   # no sidecar reads this in an ambient namespace
```

## Fix
Delete the Sidecar, and express what it did with ambient features (waypoints and
AuthorizationPolicies for access, ServiceEntries and `exportTo` for visibility), or take
the workloads out of ambient mode (`istio.io/dataplane-mode: none` plus sidecar injection).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Namespace, SidecarConfig, Workload
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH150", "sidecar-in-ambient-namespace", Severity.WARNING, __doc__, istio_code="IST0167",
    reads=frozenset({"sidecars", "workloads"}),
)

DATAPLANE_MODE = "istio.io/dataplane-mode"
AMBIENT = "ambient"
INJECT = "sidecar.istio.io/inject"


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for sidecar in mesh.sidecars:
        namespace = mesh.namespaces.get(sidecar.namespace)
        if sidecar.selector:
            yield from _selecting(ctx, sidecar, namespace)
        elif _ambient_namespace(namespace) and sidecar.namespace != mesh.mesh_config.root_namespace:
            # (the root namespace's Sidecar is the mesh-wide default, not its own namespace's)
            yield from _namespace_wide(ctx, sidecar)


def _namespace_wide(ctx: Analysis, sidecar: SidecarConfig) -> Iterator[Finding]:
    namespace = ctx.mesh.namespaces[sidecar.namespace]
    with_sidecar = [w for w in ctx.mesh.workloads_in(sidecar.namespace) if _uses_sidecar(w)]
    if with_sidecar:
        return  # some workloads opted back into sidecar injection: the resource configures them
    yield RULE.on(
        sidecar.origin,
        f"namespace {sidecar.namespace!r} is in ambient mode ({DATAPLANE_MODE}: {AMBIENT}), so its "
        "workloads have no sidecar and this Sidecar resource does nothing",
        related=(ctx.related(namespace.origin, "ambient mode is set on"),) if namespace.origin else (),
    )


def _selecting(ctx: Analysis, sidecar: SidecarConfig, namespace: Namespace | None) -> Iterator[Finding]:
    mesh = ctx.mesh
    where = sidecar.origin.at("spec", "workloadSelector")
    shown = ", ".join(f"{k}: {v}" for k, v in sorted((sidecar.selector or {}).items()))
    if not mesh.workloads_in(sidecar.namespace):
        if _ambient_namespace(namespace):
            yield RULE.on(
                where,
                f"namespace {sidecar.namespace!r} is in ambient mode ({DATAPLANE_MODE}: {AMBIENT}), so the "
                f"pods workloadSelector {{{shown}}} picks have no sidecar for this resource to configure "
                "unless they opt out of ambient mode, which meshctl cannot check: their workloads are",
                unresolved=True,
            )
        return
    selected = mesh.workloads_selected(sidecar.namespace, sidecar.selector)
    ambient = [w for w in selected if _ambient(w, namespace)]
    if not ambient:
        return
    names = ", ".join(f"{w.kind} {w.name}" for w in ambient)
    if len(ambient) == len(selected):
        message = (f"workloadSelector {{{shown}}} selects only ambient-mode workloads ({names}), which have "
                   "no sidecar, so this Sidecar resource does nothing")
    else:
        message = (f"workloadSelector {{{shown}}} selects ambient-mode workloads ({names}), which have no "
                   "sidecar, so this Sidecar resource does nothing for them")
    yield RULE.on(where, message, related=(ctx.related(ambient[0].origin, "selects"),))


def _ambient_namespace(namespace: Namespace | None) -> bool:
    """Labelled ambient, and not also enabled for sidecar injection (injected pods skip ambient)."""
    if namespace is None or namespace.labels.get(DATAPLANE_MODE) != AMBIENT:
        return False
    return not _injection_enabled(namespace)


def _injection_enabled(namespace: Namespace | None) -> bool:
    return namespace is not None and (
        namespace.labels.get("istio-injection") == "enabled" or "istio.io/rev" in namespace.labels
    )


def _uses_sidecar(workload: Workload) -> bool:
    return (
        workload.has_istio_proxy
        or workload.labels.get(INJECT) == "true"
        or workload.annotations.get(INJECT) == "true"
    )


def _ambient(workload: Workload, namespace: Namespace | None) -> bool:
    """Redirected to ztunnel: labelled ambient, or in an ambient namespace without opting out.

    A workload that gets a sidecar (injected, or its namespace enables injection and it does
    not opt out) is never redirected to ztunnel.
    """
    if _uses_sidecar(workload):
        return False
    opted_out = workload.labels.get(INJECT) == "false" or workload.annotations.get(INJECT) == "false"
    if _injection_enabled(namespace) and not opted_out:
        return False
    mode = workload.labels.get(DATAPLANE_MODE)
    if mode is not None:
        return mode == AMBIENT
    return _ambient_namespace(namespace)
