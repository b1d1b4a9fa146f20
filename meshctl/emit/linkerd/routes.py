"""VirtualServices -> Service-parented HTTPRoutes (GAMMA) as the chosen Linkerd reads them.

Before (with ``reviews`` a one-port Service and a DestinationRule defining v1/v2)::

    VirtualService reviews.shop  hosts: [reviews]
      http:
      - match: [{headers: {end-user: {exact: jason}}}]
        route: [{destination: {host: reviews, subset: v2}}]
      - route: [{destination: {host: reviews, subset: v1}}]

After::

    HTTPRoute reviews.shop (gateway.networking.k8s.io/v1 for 2.18+, v1beta1 before)
      parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
      rules:
      - matches: [{headers: [{type: Exact, name: end-user, value: jason}]}]
        backendRefs: [{name: reviews-v2, port: 9080, weight: 1}]
      - backendRefs: [{name: reviews-v1, port: 9080, weight: 1}]

One route per parent Service, in the Service's namespace (a producer route, which applies
to every client as the VirtualService did; ``exportTo: [.]`` makes it a consumer route in
the VirtualService's namespace instead). Retry and timeout annotations apply to a whole
route, so rules that differ in them are split into several HTTPRoutes. Linkerd drops a
whole route whose filter it does not support, so rewrites, mirrors, CORS and faults are
never written: they are reported. A rule left without backends is not written either,
because Linkerd would send its requests to the parent Service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshctl.emit.linkerd import retries
from meshctl.emit.linkerd.context import Build, source_of
from meshctl.emit.linkerd.matches import Matches, reordered, rule_matches
from meshctl.emit.manifests import Json
from meshctl.model import hosts
from meshctl.model.objects import Backend, Route, RouteRule, Service
from meshctl.model.traffic import HeaderOps, Redirect

MAX_RULES = 16  # Gateway API: rules per HTTPRoute
Grants = dict[tuple[str, str], set[tuple[str, str]]]  # (backend ns, route ns) -> {(Service, source)}
REFERENCE_GRANT_API = "gateway.networking.k8s.io/v1beta1"


@dataclass
class Parent:
    """A Service a VirtualService host names (``service`` None: not among the inputs)."""

    name: str
    namespace: str
    fqdn: str
    service: Service | None


@dataclass
class RulePlan:
    """What a VirtualService rule becomes, before its backends are resolved per parent port."""

    rule: RouteRule
    matches: Matches
    filters: list[Json]
    resilience: retries.Resilience
    redirect: bool


@dataclass
class Group:
    annotations: tuple[tuple[str, str], ...]
    port: int | None
    plans: list[RulePlan] = field(default_factory=list)


def virtual_services(build: Build) -> list[Route]:
    """The VirtualServices to translate, in a stable order."""
    return sorted(
        (r for r in build.mesh.routes if r.source_kind == "VirtualService" and build.wanted(r.origin)),
        key=lambda r: (r.namespace, r.name),
    )


def http_routes(build: Build) -> None:
    grants: Grants = {}
    for vs in virtual_services(build):
        _virtual_service(build, vs, grants)
    for (backend_ns, route_ns), wanted in sorted(grants.items()):
        names = {name for name, _ in wanted}
        build.emit(
            REFERENCE_GRANT_API, "ReferenceGrant", build.unique("ReferenceGrant", backend_ns, f"httproutes-from-{route_ns}"),
            backend_ns,
            {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": route_ns}],
             "to": [{"group": "", "kind": "Service", "name": name} for name in sorted(names)]},
            sorted({source for _, source in wanted}),
        )


def report_unrouted_kinds(build: Build, vs: Route) -> None:
    """Ingress gateways and TCP/TLS rules: what the mesh HTTPRoutes do not carry."""
    for parent in vs.parents:
        if parent.kind != "mesh":
            done = ("the rules were translated for mesh traffic only" if vs.binds_mesh
                    else "the VirtualService was not translated")
            build.losses.dropped(
                parent.origin, f"gateway {parent.namespace}/{parent.name}: Linkerd has no ingress; {done} (translate "
                               "the Gateway with --to gateway-api for an ingress controller and mesh its pods)")
    for rule in vs.rules:
        if rule.protocol in ("tcp", "tls"):
            build.losses.dropped(
                rule.origin, f"{rule.protocol} route: not translated (Linkerd balances TCP per connection; "
                             f"{'TCPRoute' if rule.protocol == 'tcp' else 'TLSRoute'} is experimental and for "
                             "egress and opaque Services)")


def parents_of(build: Build, vs: Route) -> list[Parent]:
    out: dict[str, Parent] = {}
    for host, origin in zip(vs.hosts, vs.host_origins):
        fqdn = hosts.fqdn(host, vs.namespace, build.mesh.domain)
        service = build.service_of(fqdn)
        if service is not None:
            out.setdefault(fqdn, Parent(service.name, service.namespace, fqdn, service))
            continue
        split = hosts.split_service_fqdn(fqdn, build.mesh.domain)
        if split is None or build.mesh.entries_for(fqdn):
            build.losses.dropped(origin, f"host {host!r} is not a Kubernetes Service: Linkerd routes only by Service "
                                         "(or EgressNetwork); not translated")
            continue
        out.setdefault(fqdn, Parent(split[0], split[1], fqdn, None))
    return list(out.values())


def _virtual_service(build: Build, vs: Route, grants: Grants) -> None:
    report_unrouted_kinds(build, vs)
    http = [r for r in vs.rules if r.protocol == "http"]
    if not vs.binds_mesh or not http:
        return
    parents = parents_of(build, vs)
    if not parents:
        return
    plans = [p for p in (_plan(build, rule) for rule in http) if p is not None]
    _order_losses(build, plans)
    for parent in parents:
        build.touched.add(parent.fqdn)
        _shadowing_profile(build, vs, parent)
        _parent_routes(build, vs, parent, plans, len(parents) > 1, grants)


def _plan(build: Build, rule: RouteRule) -> RulePlan | None:
    losses = build.losses
    if rule.delegate is not None:
        losses.dropped(rule.origin.at("delegate"), f"delegate {rule.delegate}: delegated VirtualServices are not "
                                                   "inlined; this rule was left out")
        return None
    if rule.direct_response is not None:
        losses.dropped(rule.direct_response.origin, "directResponse: Linkerd cannot answer from the proxy (route to a "
                                                    "small static-response Service instead); this rule was left out")
        return None
    matches = rule_matches(build, rule)
    if not matches.applies:
        if matches.unexpressible:
            losses.dropped(rule.origin, "no match of this rule can be expressed for Linkerd; the rule was left out")
        return None
    if rule.name:
        losses.approximated(rule.origin.at("name"), f"rule name {rule.name!r} is not emitted (rules[].name is "
                                                    "experimental before Gateway API 1.4, newer than Linkerd reads)")
    filters = _filters(build, rule)
    for mirror in rule.mirrors:
        losses.dropped(mirror.origin, "mirror: Linkerd has no request mirroring (a RequestMirror filter would make "
                                      "Linkerd ignore the whole route); not translated")
    if rule.rewrite is not None:
        losses.dropped(rule.rewrite.origin, "rewrite: Linkerd does not support URLRewrite (the filter would make "
                                            "Linkerd ignore the whole route); rewrite in the application or ingress")
    if rule.cors is not None:
        effect = ("ignore the whole route" if build.at_least("2.20")
                  else "reject the route at admission")
        losses.dropped(rule.cors.origin, f"corsPolicy: Linkerd has no CORS support (a CORS filter makes Linkerd "
                                         f"{build.options.linkerd_version} {effect}); handle CORS in the application")
    fault = rule.fault
    if fault is not None:
        if fault.abort_status is not None or fault.abort_grpc is not None:
            losses.dropped(fault.origin.at("abort"), "fault.abort: not translated; Linkerd's fault-injection pattern "
                                                     "is a weighted backendRef to an error-returning Service you "
                                                     "deploy")
        if fault.delay is not None or fault.exponential_delay is not None:
            losses.dropped(fault.origin.at("delay"), "fault.delay: Linkerd cannot inject delays; not translated")
    return RulePlan(rule, matches, filters, retries.resilience(build, rule), rule.redirect is not None)


def _filters(build: Build, rule: RouteRule) -> list[Json]:
    out = header_filters(rule.header_changes)
    if rule.redirect is not None:
        out.append(_redirect(build, rule.redirect))
    return out


def header_filters(ops: HeaderOps | None) -> list[Json]:
    """Istio ``headers`` -> Request/ResponseHeaderModifier (set, add and remove mean the same)."""
    if not ops:
        return []
    out = []
    for kind, key, set_, add, remove in (
        ("RequestHeaderModifier", "requestHeaderModifier", ops.request_set, ops.request_add, ops.request_remove),
        ("ResponseHeaderModifier", "responseHeaderModifier", ops.response_set, ops.response_add, ops.response_remove),
    ):
        modifier: Json = {}
        if set_:
            modifier["set"] = [{"name": n, "value": v} for n, v in set_]
        if add:
            modifier["add"] = [{"name": n, "value": v} for n, v in add]
        if remove:
            modifier["remove"] = list(remove)
        if modifier:
            out.append({"type": kind, key: modifier})
    return out


def _redirect(build: Build, redirect: Redirect) -> Json:
    """Istio's redirect -> RequestRedirect; the status code is always written (Istio's
    default is 301, Gateway API's 302)."""
    losses = build.losses
    spec: Json = {}
    if redirect.scheme:
        spec["scheme"] = redirect.scheme
    if redirect.authority:
        host, _, port = redirect.authority.partition(":")
        spec["hostname"] = host
        if port.isdigit() and redirect.port is None:
            spec["port"] = int(port)
    if redirect.uri:
        spec["path"] = {"type": "ReplaceFullPath", "replaceFullPath": redirect.uri}
        losses.approximated(redirect.origin.at("uri"), "redirect.uri -> ReplaceFullPath: Linkerd does not claim "
                                                       "conformance for path redirects; check it")
    if redirect.port is not None:
        spec["port"] = redirect.port
    elif redirect.derive_port:
        losses.approximated(redirect.origin.at("derivePort"), "derivePort FROM_REQUEST_PORT: the port is left out, so "
                                                              "the request's port is kept unless the scheme changes")
    code = redirect.code or 301
    if code not in (301, 302):
        mapped = 301 if code == 308 else 302
        losses.approximated(redirect.origin.at("redirectCode"), f"redirectCode {code}: Gateway API before 1.5 allows "
                                                                f"only 301 and 302; {mapped} was used")
        code = mapped
    spec["statusCode"] = code
    return {"type": "RequestRedirect", "requestRedirect": spec}


