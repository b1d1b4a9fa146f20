"""A DestinationRule's host matches no Service or ServiceEntry.

## Why it matters
A DestinationRule only configures clusters that exist: when no Service or
ServiceEntry defines its host, its load balancing, connection pool, outlier detection,
TLS settings and subsets apply to nothing, silently. A short host is expanded in the
*rule's* namespace, so a rule written next to the client for a Service in another
namespace (`host: reviews` in `frontend`) names a host that does not exist; a partly
qualified name (`reviews.bookinfo`, `reviews.bookinfo.svc`) is taken literally and
matches nothing either. A wildcard host is fine when some Service or ServiceEntry host
falls under it; hosts covering every Service (`*.local`, `*.svc.cluster.local`) always
are. This is what `istioctl analyze` reports as IST0174 (UnknownDestinationRuleHost).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: frontend}
spec:
  host: reviews                 # reviews.frontend.svc.cluster.local: no such Service
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
```

## Fix
Write the full name of the Service (`reviews.bookinfo.svc.cluster.local`), correct the
host, or add a ServiceEntry for an external host. A host in a namespace none of the
inputs describe, a `kube-system` Service, and istiod or the default gateways in the root
namespace are reported as unresolved (info) unless `--closed-world` is given.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cached_property

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import DestinationPolicy, Service
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH106", "unknown-destination-rule-host", Severity.WARNING, __doc__, istio_code="IST0174",
    reads=frozenset({"destination_policies", "services", "service_entries"}),
)

# Services every Istio installation has in the root namespace, rarely among the inputs.
CONTROL_PLANE = ("istiod", "istio-ingressgateway", "istio-egressgateway", "istio-eastwestgateway")


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    known = _KnownHosts(ctx.mesh)
    for policy in ctx.mesh.destination_policies:
        if policy.fqdn and not known.covers(policy.fqdn):
            yield _finding(ctx, known, policy)


def _finding(ctx: Analysis, known: _KnownHosts, policy: DestinationPolicy) -> Finding:
    host = policy.fqdn
    where = policy.origin.at("spec", "host")
    shown = f"{policy.host!r}" + (f" ({host})" if host != policy.host else "")
    namespace = _namespace_of(host, ctx.mesh.domain)
    if namespace is not None and (ctx.outside_inputs(namespace) or _installed(ctx, host)):
        return RULE.on(where, f"host {shown} is in namespace {namespace!r}", unresolved=True)
    message = f"host {shown} matches no Service or ServiceEntry, so this rule applies to nothing"
    message += known.hint(policy)
    return RULE.on(where, message)


def _namespace_of(host: str, domain: str) -> str | None:
    """The namespace a Service host (or a namespace-wide wildcard) lives in."""
    if host.startswith("*."):
        found = hosts.split_service_fqdn("x" + host[1:], domain)
    else:
        found = hosts.split_service_fqdn(host, domain)
    return None if found is None or found[1] == "*" else found[1]


def _installed(ctx: Analysis, host: str) -> bool:
    """kube-system's Services, and istiod and the default gateways in the root namespace."""
    found = hosts.split_service_fqdn(host, ctx.mesh.domain)
    if found is None or ctx.closed_world:
        return False
    name, namespace = found
    config = ctx.mesh.mesh_config
    return namespace == "kube-system" or namespace == config.root_namespace and any(
        name == n or name.startswith(n + "-") for n in (*CONTROL_PLANE, config.ingress_service)
    )


def _domain(host: str) -> str:
    return ".".join(host.split(".")[-2:])


class _KnownHosts:
    """Every Service and ServiceEntry host, with the suffixes wildcard hosts are checked on."""

    def __init__(self, mesh: MeshModel) -> None:
        self.mesh = mesh

    def covers(self, host: str) -> bool:
        mesh = self.mesh
        if not host.startswith("*"):
            return bool(mesh.services_for(host) or mesh.entries_for(host))
        if host == "*" or hosts.matches(host, f"x.y.svc.{mesh.domain}"):
            return True  # covers every Service: a mesh-wide rule
        return bool(mesh.entries_for(host)) or host[1:] in self._suffixes

    def hint(self, policy: DestinationPolicy) -> str:
        host, domain = policy.fqdn, self.mesh.domain
        if "*" not in host and host.count(".") in (1, 2):
            for full in (f"{host}.svc.{domain}", f"{host}.{domain}"):
                if self.mesh.services_for(full):
                    return f"; write the full name {full!r} (only names without dots are expanded)"
        if hosts.split_service_fqdn(host, domain) is not None and "." not in policy.host:
            name = policy.host
            elsewhere = sorted(s.fqdn for s in self._services_named.get(name, []))
            if elsewhere:
                return (
                    f"; a short host is expanded in the rule's namespace {policy.namespace!r}: "
                    f"did you mean {elsewhere[0]!r}?"
                )
        close = self._close(host)
        if close:
            return f"; did you mean {close!r}?"
        if not host.endswith(domain):
            return "; an external host needs a ServiceEntry"
        return ""

    def _close(self, host: str) -> str | None:
        """A known host ``host`` may be a typo of: in its namespace, or in its domain."""
        service = hosts.split_service_fqdn(host, self.mesh.domain)
        if service is not None:
            names = {s.name: s.fqdn for s in self.mesh.services_in(service[1])}
            close = difflib.get_close_matches(service[0], sorted(names), n=1, cutoff=0.8)
            return names[close[0]] if close else None
        candidates = self._entry_hosts.get(_domain(host), [])
        close = difflib.get_close_matches(host, candidates, n=1, cutoff=0.8)
        return close[0] if close else None

    @cached_property
    def _all(self) -> list[str]:
        found = {s.fqdn for s in self.mesh.services}
        found |= {h for e in self.mesh.service_entries for h in e.hosts}
        return sorted(found)

    @cached_property
    def _entry_hosts(self) -> dict[str, list[str]]:
        """ServiceEntry hosts by their last two labels (``example.com``)."""
        out: dict[str, list[str]] = {}
        for host in sorted({h for e in self.mesh.service_entries for h in e.hosts}):
            out.setdefault(_domain(host), []).append(host)
        return out

    @cached_property
    def _services_named(self) -> dict[str, list[Service]]:
        out: dict[str, list[Service]] = {}
        for service in self.mesh.services:
            out.setdefault(service.name, []).append(service)
        return out

    @cached_property
    def _suffixes(self) -> set[str]:
        """``.b.c`` and ``.c`` for ``a.b.c``: a wildcard ``*.b.c`` covers a known host."""
        out: set[str] = set()
        for host in self._all:
            labels = host.split(".")
            out.update("." + ".".join(labels[i:]) for i in range(1, len(labels)))
        return out
