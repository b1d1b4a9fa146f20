"""Linkerd inbound policy -> Istio PeerAuthentications and AuthorizationPolicies.

Linkerd decides per pod port: a Server selecting the port applies its authorizations
(AuthorizationPolicies on the Server, its Namespace or its routes; ServerAuthorizations),
then its ``accessPolicy`` (``deny`` by default); a port without a Server follows the default
inbound policy (pod annotation, else Namespace annotation, else ``all-unauthenticated``).
Istio decides per workload: any ALLOW policy closes *every* port to requests no ALLOW rule
matches. So each Server becomes a policy scoped to its port, and the pods' other ports are
kept open by one more rule::

    Server web-http {app: web} port http (8080)
    AuthorizationPolicy -> MeshTLSAuthentication [frontend.shop.serviceaccount.identity...]
    ->
    AuthorizationPolicy web-http (ALLOW), selector {app: web}
      rules:
      - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}]
        to: [{operation: {ports: ["8080"]}}]
      - to: [{operation: {notPorts: ["8080"]}}]   # the pods' other ports stay open

A Server nothing authorizes becomes a DENY policy on its port. Routes attached to a
Server become ``to.operation`` and ``when`` (``operations.py``); Linkerd's 404 for a
request no route matches is Istio's 403. The default inbound policies of namespaces and
pods are ``defaults.py``'s. Named ports are resolved on the workloads of the inputs
(Istio needs numbers).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import product

from meshctl.emit.istio.build import SECURITY, Build, route_source, source_of
from meshctl.emit.istio.defaults import (
    DEFAULT_POLICY,
    OPEN,
    STRICT,
    default_sources,
    namespace_default,
    scope,
    workload_default,
)
from meshctl.emit.istio.identities import (
    Sources,
    both,
    from_field,
    identity_source,
    merge_identities,
    network_sources,
    principal,
)
from meshctl.emit.istio.operations import Operation, route_operations
from meshctl.emit.istio.workloads import pod_annotation_origin
from meshctl.emit.manifests import Json
from meshctl.model.mesh import selects
from meshctl.model.objects import (
    LinkerdAuthorizationPolicy,
    LinkerdServer,
    Route,
    ServerAuthorization,
    TargetRef,
    Workload,
)

PROXY_PORTS = {"linkerd-proxy": 4143, "linkerd-admin": 4191}
OPAQUE = ("opaque", "tls")
Labels = dict[str, str]


@dataclass
class Plan:
    """What one Server becomes."""

    server: LinkerdServer
    selectors: list[Labels]
    ports: list[int]
    rules: list[Json] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    unauthenticated: bool = False  # some rule admits clients without a mesh identity
    extra: dict[tuple[tuple[str, str], ...], list[Json]] = field(default_factory=dict)  # per selector: other ports


# -- where things are ----------------------------------------------------------------------
def _selected(build: Build, namespace: str, selector: Labels) -> list[Workload]:
    return [w for w in build.mesh.workloads_selected(namespace, selector) if w.kind != "ExternalWorkload"]


# -- Servers -------------------------------------------------------------------------------
def _selectors(build: Build, server: LinkerdServer) -> list[Labels] | None:
    if server.external_selector:
        build.losses.dropped(server.origin.at("spec", "externalWorkloadSelector"), "a Server for ExternalWorkloads "
                             "has no Istio equivalent (WorkloadEntries are selected like pods); not translated")
        return None
    base = dict(server.pod_selector or {})
    expressions = server.match_expressions
    if not expressions:
        return [base]
    if all(e.operator == "In" and e.values for e in expressions):
        keys = [e.key for e in expressions]
        out = []
        for values in product(*(e.values for e in expressions)):
            labels = {**base, **dict(zip(keys, values))}
            if all(base.get(k, v) == v for k, v in zip(keys, values)):
                out.append(dict(sorted(labels.items())))
        return out
    workloads = [w for w in build.mesh.workloads_in(server.namespace) if w.kind != "ExternalWorkload"
                 and selects(base, w.labels) and all(e.holds(w.labels) for e in expressions)]
    if not workloads:
        build.losses.dropped(expressions[0].origin, "Istio selectors take labels only, and no workload of the inputs "
                             "matches these matchExpressions; the Server is not translated")
        return None
    build.losses.approximated(expressions[0].origin, "Istio selectors take labels only: the Server is translated "
                              "for the workloads of the inputs it selects, by their labels")
    return [dict(sorted(w.labels.items())) for w in sorted(workloads, key=lambda w: w.name)]


def _ports(build: Build, server: LinkerdServer, selectors: list[Labels]) -> list[int] | None:
    where = server.origin.at("spec", "port")
    if isinstance(server.port, int):
        return [server.port]
    if server.port.isdigit():
        return [int(server.port)]
    if server.port in PROXY_PORTS:
        build.losses.dropped(where, f"{server.port} is the Linkerd proxy's own port; Istio's sidecar has its own "
                             "(15020/15090 for health and metrics) and needs no policy for it; not translated")
        return None
    found = sorted({number for selector in selectors for w in _selected(build, server.namespace, selector)
                    for c in w.containers for name, number in c.named_ports if name == server.port})
    if not found:
        build.losses.dropped(where, f"no workload of the inputs declares a container port named {server.port!r}, "
                             "and Istio policies need port numbers; the Server is not translated (the port follows "
                             "the default policy)")
        return None
    if len(found) > 1:
        build.losses.approximated(where, f"port {server.port!r} is {', '.join(map(str, found))} on different "
                                  "workloads; every number is used for every selected workload")
    return found


def _plan(build: Build, server: LinkerdServer) -> Plan | None:
    selectors = _selectors(build, server)
    if selectors is None:
        return None
    ports = _ports(build, server, selectors)
    if ports is None:
        return None
    return Plan(server, selectors, ports, sources=[source_of("Server", server.namespace, server.name)])


# -- authorizations ------------------------------------------------------------------------
@dataclass
class Index:
    policies: dict[tuple[str, str, str], list[LinkerdAuthorizationPolicy]]
    server_routes: dict[tuple[str, str], list[Route]]
    used: set[int] = field(default_factory=set)  # ids of the authorizations some Server took

    @classmethod
    def of(cls, build: Build) -> Index:
        policies: dict[tuple[str, str, str], list[LinkerdAuthorizationPolicy]] = defaultdict(list)
        for policy in sorted(build.mesh.linkerd_authorizations, key=lambda p: (p.namespace, p.name)):
            if build.wanted(policy.origin):
                target = policy.target
                policies[(target.namespace or policy.namespace, target.kind.lower(), target.name)].append(policy)
        routes: dict[tuple[str, str], list[Route]] = defaultdict(list)
        for route in sorted(build.mesh.routes, key=lambda r: (r.namespace, r.name)):
            if route.source_kind == "VirtualService":
                continue
            for parent in route.parents:
                if parent.kind.lower() == "server":
                    routes[(parent.namespace, parent.name)].append(route)
        return cls(policies, routes)


def _authentication(build: Build, policy: LinkerdAuthorizationPolicy, ref: TargetRef,
                    sources: list[str]) -> Sources | bool:
    """The sources one required authentication admits; False when the policy is inert."""
    kind = ref.kind.lower()
    namespace = ref.namespace or policy.namespace
    if kind == "meshtlsauthentication":
        authn = next((a for a in build.mesh.mesh_tls_authentications
                      if a.namespace == namespace and a.name == ref.name), None)
        if authn is None:
            return False
        sources.append(source_of("MeshTLSAuthentication", namespace, ref.name))
        items = [s for i, identity in enumerate(authn.identities)
                 if (s := identity_source(build, identity, authn.origin.at("spec", "identities", i)))]
        for i, item in enumerate(authn.identity_refs):
            ref_kind = item.kind.lower()
            if ref_kind == "serviceaccount":
                items.append({"principals": [principal(build, item.namespace or namespace, item.name)]})
            elif ref_kind == "namespace":
                items.append({"namespaces": [item.name]})
            else:
                build.losses.dropped(item.origin, f"an identityRef of kind {item.kind!r} is not translated")
        return merge_identities(items)
    if kind == "networkauthentication":
        net = next((n for n in build.mesh.network_authentications if n.namespace == namespace and n.name == ref.name),
                   None)
        if net is None:
            return False
        sources.append(source_of("NetworkAuthentication", namespace, ref.name))
        return network_sources(net.networks, net.excepts)
    if kind == "serviceaccount":
        return [{"principals": [principal(build, namespace, ref.name)]}]
    build.losses.dropped(ref.origin, f"an authentication of kind {ref.kind!r} is not translated; the policy "
                         "authorizes nobody")
    return False


def _policy_sources(build: Build, policy: LinkerdAuthorizationPolicy, sources: list[str]) -> Sources:
    """Who a Linkerd AuthorizationPolicy admits (``[]`` when it is inert: nobody)."""
    admitted: Sources = None
    for ref in policy.required_authentications:
        found = _authentication(build, policy, ref, sources)
        if found is False:
            build.losses.approximated(ref.origin, f"{ref.kind} {ref.name} is not among the inputs: Linkerd treats "
                                      "the policy as authorizing nobody, and so does the translation")
            return []
        admitted = both(admitted, found if found is not True else None)
    sources.append(source_of("AuthorizationPolicy", policy.namespace, policy.name))
    return admitted


def _server_authorization_sources(build: Build, authz: ServerAuthorization) -> Sources:
    networks = network_sources(authz.networks, authz.network_excepts) if authz.networks else None
    if authz.unauthenticated_tls:
        build.losses.approximated(authz.origin.at("spec", "client", "meshTLS", "unauthenticatedTLS"),
                                  "Istio cannot require TLS without a client identity: every client is admitted")
        return networks
    if authz.unauthenticated:
        return networks
    items = [s for i, identity in enumerate(authz.mesh_identities)
             if (s := identity_source(build, identity, authz.origin.at("spec", "client", "meshTLS", "identities", i)))]
    items += [{"principals": [principal(build, ns or authz.namespace, name)]} for name, ns in authz.service_accounts]
    if not authz.mesh_identities and not authz.service_accounts:
        items = [{"principals": ["*"]}]
    return both(merge_identities(items), networks)


def _rules(sources: Sources, ports: list[int], operations: list[Operation] | None) -> list[Json]:
    """Istio rules admitting ``sources`` on ``ports`` for ``operations`` (None: every request)."""
    if sources == []:
        return []
    port_list = [str(p) for p in ports]
    ops = operations if operations is not None else [({}, [])]
    plain = [op for op, when in ops if not when]
    out = []
    base: Json = {}
    found = from_field(sources)
    if found is not None:
        base["from"] = found
    if plain:
        out.append({**base, "to": [{"operation": {"ports": port_list, **op}} for op in plain]})
    for op, when in ops:
        if when:
            out.append({**base, "to": [{"operation": {"ports": port_list, **op}}], "when": when})
    return out


def _authorize(build: Build, plan: Plan, index: Index) -> None:
    server = plan.server
    ns = server.namespace
    opaque = (server.proxy_protocol or "").lower() in OPAQUE
    routes = index.server_routes.get((ns, server.name), [])
    if routes and opaque:
        build.losses.approximated(server.origin.at("spec", "proxyProtocol"), "Linkerd ignores the routes of an "
                                  "opaque or TLS Server; so does the translation")
        routes = []
    route_ops: dict[int, list[Operation] | None] = {}
    for route in routes:
        route_ops[id(route)] = route_operations(build, route)
        plan.sources.append(route_source(route))
    everything: list[Operation] | None = None
    if routes:
        if any(ops is None for ops in route_ops.values()):
            everything = None
        else:
            everything = [op for ops in route_ops.values() for op in ops or []]
        build.losses.approximated(server.origin, "a request no route of the Server matches gets 404 from Linkerd "
                                  "and 403 from Istio")
    server_level = index.policies.get((ns, "server", server.name), []) + index.policies.get((ns, "namespace", ns), [])
    for policy in server_level:
        index.used.add(id(policy))
        sources = _policy_sources(build, policy, plan.sources)
        _add(plan, _rules(sources, plan.ports, everything), sources)
    for route in routes:
        for kind in ("httproute", "grpcroute"):
            for policy in index.policies.get((route.namespace, kind, route.name), []):
                index.used.add(id(policy))
                sources = _policy_sources(build, policy, plan.sources)
                _add(plan, _rules(sources, plan.ports, route_ops[id(route)]), sources)
                if sources is None and _probe_like(route_ops[id(route)]):
                    build.losses.approximated(policy.origin, "if this route only lets kubelet probes in, it can go: "
                                              "Istio rewrites HTTP probes through its agent")
    for authz in sorted(build.mesh.server_authorizations, key=lambda a: a.name):
        if authz.namespace != ns or not build.wanted(authz.origin):
            continue
        if authz.server_name == server.name or (authz.server_name is None and authz.server_selector is not None
                                                and selects(authz.server_selector, server.labels)):
            index.used.add(id(authz))
            plan.sources.append(source_of("ServerAuthorization", authz.namespace, authz.name))
            sources = _server_authorization_sources(build, authz)
            _add(plan, _rules(sources, plan.ports, everything), sources)
    access = server.access_policy or "deny"
    if access != "deny":
        sources = default_sources(access)
        _add(plan, _rules(sources, plan.ports, everything), sources)
        if access == "audit":
            build.losses.approximated(server.origin.at("spec", "accessPolicy"), "accessPolicy audit admits every "
                                      "client; Linkerd flags the requests, Istio does not")


def _probe_like(operations: list[Operation] | None) -> bool:
    """GET requests on exact paths, admitted for anyone: what a probe authorization looks like."""
    return bool(operations) and all(
        op.get("methods") == ["GET"] and op.get("paths") and "*" not in "".join(op["paths"]) and not when
        for op, when in operations or [])


def _add(plan: Plan, rules: list[Json], sources: Sources) -> None:
    plan.rules += rules
    if rules and (sources is None or any("principals" not in s and "namespaces" not in s for s in sources)):
        plan.unauthenticated = True


# -- the namespace -------------------------------------------------------------------------
def translate_policy(build: Build) -> None:
    index = Index.of(build)
    servers: dict[str, list[LinkerdServer]] = defaultdict(list)
    for server in build.mesh.linkerd_servers:
        if build.wanted(server.origin):
            servers[server.namespace].append(server)
    namespaces = set(servers)
    if build.takes_linkerd:
        namespaces |= {ns.name for ns in build.mesh.namespaces.values() if DEFAULT_POLICY in ns.annotations}
        namespaces |= {w.namespace for w in build.mesh.workloads if DEFAULT_POLICY in w.annotations}
    for namespace in sorted(namespaces):
        _namespace(build, namespace, sorted(servers.get(namespace, []), key=lambda s: s.name), index)
    unused = [p for policies in index.policies.values() for p in policies if id(p) not in index.used]
    unused += [a for a in build.mesh.server_authorizations if build.wanted(a.origin) and id(a) not in index.used]
    for item in sorted(unused, key=lambda p: (p.namespace, p.name)):
        build.losses.approximated(item.origin, "authorizes nothing Linkerd enforces among the translated Servers (its "
                                  "target has no Server, or the Server was not translated); nothing is emitted")


def _namespace(build: Build, namespace: str, servers: list[LinkerdServer], index: Index) -> None:
    ns_default, ns_origin = ("all-unauthenticated", None)
    if build.takes_linkerd:
        ns_default, ns_origin = namespace_default(build, namespace)
    plans = [p for p in (_plan(build, s) for s in servers) if p is not None]
    for plan in plans:
        _authorize(build, plan, index)
    workloads = [w for w in build.mesh.workloads_in(namespace) if w.kind != "ExternalWorkload"]
    defaults = {id(w): workload_default(build, w, ns_default) if build.takes_linkerd else ns_default
                for w in workloads}
    _keep_other_ports_open(build, namespace, plans, workloads, defaults, ns_default)
    for plan in plans:
        _emit_server(build, plan)
        _port_mtls(build, plan, workloads, defaults, ns_default)
    server_ports = sorted({p for plan in plans for p in plan.ports})
    if ns_origin is not None:
        scope(build, namespace, None, ns_default, ns_origin, server_ports, "default", ns_default,
               [source_of("Namespace", namespace, namespace)])
    for workload in sorted(workloads, key=lambda w: w.name):
        value = defaults[id(workload)]
        if DEFAULT_POLICY not in workload.annotations or value == ns_default:
            continue
        origin = pod_annotation_origin(workload, DEFAULT_POLICY)
        if not workload.labels:
            build.losses.dropped(origin, "the pods have no labels to select them by; not translated")
            continue
        ports = sorted({p for plan in plans if _selects_workload(plan, workload) for p in plan.ports})
        scope(build, namespace, dict(sorted(workload.labels.items())), value, origin, ports, workload.name,
               ns_default, [source_of(workload.kind, namespace, workload.name)])


def _selects_workload(plan: Plan, workload: Workload) -> bool:
    return any(selects(s, workload.labels) for s in plan.selectors)


def _emit_server(build: Build, plan: Plan) -> None:
    server = plan.server
    action = "ALLOW" if plan.rules else "DENY"
    if action == "DENY":
        rules: list[Json] = [{"to": [{"operation": {"ports": [str(p) for p in plan.ports]}}]}]
    else:
        rules = plan.rules
    for i, selector in enumerate(plan.selectors):
        spec: Json = {}
        if selector:
            spec["selector"] = {"matchLabels": selector}
        spec["action"] = action
        spec["rules"] = rules + plan.extra.get(tuple(sorted(selector.items())), [])
        label = server.name if len(plan.selectors) == 1 else f"{server.name}-{i + 1}"
        name = build.unique("AuthorizationPolicy", server.namespace, label)
        build.emit(SECURITY, "AuthorizationPolicy", name, server.namespace, spec, plan.sources)


def _keep_other_ports_open(build: Build, namespace: str, plans: list[Plan], workloads: list[Workload],
                           defaults: dict[int, str], ns_default: str) -> None:
    """An ALLOW policy closes every port of its pods in Istio; Linkerd's Server only its own.
    For each selector with an ALLOW policy, one more rule admits the pods' other ports to
    the clients their default policy admits (nothing for deny; cluster-* policies are
    emitted for the namespace or pod and cover those ports)."""
    done: set[tuple[tuple[str, str], ...]] = set()
    for plan in plans:
        if not plan.rules:
            continue
        for selector in plan.selectors:
            key = tuple(sorted(selector.items()))
            if key in done:
                continue
            done.add(key)
            pods = [w for w in workloads if selects(selector, w.labels)]
            if pods:
                others = [p for p in plans if any(_selects_workload(p, w) for w in pods)]
            else:
                others = [p for p in plans if any(set(s.items()) <= set(selector.items())
                                                  or set(selector.items()) <= set(s.items()) for s in p.selectors)]
            ports = sorted({port for p in others for port in p.ports})
            declared = {n for w in pods for c in w.containers for n in c.ports}
            if pods and declared <= set(ports):
                continue  # the pods declare no other port: nothing to keep open
            chosen = {defaults[id(w)] for w in pods} or {ns_default}
            policy = next(iter(chosen)) if len(chosen) == 1 else ns_default
            if len(chosen) > 1:
                build.losses.approximated(plan.server.origin, "the selected pods have different default inbound "
                                          f"policies; their other ports follow the namespace's ({ns_default})")
            sources = default_sources(policy)
            if policy not in (*OPEN, "all-authenticated"):
                continue
            rule: Json = {"to": [{"operation": {"notPorts": [str(p) for p in ports]}}]}
            found = from_field(sources)
            if found is not None:
                rule = {"from": found, **rule}
            plan.extra[key] = [rule]
            build.losses.approximated(plan.server.origin, "an Istio ALLOW policy closes every port of the pods; a "
                                      f"rule keeps the ports other than {', '.join(map(str, ports))} open as the "
                                      f"default policy ({policy}) does")


def _port_mtls(build: Build, plan: Plan, workloads: list[Workload], defaults: dict[int, str], ns_default: str) -> None:
    """Under a STRICT default, a Server admitting clients without identity keeps plaintext on its port."""
    if not plan.unauthenticated:
        return
    for selector in plan.selectors:
        pods = [w for w in workloads if selects(selector, w.labels)]
        policies = {defaults[id(w)] for w in pods} or {ns_default}
        if not policies & set(STRICT):
            continue
        if not selector:
            build.losses.approximated(plan.server.origin, "port-level mTLS needs a selector; clients without a mesh "
                                      "identity are refused on this port by the STRICT default")
            continue
        spec = {"selector": {"matchLabels": selector}, "mtls": {"mode": "STRICT"},
                "portLevelMtls": {str(p): {"mode": "PERMISSIVE"} for p in plan.ports}}
        build.emit(SECURITY, "PeerAuthentication", build.unique("PeerAuthentication", plan.server.namespace,
                                                                plan.server.name),
                   plan.server.namespace, spec, plan.sources)


