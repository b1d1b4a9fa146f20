"""A Linkerd policy targets a Server or route, or requires an authentication, that does not exist.

## Why it matters
Linkerd's policies point at other resources by name, in their own namespace unless
the reference says otherwise:

- an AuthorizationPolicy's `targetRef` names a `Server`, an `HTTPRoute`
  (`policy.linkerd.io`, or `gateway.networking.k8s.io` since 2.19) or a `GRPCRoute`;
  an HTTPLocalRateLimitPolicy's names a `Server`. A target that does not exist makes
  the policy apply to nothing: the callers it was written for stay denied, or the
  port stays open under the default policy, and the rate limit limits nothing;
- `requiredAuthenticationRefs` name a `MeshTLSAuthentication`, a
  `NetworkAuthentication` or a `ServiceAccount`. Linkerd fails closed: a reference to
  one that does not exist makes the whole policy inert, so no client is authorized by it;
- a ServerAuthorization (legacy) names its Server, or selects Servers by their labels.

## Example
```yaml
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: authors-get-policy, namespace: booksapp}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: authors-get}   # the route is authors-get-route
  requiredAuthenticationRefs:
  - {group: policy.linkerd.io, kind: MeshTLSAuthentication, name: authors-get-authn}
```

## Fix
Correct the name, or add the missing resource. A `Namespace` target can only be the
policy's own namespace (MSH061 checks that). A missing resource is an error when the
inputs own its namespace (a Namespace object) or one of a close name suggests a typo;
otherwise the inputs may simply not hold it and it is reported as unresolved (info),
unless `--closed-world` is given. A ServiceAccount is checked only where the inputs
hold ServiceAccount objects of its namespace (the `default` account and the ones pods
run as always count).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import selects
from meshctl.model.objects import TargetRef
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import (
    CORE_GROUPS,
    GATEWAY,
    LINKERD_ROUTE,
    POLICY,
    RATE_LIMIT_KIND,
    account_index,
    authentication_index,
    close_name,
    listed,
    missing,
    missing_is_error,
    rate_limit_targets,
    server_index,
)
from meshctl.rules.references._workload_selectors import describe

RULE = Rule(
    "MSH322", "unknown-policy-target", Severity.ERROR, __doc__,
    reads=frozenset({
        "linkerd_authorizations", "server_authorizations", "workload_policies", "linkerd_servers",
        "routes", "mesh_tls_authentications", "network_authentications", "service_accounts",
        "workloads", "resources",
    }),
)

# targetRef (group, kind) -> the route kind of the model it names.
_ROUTE_TARGETS = {
    (POLICY, "httproute"): LINKERD_ROUTE,
    (GATEWAY, "httproute"): "HTTPRoute",
    (GATEWAY, "grpcroute"): "GRPCRoute",
}


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    limits = list(rate_limit_targets(mesh))
    if mesh.linkerd_authorizations or limits:
        routes: dict[tuple[str, str], set[str]] = defaultdict(set)  # (kind, namespace) -> names
        for route in mesh.routes:
            routes[(route.source_kind, route.namespace)].add(route.name)
        for policy in mesh.linkerd_authorizations:
            yield from _target(ctx, policy.target, policy.namespace, routes, "AuthorizationPolicy")
            for ref in policy.required_authentications:
                yield from _authentication(ctx, ref, policy.namespace)
        for namespace, ref in limits:
            yield from _target(ctx, ref, namespace, routes, RATE_LIMIT_KIND)
    yield from _server_authorizations(ctx)


def _target(
    ctx: Analysis, ref: TargetRef, namespace: str, routes: dict[tuple[str, str], set[str]], owner: str
) -> Iterator[Finding]:
    group, kind = ref.group.lower(), ref.kind.lower()
    where = ref.origin.at("name")
    if (group, kind) == (POLICY, "server"):
        index = server_index(ctx)
        if index.server(namespace, ref.name) is None:
            yield missing(RULE, ctx, where, "targetRef Server", ref.name, namespace, index.names(namespace),
                          f"so the {owner} applies to nothing", "Servers")
        return
    route_kind = _ROUTE_TARGETS.get((group, kind))
    if route_kind is None:
        return  # a Namespace, or a kind the value checks (MSH061) reject
    names_there = routes.get((route_kind, namespace), set())
    if ref.name not in names_there:
        shown = "HTTPRoute" if route_kind == LINKERD_ROUTE else route_kind
        yield missing(RULE, ctx, where, f"targetRef {shown} ({group})", ref.name, namespace,
                      sorted(names_there), f"so the {owner} applies to nothing", f"{shown}s")


def _authentication(ctx: Analysis, ref: TargetRef, namespace: str) -> Iterator[Finding]:
    group, kind = ref.group.lower(), ref.kind.lower()
    target_ns = ref.namespace or namespace
    where = ref.origin.at("name")
    effect = "and Linkerd fails closed: the policy authorizes no one"
    index = authentication_index(ctx)
    if (group, kind) == (POLICY, "meshtlsauthentication"):
        if (target_ns, ref.name) not in index.mesh_tls:
            names = sorted(n for ns, n in index.mesh_tls if ns == target_ns)
            yield missing(RULE, ctx, where, "requiredAuthenticationRefs MeshTLSAuthentication", ref.name,
                          target_ns, names, effect, "MeshTLSAuthentications")
    elif (group, kind) == (POLICY, "networkauthentication"):
        if (target_ns, ref.name) not in index.networks:
            names = sorted(n for ns, n in index.networks if ns == target_ns)
            yield missing(RULE, ctx, where, "requiredAuthenticationRefs NetworkAuthentication", ref.name,
                          target_ns, names, effect, "NetworkAuthentications")
    elif group in CORE_GROUPS and kind == "serviceaccount":
        accounts = account_index(ctx)
        if accounts.exists(target_ns, ref.name) is False:
            yield RULE.on(
                where,
                f"requiredAuthenticationRefs ServiceAccount {ref.name!r} does not exist in namespace "
                f"{target_ns!r}, {effect}" + _hint(ref.name, accounts.names(target_ns)),
            )


def _server_authorizations(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.server_authorizations:
        return
    index = server_index(ctx)
    labels = {r.origin: r.labels for r in mesh.resources if r.kind == "Server"}
    for authz in mesh.server_authorizations:
        servers = index.by_namespace.get(authz.namespace, [])
        names = index.names(authz.namespace)
        if authz.server_name is not None:
            if index.server(authz.namespace, authz.server_name) is None:
                yield missing(RULE, ctx, authz.origin.at("spec", "server", "name"), "server Server",
                              authz.server_name, authz.namespace, names,
                              "so the ServerAuthorization authorizes nothing", "Servers")
        elif authz.server_selector is not None:
            if any(selects(authz.server_selector, labels.get(s.origin, {})) for s in servers):
                continue
            where = authz.origin.at("spec", "server", "selector", "matchLabels")
            selector = describe(authz.server_selector)
            if not missing_is_error(ctx, authz.namespace, None):
                yield RULE.on(where, f"server selector {selector} selects Servers of namespace "
                              f"{authz.namespace!r}", unresolved=True)
            else:
                yield RULE.on(
                    where,
                    f"server selector {selector} matches the labels of no Server in namespace "
                    f"{authz.namespace!r} (it selects Servers, not pods), so the ServerAuthorization "
                    "authorizes nothing" + (f"; Servers there: {listed(names)}" if names else ""),
                )


def _hint(name: str, names: list[str]) -> str:
    close = close_name(name, names)
    return f"; did you mean {close!r}?" if close else ""
