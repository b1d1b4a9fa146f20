"""Who can call whom: Istio AuthorizationPolicies and Linkerd authorization, evaluated.

Before (the model)::

    AuthorizationPolicy cart.shop  ALLOW  selector {app: cart}
      rules: [{from: [{source: {namespaces: [shop]}}], to: [{operation: {paths: [/api/*]}}]}]
    Deployment cart-v1 (app: cart, port 8080), Deployment web (shop, sa web)

After::

    decide(mesh, Caller("shop", "web"), cart_v1, 8080, Request("/api/items", method="GET"))
      -> Decision(ALLOWED, (origin of rule 0,), "allowed by AuthorizationPolicy cart.shop rule 0")
    decide(mesh, Caller("shop", "web"), cart_v1, 8080, Request("/admin"))
      -> Decision(DENIED, (origin of cart.shop,), "ALLOW policies select the workload and none
         of their rules match: AuthorizationPolicy cart.shop")
    allowed_callers(mesh)
      -> [AllowEdge(cart.shop.svc.cluster.local:8080, namespace shop: UNKNOWN (paths), ...),
          AllowEdge(..., any unauthenticated client: DENIED), ...]

Istio's precedence (``pilot/pkg/security/authz/builder``): CUSTOM (the external authorizer
may deny) -> DENY (a matching rule denies) -> ALLOW (when any ALLOW policy selects the
workload, a request no ALLOW rule matches is denied; an ALLOW policy without rules is
allow-nothing) -> allowed. AUDIT only logs. ``istio.io/dry-run: "true"`` policies only log.
HTTP-only fields (paths, methods, hosts, requestPrincipals, ``request.*`` conditions) on a
TCP port make an ALLOW rule never match and are ignored in DENY, AUDIT and CUSTOM rules.

Linkerd: a Server selecting the pod port decides (its AuthorizationPolicies, targeting the
Server, its Namespace or the HTTPRoutes attached to it, and ServerAuthorizations; then its
``accessPolicy``, ``deny`` by default); a port without a Server follows the default inbound
policy (pod annotation, then namespace annotation, then the cluster default
``all-unauthenticated``).

Everything is three-valued. A request is a *set* of requests (``Request("/api",
path_prefix=True)`` is every path under /api) and a caller may stand for a group of
identities; a match is True (all of them), False (none) or None (some, or the inputs do not
say). Outcomes are ALLOWED or DENIED only when that holds for every member; otherwise
UNKNOWN. Callers are grouped by what the policies can tell apart (the namespaces and
service accounts they name), never enumerated pairwise.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import (
    AuthorizationPolicy,
    AuthorizationRule,
    Condition,
    LinkerdAuthorizationPolicy,
    LinkerdServer,
    MeshTLSAuthentication,
    Namespace,
    Operation,
    Protocol,
    Route,
    ServerAuthorization,
    Service,
    ServicePort,
    Source,
    TargetRef,
    Workload,
)
from meshctl.model.origin import Origin
from meshctl.security.mtls import dataplane_of, peer_mode, view_of

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph

Tri = bool | None

# -- three-valued logic -----------------------------------------------------------------


def t_and(values: Iterable[Tri]) -> Tri:
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def t_or(values: Iterable[Tri]) -> Tri:
    result: Tri = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def t_not(value: Tri) -> Tri:
    return None if value is None else not value


# -- public vocabulary ------------------------------------------------------------------


class Outcome(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Decision:
    """What the server's proxy does with a caller's requests, and which policies say so.

    ``layer`` is ``authorization`` (policies), ``mtls`` (a STRICT server refuses a client
    without a mesh identity) or ``none`` (no proxy enforces anything).
    """

    outcome: Outcome
    origins: tuple[Origin, ...]
    reason: str
    layer: str = "authorization"

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED

    @property
    def denied(self) -> bool:
        return self.outcome is Outcome.DENIED


@dataclass(frozen=True)
class Caller:
    """A client identity: a service account of a namespace, meshed or not.

    ``namespace=None`` is a namespace the inputs do not describe (any), and
    ``service_account=None`` any service account. ``meshed`` says whether the client runs
    the server's mesh proxy (and so presents a mesh identity); None when unknown.
    """

    namespace: str | None
    service_account: str | None = None
    meshed: bool | None = True


@dataclass(frozen=True)
class Request:
    """A set of requests: ``path`` (exact, or every path under it with ``path_prefix``),
    ``method`` and ``host``; None is any. ``Request()`` is any request."""

    path: str | None = None
    method: str | None = None
    host: str | None = None
    path_prefix: bool = False

    def describe(self) -> str:
        parts = []
        if self.method:
            parts.append(self.method)
        if self.path is not None:
            parts.append(f"{self.path}*" if self.path_prefix and not self.path.endswith("*") else self.path)
        if self.host:
            parts.append(f"host {self.host}")
        return " ".join(parts) or "any request"


ANY_REQUEST = Request()


@dataclass(frozen=True)
class CallerGroup:
    """Callers the policies cannot tell apart.

    ``scope``: ``service-account`` (one identity of the inputs), ``namespace`` (the other
    service accounts of a namespace of the inputs), ``others`` (the service accounts of the
    inputs that no policy names), ``named-namespace`` (a namespace a policy names that has
    no workload among the inputs), ``outside`` (any other namespace), ``unauthenticated``
    (clients without a mesh identity) and ``anyone`` (a server no policy restricts).
    """

    key: str
    label: str
    scope: str
    namespace: str | None
    service_account: str | None
    meshed: bool | None
    members: tuple[tuple[str, str], ...] = ()  # (namespace, service account) of the inputs


@dataclass(frozen=True)
class AllowEdge:
    """Whether a group of callers may call a Service port (its workloads among the inputs)."""

    service: str  # fqdn
    port: int
    workloads: tuple[Workload, ...]
    caller: CallerGroup
    decision: Decision


# -- names and patterns -----------------------------------------------------------------

ANY_NAME = "\x00any"  # any name at all (unknown)
OTHER_NAME = "\x00other"  # a name no policy writes, outside the inputs
NO_NAME = "\x00none"  # a concrete name of the inputs that no pattern mentions
DEFAULT_TRUST_DOMAIN = "cluster.local"
LINKERD_NAMESPACE = "linkerd"
ALL_NETWORKS = ("0.0.0.0/0", "::/0")


def principal_of(namespace: str, account: str, trust_domain: str = DEFAULT_TRUST_DOMAIN) -> str:
    """``cluster.local/ns/shop/sa/web``: the Istio principal of a service account."""
    return f"{trust_domain}/ns/{namespace}/sa/{account}"


def linkerd_identity_of(namespace: str, account: str, trust_domain: str = DEFAULT_TRUST_DOMAIN) -> str:
    return f"{account}.{namespace}.serviceaccount.identity.{LINKERD_NAMESPACE}.{trust_domain}"


def _segment(kind: str, literal: str, value: str) -> Tri:
    """One name segment against one requirement (``eq``, ``prefix`` or ``suffix``)."""
    if value in (ANY_NAME, OTHER_NAME):
        if kind != "eq" and not literal:
            return True
        if kind == "eq" and value == OTHER_NAME:
            return False
        return None
    if kind == "eq":
        return value == literal
    if kind == "prefix":
        return value.startswith(literal)
    return value.endswith(literal)


def simple_match(pattern: str, value: str) -> Tri:
    """Istio's string match: exact, ``prefix*``, ``*suffix`` or ``*`` (non-empty)."""
    if pattern == "*":
        return value != ""
    if pattern.startswith("*"):
        return _segment("suffix", pattern[1:], value)
    if pattern.endswith("*"):
        return _segment("prefix", pattern[:-1], value)
    return _segment("eq", pattern, value)


