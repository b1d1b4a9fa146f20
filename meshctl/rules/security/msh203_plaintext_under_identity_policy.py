"""A port accepts plaintext (PERMISSIVE or DISABLE) although an AuthorizationPolicy decides on it by caller identity.

## Why it matters
`principals`, `namespaces` and `serviceAccounts` (and their `not` forms, and `when` keys
`source.principal`/`source.namespace`) are read from the client's mTLS certificate. A
plaintext connection has no certificate, so its identity is empty: ALLOW rules on
identity refuse it (a 403 that looks like an authorization bug) and, worse, DENY rules
on identity do not match it, so a caller that skips mTLS slips past the deny list. Under
PERMISSIVE any client may choose plaintext; under DISABLE every client does.

meshctl reports the PeerAuthentication field that leaves the port open to plaintext,
once per field, naming the identity-based policies it undermines. The implicit default
(no PeerAuthentication at all among the inputs) is not reported here: the mesh-wide
policy may live outside them (MSH205 summarises it).

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: PERMISSIVE}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-batch, namespace: shop}
spec:
  action: DENY
  rules:
  - from:
    - source: {namespaces: [batch]}    # a plaintext caller from batch is not matched
```

## Fix
Set `mtls.mode: STRICT` on the workloads (or ports) the policy protects, once their
callers are meshed; or, for callers that cannot do mTLS, authorize by `ipBlocks`
instead of identity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import selects
from meshctl.model.objects import AuthorizationPolicy, AuthorizationRule, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import AMBIENT, DISABLE, ISTIO, PERMISSIVE, VIEW_READS, PeerDecision

RULE = Rule(
    "MSH203", "plaintext-under-identity-policy", Severity.WARNING, __doc__,
    reads=VIEW_READS | {"authorization_policies"},
)

_IDENTITY_KEYS = ("source.principal", "source.namespace", "source.serviceAccount")
Hit = tuple[PeerDecision, AuthorizationPolicy, Workload, int, str]  # decision, policy, workload, port, fields


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    view = _mtls.view(ctx)
    ports = view.target_ports()
    root = mesh.mesh_config.root_namespace
    found: dict[Origin, list[Hit]] = defaultdict(list)
    for policy in sorted(mesh.authorization_policies, key=lambda p: (p.namespace, p.name)):
        if policy.target_refs or policy.action not in ("ALLOW", "DENY"):
            continue
        rules = [(rule, fields) for rule in policy.rules or () if (fields := _identity_fields(rule))]
        if not rules:
            continue
        limit = _ports(rule for rule, _ in rules)
        for workload in _selected(ctx, policy, root):
            if view.dataplane(workload).mesh not in (ISTIO, AMBIENT):
                continue
            for number in sorted(ports.get(workload, set()) | {p for c in workload.containers for p in c.ports}):
                if limit is not None and number not in limit:
                    continue
                decision = view.peer_decision(workload.namespace, workload.labels, number)
                if decision.mode in (PERMISSIVE, DISABLE) and decision.origin is not None:
                    found[decision.origin].append((decision, policy, workload, number, rules[0][1]))
    for origin, hits in sorted(found.items(), key=lambda item: _mtls.sort_key(item[0])):
        decision = hits[0][0]
        assert decision.policy is not None
        policies = list(dict.fromkeys(h[1] for h in hits))
        where = _mtls.shown([f"{h[2].name}:{h[3]}" for h in hits])
        names = _mtls.shown([f"{p.name}.{p.namespace} ({p.action} on {_fields(hits, p)})" for p in policies])
        if decision.mode == DISABLE:
            effect = ("every caller arrives in plaintext, without an identity, so identity-based ALLOW rules "
                      "refuse them all and DENY rules match none")
        else:
            effect = ("any caller may choose plaintext, which carries no identity, so identity-based ALLOW rules "
                      "refuse it and DENY rules do not match it")
        yield RULE.on(
            origin,
            f"PeerAuthentication {decision.policy.name}.{decision.policy.namespace} accepts plaintext "
            f"({decision.mode}) on {where}, which AuthorizationPolicy {names} protects by caller identity; {effect}",
            related=tuple(ctx.related(p.origin, "identity-based policy") for p in policies[:5]),
        )


def _identity_fields(rule: AuthorizationRule) -> str:
    fields: list[str] = []
    for source in rule.sources:
        for name, values in (
            ("principals", source.principals), ("notPrincipals", source.not_principals),
            ("namespaces", source.namespaces), ("notNamespaces", source.not_namespaces),
            ("serviceAccounts", source.service_accounts), ("notServiceAccounts", source.not_service_accounts),
        ):
            if values and name not in fields:
                fields.append(name)
    fields += [c.key for c in rule.conditions if c.key in _IDENTITY_KEYS and c.key not in fields]
    return ", ".join(fields)


def _fields(hits: list[Hit], policy: AuthorizationPolicy) -> str:
    return next(h[4] for h in hits if h[1] is policy)


def _ports(rules: Iterator[AuthorizationRule]) -> set[int] | None:
    """The ports the identity rules are limited to (None: every port)."""
    found: set[int] = set()
    for rule in rules:
        if not rule.operations:
            return None
        for operation in rule.operations:
            numbers = {int(p) for p in operation.ports if p.isdigit()}
            if not numbers:
                return None
            found |= numbers
    return found


def _selected(ctx: Analysis, policy: AuthorizationPolicy, root: str) -> list[Workload]:
    if policy.namespace == root:
        return [w for w in ctx.mesh.workloads if selects(policy.selector, w.labels)]
    return ctx.mesh.workloads_selected(policy.namespace, policy.selector)