def _order_losses(build: Build, plans: list[RulePlan]) -> None:
    """Istio takes the first rule that matches; Gateway API the most specific one."""
    for j, later in enumerate(plans):
        for earlier in plans[:j]:
            if reordered(earlier.matches.entries, later.matches.entries):
                regex = any(e.get("path", {}).get("type") == "RegularExpression" for e in earlier.matches.entries)
                build.losses.approximated(
                    later.rule.origin,
                    f"rule {later.rule.index} outranks rule {earlier.rule.index} under Gateway API precedence for "
                    f"requests both match: Istio's first-match order sends those to rule {earlier.rule.index}, "
                    "Gateway API to this one"
                    + (" (a regular-expression path ranks below every prefix)" if regex else ""))
                break


def _shadowing_profile(build: Build, vs: Route, parent: Parent) -> None:
    for profile in build.mesh.service_profiles:
        if profile.name == parent.fqdn and not build.options.profile:
            build.losses.dropped(
                vs.origin, f"ServiceProfile {profile.name} (namespace {profile.namespace}) exists: while it does, "
                           "Linkerd ignores HTTPRoutes, retry/timeout annotations and failure accrual for "
                           f"{parent.name}; delete it when applying this translation")


def _parent_routes(
    build: Build, vs: Route, parent: Parent, plans: list[RulePlan], several_parents: bool,
    grants: Grants,
) -> None:
    consumer = parent.namespace != vs.namespace and vs.export_to in ((".",), (vs.namespace,))
    route_ns = vs.namespace if consumer else parent.namespace
    if vs.export_to and not consumer and set(vs.export_to) != {"*"}:
        build.losses.approximated(vs.origin.at("spec", "exportTo"),
                                  f"exportTo {list(vs.export_to)}: the HTTPRoute is a producer route in namespace "
                                  f"{route_ns} and applies to every client")
    groups: dict[tuple[tuple[tuple[str, str], ...], int | None], Group] = {}
    for plan in plans:
        ports = plan.matches.ports
        port = next(iter(ports)) if len(ports) == 1 else None
        if len(ports) > 1:
            build.losses.approximated(plan.rule.origin, "match.port differs between the alternatives of this rule; "
                                                        "the port condition was dropped")
        if port is not None and parent.service is not None and parent.service.port(port) is None:
            continue  # the rule matches a port this Service does not have
        key = (plan.resilience.annotations, port)
        groups.setdefault(key, Group(plan.resilience.annotations, port)).plans.append(plan)
    if not groups:
        return
    if len({g.annotations for g in groups.values()}) > 1:
        build.losses.approximated(
            vs.origin.at("spec", "http"),
            "rules differ in retries or timeout: Linkerd reads these from route annotations, so the rules were split "
            "into several HTTPRoutes; for a request that rules of two routes match equally, Linkerd prefers the "
            "older route (then the name), not the rule order")
    base = vs.name if not several_parents or parent.name == vs.name else f"{vs.name}-{parent.name}"
    numbered = len(groups) > 1
    source = source_of("VirtualService", vs.namespace, vs.name)
    for n, group in enumerate(groups.values(), start=1):
        name = f"{base}-{n}" if numbered else base
        for parent_port in _parent_ports(parent, group):
            route_name = name if parent_port is None or len(_parent_ports(parent, group)) == 1 else f"{name}-{parent_port}"
            rules = [r for r in (_rule(build, plan, parent, parent_port, route_ns, grants, source) for plan in group.plans)
                     if r]
            if not rules:
                continue
            chunks = [rules[i:i + MAX_RULES] for i in range(0, len(rules), MAX_RULES)]
            if len(chunks) > 1:
                build.losses.approximated(vs.origin.at("spec", "http"), f"more than {MAX_RULES} rules: split into "
                                                                        f"{len(chunks)} HTTPRoutes (Gateway API limit)")
            for c, chunk in enumerate(chunks, start=1):
                ref: Json = {"group": "", "kind": "Service", "name": parent.name}
                if parent.namespace != route_ns:
                    ref["namespace"] = parent.namespace
                if parent_port is not None:
                    ref["port"] = parent_port
                final = route_name if len(chunks) == 1 else f"{route_name}-part{c}"
                build.emit(build.http_route_api, "HTTPRoute", build.unique("HTTPRoute", route_ns, final), route_ns,
                           {"parentRefs": [ref], "rules": chunk}, [source], annotations=dict(group.annotations))


