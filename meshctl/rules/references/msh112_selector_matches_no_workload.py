"""A workload selector matches no workload, so the resource applies to nothing.

## Why it matters
Gateways, Sidecars, Telemetry, AuthorizationPolicies, RequestAuthentications,
PeerAuthentications, EnvoyFilters and WasmPlugins pick the proxies they configure by
pod labels. A selector no workload carries, usually a typo or a stale `version`
label, makes the resource inert: an AuthorizationPolicy then protects nothing and a
Gateway has no proxy to listen on. A selector looks in its own namespace; a policy in
the root namespace and an Istio Gateway look in every namespace. This is what
`istioctl analyze` reports as IST0101 (ReferencedResourceNotFound, "selector") and,
for AuthorizationPolicies, IST0127 (NoMatchingWorkloadsFound).

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-viewer, namespace: bookinfo}
spec:
  selector:
    matchLabels: {app: rating}      # the pods are labelled app: ratings
  rules:
  - from:
    - source: {principals: [cluster.local/ns/bookinfo/sa/bookinfo-reviews]}
```

## Fix
Correct the labels, or remove the selector to apply the resource to the whole
namespace. The rule fires only when the inputs contain workloads of that namespace
(for a Gateway, gateway workloads at all): config linted without its Deployments is
not reported, and a gateway selector (such as the default `istio: ingressgateway`)
whose gateway workloads are not among the inputs is reported as unresolved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.diagnostics import Finding, Severity
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._workload_selectors import (
    WorkloadIndex,
    describe,
    generated_for_gateway_api,
    is_gateway_selector,
)

RULE = Rule(
    "MSH112",
    "selector-matches-no-workload",
    Severity.WARNING,
    __doc__,
    istio_code="IST0101",
    reads=frozenset(
        {
            "workloads",
            "gateways",
            "sidecars",
            "telemetries",
            "authorization_policies",
            "request_authentications",
            "peer_authentications",
            "envoy_filters",
            "workload_policies",
        }
    ),
)
SELECTOR_KINDS = ("WasmPlugin", "TrafficExtension")


@dataclass(frozen=True)
class _Selecting:
    """A resource's selector: its labels, its namespace and the field it is written in."""

    kind: str
    namespace: str
    labels: dict[str, str]
    field: Origin
    istio_code: str = "IST0101"


def _selecting(ctx: Analysis) -> Iterator[_Selecting]:
    mesh = ctx.mesh
    for g in mesh.gateways:
        if g.source_kind == "IstioGateway" and g.selector:
            yield _Selecting("Gateway", g.namespace, g.selector, g.origin.at("spec", "selector"))
    for s in mesh.sidecars:
        if s.selector:
            yield _Selecting(
                "Sidecar", s.namespace, s.selector, s.origin.at("spec", "workloadSelector")
            )
    for e in mesh.envoy_filters:
        if e.selector:
            yield _Selecting(
                "EnvoyFilter", e.namespace, e.selector, e.origin.at("spec", "workloadSelector")
            )
    for a in mesh.authorization_policies:
        if a.selector:
            yield _Selecting(
                "AuthorizationPolicy",
                a.namespace,
                a.selector,
                a.origin.at("spec", "selector"),
                "IST0127",
            )
    for groups in (mesh.telemetries, mesh.request_authentications, mesh.peer_authentications):
        for p in groups:
            if p.selector:
                yield _Selecting(
                    p.origin.ref.kind, p.namespace, p.selector, p.origin.at("spec", "selector")
                )
    for w in mesh.workload_policies:
        if w.kind in SELECTOR_KINDS and w.selector:
            yield _Selecting(w.kind, w.namespace, w.selector, w.origin.at("spec", "selector"))


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.has_workloads:
        return  # config linted without its Deployments
    index = WorkloadIndex(mesh)
    root = mesh.mesh_config.root_namespace
    for item in _selecting(ctx):
        # Istio Gateways select in every namespace; so does a policy in the root namespace.
        scope = None if item.kind == "Gateway" or item.namespace == root else item.namespace
        if index.in_scope(scope, item.labels) or not index.has_workloads(scope):
            continue
        if generated_for_gateway_api(mesh, scope, item.labels) is not None:
            continue  # Istio deploys that Gateway API Gateway's (or waypoint's) pods itself
        where = "in any namespace" if scope is None else f"in namespace {scope!r}"
        selector = describe(item.labels)
        gateway = item.kind == "Gateway" or is_gateway_selector(item.labels)
        if gateway and not index.has_gateway_workloads(scope):
            finding = RULE.on(
                item.field,
                f"selector {selector} matches no gateway workload {where}",
                unresolved=True,
            )
        else:
            finding = RULE.on(
                item.field,
                f"selector {selector} matches no workload {where}"
                + index.suggestion(scope, item.labels),
            )
        yield (
            dataclasses.replace(finding, istio_code=item.istio_code)
            if item.istio_code != RULE.istio_code
            else finding
        )
