"""An AuthorizationPolicy names a principal, service account or namespace the inputs do not have, or a foreign trust domain.

## Why it matters
A rule that names an identity nobody has never matches it: an ALLOW rule then admits
no one it was meant for (403), and a DENY rule protects nothing. Typos in service
account names (`frontent`), a namespace that was renamed, and principals written for
another trust domain are the usual causes. Istio reads the trust domain
`cluster.local` in a policy as the mesh's own, whatever it is; any other trust domain
than the mesh's (`trustDomain` in `--mesh-config`) matches only peers of that domain
(federation).

A service account is checked only where the inputs describe its namespace (a
Namespace object, or ServiceAccount objects of that namespace); the accounts known are
the ServiceAccount objects, the accounts workloads run as, and `default`. A namespace
no input mentions is reported as unresolved (info) unless `--closed-world` is given.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules:
  - from:
    - source:
        principals: [cluster.local/ns/shop/sa/frontent]   # the account is 'frontend'
```

## Fix
Correct the name, or create the service account. For another trust domain, check
`trustDomain` (and `trustDomainAliases`) in the mesh config.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.security.authz import DEFAULT_TRUST_DOMAIN

RULE = Rule(
    "MSH221", "unknown-principal", Severity.WARNING, __doc__,
    reads=frozenset({"authorization_policies", "service_accounts", "workloads"}),
)


class _Accounts:
    def __init__(self, ctx: Analysis) -> None:
        mesh = ctx.mesh
        self.ctx = ctx
        self.known: dict[str, set[str]] = defaultdict(lambda: {"default"})
        self.declared: set[str] = set()
        for account in mesh.service_accounts:
            self.known[account.namespace].add(account.name)
            self.declared.add(account.namespace)
        for workload in mesh.workloads:
            self.known[workload.namespace].add(workload.service_account)
        self.namespaces = mesh.namespaces
        self.mesh = mesh

    def described(self, namespace: str) -> bool:
        """The inputs say which service accounts the namespace has."""
        if self.ctx.closed_world:
            return True
        ns = self.namespaces.get(namespace)
        return namespace in self.declared or (ns is not None and ns.origin is not None)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.authorization_policies:
        return
    accounts = _Accounts(ctx)
    trust_domain = mesh.mesh_config.trust_domain
    for policy in mesh.authorization_policies:
        for rule in policy.rules or ():
            for src in rule.sources:
                for name, values in (("principals", src.principals), ("notPrincipals", src.not_principals)):
                    for k, value in enumerate(values):
                        yield from _principal(ctx, accounts, trust_domain, value, src.origin.at(name, k))
                for name, values in (("namespaces", src.namespaces), ("notNamespaces", src.not_namespaces)):
                    for k, value in enumerate(values):
                        yield from _namespace(ctx, accounts, value, src.origin.at(name, k))
                for name, values in (("serviceAccounts", src.service_accounts),
                                     ("notServiceAccounts", src.not_service_accounts)):
                    for k, value in enumerate(values):
                        ns, _, sa = value.rpartition("/")
                        yield from _account(ctx, accounts, ns or policy.namespace, sa, src.origin.at(name, k), value)
            for cond in rule.conditions:
                for name, values in (("values", cond.values), ("notValues", cond.not_values)):
                    for k, value in enumerate(values):
                        if cond.key == "source.principal":
                            yield from _principal(ctx, accounts, trust_domain, value, cond.origin.at(name, k))
                        elif cond.key == "source.namespace":
                            yield from _namespace(ctx, accounts, value, cond.origin.at(name, k))


def _principal(ctx: Analysis, accounts: _Accounts, trust_domain: str, value: str, origin: Origin) -> Iterator[Finding]:
    if "*" in value or value.startswith("spiffe://"):
        return
    parts = value.split("/")
    if len(parts) != 5 or parts[1] != "ns" or parts[3] != "sa":
        return
    domain, ns, sa = parts[0], parts[2], parts[4]
    if domain not in (trust_domain, DEFAULT_TRUST_DOMAIN):
        yield RULE.on(origin, f"principal {value!r} is in trust domain {domain!r}, but the mesh's is "
                      f"{trust_domain!r}: it matches only peers of that trust domain, never this mesh's workloads "
                      "(Istio reads 'cluster.local' as the mesh's own domain)")
        return
    yield from _account(ctx, accounts, ns, sa, origin, value)


def _account(ctx: Analysis, accounts: _Accounts, namespace: str, account: str, origin: Origin,
             value: str) -> Iterator[Finding]:
    if not accounts.described(namespace):
        return
    known = accounts.known[namespace]
    if account in known:
        return
    message = (f"{value!r} names service account {account!r} of namespace {namespace!r}, which the inputs do not "
               "have: no workload has that identity")
    close = difflib.get_close_matches(account, sorted(known), n=1, cutoff=0.75)
    if close:
        message += f"; did you mean {close[0]!r}?"
    else:
        message += f" (accounts: {', '.join(sorted(known)[:5])}{', ...' if len(known) > 5 else ''})"
    yield RULE.on(origin, message)


def _namespace(ctx: Analysis, accounts: _Accounts, value: str, origin: Origin) -> Iterator[Finding]:
    if "*" in value:
        return
    mesh = accounts.mesh
    if mesh.namespace_known(value) or value in accounts.known:
        return
    message = f"the policy names namespace {value!r}"
    close = difflib.get_close_matches(value, sorted(set(mesh.namespaces) | mesh.mentioned_namespaces), n=1,
                                      cutoff=0.8)
    if close:
        message += f"; did you mean {close[0]!r}?"
    yield RULE.on(origin, message, unresolved=not ctx.closed_world)
