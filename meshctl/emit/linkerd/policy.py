"""PeerAuthentication and AuthorizationPolicy -> Linkerd's inbound policy.

Before (§5.3 of the reference)::

    PeerAuthentication default.shop  mtls: STRICT
    AuthorizationPolicy orders-allow-frontend.shop  selector {app: orders}  ALLOW
      rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}],
               to: [{operation: {methods: [GET], paths: [/api/*]}}]}]
    Deployment orders.shop  container port http/8080, readiness probe GET /healthz

After::

    Namespace shop  config.linkerd.io/default-inbound-policy: all-authenticated
    Server orders-http  podSelector {app: orders}  port: http  proxyProtocol: HTTP/1  accessPolicy: deny
    HTTPRoute orders-api-get (policy.linkerd.io/v1beta3, parent Server orders-http)
        matches: [{path: {type: RegularExpression, value: /api/.*}, method: GET}]
    MeshTLSAuthentication orders-frontend  identityRefs [ServiceAccount shop/frontend]
    AuthorizationPolicy orders-api-get-frontend  -> HTTPRoute orders-api-get, orders-frontend
    HTTPRoute/NetworkAuthentication/AuthorizationPolicy orders-probes  GET /healthz from any network

How: a namespace-wide PeerAuthentication becomes the namespace's default inbound policy
(STRICT: ``all-authenticated``). Workloads that an ALLOW policy selects, or whose mode a
workload- or port-level PeerAuthentication sets, get one Server per container port (an
Istio ALLOW policy closes every port of the workload, a Linkerd Server only its own):
``accessPolicy: deny`` plus an AuthorizationPolicy per rule and source (on the Server, or
on a Server-parented HTTPRoute when the rule names methods, paths, hosts or headers), or
``all-authenticated``/``all-unauthenticated`` for a PeerAuthentication alone. Workloads
with the same policies share Servers, so Servers never overlap. Where a route is attached
to a Server, kubelet probes need their own route and authorization. DENY, AUDIT and
CUSTOM policies and anything an ALLOW rule says that Linkerd cannot check are reported;
untranslatable ALLOW sources and operations are left out (fail closed).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from meshctl.emit.linkerd.authn import ALL_NETWORKS, Auth, Translator, identity_spec
from meshctl.emit.linkerd.context import (
    AUTHN_API,
    POLICY_GROUP,
    POLICY_ROUTE_API,
    SERVER_API,
    Build,
    source_of,
)
from meshctl.emit.linkerd.matches import METHODS, escape
from meshctl.emit.linkerd.probes import http_probes
from meshctl.emit.manifests import Json
from meshctl.lower.k8s import port_protocol
from meshctl.model.mesh import selects
from meshctl.model.objects import (
    AuthorizationPolicy,
    AuthorizationRule,
    Operation,
    Protocol,
    Workload,
)
from meshctl.model.origin import Origin
from meshctl.security.authz import policy_applies, target_port
from meshctl.security.mtls import DISABLE, STRICT, view_of

DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
AUTHENTICATED, UNAUTHENTICATED = "all-authenticated", "all-unauthenticated"
_PROXY_PROTOCOLS = {
    Protocol.HTTP: "HTTP/1", Protocol.HTTP2: "HTTP/2", Protocol.GRPC: "gRPC", Protocol.TCP: "opaque",
    Protocol.MYSQL: "opaque", Protocol.MONGO: "opaque", Protocol.REDIS: "opaque", Protocol.TLS: "TLS",
    Protocol.HTTPS: "TLS",
}
_NAME_LABELS = ("app", "app.kubernetes.io/name", "k8s-app", "name")


# -- PeerAuthentication: the namespace default ----------------------------------------------

def peer_authentications(build: Build) -> None:
    mesh = build.mesh
    root = mesh.mesh_config.root_namespace
    policies = sorted((p for p in mesh.peer_authentications if build.wanted(p.origin)),
                      key=lambda p: (p.namespace, p.name))
    namespace_wide = {p.namespace: p for p in reversed(policies) if not p.selector}
    mesh_wide = namespace_wide.get(root)
    if mesh_wide is not None and mesh_wide.mode == STRICT:
        covered = sorted(ns for ns in _known_namespaces(build) if ns not in namespace_wide and ns != root)
        build.losses.dropped(
            mesh_wide.origin.at("spec", "mtls", "mode"),
            "mesh-wide STRICT: Linkerd's cluster default is an install setting, not a resource; install with "
            f"proxy.defaultInboundPolicy={AUTHENTICATED}" + (
                f" (the namespaces of the inputs got the annotation: {', '.join(covered)})" if covered else ""))
        for ns in covered:
            build.annotate_namespace(ns, DEFAULT_POLICY, AUTHENTICATED, source_of("PeerAuthentication", root,
                                                                                  mesh_wide.name))
    elif mesh_wide is not None and mesh_wide.mode == DISABLE:
        build.losses.dropped(mesh_wide.origin.at("spec", "mtls", "mode"), _DISABLE)
    strict_default = mesh_wide is not None and mesh_wide.mode == STRICT
    for ns, pa in sorted(namespace_wide.items()):
        if ns == root:
            continue
        where = pa.origin.at("spec", "mtls", "mode")
        source = source_of("PeerAuthentication", pa.namespace, pa.name)
        if pa.mode == STRICT:
            build.annotate_namespace(ns, DEFAULT_POLICY, AUTHENTICATED, source)
            build.losses.approximated(where, f"STRICT -> {DEFAULT_POLICY}: {AUTHENTICATED} on Namespace {ns}: applies "
                                             "to pods created after it (restart them) and to ports without a Server; "
                                             "kubelet probes stay allowed")
        elif pa.mode == DISABLE:
            build.losses.dropped(where, _DISABLE)
            if strict_default:
                build.annotate_namespace(ns, DEFAULT_POLICY, UNAUTHENTICATED, source)
        elif pa.mode == "PERMISSIVE" and strict_default:
            build.annotate_namespace(ns, DEFAULT_POLICY, UNAUTHENTICATED, source)


_DISABLE = ("DISABLE: Linkerd has no plaintext-only mode (meshed pods always talk mTLS; "
            "config.linkerd.io/skip-inbound-ports bypasses the proxy entirely); not translated")


def _known_namespaces(build: Build) -> set[str]:
    return set(build.mesh.namespaces) | {w.namespace for w in build.mesh.workloads}


# -- Servers and authorizations -------------------------------------------------------------

@dataclass
class InboundRoute:
    name: str
    matches: list[Json]
    hostnames: tuple[str, ...]
    auths: list[tuple[Auth, str]] = field(default_factory=list)  # (auth, source policy)
    probes: bool = False


@dataclass
class ServerPlan:
    name: str
    namespace: str
    selector: dict[str, str]
    port: int | str
    number: int
    protocol: str | None
    access: str
    sources: list[str]
    prefix: str  # what the names of its routes and authorizations start with
    server_auths: list[tuple[Auth, str]] = field(default_factory=list)
    routes: dict[tuple[str, tuple[str, ...]], InboundRoute] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    http: bool = True


@dataclass(frozen=True)
class OpPlan:
    """One ``to.operation`` for one port: ``matches`` None is any request."""

    matches: list[Json] | None
    hostnames: tuple[str, ...]


def authorization_policies(build: Build) -> None:
    mesh = build.mesh
    translator = Translator(build.losses, mesh.mesh_config.trust_domain)
    allows = _allow_policies(build)
    view = view_of(mesh)
    groups: dict[tuple[str, tuple[int, ...], tuple[tuple[int, str], ...]], list[Workload]] = defaultdict(list)
    selected: set[int] = set()
    for w in sorted(mesh.workloads, key=lambda w: (w.namespace, w.name)):
        if w.kind in ("WorkloadEntry", "ExternalWorkload", "Selected") or not _ports(w):
            continue
        applying = tuple(i for i, ap in enumerate(allows) if policy_applies(mesh, ap, w))
        selected.update(applying)
        overrides = []
        for number, _ in _ports(w):
            decision = view.peer_decision(w.namespace, w.labels, number)
            if decision.level in ("workload", "port") and decision.policy is not None and build.wanted(decision.policy.origin):
                overrides.append((number, decision.mode))
        if applying or overrides:
            groups[(w.namespace, applying, tuple(overrides))].append(w)
    for i, ap in enumerate(allows):
        if i not in selected:
            build.losses.dropped(ap.origin, f"AuthorizationPolicy {ap.name}.{ap.namespace} selects no workload among the "
                                            "inputs, so its container ports are unknown and no Server was generated; "
                                            "the pods it selects stay open (default inbound policy)")
    plans: list[ServerPlan] = []
    for (namespace, applying, _), workloads in sorted(groups.items()):
        policies = [allows[i] for i in applying]
        for members, selector in _selectors(build, namespace, workloads, policies):
            plans.extend(_group_servers(build, translator, namespace, members, selector, policies))
    for plan in plans:
        _emit_server(build, plan)


def _allow_policies(build: Build) -> list[AuthorizationPolicy]:
    out = []
    for ap in sorted(build.mesh.authorization_policies, key=lambda p: (p.namespace, p.name)):
        if not build.wanted(ap.origin):
            continue
        if _dry_run(build, ap):
            build.losses.approximated(ap.origin, f"AuthorizationPolicy {ap.name}.{ap.namespace} is a dry run "
                                                 "(istio.io/dry-run); not enforced, not translated")
            continue
        if ap.target_refs:
            build.losses.dropped(ap.target_refs[0].origin, "targetRefs (waypoint, gateway or Service policies): not "
                                                           "translated; write the equivalent for the pods behind it")
            continue
        if ap.action == "DENY":
            build.losses.dropped(ap.origin.at("spec", "action"),
                                 f"DENY policy {ap.name}.{ap.namespace} cannot be expressed: Linkerd has only "
                                 "default-deny and allow-lists; the translation admits what it refused (rewrite it as "
                                 "an ALLOW list)")
            continue
        if ap.action == "AUDIT":
            build.losses.dropped(ap.origin.at("spec", "action"), "AUDIT: audit logging of matching requests is not "
                                                                 "translated (Linkerd's audit mode admits everyone)")
            continue
        if ap.action == "CUSTOM":
            build.losses.dropped(ap.origin.at("spec", "action"), "CUSTOM (external authorization): Linkerd has no "
                                                                 "external authorizer; not translated")
            continue
        out.append(ap)
    return out


def _dry_run(build: Build, ap: AuthorizationPolicy) -> bool:
    """``istio.io/dry-run: "true"``, read from the policy's own document (not a scan of the inputs)."""
    return ap.origin.doc.annotations.get("istio.io/dry-run") == "true"