def pattern_requirements(pattern: str, size: int, sep: str) -> list[tuple[int, str, str]] | None:
    """Per-segment requirements of a wildcard pattern over a name of ``size`` segments.

    ``cluster.local/ns/shop/sa/*`` over 5 segments -> [(0, eq, cluster.local), (1, eq, ns),
    (2, eq, shop), (3, eq, sa), (4, prefix, "")]. None: no name of that shape matches.
    """
    if pattern == "*":
        return []
    if pattern.startswith("*"):
        parts = pattern[1:].split(sep)
        if len(parts) > size:
            return None
        start = size - len(parts)
        return [(start, "suffix", parts[0])] + [(start + i, "eq", p) for i, p in enumerate(parts[1:], 1)]
    if pattern.endswith("*"):
        parts = pattern[:-1].split(sep)
        if len(parts) > size:
            return None
        return [(i, "eq", p) for i, p in enumerate(parts[:-1])] + [(len(parts) - 1, "prefix", parts[-1])]
    parts = pattern.split(sep)
    if len(parts) != size:
        return None
    return [(i, "eq", p) for i, p in enumerate(parts)]


def _principal_requirements(pattern: str, trust_domain: str) -> list[tuple[int, str, str]] | None:
    reqs = pattern_requirements(pattern, 5, "/")
    if reqs is None:
        return None
    # Istio reads the trust domain cluster.local in a policy as the mesh's own (trustdomain.Bundle).
    return [(i, k, trust_domain if (i == 0 and k == "eq" and lit == DEFAULT_TRUST_DOMAIN) else lit)
            for i, k, lit in reqs]


def match_principal(pattern: str, namespace: str, account: str, trust_domain: str) -> Tri:
    """An Istio principal pattern against ``<td>/ns/<ns>/sa/<sa>`` (names may be sentinels)."""
    if pattern.startswith("spiffe://"):
        return None
    reqs = _principal_requirements(pattern, trust_domain)
    if reqs is None:
        return False
    segments = (trust_domain, "ns", namespace, "sa", account)
    return t_and(_segment(kind, lit, segments[i]) for i, kind, lit in reqs)


def _linkerd_segments(namespace: str, account: str, trust_domain: str) -> tuple[str, ...]:
    return (account, namespace, "serviceaccount", "identity", LINKERD_NAMESPACE, *trust_domain.split("."))


def match_linkerd_identity(pattern: str, namespace: str, account: str, trust_domain: str) -> Tri:
    """A MeshTLSAuthentication identity (``*``, ``*.suffix``, exact, SPIFFE) against a
    service account's Linkerd identity."""
    if pattern == "*":
        return True
    spiffe = re.match(r"^spiffe://([^/]+)/ns/([^/]+)/sa/([^/]+)$", pattern)
    if spiffe:
        return t_and((trust_domain == spiffe.group(1) or None, _segment("eq", spiffe.group(2), namespace),
                      _segment("eq", spiffe.group(3), account)))
    if pattern.startswith("spiffe://"):
        return None
    segments = _linkerd_segments(namespace, account, trust_domain)
    if pattern.startswith("*."):
        reqs = pattern_requirements(pattern, len(segments), ".")
    elif "*" in pattern:
        return False
    else:
        reqs = pattern_requirements(pattern, len(segments), ".")
    if reqs is None:
        return False
    return t_and(_segment(kind, lit, segments[i]) for i, kind, lit in reqs)


def _namespace_of_principal_reqs(reqs: list[tuple[int, str, str]], ns_index: int, sa_index: int
                                 ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ns = [(k, lit) for i, k, lit in reqs if i == ns_index]
    sa = [(k, lit) for i, k, lit in reqs if i == sa_index]
    return ns, sa


# -- the request side -------------------------------------------------------------------

_TEMPLATE = re.compile(r"\{\*\*?\}")


def match_path(pattern: str, request: Request) -> Tri:
    """An operation path (exact, ``/api/*``, ``*.png``, ``*``, ``{*}`` templates) against a
    request set."""
    path = request.path
    if pattern == "*":
        return True
    if path is None:
        return None
    if "{" in pattern:
        if request.path_prefix:
            return None
        regex = "".join(
            ("[^/]+" if part == "{*}" else ".*") if _TEMPLATE.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{\*\*?\})", pattern)
        )
        return re.fullmatch(regex, path) is not None
    if not request.path_prefix:
        return simple_match(pattern, path)
    if pattern.endswith("*") and not pattern.startswith("*"):
        stem = pattern[:-1]
        if path.startswith(stem):
            return True
        return None if stem.startswith(path) else False
    if pattern.startswith("*"):
        return None
    return None if pattern.startswith(path) else False


def _match_host(pattern: str, host: str | None) -> Tri:
    if pattern == "*":
        return True
    if host is None:
        return None
    return simple_match(pattern.lower(), host.lower())


def _match_method(pattern: str, method: str | None) -> Tri:
    if pattern == "*":
        return True
    if method is None:
        return None
    return simple_match(pattern, method)


def _match_ips(blocks: Sequence[str]) -> Tri:
    """Client addresses are not in the inputs: only the all-addresses blocks are certain."""
    return True if any(b in ALL_NETWORKS for b in blocks) else None


# -- who is calling ---------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """A caller as the evaluator sees it: names may be sentinels (ANY/OTHER/NO_NAME)."""

    namespace: str
    account: str
    meshed: Tri
    in_cluster: Tri = True

    @classmethod
    def of(cls, caller: Caller) -> Who:
        return cls(caller.namespace if caller.namespace is not None else ANY_NAME,
                   caller.service_account if caller.service_account is not None else ANY_NAME,
                   caller.meshed, True if caller.namespace is not None or caller.meshed else None)

    def with_meshed(self, meshed: Tri) -> Who:
        return Who(self.namespace, self.account, meshed, self.in_cluster)


def _identity(who: Who, check: Callable[[], Tri]) -> Tri:
    """A check on the peer's mesh identity: no identity, no match."""
    if who.meshed is False:
        return False
    value = check()
    if who.meshed is None and value is not False:
        return None
    return value


# -- Istio ------------------------------------------------------------------------------

HTTP_ONLY_CONDITION = "request."
DRY_RUN = "istio.io/dry-run"
WAYPOINT_LABEL = "istio.io/use-waypoint"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


def http_only_fields(rule: AuthorizationRule) -> list[tuple[Origin, str]]:
    """The HTTP-only fields a rule uses (they mean something else on a TCP port)."""
    found: list[tuple[Origin, str]] = []
    for op in rule.operations:
        for name, values in (("paths", op.paths), ("notPaths", op.not_paths), ("methods", op.methods),
                             ("notMethods", op.not_methods), ("hosts", op.hosts), ("notHosts", op.not_hosts)):
            if values:
                found.append((op.origin.at(name), name))
    for src in rule.sources:
        for name, values in (("requestPrincipals", src.request_principals),
                             ("notRequestPrincipals", src.not_request_principals)):
            if values:
                found.append((src.origin.at(name), name))
    for cond in rule.conditions:
        if cond.key.startswith(HTTP_ONLY_CONDITION):
            found.append((cond.origin.at("key"), cond.key))
    return found


@dataclass(frozen=True)
class _Site:
    """Where a request arrives: the server's workload port and what the proxy knows of it."""

    port: int
    tcp: bool
    trust_domain: str
    policy_namespace: str = ""