def _parent_ports(parent: Parent, group: Group) -> list[int | None]:
    """The parentRef ports: the match's, the only port, or (when a backend leaves its port
    out and the Service has several) one route per port, as Istio keeps the request's port."""
    if group.port is not None:
        return [group.port]
    service = parent.service
    if service is None or not service.ports:
        return [None]
    if len(service.ports) == 1:
        return [service.ports[0].port]
    implicit = any(b.port is None for plan in group.plans for b in plan.rule.backends)
    return [p.port for p in service.ports] if implicit else [None]


def _rule(
    build: Build, plan: RulePlan, parent: Parent, parent_port: int | None, route_ns: str,
    grants: Grants, source: str,
) -> Json | None:
    out: Json = {}
    if plan.matches.entries:
        out["matches"] = plan.matches.entries
    if plan.filters:
        out["filters"] = plan.filters
    if not plan.redirect:
        backends = plan.rule.backends
        refs = [r for r in (_backend(build, b, len(backends), parent, parent_port, route_ns, grants, source)
                             for b in backends) if r]
        if not refs:
            build.losses.dropped(plan.rule.origin, "no destination of this rule could be translated; the rule was left "
                                                   "out (Linkerd would send its requests to the parent Service)")
            return None
        out["backendRefs"] = refs
    timeout = plan.resilience.request_timeout
    if timeout is not None and build.route_timeouts_field:
        out["timeouts"] = {"request": timeout}
    return out


