"""What the Linkerd rules (MSH320-MSH339) share: indexes of Linkerd objects, the routes
Linkerd reads, mesh identities and the annotations Linkerd honours.

Linkerd references other objects by name in the referrer's namespace, and compares kinds
without regard to case::

    server_index(ctx).server("booksapp", "authors")  -> LinkerdServer or None
    parse_identity("web.shop.serviceaccount.identity.linkerd.cluster.local")
                                                     -> Identity(sa="web", namespace="shop")
    parse_identity("*.shop.serviceaccount.identity.linkerd.cluster.local")
                                                     -> Identity(sa="*", namespace="shop")
    parse_identity("spiffe://cluster.local/ns/shop/sa/web")
                                                     -> Identity(sa="web", namespace="shop")
    parse_identity("*")                              -> None

Indexes are built once per run (``ctx.memo``) and read by every rule that needs them.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from meshctl.diagnostics import Finding
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import (
    LinkerdServer,
    MeshTLSAuthentication,
    Namespace,
    NetworkAuthentication,
    ParentRef,
    Route,
    TargetRef,
    Workload,
)
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

POLICY = "policy.linkerd.io"
GATEWAY = "gateway.networking.k8s.io"
CORE_GROUPS = ("", "core")

# Route kinds Linkerd reads as outbound (client-side) routes when a Service is their parent.
GATEWAY_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")
LINKERD_ROUTE = "LinkerdHTTPRoute"

# Ports the injected linkerd-proxy container declares on every meshed pod.
PROXY_PORT_NAMES = {"linkerd-proxy": 4143, "linkerd-admin": 4191}

INJECT = "linkerd.io/inject"
INJECT_VALUES = ("enabled", "disabled", "ingress")
RETRY_PREFIX = "retry.linkerd.io/"
TIMEOUT_PREFIX = "timeout.linkerd.io/"
ACCRUAL_PREFIX = "balancer.linkerd.io/failure-accrual"
OPAQUE_PORTS = "config.linkerd.io/opaque-ports"


def same(a: str | None, b: str) -> bool:
    """Kinds and groups as Linkerd compares them: without regard to case."""
    return (a or "").lower() == b.lower()


def is_service_parent(parent: ParentRef) -> bool:
    return same(parent.kind, "Service")


def is_server_parent(parent: ParentRef) -> bool:
    return same(parent.kind, "Server")


def linkerd_reads(route: Route) -> bool:
    """A route Linkerd reads: its own HTTPRoute, or a Gateway API HTTPRoute/GRPCRoute
    with a Service parent (GAMMA; a route attached only to Gateways is the gateway's)."""
    if route.source_kind == LINKERD_ROUTE:
        return True
    return route.source_kind in GATEWAY_ROUTE_KINDS and any(is_service_parent(p) for p in route.parents)


def route_label(route: Route) -> str:
    if route.source_kind == LINKERD_ROUTE:
        return f"HTTPRoute ({POLICY}) {route.name}"
    return f"{route.source_kind} {route.name}"


_PROFILE_NAME = re.compile(r"^([^.]+)\.([^.]+)\.svc\.(.+?)\.?$")


def profiled_service(name: str) -> tuple[str, str, str] | None:
    """A ServiceProfile's name -> (service, namespace, cluster domain); None for an external host.

    >>> profiled_service("web-svc.emojivoto.svc.cluster.local")
    ('web-svc', 'emojivoto', 'cluster.local')
    """
    match = _PROFILE_NAME.match(name)
    return (match.group(1), match.group(2), match.group(3)) if match else None


# -- identities -------------------------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    """The service account and namespace a mesh identity names (``sa`` may be ``*``)."""

    sa: str
    namespace: str


_LINKERD_ID = re.compile(r"^([^.]+)\.([^.]+)\.serviceaccount\.identity\.[^.]+\..+$")
_SPIFFE_ID = re.compile(r"^spiffe://[^/]+/ns/([^/]+)/sa/([^/]+)$")
_ISTIO_PRINCIPAL = re.compile(r"^[^/:]+/ns/([^/]+)/sa/([^/]+)$")


def parse_identity(identity: str) -> Identity | None:
    """The service account a Linkerd identity or SPIFFE ID names; None for other forms."""
    match = _LINKERD_ID.match(identity)
    if match:
        return Identity(match.group(1), match.group(2))
    match = _SPIFFE_ID.match(identity)
    if match:
        return Identity(match.group(2), match.group(1))
    return None


def istio_principal(identity: str) -> Identity | None:
    """``cluster.local/ns/shop/sa/web``: an Istio principal, which Linkerd never matches."""
    match = _ISTIO_PRINCIPAL.match(identity)
    return Identity(match.group(2), match.group(1)) if match else None


def linkerd_identity(sa: str, namespace: str, trust_domain: str = "cluster.local") -> str:
    return f"{sa}.{namespace}.serviceaccount.identity.linkerd.{trust_domain}"


# -- indexes ----------------------------------------------------------------------------
@dataclass
class ServerIndex:
    """Linkerd Servers by (namespace, name) and by namespace."""

    by_name: dict[tuple[str, str], LinkerdServer] = field(default_factory=dict)
    by_namespace: dict[str, list[LinkerdServer]] = field(default_factory=lambda: defaultdict(list))

    def server(self, namespace: str, name: str) -> LinkerdServer | None:
        return self.by_name.get((namespace, name))

    def names(self, namespace: str) -> list[str]:
        return sorted(s.name for s in self.by_namespace.get(namespace, []))


def server_index(ctx: Analysis) -> ServerIndex:
    """The Servers of the mesh (built once per run, shared by the rules)."""
    return ctx.memo("linkerd.servers", lambda: _build_servers(ctx.mesh))


def _build_servers(mesh: MeshModel) -> ServerIndex:
    index = ServerIndex()
    for server in mesh.linkerd_servers:
        index.by_name.setdefault((server.namespace, server.name), server)
        index.by_namespace[server.namespace].append(server)
    return index


@dataclass
class AuthenticationIndex:
    """MeshTLSAuthentications and NetworkAuthentications by (namespace, name)."""

    mesh_tls: dict[tuple[str, str], MeshTLSAuthentication] = field(default_factory=dict)
    networks: dict[tuple[str, str], NetworkAuthentication] = field(default_factory=dict)


def authentication_index(ctx: Analysis) -> AuthenticationIndex:
    return ctx.memo("linkerd.authentications", lambda: _build_authentications(ctx.mesh))


def _build_authentications(mesh: MeshModel) -> AuthenticationIndex:
    index = AuthenticationIndex()
    for authn in mesh.mesh_tls_authentications:
        index.mesh_tls.setdefault((authn.namespace, authn.name), authn)
    for network in mesh.network_authentications:
        index.networks.setdefault((network.namespace, network.name), network)
    return index


@dataclass
class AccountIndex:
    """Service accounts per namespace: ServiceAccount objects, and the ones pods run as.

    ``declared`` holds the namespaces where the inputs hold ServiceAccount objects: only
    there can a missing one be told apart from one created outside the inputs.
    """

    known: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    declared: set[str] = field(default_factory=set)

    def exists(self, namespace: str, name: str) -> bool | None:
        """True or False when the inputs can tell; None when they say nothing."""
        if name == "default" or name in self.known.get(namespace, ()):
            return True
        return False if namespace in self.declared else None

    def names(self, namespace: str) -> list[str]:
        return sorted(self.known.get(namespace, ()))


def account_index(ctx: Analysis) -> AccountIndex:
    return ctx.memo("linkerd.accounts", lambda: _build_accounts(ctx.mesh))


def _build_accounts(mesh: MeshModel) -> AccountIndex:
    index = AccountIndex()
    for account in mesh.service_accounts:
        index.known[account.namespace].add(account.name)
        index.declared.add(account.namespace)
    for workload in mesh.workloads:
        index.known[workload.namespace].add(workload.service_account)
    return index


# Labels Linkerd puts on its own namespaces (control plane and extensions).
LINKERD_NAMESPACE_LABELS = ("linkerd.io/is-control-plane", "linkerd.io/control-plane-ns", "linkerd.io/extension")


def linkerd_own(namespace: Namespace | None) -> bool:
    """A namespace of Linkerd's control plane or of one of its extensions."""
    return namespace is not None and any(key in namespace.labels for key in LINKERD_NAMESPACE_LABELS)


def pod_metadata(workload: Workload) -> Origin:
    """Where a workload's pod labels and annotations are written."""
    if workload.kind == "Pod":
        return workload.origin.at("metadata")
    if workload.kind == "CronJob":
        return workload.origin.at("spec", "jobTemplate", "spec", "template", "metadata")
    return workload.origin.at("spec", "template", "metadata")


def close_name(name: str, names: Iterable[str]) -> str | None:
    """The name among ``names`` closest to ``name``, when it is close enough to be a typo."""
    candidates = [n for n in names if abs(len(n) - len(name)) <= max(2, len(name) // 4)]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return close[0] if close else None


def missing_is_error(ctx: Analysis, namespace: str, close: str | None) -> bool:
    """Is a reference to something ``namespace`` does not have among the inputs an error?

    Yes when the inputs own the namespace (a Namespace object, or --closed-world) or when
    an object of a close name shows a typo. Otherwise it is unresolved: inputs that only
    mention a namespace through some of its objects (documentation snippets, one team's
    part of a repository) say nothing about what else it holds. The Gateway API rules
    judge missing Services the same way.
    """
    if ctx.outside_inputs(namespace):
        return False
    return close is not None or ctx.closed_world or namespace in ctx.mesh.namespaces


def missing(
    rule: Rule, ctx: Analysis, where: Origin, subject: str, name: str, namespace: str,
    names: list[str], effect: str, plural: str,
) -> Finding:
    """The finding for a reference to ``name``, which ``namespace`` does not have among the inputs:
    an error with a hint (``missing_is_error``), or unresolved."""
    close = close_name(name, names)
    if not missing_is_error(ctx, namespace, close):
        return rule.on(where, f"{subject} {name!r} in namespace {namespace!r}", unresolved=True)
    hint = f"; did you mean {close!r}?" if close else (f"; {plural} there: {listed(names)}" if names else "")
    return rule.on(where, f"{subject} {name!r} does not exist in namespace {namespace!r}, {effect}{hint}")


def listed(items: Iterable[str], limit: int = 4) -> str:
    """``a, b, c, ...``: the first few of a sorted list."""
    values = list(items)
    shown = ", ".join(values[:limit])
    return shown + (", ..." if len(values) > limit else "")


# -- stopgaps -----------------------------------------------------------------------------
RATE_LIMIT_KIND = "HTTPLocalRateLimitPolicy"


def rate_limit_targets(mesh: MeshModel) -> Iterator[tuple[str, TargetRef]]:
    """(namespace, targetRef) of every HTTPLocalRateLimitPolicy."""
    for policy in mesh.workload_policies:
        if policy.kind == RATE_LIMIT_KIND:
            for ref in policy.target_refs:
                yield policy.namespace, ref