def _source(src: Source, who: Who, site: _Site, ignore_http: bool, namespace: str) -> Tri:
    td = site.trust_domain
    checks: list[Tri] = []

    def principals(values: Sequence[str]) -> Tri:
        return _identity(who, lambda: t_or(match_principal(p, who.namespace, who.account, td) for p in values))

    def namespaces(values: Sequence[str]) -> Tri:
        return _identity(who, lambda: t_or(simple_match(p, who.namespace) for p in values))

    def accounts(values: Sequence[str]) -> Tri:
        def one(value: str) -> Tri:
            ns, _, sa = value.rpartition("/")
            return t_and((_segment("eq", ns or namespace, who.namespace), _segment("eq", sa, who.account)))

        return _identity(who, lambda: t_or(one(v) for v in values))

    if src.principals:
        checks.append(principals(src.principals))
    if src.not_principals:
        checks.append(t_not(principals(src.not_principals)))
    if src.namespaces:
        checks.append(namespaces(src.namespaces))
    if src.not_namespaces:
        checks.append(t_not(namespaces(src.not_namespaces)))
    if src.service_accounts:
        checks.append(accounts(src.service_accounts))
    if src.not_service_accounts:
        checks.append(t_not(accounts(src.not_service_accounts)))
    for blocks, negate in ((src.ip_blocks, False), (src.not_ip_blocks, True),
                           (src.remote_ip_blocks, False), (src.not_remote_ip_blocks, True)):
        if blocks:
            value = _match_ips(blocks)
            checks.append(t_not(value) if negate else value)
    if not ignore_http and (src.request_principals or src.not_request_principals):
        checks.append(None)  # the request's JWT is not in the inputs
    return t_and(checks)


def _operation(op: Operation, request: Request, site: _Site, ignore_http: bool) -> Tri:
    checks: list[Tri] = []
    port = str(site.port)
    if op.ports:
        checks.append(port in op.ports)
    if op.not_ports:
        checks.append(port not in op.not_ports)
    if not ignore_http:
        def host(p: str) -> Tri:
            return _match_host(p, request.host)

        def method(p: str) -> Tri:
            return _match_method(p, request.method)

        def path(p: str) -> Tri:
            return match_path(p, request)

        fields: tuple[tuple[tuple[str, ...], bool, Callable[[str], Tri]], ...] = (
            (op.hosts, False, host), (op.not_hosts, True, host), (op.methods, False, method),
            (op.not_methods, True, method), (op.paths, False, path), (op.not_paths, True, path),
        )
        for values, negate, match in fields:
            if values:
                value = t_or(match(v) for v in values)
                checks.append(t_not(value) if negate else value)
    return t_and(checks)


def _condition(cond: Condition, who: Who, site: _Site, ignore_http: bool) -> Tri:
    key = cond.key
    match: Callable[[str], Tri]
    if key.startswith(HTTP_ONLY_CONDITION):
        if ignore_http:
            return True
        return None
    if key == "source.namespace":
        def match(v: str) -> Tri:
            return _identity(who, lambda: simple_match(v, who.namespace))
    elif key == "source.principal":
        def match(v: str) -> Tri:
            return _identity(who, lambda: match_principal(v, who.namespace, who.account, site.trust_domain))
    elif key == "destination.port":
        def match(v: str) -> Tri:
            return v == str(site.port)
    elif key in ("source.ip", "remote.ip"):
        def match(v: str) -> Tri:
            return _match_ips((v,))
    else:  # destination.ip, connection.sni, experimental.*, and keys Istio does not know
        def match(v: str) -> Tri:
            return None
    checks: list[Tri] = []
    if cond.values:
        checks.append(t_or(match(v) for v in cond.values))
    if cond.not_values:
        checks.append(t_not(t_or(match(v) for v in cond.not_values)))
    return t_and(checks)


def rule_matches(rule: AuthorizationRule, action: str, who: Who, request: Request, site: _Site,
                 namespace: str) -> Tri:
    """Does one rule of a policy in ``namespace`` match every (True), no (False) or some
    (None) request of the set from this caller?"""
    ignore_http = False
    if site.tcp and http_only_fields(rule):
        if action == "ALLOW":
            return False  # Istio drops the rule from the TCP filter chain
        ignore_http = True  # DENY, AUDIT, CUSTOM: the HTTP-only fields are ignored
    checks: list[Tri] = []
    if rule.sources:
        checks.append(t_or(_source(s, who, site, ignore_http, namespace) for s in rule.sources))
    if rule.operations:
        checks.append(t_or(_operation(o, request, site, ignore_http) for o in rule.operations))
    checks.extend(_condition(c, who, site, ignore_http) for c in rule.conditions)
    return t_and(checks)


def policy_label(policy: AuthorizationPolicy) -> str:
    return f"AuthorizationPolicy {policy.name}.{policy.namespace}"


def _rules_matching(policy: AuthorizationPolicy, who: Who, request: Request, site: _Site
                    ) -> list[tuple[int, AuthorizationRule, Tri]]:
    return [(i, rule, rule_matches(rule, policy.action, who, request, site, policy.namespace))
            for i, rule in enumerate(policy.rules or ())]


def _istio_once(policies: Sequence[AuthorizationPolicy], who: Who, request: Request, site: _Site) -> Decision:
    by_action: dict[str, list[AuthorizationPolicy]] = defaultdict(list)
    for p in policies:
        by_action[p.action].append(p)
    deny_hits: list[tuple[AuthorizationPolicy, int, AuthorizationRule, Tri]] = []
    for p in by_action.get("DENY", ()):
        deny_hits += [(p, i, r, m) for i, r, m in _rules_matching(p, who, request, site) if m is not False]
    certain = [(p, i, r) for p, i, r, m in deny_hits if m is True]
    if certain:
        p, i, r = certain[0]
        return Decision(Outcome.DENIED, tuple(r.origin for _, _, r in certain),
                        f"denied by {policy_label(p)} rule {i}")
    allows = by_action.get("ALLOW", [])
    allowed: Tri = True
    allow_origins: tuple[Origin, ...] = ()
    allow_reason = "no ALLOW policy selects the workload"
    if allows:
        hits = [(p, i, r, m) for p in allows for i, r, m in _rules_matching(p, who, request, site) if m is not False]
        sure = [(p, i, r) for p, i, r, m in hits if m is True]
        if sure:
            p, i, r = sure[0]
            allow_origins, allow_reason = (r.origin,), f"allowed by {policy_label(p)} rule {i}"
        elif hits:
            allowed = None
            allow_origins = tuple(r.origin for _, _, r, _ in hits)
            allow_reason = "allowed only if " + " or ".join(
                f"{policy_label(p)} rule {i} matches" for p, i, _, _ in hits[:3])
        else:
            names = ", ".join(policy_label(p) for p in allows)
            return Decision(Outcome.DENIED, tuple(p.origin for p in allows),
                            f"ALLOW policies select the workload and none of their rules match: {names}")
    if deny_hits:
        p, i, r, _ = deny_hits[0]
        return Decision(Outcome.UNKNOWN, (r.origin,) + allow_origins, f"{policy_label(p)} rule {i} may deny it")
    customs = [(p, i, r) for p in by_action.get("CUSTOM", ())
               for i, r, m in _rules_matching(p, who, request, site) if m is not False]
    if customs:
        p, i, r = customs[0]
        provider = f" {p.provider!r}" if p.provider else ""
        return Decision(Outcome.UNKNOWN, (r.origin,) + allow_origins,
                        f"{policy_label(p)} rule {i} hands it to the external authorizer{provider}")
    if allowed is None:
        return Decision(Outcome.UNKNOWN, allow_origins, allow_reason)
    return Decision(Outcome.ALLOWED, allow_origins, allow_reason)