def _ports(w: Workload) -> list[tuple[int, str | None]]:
    """Container ports (number, name) of the workload, in order, without duplicates."""
    seen: dict[int, str | None] = {}
    for c in w.containers:
        names = {n: name for name, n in c.named_ports}
        for number in c.ports:
            seen.setdefault(number, names.get(number))
    return sorted(seen.items())


def _selectors(
    build: Build, namespace: str, workloads: list[Workload], policies: list[AuthorizationPolicy],
) -> list[tuple[list[Workload], dict[str, str]]]:
    """A podSelector selecting exactly these workloads among the inputs: the policy's own
    selector when it does, the labels they share, or each workload's labels."""
    everything = [w for w in build.mesh.workloads_in(namespace) if _ports(w)]
    members = {id(w) for w in workloads}

    def exact(selector: dict[str, str]) -> bool:
        return {id(w) for w in everything if selects(selector, w.labels)} == members

    candidates = [dict(p.selector) for p in policies if p.selector]
    if policies and all(not p.selector for p in policies) and exact({}):
        return [(workloads, {})]
    for candidate in candidates:
        if exact(candidate):
            return [(workloads, candidate)]
    common = dict(set.intersection(*(set(w.labels.items()) for w in workloads))) if workloads else {}
    if common and exact(common):
        return [(workloads, common)]
    return [([w], dict(w.labels)) for w in workloads]


