"""A Linkerd authentication admits a mesh identity whose service account does not exist, or an Istio principal.

## Why it matters
A MeshTLSAuthentication (and a legacy ServerAuthorization's `meshTLS`) admits clients
by the identity of their proxy, which is their service account:
`<sa>.<ns>.serviceaccount.identity.linkerd.<trust domain>`, or
`spiffe://<trust domain>/ns/<ns>/sa/<sa>`, or an `identityRefs`/`serviceAccounts`
entry naming the ServiceAccount. An identity for a service account that does not exist
matches no client, usually because of a typo or because the pods run as another
account (`serviceAccountName`): the client the policy was written for gets 403s.
An Istio principal (`cluster.local/ns/shop/sa/web`) is not a Linkerd identity and
never matches.

## Example
```yaml
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: authors-get-authn, namespace: booksapp}
spec:
  identities:
  - "webap.booksapp.serviceaccount.identity.linkerd.cluster.local"   # the account is webapp
```

## Fix
Name the service account the client pods run as, or use `identityRefs` with
`kind: ServiceAccount` so a typo is easier to see. The rule checks a namespace only
when the inputs hold ServiceAccount objects of it; the `default` account and the
accounts the input pods run as always count. Clients of another cluster (multicluster)
share the trust domain, so lint each cluster's policies with that cluster's accounts.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import (
    CORE_GROUPS,
    account_index,
    close_name,
    istio_principal,
    linkerd_identity,
    parse_identity,
)

RULE = Rule(
    "MSH323", "unknown-mesh-identity", Severity.WARNING, __doc__,
    reads=frozenset({"mesh_tls_authentications", "server_authorizations", "service_accounts", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for authn in mesh.mesh_tls_authentications:
        for i, identity in enumerate(authn.identities):
            yield from _identity(ctx, identity, authn.origin.at("spec", "identities", i))
        for ref in authn.identity_refs:
            if ref.group.lower() in CORE_GROUPS and ref.kind.lower() == "serviceaccount":
                yield from _account(ctx, ref.name, ref.namespace or authn.namespace, ref.origin.at("name"))
            elif ref.group.lower() in CORE_GROUPS and ref.kind.lower() == "namespace":
                yield from _namespace(ctx, ref.name, ref.origin.at("name"))
    for authz in mesh.server_authorizations:
        base = authz.origin.at("spec", "client", "meshTLS")
        for i, identity in enumerate(authz.mesh_identities):
            yield from _identity(ctx, identity, base.at("identities", i))
        for i, (name, namespace) in enumerate(authz.service_accounts):
            yield from _account(ctx, name, namespace or authz.namespace, base.at("serviceAccounts", i, "name"))


def _identity(ctx: Analysis, identity: str, where: Origin) -> Iterator[Finding]:
    parsed = parse_identity(identity)
    if parsed is None:
        principal = istio_principal(identity)
        if principal is not None:
            yield RULE.on(
                where,
                f"identity {identity!r} is an Istio principal, which Linkerd never matches; the Linkerd "
                f"identity of that account is {linkerd_identity(principal.sa, principal.namespace)!r} "
                "(with the default control-plane namespace and trust domain)",
            )
        return
    if parsed.sa == "*":
        yield from _namespace(ctx, parsed.namespace, where)
        return
    yield from _account(ctx, parsed.sa, parsed.namespace, where, identity)


def _account(
    ctx: Analysis, name: str, namespace: str, where: Origin, identity: str | None = None
) -> Iterator[Finding]:
    accounts = account_index(ctx)
    if accounts.exists(namespace, name) is not False:
        return
    if identity:
        message = (
            f"identity {identity!r} names service account {name!r}, which does not exist in namespace "
            f"{namespace!r}, so no client matches it"
        )
    else:
        message = f"ServiceAccount {name!r} does not exist in namespace {namespace!r}, so no client matches it"
    close = close_name(name, accounts.names(namespace))
    if close:
        message += f"; did you mean {close!r}?"
    yield RULE.on(where, message)


def _namespace(ctx: Analysis, namespace: str, where: Origin) -> Iterator[Finding]:
    """A namespace-wide identity: only --closed-world can tell that the namespace does not exist."""
    if ctx.closed_world and not ctx.mesh.namespace_known(namespace):
        yield RULE.on(where, f"names namespace {namespace!r}, which none of the inputs defines or uses")