def _combine(decisions: Sequence[Decision], what: str) -> Decision:
    """One decision for several alternatives that all apply (ports, protocols, workloads)."""
    first = decisions[0]
    if all(d.outcome is first.outcome for d in decisions[1:]):
        origins: list[Origin] = []
        for d in decisions:
            origins += [o for o in d.origins if o not in origins]
        return Decision(first.outcome, tuple(origins), first.reason, first.layer)
    parts = sorted({f"{d.outcome.value}: {d.reason}" for d in decisions})
    origins = []
    for d in decisions:
        origins += [o for o in d.origins if o not in origins]
    return Decision(Outcome.UNKNOWN, tuple(origins), f"depends on the {what} ({'; '.join(parts)})")


# -- Linkerd ----------------------------------------------------------------------------

DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
CLUSTER_DEFAULT_POLICY = "all-unauthenticated"


def default_policy_admits(policy: str, who: Who) -> Tri:
    """Does a Linkerd default inbound policy (or Server accessPolicy) admit the caller?"""
    if policy in ("all-unauthenticated", "audit"):
        return True
    if policy == "all-authenticated":
        return who.meshed
    if policy == "cluster-authenticated":
        return t_and((who.meshed, who.in_cluster))
    if policy == "cluster-unauthenticated":
        return who.in_cluster
    if policy == "deny":
        return False
    return None


# -- the index: every policy by where it applies (built once per run) ---------------------


@dataclass
class _PortInfo:
    service: Service
    port: ServicePort
    target: int | None


class AuthzIndex:
    """Istio and Linkerd authorization objects by namespace and target, and the facts about
    workloads the evaluation needs (sidecars, ports, service accounts)."""

    def __init__(self, mesh: MeshModel) -> None:
        self.mesh = mesh
        config = mesh.mesh_config
        self.trust_domain = config.trust_domain
        self.root = config.root_namespace
        self.namespaces: dict[str, Namespace] = mesh.namespaces
        self.meta = {id(r.origin.doc): r for r in mesh.resources}
        self.istio: dict[str, list[AuthorizationPolicy]] = defaultdict(list)
        self.dry_run: list[AuthorizationPolicy] = []
        for policy in mesh.authorization_policies:
            meta = self.meta.get(id(policy.origin.doc))
            if meta is not None and meta.annotations.get(DRY_RUN, "").lower() == "true":
                self.dry_run.append(policy)
                continue
            self.istio[policy.namespace].append(policy)
        view_of(mesh)  # the mTLS indexes (proxies, PeerAuthentications), built once per model
        self.servers: dict[str, list[LinkerdServer]] = defaultdict(list)
        for server in mesh.linkerd_servers:
            self.servers[server.namespace].append(server)
        self.linkerd_by_target: dict[tuple[str, str, str], list[LinkerdAuthorizationPolicy]] = defaultdict(list)
        for lp in mesh.linkerd_authorizations:
            target = lp.target
            ns = target.namespace or lp.namespace
            self.linkerd_by_target[(ns, target.kind.lower(), target.name)].append(lp)
        self.mesh_tls = {(a.namespace, a.name): a for a in mesh.mesh_tls_authentications}
        self.networks = {(a.namespace, a.name): a for a in mesh.network_authentications}
        self.server_authz: dict[str, list[ServerAuthorization]] = defaultdict(list)
        for sa in mesh.server_authorizations:
            self.server_authz[sa.namespace].append(sa)
        self.server_routes: dict[tuple[str, str], list[Route]] = defaultdict(list)
        for route in mesh.routes:
            for parent in route.parents:
                if parent.kind.lower() == "server":
                    self.server_routes[(parent.namespace, parent.name)].append(route)
        # service accounts: (ns, sa) -> workloads running as it
        self.accounts: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        for account in mesh.service_accounts:
            self.accounts.setdefault((account.namespace, account.name), [])
        self.account_tables: dict[str, Any] = {}
        for workload in mesh.workloads:
            self.accounts[(workload.namespace, workload.service_account)].append(workload)
        self._ports: dict[int, list[_PortInfo]] = defaultdict(list)
        for service in mesh.services:
            for w in mesh.workloads_of(service):
                for port in service.ports:
                    self._ports[id(w)].append(_PortInfo(service, port, target_port(port, w)))

    # -- workloads ------------------------------------------------------------------------
    def ports_of(self, workload: Workload) -> list[_PortInfo]:
        """The Service ports that reach the workload, with the workload port they target."""
        return self._ports.get(id(workload), [])

    def protocol_at(self, workload: Workload, port: int) -> Protocol:
        """The protocol of the Service ports that target a workload port (UNKNOWN if they disagree)."""
        found = {p.port.mesh_protocol for p in self.ports_of(workload) if p.target == port}
        if len(found) == 1:
            return found.pop()
        if found and all(p.is_http for p in found):
            return Protocol.HTTP
        return Protocol.UNKNOWN

    def ambient(self, workload: Workload) -> bool:
        return ambient(self.mesh, workload)

    # -- Istio ----------------------------------------------------------------------------
    def istio_policies(self, workload: Workload, service: Service | None = None) -> list[AuthorizationPolicy]:
        """The AuthorizationPolicies that apply to a workload (root namespace, its
        namespace by selector, gateways by targetRef; a Service targetRef only at a waypoint)."""
        found: list[AuthorizationPolicy] = []
        scopes = [self.istio.get(workload.namespace, [])]
        if workload.namespace != self.root:
            scopes.append(self.istio.get(self.root, []))
        for policies in scopes:
            for policy in policies:
                if self.applies(policy, workload, service):
                    found.append(policy)
        return found

    def applies(self, policy: AuthorizationPolicy, workload: Workload, service: Service | None = None) -> bool:
        return policy_applies(self.mesh, policy, workload, service)

    def peer_mode(self, workload: Workload, port: int) -> str:
        """Effective PeerAuthentication mode on a workload port (``mtls.peer_mode``)."""
        return peer_mode(self.mesh, workload, port)[0]

    # -- Linkerd --------------------------------------------------------------------------
    def linkerd_servers(self, workload: Workload, port: int) -> list[LinkerdServer]:
        found = []
        for server in self.servers.get(workload.namespace, []):
            # matchExpressions are not in the model: such a Server is left out (its port then
            # reads as following the default policy, which never claims a false denial)
            if server.pod_selector is None or server.pod_expressions:
                continue
            if not selects(server.pod_selector, workload.labels):
                continue
            if isinstance(server.port, int):
                if server.port == port:
                    found.append(server)
            elif any(name == server.port and number == port
                     for c in workload.containers for name, number in c.named_ports):
                found.append(server)
        return found

    def server_labels(self, server: LinkerdServer) -> dict[str, str]:
        meta = self.meta.get(id(server.origin.doc))
        return meta.labels if meta is not None else {}

    def default_policy(self, workload: Workload) -> tuple[str, Origin | None]:
        value = workload.annotations.get(DEFAULT_POLICY)
        if value is not None:
            return value, workload.origin
        ns = self.namespaces.get(workload.namespace)
        if ns is not None and DEFAULT_POLICY in ns.annotations:
            return ns.annotations[DEFAULT_POLICY], ns.origin
        return CLUSTER_DEFAULT_POLICY, None