def _base_name(workloads: list[Workload], selector: dict[str, str], policies: list[AuthorizationPolicy]) -> str:
    for key in _NAME_LABELS:
        if key in selector:
            return selector[key]
    if len(workloads) == 1:
        return workloads[0].name
    return policies[0].name if policies else workloads[0].name


def _group_servers(
    build: Build, translator: Translator, namespace: str, workloads: list[Workload], selector: dict[str, str],
    policies: list[AuthorizationPolicy],
) -> list[ServerPlan]:
    view = view_of(build.mesh)
    base = _base_name(workloads, selector, policies)
    ports: dict[int, str | None] = {}
    for w in workloads:
        for number, name in _ports(w):
            if number in ports and ports[number] != name:
                ports[number] = None
            else:
                ports.setdefault(number, name)
    plans: list[ServerPlan] = []
    sources = [source_of("AuthorizationPolicy", p.namespace, p.name) for p in policies]
    several = len(ports) > 1
    for number, port_name in sorted(ports.items()):
        decision = view.peer_decision(namespace, workloads[0].labels, number)
        if decision.policy is not None:
            pa = decision.policy
            pa_source = source_of("PeerAuthentication", pa.namespace, pa.name)
        protocol = _protocol(build, namespace, workloads, number, port_name)
        server_name = build.unique("Server", namespace, f"{base}-{port_name or number}")
        plan = ServerPlan(
            name=server_name, namespace=namespace, selector=selector, port=port_name or number, number=number,
            protocol=protocol, access="deny", sources=list(sources), prefix=server_name if several else base,
            workloads=workloads, http=protocol not in ("opaque", "TLS"),
        )
        if not policies:
            if decision.level not in ("workload", "port"):
                continue
            plan.sources.append(pa_source)
            plan.access = AUTHENTICATED if decision.mode == STRICT else UNAUTHENTICATED
            if decision.mode == DISABLE and decision.origin is not None:
                build.losses.dropped(decision.origin, _DISABLE)
            elif decision.origin is not None:
                build.losses.approximated(decision.origin, f"{decision.mode} for pods {_selector_text(selector)} port "
                                                           f"{number} -> Server {server_name} with accessPolicy "
                                                           f"{plan.access} (restart the pods)")
            plans.append(plan)
            continue
        if decision.level in ("workload", "port") and decision.policy is not None:
            plan.sources.append(pa_source)
        strict = decision.mode == STRICT
        for ap in policies:
            _authorize(build, translator, plan, ap, strict)
        plans.append(plan)
    if policies:
        names = ", ".join(p.name for p in plans)
        for ap in policies:
            extra = (" (it has no selector: the Servers select the pods of the inputs' workloads in the namespace)"
                     if not ap.selector else "")
            build.losses.approximated(ap.origin, f"ALLOW policy {ap.name}.{ap.namespace} closes every port of the pods "
                                                 f"it selects, a Linkerd Server only its own: one Server per container "
                                                 f"port declared by the inputs' workloads ({names}); ports the pod "
                                                 f"specs do not declare stay open{extra}")
    return plans


