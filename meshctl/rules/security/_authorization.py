"""What the authorization rules (MSH220-MSH239) share: the workloads and ports a policy
covers, and the parts of its rules that can never match.

``defects`` reads every ALLOW and DENY policy once per run (``ctx.memo``)::

    AuthorizationPolicy cart.shop ALLOW, rule 0 to.operation.paths ["api/*"]
      -> Defect(rule 0, paths[0], "path 'api/*' has no leading slash ...", kills=True)
    rule 0 to.operation.ports ["80"] where the pods listen on 8080 (Service port 80)
      -> Defect(rule 0, ports, "... Istio matches the workload port (8080), not the Service port", kills=True)

A defect that ``kills`` leaves its rule unable to match any request on any port of the
workloads the policy selects; MSH220 reports ALLOW policies whose every rule is killed,
MSH222 the defects of the others.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from meshctl.model.mesh import MeshModel
from meshctl.model.objects import (
    AuthorizationPolicy,
    AuthorizationRule,
    Operation,
    Protocol,
    Workload,
)
from meshctl.model.origin import Origin
from meshctl.rules.context import Analysis
from meshctl.security.authz import http_only_fields, policy_applies, target_port

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


def policy_workloads(mesh: MeshModel, policy: AuthorizationPolicy) -> list[Workload]:
    """The workloads of the inputs an AuthorizationPolicy applies to (sidecar semantics)."""
    root = mesh.mesh_config.root_namespace
    if policy.target_refs:
        found: list[Workload] = []
        for ref in policy.target_refs:
            if ref.kind == "Service":
                service = mesh.service(ref.name, ref.namespace or policy.namespace)
                if service is not None:
                    found += [w for w in mesh.workloads_of(service) if policy_applies(mesh, policy, w, service)]
            else:
                found += [w for w in mesh.workloads_in(ref.namespace or policy.namespace)
                          if policy_applies(mesh, policy, w)]
        return _unique(found)
    if policy.namespace == root:
        if not policy.selector:
            return list(mesh.workloads)
        namespaces = sorted({w.namespace for w in mesh.workloads})
        return [w for ns in namespaces for w in mesh.workloads_selected(ns, policy.selector)]
    return mesh.workloads_selected(policy.namespace, policy.selector)


def _unique(workloads: list[Workload]) -> list[Workload]:
    seen: set[int] = set()
    out = []
    for w in workloads:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


@dataclass
class PortTable:
    """The ports each workload serves: its container ports, and the Service ports that
    target it with the protocol Istio infers for them."""

    by_workload: dict[int, dict[int, set[Protocol]]] = field(default_factory=lambda: defaultdict(dict))
    service_ports: dict[int, dict[int, set[int]]] = field(default_factory=lambda: defaultdict(dict))

    def ports(self, workload: Workload) -> dict[int, set[Protocol]]:
        return self.by_workload.get(id(workload), {})


def port_table(ctx: Analysis) -> PortTable:
    return ctx.memo("security.authz.ports", lambda: _build_ports(ctx.mesh))


def _build_ports(mesh: MeshModel) -> PortTable:
    table = PortTable()
    for workload in mesh.workloads:
        for container in workload.containers:
            for number in container.ports:
                table.by_workload[id(workload)].setdefault(number, set())
    for service in mesh.services:
        for workload in mesh.workloads_of(service):
            for port in service.ports:
                target = target_port(port, workload)
                if target is None:
                    continue
                table.by_workload[id(workload)].setdefault(target, set()).add(port.mesh_protocol)
                table.service_ports[id(workload)].setdefault(target, set()).add(port.port)
    return table


def is_tcp(protocols: set[Protocol]) -> bool:
    """A port every Service names as a non-HTTP protocol: Istio builds only a TCP chain."""
    return bool(protocols) and all(not p.is_http and p is not Protocol.UNKNOWN for p in protocols)


@dataclass(frozen=True)
class Defect:
    policy: AuthorizationPolicy
    rule: int
    origin: Origin
    message: str
    kills: bool  # the rule can never match, on any port of the selected workloads


def defects(ctx: Analysis) -> dict[int, list[Defect]]:
    """Defects of every ALLOW and DENY policy, by ``id(policy)``."""
    return ctx.memo("security.authz.defects", lambda: _build_defects(ctx))


def dead_allow(policy: AuthorizationPolicy, found: list[Defect]) -> bool:
    """An ALLOW policy with rules, every one of which can never match."""
    if policy.action != "ALLOW" or not policy.rules:
        return False
    killed = {d.rule for d in found if d.kills}
    return all(i in killed for i in range(len(policy.rules)))


def _build_defects(ctx: Analysis) -> dict[int, list[Defect]]:
    mesh = ctx.mesh
    out: dict[int, list[Defect]] = {}
    policies = [p for p in mesh.authorization_policies if p.action in ("ALLOW", "DENY") and p.rules]
    if not policies:
        return out
    ports = port_table(ctx)
    for policy in policies:
        workloads = policy_workloads(mesh, policy)
        found: list[Defect] = []
        for i, rule in enumerate(policy.rules or ()):
            found += _rule_defects(policy, i, rule, workloads, ports)
        out[id(policy)] = found
    return out


def _rule_defects(policy: AuthorizationPolicy, index: int, rule: AuthorizationRule, workloads: list[Workload],
                  ports: PortTable) -> list[Defect]:
    found: list[Defect] = []
    allow = policy.action == "ALLOW"
    dead_ops = 0
    for op in rule.operations:
        op_found, dead = _operation_defects(policy, index, op, workloads, ports)
        found += op_found
        dead_ops += dead
    # an operation's defect kills the rule only when every operation of the rule is dead
    ops_dead = bool(rule.operations) and dead_ops == len(rule.operations)
    found = [Defect(d.policy, d.rule, d.origin, d.message, ops_dead and d.kills) for d in found]
    found += _tcp_defects(policy, index, rule, workloads, ports, allow)
    return found


def _operation_defects(policy: AuthorizationPolicy, index: int, op: Operation, workloads: list[Workload],
                       ports: PortTable) -> tuple[list[Defect], bool]:
    """The defects of one ``to.operation``, and whether it can never match."""
    found: list[Defect] = []
    dead = False

    def add(origin: Origin, message: str, kills: bool) -> None:
        found.append(Defect(policy, index, origin, message, kills))

    if op.paths:
        bad = [(k, p) for k, p in enumerate(op.paths) if _never_path(p)]
        for k, p in bad:
            add(op.origin.at("paths", k), f"path {p!r} has no leading slash: request paths always start with '/', "
                f"so it never matches (write {'/' + p!r})", len(bad) == len(op.paths))
        dead = dead or len(bad) == len(op.paths)
    for k, p in enumerate(op.not_paths):
        if _never_path(p):
            add(op.origin.at("notPaths", k), f"notPaths {p!r} has no leading slash: it never matches, so it "
                f"excludes nothing (write {'/' + p!r})", False)
    if op.methods:
        bad_methods = [(k, m) for k, m in enumerate(op.methods) if _never_method(m)]
        for k, m in bad_methods:
            add(op.origin.at("methods", k), f"method {m!r} never matches: methods are compared case-sensitively "
                f"with the request's (write {m.upper()!r})", len(bad_methods) == len(op.methods))
        dead = dead or len(bad_methods) == len(op.methods)
    elif _written_empty(op.origin, "methods"):
        add(op.origin.at("methods"), "methods is an empty list, which Istio reads as no list at all: the "
            "operation matches every method, not none", False)
    for k, m in enumerate(op.not_methods):
        if _never_method(m):
            add(op.origin.at("notMethods", k), f"notMethods {m!r} never matches (methods are compared "
                f"case-sensitively), so it excludes nothing (write {m.upper()!r})", False)
    for k, h in enumerate(op.hosts):
        if "." not in h and "*" not in h and ":" not in h and h.lower() != "localhost":
            add(op.origin.at("hosts", k), f"host {h!r} is matched literally against the request's Host header: "
                "Istio does not expand a Service's short name, so requests to its FQDN, to "
                f"'{h}.<namespace>' or with a port never match it", False)
    if op.ports and workloads:
        # Only the classic mistake is certain: the Service port written where Istio compares the
        # port the pod receives on. A port no manifest declares may still be served (containerPort
        # is informational), so it is not reported.
        known = [ports.ports(w) for w in workloads]
        if all(known):
            served = set().union(*known)
            service_ports = {sp: t for w in workloads for t, sps in ports.service_ports.get(id(w), {}).items()
                             for sp in sps}
            wrong = [(k, p) for k, p in enumerate(op.ports)
                     if p.isdigit() and int(p) not in served and int(p) in service_ports]
            if wrong and all(p.isdigit() and int(p) not in served for p in op.ports):
                k, p = wrong[0]
                add(op.origin.at("ports", k), f"port {p} is a Service port, but Istio compares the port the "
                    f"workload receives on (targetPort {service_ports[int(p)]}): the operation never matches", True)
                dead = True
    return found, dead


def _never_path(path: str) -> bool:
    return not (path.startswith(("/", "*")) or path == "")


def _never_method(method: str) -> bool:
    return "*" not in method and method != method.upper()


def _written_empty(origin: Origin, name: str) -> bool:
    """Was ``name: []`` written (the model keeps empty lists as absent)? Positions tell:
    a missing field locates at its parent."""
    here = origin.location()
    there = origin.at(name).location()
    return (here.line, here.column) != (there.line, there.column)


def _tcp_defects(policy: AuthorizationPolicy, index: int, rule: AuthorizationRule, workloads: list[Workload],
                 ports: PortTable, allow: bool) -> list[Defect]:
    fields = http_only_fields(rule)
    if not fields or not workloads:
        return []
    wanted = {p for op in rule.operations for p in op.ports if p.isdigit()}
    tcp: set[int] = set()
    other: set[int] = set()
    for w in workloads:
        for number, protocols in ports.ports(w).items():
            if wanted and str(number) not in wanted:
                continue
            if is_tcp(protocols):
                tcp.add(number)
            elif protocols:
                other.add(number)
    if not tcp:
        return []
    origin = fields[0][0]
    shown = ", ".join(str(n) for n in sorted(tcp))
    names = ", ".join(sorted({n for _, n in fields}))
    plural = "s" if len(tcp) > 1 else ""
    if allow:
        where = "" if not other else f" on TCP port{plural} {shown}"
        return [Defect(policy, index, origin,
                       f"{names} {'are' if len(fields) > 1 else 'is'} HTTP-only and port{plural} {shown} "
                       f"{'are' if len(tcp) > 1 else 'is'} TCP: Istio leaves this ALLOW rule out of the TCP filter "
                       f"chain, so it never matches{where}", not other)]
    return [Defect(policy, index, origin,
                   f"{names} {'are' if len(fields) > 1 else 'is'} HTTP-only and port{plural} {shown} "
                   f"{'are' if len(tcp) > 1 else 'is'} TCP: there Istio ignores the HTTP-only fields of this DENY rule, which then "
                   "denies every connection from the sources it names, not only the requests it describes", False)]