def policy_applies(mesh: MeshModel, policy: AuthorizationPolicy, workload: Workload,
                   service: Service | None = None) -> bool:
    """Does an AuthorizationPolicy apply to a workload's sidecar (or, for a Service
    targetRef, to the waypoint in front of ``service``)?"""
    if policy.target_refs:
        return any(_targets(mesh, ref, policy, workload, service) for ref in policy.target_refs)
    root = mesh.mesh_config.root_namespace
    if policy.namespace != workload.namespace and policy.namespace != root:
        return False
    return selects(policy.selector, workload.labels)


def _targets(mesh: MeshModel, ref: TargetRef, policy: AuthorizationPolicy, workload: Workload,
             service: Service | None) -> bool:
    kind = ref.kind
    ns = ref.namespace or policy.namespace
    if kind == "Gateway":
        return workload.namespace == ns and workload.labels.get(GATEWAY_NAME_LABEL) == ref.name
    if kind == "Service" and service is not None:
        return service.namespace == ns and service.name == ref.name and uses_waypoint(mesh, service)
    return False


def uses_waypoint(mesh: MeshModel, service: Service) -> bool:
    ns = mesh.namespaces.get(service.namespace)
    return WAYPOINT_LABEL in service.labels or (ns is not None and WAYPOINT_LABEL in ns.labels)


def target_port(port: ServicePort, workload: Workload) -> int | None:
    """The workload port a Service port sends to (a named targetPort resolved on the pod)."""
    target = port.target_port
    if target is None:
        return port.port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    for container in workload.containers:
        for name, number in container.named_ports:
            if name == target:
                return number
    return None


def istio_sidecar(mesh: MeshModel, workload: Workload) -> Tri:
    """Does the workload run an Istio sidecar (or gateway proxy)? None when the inputs
    do not say (``meshctl.security.mtls.dataplane_of`` decides, so both analyses agree)."""
    dataplane = dataplane_of(mesh, workload)
    if dataplane.mesh == "istio":
        return True if dataplane.certain else None
    return False if dataplane.certain else None


def linkerd_proxy(mesh: MeshModel, workload: Workload) -> Tri:
    """Does the workload run the Linkerd proxy? None when the inputs do not say."""
    dataplane = dataplane_of(mesh, workload)
    if dataplane.mesh == "linkerd":
        return True if dataplane.certain else None
    return False if dataplane.certain else None


def ambient(mesh: MeshModel, workload: Workload) -> bool:
    """Istio ambient: ztunnel enforces the policies at L4 (no waypoint is modelled)."""
    return dataplane_of(mesh, workload).mesh == "ambient"