def _selector_text(selector: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(selector.items())) + "}"


def _protocol(build: Build, namespace: str, workloads: list[Workload], number: int, name: str | None) -> str | None:
    """The Service port that sends to this container port decides; else the port's name."""
    found: set[Protocol] = set()
    for service in build.mesh.services_in(namespace):
        if not service.selector or not any(selects(service.selector, w.labels) for w in workloads):
            continue
        for port in service.ports:
            if any(target_port(port, w) == number for w in workloads):
                found.add(port.mesh_protocol)
    if not found:
        found.add(port_protocol(name, None, "TCP", number))
    if len(found) != 1:
        return None
    return _PROXY_PROTOCOLS.get(found.pop())


def _authorize(build: Build, translator: Translator, plan: ServerPlan, ap: AuthorizationPolicy, strict: bool) -> None:
    label = f"{ap.name}.{ap.namespace}"
    source = source_of("AuthorizationPolicy", ap.namespace, ap.name)
    for rule in ap.rules or ():
        ops = _operations(build, plan, rule)
        if ops is None:
            continue
        headers = _header_conditions(build, rule, label)
        if headers is None:
            continue
        auths = [translator.source(s, label) for s in rule.sources] if rule.sources else [Auth(None, ())]
        for auth in auths:
            if auth is None:
                continue
            narrowed = translator.conditions(rule.conditions, auth, label)
            if narrowed is None:
                build.losses.dropped(rule.origin.at("when"), f"when ({label}): the conditions cannot be combined with "
                                                             "the source in Linkerd; the rule was left out for it")
                continue
            if strict:
                narrowed = narrowed.requiring_identity()
            for op in ops:
                matches = _with_headers(op.matches, headers)
                if matches is None and not op.hostnames:
                    plan.server_auths.append((narrowed, source))
                    continue
                if not plan.http:
                    continue  # HTTP attributes never match on a TCP port (Istio)
                route = _route(build, plan, matches or [{"path": {"type": "PathPrefix", "value": "/"}}], op.hostnames)
                route.auths.append((narrowed, source))


