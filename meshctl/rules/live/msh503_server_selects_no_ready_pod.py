"""A Linkerd Server's podSelector selects no running, ready pod.

## Why it matters
A Server describes a port of the pods it selects, and the authorization policies that
target it apply only to those pods. When no running, ready pod matches (a typo in the
labels, a workload that was renamed or scaled to zero), the policies protect nothing:
the real pods fall back to the namespace's default policy, which may allow more, or
deny everything. MSH321 checks the selector against the manifests; this checks what
runs.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: api-http, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}   # the running pods say app: shop-api
  port: http
```

## Fix
Correct the podSelector to the labels the pods carry
(`kubectl get pods -n shop --show-labels`), or delete the Server with its workload.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, live_check

RULE = Rule("MSH503", "server-selects-no-ready-pod", Severity.WARNING, __doc__)


@live_check(RULE, needs=("/Pod",))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    mesh, state = ctx.mesh, ctx.state
    for server in mesh.linkerd_servers:
        if server.external_selector or server.pod_expressions or server.pod_selector is None:
            continue
        if not state.in_scope(server.namespace):
            continue
        pods = [w for w in mesh.workloads_selected(server.namespace, server.pod_selector) if w.is_pod]
        if any(w.ready for w in pods):
            continue
        shown = ", ".join(f"{k}={v}" for k, v in sorted(server.pod_selector.items())) or "everything"
        detail = (
            f"its {len(pods)} pod{'s' if len(pods) != 1 else ''} are not ready" if pods
            else f"no pod in namespace {server.namespace!r} has {shown}"
        )
        yield RULE.on(
            server.origin.at("spec", "podSelector"),
            f"Server {server.name!r} selects no running, ready pod: {detail}; the policies that target it protect nothing",
        )
