"""A policy uses `selector` to pick the pods of a Gateway API gateway, which ignore selectors.

## Why it matters
Istio deploys a Gateway API `Gateway` (and a waypoint) as pods labelled
`gateway.networking.k8s.io/gateway-name: <gateway>`. AuthorizationPolicy,
RequestAuthentication, Telemetry and WasmPlugin resources attach to those proxies only
through `targetRefs`; a `selector` that matches their pods is ignored there, so the
gateway runs without the authorization, JWT checks, telemetry or plugin you wrote.
This is what `istioctl analyze` reports as IST0166 (IneffectiveSelector). meshctl
reports a selector that uses the gateway-name label, or one that matches workloads
among the inputs carrying it.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ingress-allow, namespace: ingress}
spec:
  selector:
    matchLabels:
      gateway.networking.k8s.io/gateway-name: public   # a Gateway API gateway's pods
  action: ALLOW
  rules:
  - to: [{operation: {paths: ["/api/*"]}}]
```

## Fix
Replace `selector` with
`targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public}]`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import (
    AuthorizationPolicy,
    RequestAuthentication,
    TelemetryConfig,
    Workload,
    WorkloadPolicy,
)
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH149", "ineffective-selector-on-gateway-api", Severity.WARNING, __doc__, istio_code="IST0166",
    reads=frozenset({
        "authorization_policies", "request_authentications", "telemetries", "workload_policies",
        "workloads", "gateways",
    }),
)

GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"
Policy = AuthorizationPolicy | RequestAuthentication | TelemetryConfig | WorkloadPolicy


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    root = mesh.mesh_config.root_namespace
    gateway_pods: dict[str, list[Workload]] = defaultdict(list)
    for workload in mesh.workloads:
        if workload.labels.get(GATEWAY_NAME):
            gateway_pods[workload.namespace].append(workload)
    for policy in _policies(mesh):
        selector = policy.selector
        if not selector or policy.target_refs:
            continue  # namespace-wide, or selector and targetRefs together (a schema error)
        if selector.get(GATEWAY_NAME):
            yield _finding(ctx, policy, selector[GATEWAY_NAME], None)
            continue
        candidates = gateway_pods.get(policy.namespace, [])
        if policy.namespace == root:  # a root-namespace policy selects pods of every namespace
            candidates = [w for pods in gateway_pods.values() for w in pods]
        selected = [w for w in candidates if selects(selector, w.labels)]
        by_gateway: dict[tuple[str, str], Workload] = {}
        for workload in selected:
            by_gateway.setdefault((workload.namespace, workload.labels[GATEWAY_NAME]), workload)
        for (_, gateway), workload in sorted(by_gateway.items()):
            yield _finding(ctx, policy, gateway, workload)


def _policies(mesh: MeshModel) -> Iterator[Policy]:
    yield from mesh.authorization_policies
    yield from mesh.request_authentications
    yield from mesh.telemetries
    yield from (p for p in mesh.workload_policies if p.kind == "WasmPlugin")


def _finding(ctx: Analysis, policy: Policy, gateway: str, workload: Workload | None) -> Finding:
    namespace = workload.namespace if workload is not None else policy.namespace
    kind = policy.origin.ref.kind
    selector = ", ".join(f"{k}: {v}" for k, v in sorted((policy.selector or {}).items()))
    if workload is None:
        what = f"the pods of Gateway API gateway {gateway!r} (label {GATEWAY_NAME})"
    else:
        what = f"{workload.kind} {workload.name}, the pods of Gateway API gateway {gateway!r}"
    related: tuple[Related, ...] = ()
    declared = [g for g in ctx.mesh.gateways_named(namespace, gateway) if g.source_kind == "Gateway"]
    if declared:
        related = (ctx.related(declared[0].origin, "the gateway is"),)
    elif workload is not None:
        related = (ctx.related(workload.origin, "the gateway pods are"),)
    where = "" if namespace == policy.namespace else f" in namespace {namespace!r}"
    return RULE.on(
        policy.origin.at("spec", "selector"),
        f"selector {{{selector}}} selects {what}{where}; Gateway API gateways ignore selectors, "
        f"so this {kind} does not apply there; use targetRefs: "
        f"[{{group: gateway.networking.k8s.io, kind: Gateway, name: {gateway}}}] instead",
        related=related,
    )