def _operations(build: Build, plan: ServerPlan, rule: AuthorizationRule) -> list[OpPlan] | None:
    """The operations of a rule that concern this Server's port; None when none does."""
    port = plan.number
    ports = [c for c in rule.conditions if c.key == "destination.port"]
    for cond in ports:
        if cond.values and str(port) not in cond.values or str(port) in cond.not_values:
            return None
    if not rule.operations:
        return [OpPlan(None, ())]
    out = []
    for op in rule.operations:
        if op.ports and str(port) not in op.ports or str(port) in op.not_ports:
            continue
        translated = _operation(build, op)
        if translated is not None:
            out.append(translated)
    return out or None


def _operation(build: Build, op: Operation) -> OpPlan | None:
    for field_name, values in (("notMethods", op.not_methods), ("notPaths", op.not_paths), ("notHosts", op.not_hosts)):
        if values:
            build.losses.dropped(op.origin.at(field_name), f"{field_name}: Linkerd routes cannot exclude requests; this "
                                                           "operation was left out, so the requests it admitted are now "
                                                           "refused")
            return None
    paths: list[Json | None] = [_authz_path(p) for p in op.paths] if op.paths else [None]
    methods: list[str] = []
    for method in op.methods:
        if method == "*":
            methods = []
            break
        if method in METHODS:
            methods.append(method)
        else:
            build.losses.dropped(op.origin.at("methods"), f"method {method!r} cannot be matched by a Linkerd route; "
                                                          "left out")
    if op.methods and not methods and "*" not in op.methods:
        return None
    hosts = tuple(sorted({h.split(":")[0] for h in op.hosts if h != "*"}))
    if hosts:
        build.losses.approximated(op.origin.at("hosts"), "hosts -> the inbound route's hostnames (matched against the "
                                                         "Host header; ports are ignored)")
    if not op.paths and not methods:
        return OpPlan(None, hosts)
    matches = []
    choices: list[str | None] = list(methods) or [None]
    for path, chosen in itertools.product(paths, choices):
        entry: Json = {}
        if path is not None:
            entry["path"] = path
        if chosen is not None:
            entry["method"] = chosen
        matches.append(entry)
    if all(not m for m in matches):
        return OpPlan(None, hosts)
    return OpPlan([m or {"path": {"type": "PathPrefix", "value": "/"}} for m in matches], hosts)


def _authz_path(pattern: str) -> Json | None:
    """Istio's path patterns: exact, ``prefix*``, ``*suffix``, ``*``, ``{*}``/``{**}`` templates."""
    if pattern == "*":
        return None
    if "{*}" in pattern or "{**}" in pattern:
        parts = pattern.replace("{**}", "\x01").replace("{*}", "\x00")
        regex = "".join("[^/]+" if c == "\x00" else ".*" if c == "\x01" else escape(c) for c in parts)
        return {"type": "RegularExpression", "value": regex}
    if pattern.endswith("*"):
        return {"type": "RegularExpression", "value": f"{escape(pattern[:-1])}.*"}
    if pattern.startswith("*"):
        return {"type": "RegularExpression", "value": f".*{escape(pattern[1:])}"}
    if pattern.startswith("/"):
        return {"type": "Exact", "value": pattern}
    return {"type": "RegularExpression", "value": escape(pattern)}


