"""What the mTLS rules (MSH200-MSH219) share: the edges, and who the inputs say calls whom.

Clients are unknown in general: a Deployment does not say which Services it calls. The
rules that blame a client (MSH200, MSH206) therefore report an unmeshed client namespace
only when the inputs tie it to the server::

    VirtualService cart.legacy {hosts: [cart.shop...]}       legacy calls cart.shop (a route it owns)
    HTTPRoute cart.legacy {parentRefs: [{kind: Service, name: cart, namespace: shop}]}
    AuthorizationPolicy cart.shop {from: [{source: {namespaces: [legacy]}}]}
    MeshTLSAuthentication {identityRefs: [{kind: ServiceAccount, name: sleep, namespace: legacy}]}

A route or policy in the server's own namespace says nothing about that namespace's
unmeshed pods (it configures the server for every caller), so for them only a policy
naming their service account counts. Unmeshed workloads with no such tie (jobs,
monitoring, tools) are not reported: many never call a meshed Service, and guessing
would bury the real breakages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from meshctl.model import hosts
from meshctl.model.mesh import selects
from meshctl.model.objects import AuthorizationPolicy, LinkerdServer, Workload
from meshctl.model.origin import Origin
from meshctl.rules.context import Analysis
from meshctl.security.mtls import MtlsEdge, MtlsView, mtls_edges, view_of

# principals: "cluster.local/ns/legacy/sa/sleep", "spiffe://td/ns/legacy/sa/*", "*/ns/legacy/sa/sleep"
_PRINCIPAL = re.compile(r"^(?:spiffe://)?[^/]*/ns/([^/*]+)/sa/([^/]+)$")
# Linkerd identities: "sleep.legacy.serviceaccount.identity.linkerd.cluster.local", "*.legacy.serviceaccount..."
_LINKERD_IDENTITY = re.compile(r"^([^.]+)\.([^.*]+)\.serviceaccount\.identity\.")

Caller = tuple[str, str | None]  # (namespace, service account or None for all of it)


def edges(ctx: Analysis) -> list[MtlsEdge]:
    return ctx.memo("security.mtls.edges", lambda: mtls_edges(ctx.mesh))


def view(ctx: Analysis) -> MtlsView:
    return view_of(ctx.mesh)


def sort_key(origin: Origin | None) -> tuple[str, int, int]:
    if origin is None:
        return ("", 0, 0)
    loc = origin.location()
    return (loc.file, loc.line, loc.column)


def shown(items: list[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(items))
    text = ", ".join(unique[:limit])
    return text + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


@dataclass
class RouteCallers:
    """fqdn -> namespace -> the route (in that namespace) that sends its clients to the host."""

    domain: str = hosts.DEFAULT_DOMAIN
    by_host: dict[str, dict[str, Origin]] = field(default_factory=lambda: defaultdict(dict))

    def origin(self, fqdn: str, namespace: str) -> Origin | None:
        """A route of ``namespace`` to ``fqdn``; routes in the host's own namespace do not count
        (they configure the server for every client, not this namespace's clients)."""
        service = hosts.split_service_fqdn(fqdn, self.domain)
        if service is not None and service[1] == namespace:
            return None
        return self.by_host.get(fqdn, {}).get(namespace)



def route_callers(ctx: Analysis) -> RouteCallers:
    """Mesh routes and Service-parented (GAMMA) routes: their namespace's clients call their hosts."""
    def build() -> RouteCallers:
        domain = ctx.mesh.domain
        index = RouteCallers(domain)
        for route in sorted(ctx.mesh.routes, key=lambda r: (r.namespace, r.name)):
            targets: list[str] = []
            if route.source_kind == "VirtualService":
                if not route.binds_mesh:
                    continue
                targets += [hosts.fqdn(h, route.namespace, domain) for h in route.hosts]
            else:
                services = [p for p in route.parents if p.kind == "Service"]
                if not services:
                    continue
                targets += [hosts.service_fqdn(p.name, p.namespace, domain) for p in services]
            targets += [b.fqdn for rule in route.rules for b in rule.backends + rule.mirrors]
            for target in targets:
                index.by_host[target].setdefault(route.namespace, route.origin)
        return index

    return ctx.memo("security.mtls.route-callers", build)


def istio_callers(ctx: Analysis, workload: Workload) -> dict[Caller, Origin]:
    """Callers the ALLOW AuthorizationPolicies on ``workload`` name (its intended clients)."""
    index: dict[str, list[AuthorizationPolicy]] = ctx.memo("security.mtls.allow-policies", lambda: _allow_policies(ctx))
    root = ctx.mesh.mesh_config.root_namespace
    found: dict[Caller, Origin] = {}
    for namespace in dict.fromkeys((workload.namespace, root)):
        for policy in index.get(namespace, ()):
            if policy.selector is not None and not selects(policy.selector, workload.labels):
                continue
            for rule in policy.rules or ():
                for source in rule.sources:
                    for ns in source.namespaces:
                        if "*" not in ns:
                            found.setdefault((ns, None), source.origin)
                    for principal in source.principals:
                        match = _PRINCIPAL.match(principal)
                        if match:
                            sa = match.group(2)
                            found.setdefault((match.group(1), None if "*" in sa else sa), source.origin)
                    for account in source.service_accounts:
                        ns, _, sa = account.rpartition("/")
                        if "*" not in account:
                            found.setdefault((ns or policy.namespace, sa), source.origin)
    return found


def _allow_policies(ctx: Analysis) -> dict[str, list[AuthorizationPolicy]]:
    index: dict[str, list[AuthorizationPolicy]] = defaultdict(list)
    for policy in sorted(ctx.mesh.authorization_policies, key=lambda p: (p.namespace, p.name)):
        if policy.action == "ALLOW" and not policy.target_refs:
            index[policy.namespace].append(policy)
    return index


def linkerd_callers(ctx: Analysis, server: LinkerdServer) -> dict[Caller, Origin]:
    """Callers the authorizations of a Linkerd Server name through mesh identities."""
    mesh = ctx.mesh
    tls = {(m.namespace, m.name): m for m in mesh.mesh_tls_authentications}
    found: dict[Caller, Origin] = {}

    def identity(value: str, where: Origin) -> None:
        match = _LINKERD_IDENTITY.match(value)
        if match:
            found.setdefault((match.group(2), None if match.group(1) == "*" else match.group(1)), where)

    routes = {r.name for r in mesh.routes if r.namespace == server.namespace
              and any(p.kind == "Server" and p.name == server.name for p in r.parents)}
    for policy in mesh.linkerd_authorizations:
        target = policy.target
        if policy.namespace != server.namespace or not (
            (target.kind == "Server" and target.name == server.name)
            or (target.kind == "Namespace" and target.name == server.namespace)
            or (target.kind in ("HTTPRoute", "GRPCRoute") and target.name in routes)
        ):
            continue
        for ref in policy.required_authentications:
            if ref.kind == "ServiceAccount":
                found.setdefault((ref.namespace or policy.namespace, ref.name), ref.origin)
            elif ref.kind == "MeshTLSAuthentication":
                authn = tls.get((ref.namespace or policy.namespace, ref.name))
                if authn is None:
                    continue
                for value in authn.identities:
                    identity(value, authn.origin)
                for item in authn.identity_refs:
                    if item.kind == "ServiceAccount":
                        found.setdefault((item.namespace or authn.namespace, item.name), item.origin)
                    elif item.kind == "Namespace":
                        found.setdefault((item.name, None), item.origin)
    for authz in mesh.server_authorizations:
        if authz.namespace != server.namespace or authz.server_name not in (None, server.name):
            continue
        for name, namespace in authz.service_accounts:
            found.setdefault((namespace or authz.namespace, name), authz.origin)
        for value in authz.mesh_identities:
            identity(value, authz.origin)
    return found


def named(
    callers: dict[Caller, Origin], namespace: str, workloads: list[Workload], server_namespace: str
) -> Origin | None:
    """The origin naming one of ``workloads`` (of ``namespace``) as a caller, if any.

    A whole namespace admitted counts only for another namespace than the server's: "my own
    namespace may call me" says nothing about a pod of it that runs outside the mesh.
    """
    if namespace != server_namespace and (namespace, None) in callers:
        return callers[(namespace, None)]
    for w in workloads:
        if (namespace, w.service_account) in callers:
            return callers[(namespace, w.service_account)]
    return None