# -- deciding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """Everything that decides for one server port, whatever the workload: workloads with
    equal specs get equal answers (the grouping key)."""

    dataplane: str  # istio | ambient | linkerd | none
    assumed: bool  # the inputs do not say the workload runs that proxy
    port: int
    protocol: Protocol
    istio: tuple[AuthorizationPolicy, ...] = ()
    peer_mode: str = "PERMISSIVE"
    server: LinkerdServer | None = None
    default_policy: str = CLUSTER_DEFAULT_POLICY
    default_origin: Origin | None = None

    def key(self) -> tuple[Any, ...]:
        return (self.dataplane, self.port, self.protocol, tuple(id(p) for p in self.istio), self.peer_mode,
                id(self.server), self.default_policy, id(self.default_origin))


def server_spec(index: AuthzIndex, workload: Workload, port: int, service: Service | None = None,
                protocol: Protocol | None = None) -> ServerSpec:
    """What decides at a workload port: the proxy ``mtls.dataplane_of`` finds (or assumes),
    and the policies of that mesh that apply."""
    protocol = protocol or index.protocol_at(workload, port)
    dataplane = dataplane_of(index.mesh, workload)
    assumed = not dataplane.certain
    policies = tuple(index.istio_policies(workload, service))
    servers = index.linkerd_servers(workload, port)
    default, default_origin = index.default_policy(workload)
    mesh_name = dataplane.mesh
    if assumed:
        # the inputs do not say: the policies written for the workload tell which mesh it is in
        if policies:
            mesh_name = "istio"
        elif servers or default_origin is not None:
            mesh_name = "linkerd"
    if mesh_name == "linkerd":
        return ServerSpec("linkerd", assumed, port, protocol, server=servers[0] if servers else None,
                          default_policy=default, default_origin=default_origin)
    if mesh_name in ("istio", "ambient"):
        return ServerSpec(mesh_name, assumed, port, protocol, istio=policies, peer_mode=index.peer_mode(workload, port))
    return ServerSpec("none", assumed, port, protocol)


def caller_meshed(mesh: MeshModel, workload: Workload, dataplane: str) -> Tri:
    """Does a client present an identity of the server's mesh (``istio``/``ambient`` or
    ``linkerd``)? An assumed proxy (the inputs do not say) counts as there, as for servers."""
    found = dataplane_of(mesh, workload)
    wanted = ("linkerd",) if dataplane == "linkerd" else ("istio", "ambient")
    if found.mesh in wanted:
        return True
    return False if found.certain else None


def decide(mesh: MeshModel, caller: Caller, server_workload: Workload, port: int,
           request: Request = ANY_REQUEST, *, service: Service | None = None,
           protocol: Protocol | None = None, index: AuthzIndex | None = None) -> Decision:
    """May ``caller`` send ``request`` to ``server_workload`` on its (container) ``port``?"""
    index = index or AuthzIndex(mesh)
    spec = server_spec(index, server_workload, port, service, protocol)
    return evaluate(index, spec, Who.of(caller), request)


def evaluate(index: AuthzIndex, spec: ServerSpec, who: Who, request: Request = ANY_REQUEST) -> Decision:
    """The decision for one caller (group) and request set at a server port."""
    if spec.dataplane == "none":
        return Decision(Outcome.ALLOWED, (), "no proxy enforces authorization on the workload", "none")
    decision = _linkerd(index, spec, who, request) if spec.dataplane == "linkerd" else _istio(index, spec, who, request)
    if spec.assumed:
        proxy = "the Linkerd proxy" if spec.dataplane == "linkerd" else "an Istio sidecar"
        return Decision(decision.outcome, decision.origins, f"{decision.reason} (assuming the workload runs {proxy})",
                        decision.layer)
    return decision


def _istio(index: AuthzIndex, spec: ServerSpec, who: Who, request: Request) -> Decision:
    mode = spec.peer_mode
    if spec.dataplane == "istio" and mode == "DISABLE":
        who = who.with_meshed(False)  # plaintext: no peer identity
    if mode == "STRICT":
        if who.meshed is False:
            return Decision(Outcome.DENIED, (), "the server requires mTLS (STRICT) and the client has no mesh identity",
                            "mtls")
        if who.meshed is None:
            meshed = _istio(index, spec, who.with_meshed(True), request)
            if meshed.outcome is Outcome.DENIED:
                return meshed
            return Decision(Outcome.UNKNOWN, meshed.origins,
                            f"{meshed.reason}, if the client has a sidecar (the server requires mTLS)")
    if not spec.istio:
        return Decision(Outcome.ALLOWED, (), "no AuthorizationPolicy applies to the workload")
    if spec.dataplane == "ambient":
        modes = [True]
    elif request.path is not None or request.method is not None or request.host is not None:
        modes = [not spec.protocol.is_http and spec.protocol is not Protocol.UNKNOWN]
    elif spec.protocol is Protocol.UNKNOWN:
        modes = [False, True]
    else:
        modes = [not spec.protocol.is_http]
    decisions = [_istio_once(spec.istio, who, request, _Site(spec.port, tcp, index.trust_domain)) for tcp in modes]
    return decisions[0] if len(decisions) == 1 else _combine(decisions, "protocol Istio detects on the port")


def _linkerd(index: AuthzIndex, spec: ServerSpec, who: Who, request: Request) -> Decision:
    server = spec.server
    if server is None:
        admits = default_policy_admits(spec.default_policy, who)
        where = "the default inbound policy" + (" (annotation)" if spec.default_origin else " (cluster default)")
        origins = (spec.default_origin,) if spec.default_origin else ()
        return _tri_decision(admits, origins, f"{where} {spec.default_policy!r}")
    ns = server.namespace
    label = f"Server {server.name}.{ns}"
    server_level = (index.linkerd_by_target.get((ns, "server", server.name), [])
                    + index.linkerd_by_target.get((ns, "namespace", ns), []))
    server_admits = [(_linkerd_policy_admits(index, p, who), p.origin, f"AuthorizationPolicy {p.name}.{p.namespace}")
                     for p in server_level]
    labels = index.server_labels(server)
    for sa in index.server_authz.get(ns, []):
        if sa.server_name == server.name or (sa.server_name is None and sa.server_selector is not None
                                             and selects(sa.server_selector, labels)):
            server_admits.append((_server_authorization_admits(sa, who, index.trust_domain), sa.origin,
                                  f"ServerAuthorization {sa.name}.{sa.namespace}"))
    access = server.access_policy or "deny"
    fallback = default_policy_admits(access, who)
    opaque = (server.proxy_protocol or "").lower() in ("opaque", "tls")
    routes = [] if opaque else index.server_routes.get((ns, server.name), [])
    if not routes:
        return _admission(server_admits, fallback, access, server, label)
    server_may = t_or(a for a, _, _ in server_admits) is not False
    decisions: list[tuple[Tri, Decision]] = []
    for route in routes:
        matched = route_matches(route, request)
        if matched is False:
            continue
        route_level = [(_linkerd_policy_admits(index, p, who), p.origin, f"AuthorizationPolicy {p.name}.{p.namespace}")
                       for kind in ("httproute", "grpcroute")
                       for p in index.linkerd_by_target.get((route.namespace, kind, route.name), [])]
        decision = _admission(route_level, fallback, access, server, f"{label} route {route.name}")
        if decision.outcome is not Outcome.ALLOWED and server_may:
            # Whether Server-level authorizations also admit a route's traffic is not settled
            # here: never claim a denial they might lift.
            decision = Decision(Outcome.UNKNOWN, decision.origins + tuple(o for _, o, _ in server_admits),
                                f"{decision.reason}, unless the Server's own authorizations apply to its routes")
        decisions.append((matched, decision))
    if not decisions:
        return Decision(Outcome.DENIED, tuple(r.origin for r in routes),
                        f"no HTTPRoute of {label} matches the request (404)")
    for matched, decision in decisions:
        if matched is True and decision.outcome is Outcome.ALLOWED:
            return decision
    if all(d.outcome is Outcome.DENIED for _, d in decisions):
        return _combine([d for _, d in decisions], "route")
    unsure = [d for _, d in decisions if d.outcome is not Outcome.DENIED]
    return Decision(Outcome.UNKNOWN, tuple(o for d in unsure for o in d.origins),
                    "; ".join(sorted({d.reason for d in unsure})))


def _admission(admits: list[tuple[Tri, Origin, str]], fallback: Tri, access: str, server: LinkerdServer,
               label: str) -> Decision:
    sure = [(o, name) for a, o, name in admits if a is True]
    if sure:
        return Decision(Outcome.ALLOWED, (sure[0][0],), f"allowed by {sure[0][1]}")
    if fallback is True:
        return Decision(Outcome.ALLOWED, (server.origin,), f"{label} accessPolicy {access!r} admits it")
    maybe = [(o, name) for a, o, name in admits if a is None]
    if maybe or fallback is None:
        origins = tuple(o for o, _ in maybe) or (server.origin,)
        names = ", ".join(n for _, n in maybe) or f"accessPolicy {access!r}"
        return Decision(Outcome.UNKNOWN, origins, f"allowed only if {names} admits the client")
    if admits:
        return Decision(Outcome.DENIED, tuple(o for _, o, _ in admits) + (server.origin,),
                        f"no authorization of {label} admits the client, and its accessPolicy is {access!r}")
    return Decision(Outcome.DENIED, (server.origin,),
                    f"{label} has no authorization and its accessPolicy is {access!r}")


def _tri_decision(value: Tri, origins: tuple[Origin, ...], what: str) -> Decision:
    if value is True:
        return Decision(Outcome.ALLOWED, origins, f"{what} admits it")
    if value is False:
        return Decision(Outcome.DENIED, origins, f"{what} refuses it")
    return Decision(Outcome.UNKNOWN, origins, f"{what} admits it only for some clients")


def _linkerd_policy_admits(index: AuthzIndex, policy: LinkerdAuthorizationPolicy, who: Who) -> Tri:
    """requiredAuthenticationRefs are ANDed; a missing authentication makes the policy inert."""
    checks: list[Tri] = []
    for ref in policy.required_authentications:
        found, admits = _authentication_admits(index, ref, ref.namespace or policy.namespace, who)
        if not found:
            return False
        checks.append(admits)
    return t_and(checks)


def _authentication_admits(index: AuthzIndex, ref: TargetRef, namespace: str, who: Who) -> tuple[bool, Tri]:
    """(the referenced authentication exists, it admits the caller)."""
    kind = ref.kind.lower()
    if kind == "meshtlsauthentication":
        authn = index.mesh_tls.get((namespace, ref.name))
        if authn is None:
            return False, False
        return True, _identity(who, lambda: _mesh_tls_admits(index, authn, who))
    if kind == "networkauthentication":
        net = index.networks.get((namespace, ref.name))
        if net is None:
            return False, False
        return True, _match_ips(net.networks)
    if kind == "serviceaccount":
        return True, _identity(who, lambda: t_and((_segment("eq", namespace, who.namespace),
                                                   _segment("eq", ref.name, who.account))))
    return True, None


def _mesh_tls_admits(index: AuthzIndex, authn: MeshTLSAuthentication, who: Who) -> Tri:
    td = index.trust_domain
    found: list[Tri] = [match_linkerd_identity(i, who.namespace, who.account, td) for i in authn.identities]
    for ref in authn.identity_refs:
        kind = ref.kind.lower()
        ns = ref.namespace or authn.namespace
        if kind == "serviceaccount":
            found.append(t_and((_segment("eq", ns, who.namespace), _segment("eq", ref.name, who.account))))
        elif kind == "namespace":
            found.append(_segment("eq", ref.name, who.namespace))
        else:
            found.append(None)
    return t_or(found)


def _server_authorization_admits(sa: ServerAuthorization, who: Who, trust_domain: str) -> Tri:
    """A legacy ServerAuthorization: ``unauthenticated`` (or ``unauthenticatedTLS``) admits
    any client, ``meshTLS`` the identities and service accounts it lists (all, if none)."""
    checks: list[Tri] = []
    if sa.networks:
        checks.append(_match_ips(sa.networks))
    if not sa.unauthenticated:
        def identities() -> Tri:
            found: list[Tri] = [match_linkerd_identity(i, who.namespace, who.account, trust_domain)
                                for i in sa.mesh_identities]
            found += [t_and((_segment("eq", ns or sa.namespace, who.namespace), _segment("eq", name, who.account)))
                      for name, ns in sa.service_accounts]
            return t_or(found) if found else True

        checks.append(_identity(who, identities))
    return t_and(checks)


def route_matches(route: Route, request: Request) -> Tri:
    """Does a route (Gateway API semantics) match every, no or some request of the set?"""
    results: list[Tri] = []
    for rule in route.rules:
        if not rule.matches:
            return True
        for match in rule.matches:
            checks: list[Tri] = []
            if match.path is not None:
                checks.append(_route_path(match.path.type.value, match.path.value, request))
            if match.method is not None:
                checks.append(None if request.method is None else match.method.value == request.method)
            if match.headers or match.query_params:
                checks.append(None)
            results.append(t_and(checks))
    return t_or(results)


def _route_path(kind: str, value: str, request: Request) -> Tri:
    path = request.path
    if kind == "prefix":
        stem = value.rstrip("/")
        if not stem:
            return True
        if path is None:
            return None
        under = path == stem or path.startswith(stem + "/")
        if request.path_prefix:
            if under:
                return True
            return None if stem.startswith(path) else False
        return under
    if kind == "exact":
        if path is None:
            return None
        if request.path_prefix:
            return None if value.startswith(path) else False
        return value == path
    if path is None or request.path_prefix:
        return None
    try:
        return re.fullmatch(value, path) is not None
    except re.error:
        return None


# -- allowed callers --------------------------------------------------------------------


@dataclass
class _Relevance:
    """The namespace and service-account name requirements of a set of policies."""

    ns: list[tuple[str, str]] = field(default_factory=list)
    sa: list[tuple[str, str]] = field(default_factory=list)

    def add_principal(self, pattern: str, trust_domain: str) -> None:
        reqs = None if pattern.startswith("spiffe://") else _principal_requirements(pattern, trust_domain)
        if reqs:
            ns, sa = _namespace_of_principal_reqs(reqs, 2, 4)
            self.ns += ns
            self.sa += sa

    def add_linkerd(self, pattern: str, trust_domain: str) -> None:
        spiffe = re.match(r"^spiffe://[^/]+/ns/([^/]+)/sa/([^/]+)$", pattern)
        if spiffe:
            self.ns.append(("eq", spiffe.group(1)))
            self.sa.append(("eq", spiffe.group(2)))
            return
        size = len(_linkerd_segments("x", "y", trust_domain))
        reqs = pattern_requirements(pattern, size, ".") if pattern != "*" else None
        if reqs:
            ns, sa = _namespace_of_principal_reqs(reqs, 1, 0)
            self.ns += ns
            self.sa += sa


def _relevance(index: AuthzIndex, specs: Iterable[ServerSpec]) -> _Relevance:
    rel = _Relevance()
    td = index.trust_domain
    for spec in specs:
        for policy in spec.istio:
            for rule in policy.rules or ():
                for src in rule.sources:
                    for p in src.principals + src.not_principals:
                        rel.add_principal(p, td)
                    for p in src.namespaces + src.not_namespaces:
                        rel.ns.append(("eq", p) if "*" not in p else (("prefix", p[:-1]) if p.endswith("*") else ("suffix", p[1:])))
                    for v in src.service_accounts + src.not_service_accounts:
                        ns, _, sa = v.rpartition("/")
                        rel.ns.append(("eq", ns or policy.namespace))
                        rel.sa.append(("eq", sa))
                for cond in rule.conditions:
                    for v in cond.values + cond.not_values:
                        if cond.key == "source.principal":
                            rel.add_principal(v, td)
                        elif cond.key == "source.namespace":
                            rel.ns.append(("eq", v) if "*" not in v else (("prefix", v[:-1]) if v.endswith("*") else ("suffix", v[1:])))
        if spec.server is not None:
            ns = spec.server.namespace
            policies = list(index.linkerd_by_target.get((ns, "server", spec.server.name), []))
            policies += index.linkerd_by_target.get((ns, "namespace", ns), [])
            for route in index.server_routes.get((ns, spec.server.name), []):
                for kind in ("httproute", "grpcroute"):
                    policies += index.linkerd_by_target.get((route.namespace, kind, route.name), [])
            for lp in policies:
                for ref in lp.required_authentications:
                    rns = ref.namespace or lp.namespace
                    if ref.kind.lower() == "serviceaccount":
                        rel.ns.append(("eq", rns))
                        rel.sa.append(("eq", ref.name))
                    authn = index.mesh_tls.get((rns, ref.name)) if ref.kind.lower() == "meshtlsauthentication" else None
                    if authn is not None:
                        for identity in authn.identities:
                            rel.add_linkerd(identity, td)
                        for iref in authn.identity_refs:
                            rel.ns.append(("eq", iref.namespace or authn.namespace) if iref.kind.lower() == "serviceaccount"
                                          else ("eq", iref.name))
                            if iref.kind.lower() == "serviceaccount":
                                rel.sa.append(("eq", iref.name))
            for legacy in index.server_authz.get(ns, []):
                for identity in legacy.mesh_identities:
                    rel.add_linkerd(identity, td)
                for name, sns in legacy.service_accounts:
                    rel.ns.append(("eq", sns or legacy.namespace))
                    rel.sa.append(("eq", name))
    return rel


def _meshed_state(states: Iterable[Tri]) -> Tri:
    values = set(states)
    if values == {True}:
        return True
    if values == {False}:
        return False
    return None


@dataclass
class _AccountTable:
    """The service accounts of the inputs with whether their workloads run the server's
    mesh proxy, indexed by namespace and by name (built once per dataplane)."""

    state: dict[tuple[str, str], Tri]
    by_ns: dict[str, list[str]]
    by_name: dict[str, list[str]]
    counts: dict[Tri, int]


def _account_table(index: AuthzIndex, dataplane: str) -> _AccountTable:
    found = index.account_tables.get(dataplane)
    if found is None:
        state: dict[tuple[str, str], Tri] = {}
        by_ns: dict[str, list[str]] = defaultdict(list)
        by_name: dict[str, list[str]] = defaultdict(list)
        counts: dict[Tri, int] = defaultdict(int)
        for (ns, sa), workloads in sorted(index.accounts.items()):
            meshed = _meshed_state(caller_meshed(index.mesh, w, dataplane) for w in workloads) if workloads else None
            state[(ns, sa)] = meshed
            by_ns[ns].append(sa)
            by_name[sa].append(ns)
            counts[meshed] += 1
        found = index.account_tables[dataplane] = _AccountTable(state, by_ns, by_name, counts)
    return found


def _relevant(reqs: list[tuple[str, str]], names: dict[str, list[str]]) -> set[str]:
    """The names of the inputs some requirement is True for (exact ones by lookup)."""
    found = {lit for kind, lit in reqs if kind == "eq" and lit in names}
    partial = [(kind, lit) for kind, lit in reqs if kind != "eq" and lit]
    if partial:
        found |= {name for name in names if any(_segment(kind, lit, name) is True for kind, lit in partial)}
    return found


def _caller_groups(index: AuthzIndex, rel: _Relevance, dataplane: str) -> list[tuple[CallerGroup, Who]]:
    """The caller groups a server's policies can tell apart, each with the Who evaluated for it.

    Costs what the policies name (their namespaces and accounts), not the size of the mesh:
    the accounts no policy names form the ``others`` groups, counted, not listed.
    """
    table = _account_table(index, dataplane)
    names = _relevant(rel.sa, table.by_name)
    spaces = _relevant(rel.ns, table.by_ns)
    groups: list[tuple[CallerGroup, Who]] = []
    remaining = dict(table.counts)
    for sa in sorted(names):
        for ns in table.by_name[sa]:
            meshed = table.state[(ns, sa)]
            if ns not in spaces:
                remaining[meshed] -= 1
            groups.append((CallerGroup(f"sa:{ns}/{sa}", f"service account {ns}/{sa}", "service-account", ns, sa,
                                       meshed, ((ns, sa),)), Who(ns, sa, meshed)))
    for ns in sorted(spaces):
        by_state: dict[Tri, list[tuple[str, str]]] = defaultdict(list)
        for sa in table.by_ns[ns]:
            meshed = table.state[(ns, sa)]
            remaining[meshed] -= 1
            if sa not in names:
                by_state[meshed].append((ns, sa))
        for meshed, members in sorted(by_state.items(), key=lambda kv: str(kv[0])):
            suffix = _meshed_suffix(meshed, len(by_state) > 1)
            groups.append((CallerGroup(f"ns:{ns}{suffix[0]}", f"service accounts of namespace {ns}{suffix[1]}",
                                       "namespace", ns, None, meshed, tuple(members)), Who(ns, NO_NAME, meshed)))
    others = sorted((m for m, n in remaining.items() if n > 0), key=str)
    for meshed in others:
        suffix = _meshed_suffix(meshed, len(others) > 1)
        groups.append((CallerGroup(f"others{suffix[0]}", f"the other service accounts of the inputs{suffix[1]}",
                                   "others", None, None, meshed, ()), Who(NO_NAME, NO_NAME, meshed)))
    named = sorted({lit for kind, lit in rel.ns if kind == "eq" and lit and "\x00" not in lit} - set(table.by_ns))
    for ns in named:
        groups.append((CallerGroup(f"named-ns:{ns}", f"meshed clients of namespace {ns} (no workload among the inputs)",
                                   "named-namespace", ns, None, True), Who(ns, ANY_NAME, True)))
    groups.append((CallerGroup("outside", "meshed clients of any other namespace", "outside", None, None, True),
                   Who(OTHER_NAME, ANY_NAME, True)))
    groups.append((CallerGroup("unauthenticated", "clients without a mesh identity", "unauthenticated", None, None,
                               False), Who(ANY_NAME, ANY_NAME, False, None)))
    return groups


def _meshed_suffix(meshed: Tri, split: bool) -> tuple[str, str]:
    if not split:
        return "", ""
    return {True: ("#meshed", " (meshed)"), False: ("#unmeshed", " (without a proxy)"),
            None: ("#unknown", " (proxy unknown)")}[meshed]


ANYONE = CallerGroup("anyone", "any client", "anyone", None, None, None)


def allowed_callers(mesh: MeshModel, index: AuthzIndex | None = None) -> list[AllowEdge]:
    """For every Service port whose workloads are among the inputs: which caller groups
    may call it. A port no policy restricts gets one edge for ``anyone``."""
    index = index or AuthzIndex(mesh)
    edges: list[AllowEdge] = []
    tables: dict[tuple[Any, ...], list[tuple[CallerGroup, Decision]]] = {}
    for service in sorted(mesh.services, key=lambda s: s.fqdn):
        workloads = mesh.workloads_of(service)
        if not workloads:
            continue
        for port in service.ports:
            specs: dict[tuple[Any, ...], tuple[ServerSpec, list[Workload]]] = {}
            for workload in workloads:
                target = target_port(port, workload)
                if target is None:
                    continue
                spec = server_spec(index, workload, target, service, port.mesh_protocol)
                specs.setdefault(spec.key(), (spec, []))[1].append(workload)
            if not specs:
                continue
            key = tuple(sorted(specs, key=repr))
            if key not in tables:
                tables[key] = _table(index, [s for s, _ in specs.values()])
            served = tuple(w for _, ws in specs.values() for w in ws)
            for group, decision in tables[key]:
                edges.append(AllowEdge(service.fqdn, port.port, served, group, decision))
    return edges


def _open(spec: ServerSpec) -> bool:
    if spec.dataplane == "none":
        return True
    if spec.dataplane == "linkerd":
        return spec.server is None and spec.default_policy in ("all-unauthenticated", "audit")
    return not spec.istio and spec.peer_mode != "STRICT" and spec.dataplane != "ambient"


def _table(index: AuthzIndex, specs: list[ServerSpec]) -> list[tuple[CallerGroup, Decision]]:
    if all(_open(s) for s in specs):
        reasons = sorted({evaluate(index, s, Who(ANY_NAME, ANY_NAME, None, None)).reason for s in specs})
        return [(ANYONE, Decision(Outcome.ALLOWED, (), "; ".join(reasons), "none"))]
    rel = _relevance(index, specs)
    dataplane = "linkerd" if any(s.dataplane == "linkerd" for s in specs) else "istio"
    table = []
    for group, who in _caller_groups(index, rel, dataplane):
        decisions = [evaluate(index, s, who) for s in specs]
        table.append((group, decisions[0] if len(decisions) == 1 else _combine(decisions, "workload")))
    return table


# -- the graph --------------------------------------------------------------------------


def add_authorization(graph: ServiceGraph, mesh: MeshModel, edges: Sequence[AllowEdge]) -> None:
    """Add ``kind="allowed"`` edges to ``service:<fqdn>`` for the caller groups not denied.

    A service account of the inputs gets one edge per workload running as it
    (``workload:<ns>/<Kind>/<name>`` -> service); any other group one edge from a
    ``callers:<key>`` node (kind ``callers``): ``callers:ns:<ns>`` (the other accounts of a
    namespace, whose workloads point at it with ``kind="member"`` edges), ``callers:others``,
    ``callers:outside``, ``callers:unauthenticated``, ``callers:named-ns:<ns>``. So a
    namespace-wide rule costs one edge per Service, not one per workload and Service.

    A Service no policy restricts gets the node attribute ``authorization="open"`` and no
    edges; the others ``"restricted"``. Edges carry ``port``, ``outcome`` (``allowed``, or
    ``unknown`` when only some requests are, say a rule limited to ``GET /api/*``, or the
    inputs do not tell), ``policies`` (the deciding resources), ``callers`` and ``reason``.
    """
    from meshctl.graph import service_id, workload_id

    g = graph.g
    by_account: dict[tuple[str, str], list[Workload]] = defaultdict(list)
    for workload in mesh.workloads:
        by_account[(workload.namespace, workload.service_account)].append(workload)
    state: dict[str, str] = {}
    for edge in edges:
        sid = service_id(edge.service)
        if sid not in g:
            continue
        group = edge.caller
        if group.scope == "anyone":
            state.setdefault(sid, "open")
            continue
        state[sid] = "restricted"
        if edge.decision.denied:
            continue
        policies = sorted({o.ref.display() for o in edge.decision.origins})
        attrs = {"kind": "allowed", "port": edge.port, "outcome": edge.decision.outcome.value,
                 "policies": policies, "callers": group.label, "reason": edge.decision.reason}
        if group.scope == "service-account":
            for ns, sa in group.members:
                for workload in by_account.get((ns, sa), ()):
                    wid = workload_id(workload)
                    if wid in g:
                        g.add_edge(wid, sid, **attrs)
            continue
        node = f"callers:{group.key}"
        if node not in g:
            g.add_node(node, kind="callers", label=group.label, scope=group.scope)
            for ns, sa in group.members:
                for workload in by_account.get((ns, sa), ()):
                    wid = workload_id(workload)
                    if wid in g:
                        g.add_edge(wid, node, kind="member")
        g.add_edge(node, sid, **attrs)
    for sid, value in state.items():
        g.nodes[sid]["authorization"] = value
