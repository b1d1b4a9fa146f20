"""A gateway VirtualService routes on JWT claims, but no RequestAuthentication applies to the gateway pods.

## Why it matters
Matches on `@request.auth.claims.<name>` read the claims of a token that a
RequestAuthentication has validated on the same proxy. At an ingress gateway that
means a RequestAuthentication selecting the gateway pods: one in the pods' namespace
whose `selector` matches their labels (or that has no selector), or one without
selector in the root namespace. Without it the claims are never populated, so the
claim matches never match: the route is dead and its traffic falls through to the
next rule, typically the default, unauthenticated one.
This is what `istioctl analyze` reports as IST0149 (JwtClaimBasedRoutingWithoutRequestAuthN).
When the gateway pods are not among the inputs, or a root-namespace policy could
exist outside them, the finding is reported as unresolved.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: istio-ingress}
spec:
  hosts: ["api.example.com"]
  gateways: [public]                    # selects pods labelled istio: ingressgateway
  http:
  - match:
    - headers:
        "@request.auth.claims.groups": {exact: beta}
    route:
    - destination: {host: api-beta.api.svc.cluster.local}
  - route:
    - destination: {host: api.api.svc.cluster.local}
```

## Fix
Add a RequestAuthentication with the issuer's `jwtRules` in the gateway pods'
namespace, with `selector.matchLabels` matching the gateway's selector (for example
`istio: ingressgateway`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Gateway, ParentRef, RequestAuthentication, Route, Workload
from meshctl.model.origin import Origin
from meshctl.model.subsumption import CLAIM_PREFIX, MESH, Scope
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH143", "jwt-claim-routing-without-authn", Severity.ERROR, __doc__, istio_code="IST0149",
    reads=frozenset({"routes", "gateways", "workloads", "request_authentications"}),
)
SHOWN = 3


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    index = _Index(ctx.mesh)
    for route in ctx.mesh.routes:
        if route.source_kind != "VirtualService" or not any(r.jwt_claim_matches for r in route.rules):
            continue
        scope = Scope.of(route)
        for parent in route.parents:
            if parent.kind == MESH:
                continue
            gateway = _gateway(ctx.mesh, route, parent)
            claim = _claim(route, scope, f"{gateway.namespace}/{gateway.name}") if gateway else None
            if gateway is not None and claim is not None:
                yield from _check(ctx, index, gateway, *claim)


class _Index:
    """RequestAuthentications by namespace, and workloads by label (selector look-ups)."""

    def __init__(self, mesh: MeshModel) -> None:
        self.mesh = mesh
        self.by_namespace: dict[str, list[RequestAuthentication]] = defaultdict(list)
        for policy in mesh.request_authentications:
            if policy.jwt_rules:  # without jwtRules a policy validates no token
                self.by_namespace[policy.namespace].append(policy)

    @cached_property
    def by_label(self) -> dict[tuple[str, str], list[Workload]]:
        out: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        for workload in self.mesh.workloads:
            for item in workload.labels.items():
                out[item].append(workload)
        return out

    def selected(self, selector: dict[str, str]) -> list[Workload]:
        """Workloads of any namespace (Istio gateway selectors are mesh-wide) with these labels."""
        first = next(iter(sorted(selector.items())))
        return [w for w in self.by_label.get(first, ()) if selects(selector, w.labels)]

    def applied(self, workload: Workload, root: str) -> RequestAuthentication | None:
        for policy in self.by_namespace.get(workload.namespace, ()):
            if policy.target_refs or policy.selector is None or selects(policy.selector, workload.labels):
                return policy  # a targetRefs policy is given the benefit of the doubt
        return next((p for p in self.by_namespace.get(root, ()) if not p.selector and not p.target_refs), None)

    def may_apply(self, labels: dict[str, str]) -> bool:
        """Could some policy select pods carrying ``labels`` (their namespace unknown)?"""
        return any(
            not p.selector or all(labels.get(k, v) == v for k, v in p.selector.items())
            for policies in self.by_namespace.values() for p in policies
        )


def _gateway(mesh: MeshModel, route: Route, parent: ParentRef) -> Gateway | None:
    """The Istio Gateway a `spec.gateways` entry names (the lowering resolved the name)."""
    found = mesh.gateways_named(parent.namespace or route.namespace, parent.name)
    return next((g for g in found if g.source_kind == "IstioGateway"), None)


def _claim(route: Route, scope: Scope, gateway: str) -> tuple[str, Origin] | None:
    """The first claim condition of the route that applies at ``gateway``, and its field."""
    for rule in route.rules:
        if not rule.jwt_claim_matches:
            continue
        for match in rule.matches:
            contexts = scope.contexts(match)
            if match.gateways and contexts is not None and gateway not in contexts:
                continue
            for name, sm in match.headers:
                if name.startswith(CLAIM_PREFIX):
                    return name, match.origin.at("withoutHeaders" if sm.invert else "headers", name)
    return None


def _check(
    ctx: Analysis, index: _Index, gateway: Gateway, claim: str, where: Origin
) -> Iterator[Finding]:
    if not gateway.selector:
        return  # no selector: the gateway pods cannot be named
    root = ctx.mesh.mesh_config.root_namespace
    shown = f"routes on {claim!r} at Gateway {gateway.name}.{gateway.namespace}"
    related: tuple[Related, ...] = (ctx.related(gateway.origin, "the gateway is"),)
    pods = index.selected(gateway.selector)
    if not pods:
        if not index.may_apply(gateway.selector):
            selector = ", ".join(f"{k}={v}" for k, v in sorted(gateway.selector.items()))
            yield RULE.on(
                where,
                f"{shown}, but no RequestAuthentication can select its pods ({selector}), so the claims "
                "may never be set; the pods and their namespace are",
                related=related, unresolved=True,
            )
        return
    bare = [w for w in pods if index.applied(w, root) is None]
    if not bare:
        return
    names = ", ".join(f"{w.kind} {w.name}.{w.namespace}" for w in bare[:SHOWN])
    if len(bare) > SHOWN:
        names += f" and {len(bare) - SHOWN} more"
    namespaces = ", ".join(repr(n) for n in sorted({w.namespace for w in bare}))
    lacking = f"{shown}, but no RequestAuthentication with jwtRules applies to its pods ({names})"
    related += (ctx.related(bare[0].origin, "the gateway pods are"),)
    if ctx.outside_inputs(root) and all(w.namespace != root for w in bare):
        message = (
            f"{lacking}: none in namespace {namespaces} selects them; unless a RequestAuthentication without "
            f"selector in the root namespace {root!r} applies, the claims are never set, and that namespace is"
        )
        yield RULE.on(where, message, related=related, unresolved=True)
        return
    message = (
        f"{lacking}: none in namespace {namespaces} selects them and none without selector is in the "
        f"root namespace {root!r}, so the claims are never set and the match never matches"
    )
    yield RULE.on(where, message, related=related)
