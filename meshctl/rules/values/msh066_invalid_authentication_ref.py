"""A Linkerd policy refers to clients by a kind Linkerd does not accept, or too many.

## Why it matters
Linkerd's admission webhook rejects the resource:

- AuthorizationPolicy `requiredAuthenticationRefs` name `MeshTLSAuthentication` or
  `NetworkAuthentication` (group `policy.linkerd.io`) or `ServiceAccount` (core
  group). The references are ANDed, so at most one MeshTLSAuthentication or one
  ServiceAccount (not both) and at most one NetworkAuthentication are allowed.
- MeshTLSAuthentication `identityRefs` name a `ServiceAccount` or a `Namespace`.
- HTTPLocalRateLimitPolicy `overrides[].clientRefs` name a `ServiceAccount`.

Kinds are compared without regard to case; a missing `group` is the core group.

## Example
```yaml
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: web-http}
  requiredAuthenticationRefs:
  - {group: policy.linkerd.io, kind: MeshTLSAuthentication, name: web-clients}
  - {kind: ServiceAccount, name: vote-bot}     # cannot be combined with the above
```

## Fix
Put every allowed identity into one MeshTLSAuthentication (its `identityRefs` may
list several ServiceAccounts), or write one AuthorizationPolicy per client: several
policies on one target are ORed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Related, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._linkerd import (
    MESH_TLS_AUTHENTICATION,
    NAMESPACE,
    NETWORK_AUTHENTICATION,
    SERVICE_ACCOUNT,
    GroupKind,
    ref_problem,
    targets,
)
from meshctl.rules.values._walk import find

AUTHORIZATION_POLICY = "policy.linkerd.io/AuthorizationPolicy"
MESH_TLS = "policy.linkerd.io/MeshTLSAuthentication"
RATE_LIMIT_POLICY = "policy.linkerd.io/HTTPLocalRateLimitPolicy"

# Per kind: (pattern of the reference lists, field name for messages, kinds allowed).
REFERENCES: dict[str, tuple[str, str, tuple[GroupKind, ...]]] = {
    AUTHORIZATION_POLICY: (
        "spec.requiredAuthenticationRefs",
        "requiredAuthenticationRefs",
        (MESH_TLS_AUTHENTICATION, NETWORK_AUTHENTICATION, SERVICE_ACCOUNT),
    ),
    MESH_TLS: ("spec.identityRefs", "identityRefs", (SERVICE_ACCOUNT, NAMESPACE)),
    RATE_LIMIT_POLICY: ("spec.overrides[].clientRefs", "clientRefs", (SERVICE_ACCOUNT,)),
}

RULE = Rule(
    "MSH066",
    "invalid-authentication-ref",
    Severity.ERROR,
    __doc__,
    kinds=frozenset(REFERENCES),
)

# Client identities an AuthorizationPolicy may require: one of these, at most.
_IDENTITIES = (MESH_TLS_AUTHENTICATION, SERVICE_ACCOUNT)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    pattern, field, allowed = REFERENCES[doc.kind_key]
    for path, refs in find(doc.data, pattern):
        if not isinstance(refs, list):
            continue
        for index, ref in enumerate(refs):
            if isinstance(ref, dict):
                problem = ref_problem(ref, allowed, field)
                if problem:
                    yield RULE.at(doc, (*path, index, problem[0]), problem[1])
        if doc.kind_key == AUTHORIZATION_POLICY:
            yield from _limits(doc, path, refs)


def _limits(doc: SourceDoc, path: FieldPath, refs: list[Any]) -> Iterator[Finding]:
    """At most one client identity (MeshTLSAuthentication or ServiceAccount) and one
    NetworkAuthentication: the references are ANDed."""
    firsts: dict[str, int] = {}
    for index, ref in enumerate(refs):
        if not isinstance(ref, dict):
            continue
        if any(targets(ref, kind) for kind in _IDENTITIES):
            slot, what = "identity", "client identity (MeshTLSAuthentication or ServiceAccount)"
            instead = "list several identities in one MeshTLSAuthentication"
        elif targets(ref, NETWORK_AUTHENTICATION):
            slot, what = "network", "NetworkAuthentication"
            instead = "list several networks in one NetworkAuthentication"
        else:
            continue
        first = firsts.setdefault(slot, index)
        if first != index:
            where = (*path, first)
            yield RULE.finding(
                f"requiredAuthenticationRefs[{index}] is a second {what}; an AuthorizationPolicy "
                f"takes at most one (all its references must hold at once): {instead}",
                doc.locate((*path, index)),
                doc.ref,
                related=(Related(f"the first is {format_path(where)}", doc.locate(where)),),
            )