def _backend(
    build: Build, b: Backend, count: int, parent: Parent, parent_port: int | None, route_ns: str,
    grants: Grants, source: str,
) -> Json | None:
    losses = build.losses
    service = build.service_of(b.fqdn)
    if service is not None:
        name, namespace = service.name, service.namespace
    else:
        split = hosts.split_service_fqdn(b.fqdn, build.mesh.domain)
        if split is None or build.mesh.entries_for(b.fqdn):
            losses.dropped(b.host_origin, f"destination {b.host!r} is not a Kubernetes Service: Linkerd backendRefs "
                                          "name Services; this destination was left out")
            return None
        name, namespace = split
    if b.subset:
        generated = build.subset_services.get((b.fqdn, b.subset))
        if generated is None:
            losses.dropped(b.origin.at("destination", "subset"),
                           f"subset {b.subset!r} of {b.host} is defined by no DestinationRule of the inputs, so there "
                           "is no per-subset Service to send to; this destination was left out")
            return None
        name = generated
    port = b.port
    if port is None:
        if parent_port is not None and (b.fqdn == parent.fqdn or (service is not None and service.port(parent_port))):
            port = parent_port
        elif service is not None and len(service.ports) == 1:
            port = service.ports[0].port
    if port is None:
        losses.dropped(b.origin, f"destination {b.host!r} has no port and {name} has no single port: Linkerd needs a "
                                 "backendRef port; this destination was left out (set destination.port)")
        return None
    build.touched.add(b.fqdn)
    ref: Json = {"name": name}
    if namespace != route_ns:
        ref["namespace"] = namespace
        grants.setdefault((namespace, route_ns), set()).add((name, source))
    ref["port"] = port
    ref["weight"] = 1 if count == 1 else (b.weight if b.weight is not None else 0)
    filters = header_filters(b.headers)
    if filters:
        ref["filters"] = filters
    return ref
