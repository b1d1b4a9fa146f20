"""A Linkerd policy targets a kind it cannot apply to, or another namespace.

## Why it matters
Linkerd's admission webhook rejects the policy. An AuthorizationPolicy targets a
`Server` or `HTTPRoute` (group `policy.linkerd.io`, or `gateway.networking.k8s.io`
for HTTPRoute since Linkerd 2.19), a `GRPCRoute` (`gateway.networking.k8s.io`) or
its own `Namespace` (core group); an HTTPLocalRateLimitPolicy targets a `Server`.
Linkerd compares kinds without regard to case but reads a missing `group` as the
core group, so `kind: Server` without `group: policy.linkerd.io` names no Server.

## Example
```yaml
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: web-admin, namespace: emojivoto}
spec:
  targetRef:
    kind: Server                 # group policy.linkerd.io is missing
    name: web-http
  requiredAuthenticationRefs: []
```

## Fix
Name the target with its group (`group: policy.linkerd.io`, `kind: Server`). To
cover a whole namespace, target the policy's own namespace (`kind: Namespace`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._linkerd import (
    GATEWAY_HTTP_ROUTE,
    GRPC_ROUTE,
    NAMESPACE,
    POLICY_HTTP_ROUTE,
    SERVER,
    GroupKind,
    ref_problem,
    targets,
)
from meshctl.rules.values._walk import mapping

AUTHORIZATION_POLICY = "policy.linkerd.io/AuthorizationPolicy"
RATE_LIMIT_POLICY = "policy.linkerd.io/HTTPLocalRateLimitPolicy"

TARGETS: dict[str, tuple[GroupKind, ...]] = {
    AUTHORIZATION_POLICY: (SERVER, POLICY_HTTP_ROUTE, GATEWAY_HTTP_ROUTE, GRPC_ROUTE, NAMESPACE),
    RATE_LIMIT_POLICY: (SERVER,),
}

RULE = Rule(
    "MSH061",
    "invalid-policy-target",
    Severity.ERROR,
    __doc__,
    kinds=frozenset(TARGETS),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    ref = mapping(mapping(doc.data.get("spec")).get("targetRef"))
    path = ("spec", "targetRef")
    problem = ref_problem(ref, TARGETS[doc.kind_key], "targetRef")
    if problem:
        field, message = problem
        yield RULE.at(doc, (*path, field), message)
    elif targets(ref, NAMESPACE):
        name = ref.get("name")
        if isinstance(name, str) and doc.namespace is not None and name != doc.namespace:
            yield RULE.at(
                doc,
                (*path, "name"),
                f"targetRef names namespace {name!r}, but the policy is in {doc.namespace!r}; "
                "a policy can only target its own namespace",
            )
