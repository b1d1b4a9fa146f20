"""The `config.linkerd.io/opaque-ports` annotation names a port the Service or the pod does not have.

## Why it matters
Opaque ports skip Linkerd's protocol detection: a server-speaks-first protocol (MySQL,
SMTP, ...) on a port that is not opaque waits 10 seconds for the client to speak and
then fails or is proxied as plain TCP without mTLS-aware handling. The annotation lists
port numbers, ranges and port names. On a Service, Linkerd resolves a name against the
Service's port names and compares numbers with the Service ports clients connect to;
on a pod (template), it resolves names against the containers' port names. An entry
that names no such port is silently skipped, so the port stays non-opaque.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: mysql
  namespace: booksapp
  annotations:
    config.linkerd.io/opaque-ports: "3307"      # the Service port is 3306
spec:
  selector: {app: mysql}
  ports: [{name: mysql, port: 3306}]
```

## Fix
List the Service's ports (numbers or names) on a Service, and the container ports on
a pod template; since Linkerd 2.18 `appProtocol: linkerd.io/opaque` on the Service
port says the same without an annotation. Port numbers on pods and ranges are not
checked (a container may listen on a port it does not declare).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Service, Workload
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import OPAQUE_PORTS, listed, pod_metadata

RULE = Rule(
    "MSH330", "unknown-opaque-port", Severity.WARNING, __doc__,
    reads=frozenset({"services", "workloads"}),
)


def entries(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for service in mesh.services:
        value = service.annotations.get(OPAQUE_PORTS)
        if value is None or service.type == "ExternalName" or not service.ports:
            continue
        unknown = [e for e in entries(value) if not _service_has(service, e)]
        if unknown:
            ports = listed(f"{p.name} ({p.port})" if p.name else str(p.port) for p in service.ports)
            yield RULE.on(
                service.origin.at("metadata", "annotations", OPAQUE_PORTS),
                f"{OPAQUE_PORTS}: {listed(unknown)} {'is' if len(unknown) == 1 else 'are'} no port of "
                f"Service {service.name!r} (ports: {ports}), so Linkerd skips {'it' if len(unknown) == 1 else 'them'}",
            )
    for workload in mesh.workloads:
        value = workload.annotations.get(OPAQUE_PORTS)
        if value is None or not workload.containers:
            continue
        names = _port_names(workload)
        unknown = [e for e in entries(value) if not _numeric(e) and e not in names]
        if unknown:
            declared = f"the containers name {listed(sorted(names))}" if names else "no container port has a name"
            yield RULE.on(
                pod_metadata(workload).at("annotations", OPAQUE_PORTS),
                f"{OPAQUE_PORTS}: no container of the pod declares a port named {listed(unknown)} "
                f"({declared}), so Linkerd skips {'it' if len(unknown) == 1 else 'them'}",
            )


def _numeric(entry: str) -> bool:
    """A number or a range (``5000-6000``)."""
    return all(part.strip().isdigit() for part in entry.split("-"))


def _service_has(service: Service, entry: str) -> bool:
    if "-" in entry and _numeric(entry):
        return True  # a range
    if entry.isdigit():
        number = int(entry)
        return any(p.port == number or p.target_port == number for p in service.ports)
    return any(p.name == entry for p in service.ports)


def _port_names(workload: Workload) -> set[str]:
    return {name for c in workload.containers + workload.init_containers for name, _ in c.named_ports}