def _header_conditions(build: Build, rule: AuthorizationRule, label: str) -> list[list[Json]] | None:
    """``when`` on request headers -> header matches (AND of conditions, OR of values);
    None when a condition cannot be checked by Linkerd (the rule is left out)."""
    out: list[list[Json]] = []
    for cond in rule.conditions:
        if cond.key in ("source.namespace", "source.principal", "source.ip", "destination.port") and not cond.not_values:
            continue
        if cond.key.startswith("request.headers[") and cond.key.endswith("]") and cond.values and not cond.not_values:
            name = cond.key[len("request.headers["):-1].lower()
            build.losses.approximated(cond.origin, f"when {cond.key} -> a header match on the inbound route")
            out.append([_header_value(name, v) for v in cond.values])
            continue
        build.losses.dropped(cond.origin, f"when {cond.key} ({label}): Linkerd cannot check this condition; the rule "
                                          "was left out, so the requests it admitted are now refused")
        return None
    return out


def _header_value(name: str, value: str) -> Json:
    if value == "*":
        return {"type": "RegularExpression", "name": name, "value": ".+"}
    if value.endswith("*"):
        return {"type": "RegularExpression", "name": name, "value": f"{escape(value[:-1])}.*"}
    if value.startswith("*"):
        return {"type": "RegularExpression", "name": name, "value": f".*{escape(value[1:])}"}
    return {"type": "Exact", "name": name, "value": value}


def _with_headers(matches: list[Json] | None, headers: list[list[Json]]) -> list[Json] | None:
    if not headers:
        return matches
    combined = []
    for base in matches or [{}]:
        for choice in itertools.product(*headers):
            entry = dict(base)
            entry["headers"] = list(base.get("headers", [])) + list(choice)
            combined.append(entry)
    return combined


def _route(build: Build, plan: ServerPlan, matches: list[Json], hostnames: tuple[str, ...]) -> InboundRoute:
    key = (repr(matches), hostnames)
    found = plan.routes.get(key)
    if found is None:
        name = build.unique("HTTPRoute", plan.namespace, f"{plan.prefix}-{_slug(matches)}")
        found = plan.routes[key] = InboundRoute(name, matches, hostnames)
    return found


def _slug(matches: list[Json]) -> str:
    first = matches[0]
    path = first.get("path", {}).get("value", "")
    words = "".join(c if c.isalnum() else "-" for c in path.lower()).strip("-")
    words = "-".join(w for w in words.split("-") if w)[:30]
    method = first.get("method", "").lower()
    slug = "-".join(p for p in (words, method) if p)
    return slug or "all"


# -- emission ----------------------------------------------------------------------------------

def _emit_server(build: Build, plan: ServerPlan) -> None:
    spec: Json = {"podSelector": {"matchLabels": dict(sorted(plan.selector.items()))} if plan.selector else {},
                  "port": plan.port}
    if plan.protocol:
        spec["proxyProtocol"] = plan.protocol
    spec["accessPolicy"] = plan.access
    build.emit(SERVER_API, "Server", plan.name, plan.namespace, spec, plan.sources)
    server_ref = {"group": POLICY_GROUP, "kind": "Server", "name": plan.name}
    if plan.routes and plan.server_auths:
        catch_all = _route(build, plan, [{"path": {"type": "PathPrefix", "value": "/"}}], ())
        if not catch_all.auths:
            build.losses.approximated(
                build_origin(build, plan), f"Server {plan.name}: rules for any request and rules for some requests "
                                           f"share it; route {catch_all.name} (every path) carries the first, and "
                                           "Linkerd ranks exact and prefix paths above regular expressions")
    if plan.routes:
        _probe_route(build, plan)
        build.losses.approximated(
            build_origin(build, plan), f"Server {plan.name}: requests that match none of its routes now get 404 "
                                       "(Istio: 403)")
    for auth, source in _unique(plan.server_auths):
        _authorization(build, plan, server_ref, plan.name, auth, source)
    for route in plan.routes.values():
        rule: Json = {"matches": route.matches}
        spec = {"parentRefs": [server_ref], "rules": [rule]}
        if route.hostnames:
            spec = {"parentRefs": [server_ref], "hostnames": list(route.hostnames), "rules": [rule]}
        build.emit(POLICY_ROUTE_API, "HTTPRoute", route.name, plan.namespace, spec,
                   sorted({s for _, s in route.auths}) or plan.sources)
        ref = {"group": POLICY_GROUP, "kind": "HTTPRoute", "name": route.name}
        for auth, source in _unique(route.auths):
            _authorization(build, plan, ref, route.name, auth, source)


