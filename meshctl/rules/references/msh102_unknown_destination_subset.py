"""A route sends traffic to a subset that no applicable DestinationRule defines.

## Why it matters
A subset is a cluster the sidecar builds from a DestinationRule. When no rule that
applies to the destination host defines the subset, the route points at a cluster
that does not exist and every request it sends fails with 503 (`NR`, no route); a
mirror to it mirrors nothing. Besides a typo, the usual cause is a rule that is not in
the client's lookup path: Istio looks for DestinationRules in the client's namespace,
then in the host's namespace, then in the root namespace (`istio-system`), honours
`exportTo`, and uses the most specific host it finds first. A rule in the client's
namespace that only sets TLS for the host therefore hides the subsets defined next
to the Service, and a rule in any other namespace is never used. For a VirtualService
bound only to gateways the client is the gateway, not the route's namespace.
This is what `istioctl analyze` reports as IST0101 (ReferencedResourceNotFound,
"host+subset in destinationrule").

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}   # the rule defines v1 and v2 only
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
```

## Fix
Add the subset to the DestinationRule that applies (the message names it and the
subsets it has), correct the subset name, or move the rule into the client's or the
host's namespace. Apply the DestinationRule before the VirtualService that uses it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model import hosts
from meshctl.model.objects import Backend, DestinationPolicy, Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._destination_rules import Applied, RuleIndex
from meshctl.rules.references._destinations import destination_field, destinations, served_by

RULE = Rule(
    "MSH102", "unknown-destination-subset", Severity.ERROR, __doc__, istio_code="IST0101",
    reads=frozenset({"routes", "destination_policies", "services", "service_entries"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    index = RuleIndex(ctx.mesh)
    for route, backend, role in destinations(ctx.mesh):
        if backend.subset:
            yield from _check(ctx, index, route, backend, role)


def _check(
    ctx: Analysis, index: RuleIndex, route: Route, backend: Backend, role: str
) -> Iterator[Finding]:
    subset = backend.subset or ""
    served = served_by(ctx.mesh, route, backend.fqdn)
    if served is None:
        return  # an unknown host is MSH101's finding
    clients = _clients(ctx, route)
    found = [index.applied(client, backend.fqdn, served.namespaces) for client in clients]
    if any(applied is not None and applied.defines(subset) for applied in found):
        return
    applied = next((a for a in found if a is not None), None)
    client = applied.client if applied is not None else clients[0]
    related: tuple[Related, ...] = ()
    if applied is None:
        shown = " or ".join(repr(c) for c in clients)
        message = (
            f"{role} subset {subset!r}: no DestinationRule for host {backend.host!r} "
            f"applies from namespace {shown}"
        )
    else:
        rules = " and ".join(_name(p) for p in applied.rules)
        message = (
            f"{role} subset {subset!r} is not defined for host {backend.host!r}: "
            f"DestinationRule {rules}, the one applied from namespace {client!r}"
            f"{_gateway(route, client)}, "
            f"defines subsets: {', '.join(applied.subsets) or 'none'}"
        )
        close = difflib.get_close_matches(subset, applied.subsets, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
        related = tuple(ctx.related(p.origin, "applied:") for p in applied.rules)
    elsewhere = [
        p for p in index.naming(backend.fqdn)
        if any(s.name == subset for s in p.subsets) and (applied is None or p not in applied.rules)
    ]
    if elsewhere:
        reason = _unused(elsewhere[0], client, (client, *served.namespaces, index.root), applied)
        message += f"; DestinationRule {_name(elsewhere[0])} defines {subset!r} but {reason}"
        related += tuple(ctx.related(p.origin, "defines the subset, unused:") for p in elsewhere)
    yield RULE.on(destination_field(backend, "subset"), message, related=related)


def _clients(ctx: Analysis, route: Route) -> tuple[str, ...]:
    """The namespaces of the proxies that use the route: its own, or its gateways'."""
    root = ctx.mesh.mesh_config.root_namespace
    out: list[str] = []
    if route.binds_mesh or not route.hosts:  # a delegate inherits its parent's clients
        out.append(route.namespace)
    gateways = [p.namespace for p in route.parents if p.kind == "Gateway"]
    if gateways or not route.hosts:
        # a gateway's proxy runs in the Gateway's namespace or, by default, in the root one
        out += [*gateways, root]
    return tuple(dict.fromkeys(out))


def _gateway(route: Route, client: str) -> str:
    return " (the gateway's)" if client != route.namespace else ""


def _unused(
    policy: DestinationPolicy, client: str, lookup: tuple[str, ...], applied: Applied | None
) -> str:
    """Why a rule that defines the subset is not the one applied for ``client``."""
    if policy.namespace not in lookup:
        path = ", ".join(repr(n) for n in dict.fromkeys(lookup))
        return (
            f"is in namespace {policy.namespace!r}, which clients in {client!r} never consult "
            f"(only {path})"
        )
    if not hosts.visible(policy.export_to, policy.namespace, client):
        return f"is not exported to namespace {client!r}"
    if applied is not None:
        first = _name(applied.rules[0])
        return f"is hidden by DestinationRule {first}, which comes first in the lookup"
    return "does not apply"


def _name(policy: DestinationPolicy) -> str:
    return f"{policy.name}.{policy.namespace}"
