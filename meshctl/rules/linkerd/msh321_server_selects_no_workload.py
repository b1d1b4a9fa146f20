"""A Linkerd Server selects no pod, or names a port that none of the pods it selects declares.

## Why it matters
A Server applies its `accessPolicy`, `proxyProtocol` and the AuthorizationPolicies that
target it to one port of the pods its `podSelector` picks in its namespace. A selector
no pod matches (a typo, a stale label) or a `port` the pods do not have makes the
Server, and every authorization written for it, apply to nothing: the port keeps the
default inbound policy instead of the one you wrote. A port *name* must be the name
of a container port of the selected pods (Linkerd resolves it from the pod spec); the
proxy's own ports `linkerd-proxy` (4143) and `linkerd-admin` (4191) always exist on
meshed pods.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-http, namespace: emojivoto}
spec:
  podSelector:
    matchLabels: {app: web-svc}
  port: htp                 # the web-svc pods name their port "http"
  proxyProtocol: HTTP/1
```

## Fix
Correct the labels or the port. The rule looks only at namespaces whose workloads
are among the inputs, and reports a selector that matches none of them only when the
inputs own the namespace (a Namespace object) or a close label value suggests a typo; a port *number* is reported only when every selected pod
declares its container ports (a container may listen on a port it does not declare),
a selector with `matchExpressions` is judged by its `matchLabels` alone, and the
namespaces of Linkerd's control plane and extensions are skipped (`linkerd multicluster
link` creates some of their pods later).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import LinkerdServer, Workload
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import PROXY_PORT_NAMES, linkerd_own, listed
from meshctl.rules.references._workload_selectors import WorkloadIndex, describe

RULE = Rule(
    "MSH321", "server-selects-no-workload", Severity.WARNING, __doc__,
    reads=frozenset({"linkerd_servers", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.has_workloads:
        return  # policies linted without their Deployments
    index: WorkloadIndex | None = None
    with_pods = {w.namespace for w in mesh.workloads if w.kind != "ExternalWorkload"}
    for server in mesh.linkerd_servers:
        if server.pod_selector is None:
            continue  # externalWorkloadSelector: ExternalWorkloads declare no ports here
        if server.namespace not in with_pods or linkerd_own(mesh.namespaces.get(server.namespace)):
            continue  # nothing known about the namespace's pods, or Linkerd deploys some on demand
        selected = [
            w for w in mesh.workloads_selected(server.namespace, server.pod_selector)
            if w.kind != "ExternalWorkload"
        ]
        if not selected:
            index = index or WorkloadIndex(mesh)
            hint = index.suggestion(server.namespace, server.pod_selector)
            if not (hint.startswith("; did you mean") or ctx.closed_world or server.namespace in mesh.namespaces):
                continue  # some of the namespace's pods may live outside the inputs
            qualifier = " (and its matchExpressions)" if server.pod_expressions else ""
            yield RULE.on(
                server.origin.at("spec", "podSelector", "matchLabels"),
                f"podSelector {describe(server.pod_selector)}{qualifier} matches no pod in namespace "
                f"{server.namespace!r}, so the Server and the authorizations targeting it apply to nothing"
                + hint,
            )
            continue
        problem = _port_problem(server, selected)
        if problem:
            yield RULE.on(
                server.origin.at("spec", "port"), problem,
                related=tuple(ctx.related(w.origin, "selects") for w in selected[:3]),
            )


def _port_problem(server: LinkerdServer, selected: list[Workload]) -> str | None:
    port = server.port
    if port == "" or port in PROXY_PORT_NAMES or port in PROXY_PORT_NAMES.values():
        return None
    who = _who(selected)
    if isinstance(port, str):
        if port.isdigit():
            return None  # a quoted number: the value checks report it
        names = sorted({name for w in selected for name, _ in _named_ports(w)})
        if port in names:
            return None
        declared = f"their named ports are {listed(names)}" if names else "they name no container port"
        return (
            f"port {port!r} is the name of no container port of the pods the Server selects ({who}); "
            f"{declared}, so the Server applies to no port"
        )
    if any(not _numbers(w) for w in selected):
        return None  # a pod that declares no port may still listen on this one
    numbers = sorted({n for w in selected for n in _numbers(w)})
    if port in numbers:
        return None
    return (
        f"port {port} is declared by no container of the pods the Server selects ({who}); "
        f"they declare {listed(str(n) for n in numbers)}"
    )


def _who(selected: list[Workload]) -> str:
    names = [f"{w.kind} {w.name}" for w in selected]
    return listed(names, 3)


def _named_ports(workload: Workload) -> list[tuple[str, int]]:
    return [p for c in workload.containers + workload.init_containers for p in c.named_ports]


def _numbers(workload: Workload) -> set[int]:
    return {n for c in workload.containers + workload.init_containers for n in c.ports}