def build_origin(build: Build, plan: ServerPlan) -> Origin:
    """Where notes about a Server go: the first AuthorizationPolicy it came from."""
    for ap in build.mesh.authorization_policies:
        if source_of("AuthorizationPolicy", ap.namespace, ap.name) in plan.sources:
            return ap.origin
    return plan.workloads[0].origin


def _unique(items: list[tuple[Auth, str]]) -> list[tuple[Auth, str]]:
    seen: dict[Auth, str] = {}
    for auth, source in items:
        seen.setdefault(auth, source)
    return list(seen.items())


def _authorization(build: Build, plan: ServerPlan, target: Json, target_name: str, auth: Auth, source: str) -> None:
    refs = []
    trust = build.mesh.mesh_config.trust_domain
    if auth.atoms is not None:
        name = _authentication(build, plan, "MeshTLSAuthentication", identity_spec(auth, trust), auth.label, source)
        refs.append({"group": POLICY_GROUP, "kind": "MeshTLSAuthentication", "name": name})
    if auth.networks:
        networks = [{"cidr": c, **({"except": list(e)} if e else {})} for c, e in auth.networks]
        name = _authentication(build, plan, "NetworkAuthentication", {"networks": networks}, "networks", source)
        refs.append({"group": POLICY_GROUP, "kind": "NetworkAuthentication", "name": name})
    name = build.unique("AuthorizationPolicy", plan.namespace, f"{target_name}-{auth.label}")
    build.emit(AUTHN_API, "AuthorizationPolicy", name, plan.namespace,
               {"targetRef": target, "requiredAuthenticationRefs": refs}, [source])


def _authentication(build: Build, plan: ServerPlan, kind: str, spec: Json, label: str, source: str) -> str:
    """One authentication object per distinct content in a namespace (shared by policies)."""
    known = build.authentications
    key = (kind, plan.namespace, repr(spec))
    name = known.get(key)
    if name is None:
        name = known[key] = build.unique(kind, plan.namespace, f"{_authn_prefix(plan)}-{label}")
        build.emit(AUTHN_API, kind, name, plan.namespace, spec, [source])
    return name


def _authn_prefix(plan: ServerPlan) -> str:
    for key in _NAME_LABELS:
        if key in plan.selector:
            return plan.selector[key]
    return plan.prefix


def _probe_route(build: Build, plan: ServerPlan) -> None:
    """Kubelet probes on a port with routes: an unauthenticated route for their paths."""
    paths = sorted({p.path for w in plan.workloads for p in http_probes(w) if p.port == plan.number})
    if not paths:
        return
    name = build.unique("HTTPRoute", plan.namespace, f"{plan.prefix}-probes")
    matches = [{"path": {"type": "Exact", "value": path}, "method": "GET"} for path in paths]
    server_ref = {"group": POLICY_GROUP, "kind": "Server", "name": plan.name}
    sources = [_probe_source(w) for w in plan.workloads]
    build.emit(POLICY_ROUTE_API, "HTTPRoute", name, plan.namespace,
               {"parentRefs": [server_ref], "rules": [{"matches": matches}]}, sources)
    network = build.unique("NetworkAuthentication", plan.namespace, f"{plan.prefix}-probes")
    build.emit(AUTHN_API, "NetworkAuthentication", network, plan.namespace,
               {"networks": [{"cidr": c} for c in ALL_NETWORKS]}, sources)
    policy = build.unique("AuthorizationPolicy", plan.namespace, f"{plan.prefix}-probes")
    build.emit(AUTHN_API, "AuthorizationPolicy", policy, plan.namespace,
               {"targetRef": {"group": POLICY_GROUP, "kind": "HTTPRoute", "name": name},
                "requiredAuthenticationRefs": [{"group": POLICY_GROUP, "kind": "NetworkAuthentication",
                                                "name": network}]}, sources)
    build.losses.approximated(
        build_origin(build, plan), f"Server {plan.name} has routes, so Linkerd no longer admits kubelet probes by "
                                   f"itself: added route {name} for GET {', '.join(paths)} from any network (Istio "
                                   "rewrote the probes instead); narrow the CIDRs to the node network if known")


def _probe_source(w: Workload) -> str:
    return source_of(w.kind, w.namespace, w.name)
