"""ServiceProfiles and SMI TrafficSplits -> VirtualServices (and a DestinationRule retry budget).

A profile named ``<svc>.<ns>.svc.<domain>`` describes Service ``svc``; its routes are tried
in order and the first that matches wins, as Istio's ``http[]``::

    routes:                                  http:
    - name: GET /api/list                    - name: GET /api/list
      condition: {method: GET,         ->      match: [{method: {exact: GET}, uri: {regex: /api/list}}]
                  pathRegex: /api/list}        route: [{destination: {host: web-svc.emojivoto.svc.cluster.local}}]
      isRetryable: true                        retries: {attempts: 2, retryOn: 5xx}
      timeout: 500ms                           timeout: 500ms
                                             - route: [...]                  # requests no route matches
                                               retries: {attempts: 0}

Conditions are put in disjunctive form: ``any`` gives several matches, ``all`` one match
with every field (two path regexes cannot be ANDed: the first is kept, reported), ``not``
of a method the other methods, ``not`` of a path regex a *guard* entry before the route
that sends those requests where no route would. Retries: Linkerd retries a retryable
route within a budget (``retryRatio`` of the requests plus ``minRetriesPerSecond``, over
``ttl``); Istio counts attempts per request. A retryable route gets ``attempts: 2`` on the
statuses its response classes call failures (default: 5xx), and the budget becomes the
DestinationRule's ``trafficPolicy.retryBudget`` (``percent = retryRatio x 100``,
``minRetryConcurrency = minRetriesPerSecond``; Istio 1.27+). Every other entry gets
``attempts: 0``: Istio would retry it, Linkerd does not. ``dstOverrides`` (or the
TrafficSplit of the Service, which linkerd-smi writes into the profile) become the weighted
destinations of every entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from meshctl.emit.istio.build import NETWORKING, Build, source_of
from meshctl.emit.istio.destinations import service_destination
from meshctl.emit.istio.values import (
    istio_duration,
    port_tokens,
    proportional,
    quantity,
    shares,
    status_text,
)
from meshctl.emit.manifests import Json
from meshctl.model import hosts
from meshctl.model.objects import (
    ProfileCondition,
    ProfileRoute,
    Protocol,
    Service,
    ServiceProfile,
    TrafficSplit,
)
from meshctl.model.origin import Origin

DEFAULT_ATTEMPTS = 2
DEFAULT_BUDGET = (0.2, 10, "10s")  # retryRatio, minRetriesPerSecond, ttl (Linkerd's defaults)
METHODS = ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")
MAX_TERMS = 64


@dataclass(frozen=True)
class Literal:
    field: str  # method | path
    value: str
    positive: bool


Term = tuple[Literal, ...]  # a conjunction


# -- which Services are described --------------------------------------------------------
def profile_service(build: Build, profile: ServiceProfile) -> tuple[str, str] | None:
    return hosts.split_service_fqdn(profile.name, build.mesh.domain)


def _profiles(build: Build) -> list[ServiceProfile]:
    if not build.takes_linkerd:
        return []
    return sorted((p for p in build.mesh.service_profiles if build.wanted(p.origin)),
                  key=lambda p: (p.namespace, p.name))


def _splits(build: Build) -> list[TrafficSplit]:
    if not build.takes_linkerd:
        return []
    return sorted((s for s in build.mesh.traffic_splits if build.wanted(s.origin)), key=lambda s: (s.namespace, s.name))


def shadowing(build: Build) -> dict[str, str]:
    """Service FQDN -> the producer profile or TrafficSplit that makes Linkerd ignore its routes,
    retry/timeout annotations and failure accrual."""
    out: dict[str, str] = {}
    for profile in _profiles(build):
        found = profile_service(build, profile)
        if found is not None and found[1] == profile.namespace:
            out[build.fqdn(*found)] = f"ServiceProfile {profile.namespace}/{profile.name}"
    for split in _splits(build):
        out.setdefault(build.fqdn(split.service, split.namespace), f"TrafficSplit {split.namespace}/{split.name}")
    return out


def translate_profiles(build: Build) -> set[str]:
    """Emit a VirtualService per profile and per TrafficSplit without one; returns their hosts."""
    splits = {build.fqdn(s.service, s.namespace): s for s in _splits(build)}
    used: set[str] = set()
    covered: set[str] = set()
    for profile in _profiles(build):
        found = profile_service(build, profile)
        if found is None:
            build.losses.dropped(profile.origin.at("metadata", "name"), "the name is not <service>.<namespace>.svc."
                                 f"{build.mesh.domain}, so Linkerd never uses this profile; not translated")
            continue
        fqdn = build.fqdn(*found)
        split = splits.get(fqdn) if found[1] == profile.namespace else None
        if split is not None:
            used.add(fqdn)
        if _profile(build, profile, fqdn, split):
            covered.add(fqdn)
    for fqdn, split in sorted(splits.items()):
        if fqdn not in used and _split_only(build, split, fqdn):
            covered.add(fqdn)
    return covered


def _conflict(build: Build, fqdn: str, origin: Origin) -> bool:
    if fqdn in build.istio_mesh_hosts:
        build.losses.dropped(origin, f"an Istio VirtualService of the inputs already routes {fqdn}; a second one "
                             "would conflict, so this is not translated")
        return True
    return False


def _profile(build: Build, profile: ServiceProfile, fqdn: str, split: TrafficSplit | None) -> bool:
    service = build.service_at(fqdn)
    source = source_of("ServiceProfile", profile.namespace, profile.name)
    _opaque_ports(build, profile, service, source)
    if not profile.routes and not profile.dst_overrides and split is None:
        build.losses.approximated(profile.origin, "a ServiceProfile without routes or dstOverrides only turns off "
                                  "Linkerd's route-based configuration for the Service; nothing to emit")
        return False
    if _conflict(build, fqdn, profile.origin):
        return False
    sources = [source]
    if profile.dst_overrides:
        destinations = _overrides(build, profile, service, source)
    elif split is not None:
        sources.append(source_of("TrafficSplit", split.namespace, split.name))
        destinations = _split_destinations(build, split, service, source)
    else:
        destinations = [{"destination": _default(build, fqdn, service, source)}]
    http: list[Json] = []
    retryable = False
    for i, route in enumerate(profile.routes):
        entries, retried = _route(build, route, destinations, later=i < len(profile.routes) - 1)
        http += entries
        retryable = retryable or retried
    http.append({"route": destinations, "retries": {"attempts": 0}})
    consumer = service is not None and profile.namespace != service.namespace
    spec: Json = {"hosts": [fqdn], "http": http}
    if consumer:
        spec["exportTo"] = ["."]
        build.losses.approximated(profile.origin, "a profile in the client's namespace applies to its clients "
                                  "only: the VirtualService is exported to its namespace alone")
    name = service.name if service else fqdn.split(".")[0]
    build.emit(NETWORKING, "VirtualService", build.unique("VirtualService", profile.namespace, name),
               profile.namespace, spec, sources)
    if retryable:
        _budget(build, profile, fqdn, service, source, consumer)
    elif profile.retry_budget is not None:
        build.losses.approximated(profile.retry_budget.origin, "no route of the profile is retryable; the retry "
                                  "budget has nothing to bound")
    return True


def _default(build: Build, fqdn: str, service: Service | None, source: str) -> Json:
    port = service.ports[0].port if service is not None and len(service.ports) == 1 else None
    return {"host": fqdn, **({"port": {"number": port}} if port is not None else {})}


def _route(build: Build, route: ProfileRoute, destinations: list[Json], later: bool) -> tuple[list[Json], bool]:
    """The entries of one profile route (guards first), and whether it retries."""
    body: Json = {"name": route.name} if route.name else {}
    body["route"] = destinations
    timeout = istio_duration(route.timeout) if route.timeout else None
    if route.timeout and timeout is None:
        build.losses.dropped(route.origin.at("timeout"), f"timeout {route.timeout!r} is not a duration; not "
                             "translated")
    if timeout:
        body["timeout"] = timeout
    retried = False
    if route.is_retryable:
        codes = _failures(route)
        if codes:
            body["retries"] = {"attempts": DEFAULT_ATTEMPTS, "retryOn": status_text(codes)}
            retried = True
            if "5xx" in status_text(codes).split(","):
                build.losses.approximated(route.origin.at("isRetryable"), "Envoy's retryOn 5xx also retries connect "
                                          "failures and resets; Linkerd retries failed responses only")
        else:
            build.losses.approximated(route.origin.at("responseClasses"), "no status is a failure for this route's "
                                      "response classes, so nothing is retried")
            body["retries"] = {"attempts": 0}
    else:
        body["retries"] = {"attempts": 0}
    terms = _terms(build, route)
    out: list[Json] = []
    matches: list[Json] = []
    for term in terms:
        match, guards = _term(build, route, term, later)
        if match is None:
            continue
        for guard in guards:
            out.append({"match": [guard], "route": destinations, "retries": {"attempts": 0}})
        matches.append(match)
    if not terms:
        return [], False
    if not matches:
        build.losses.approximated(route.origin.at("condition"), "the condition matches no request; the route is "
                                  "left out")
        return out, False
    if all(matches):  # an empty match is every request: no match field then
        body = {"match": matches, **body}
    return [*out, body], retried


def _failures(route: ProfileRoute) -> set[int]:
    """Statuses the route classifies as failures: the first matching class decides, else 5xx."""
    out = set()
    for status in range(100, 600):
        failed = status >= 500
        for cls in route.response_classes:
            if cls.condition is None or cls.condition.matches(status):
                failed = cls.is_failure
                break
        if failed:
            out.add(status)
    return out


# -- conditions ----------------------------------------------------------------------------
def _terms(build: Build, route: ProfileRoute) -> list[Term]:
    if route.condition is None:
        return [()]
    terms = list(_dnf(route.condition, True))
    if len(terms) > MAX_TERMS:
        build.losses.dropped(route.origin.at("condition"), f"the condition expands to {len(terms)} alternatives; "
                             f"only the first {MAX_TERMS} are translated")
        terms = terms[:MAX_TERMS]
    return terms


def _and(parts: list[list[Term]]) -> list[Term]:
    return [tuple(lit for term in combo for lit in term) for combo in product(*parts)]


def _dnf(cond: ProfileCondition, positive: bool) -> list[Term]:
    """The condition (or its negation) as alternatives of conjunctions of literals."""
    parts: list[list[Term]] = []
    if cond.method is not None:
        parts.append([(Literal("method", cond.method.upper(), positive),)])
    if cond.path_regex is not None:
        parts.append([(Literal("path", cond.path_regex, positive),)])
    for sub in cond.all:
        parts.append(_dnf(sub, positive))
    if cond.any:
        parts.append([t for sub in cond.any for t in _dnf(sub, positive)] if positive
                     else _and([_dnf(sub, False) for sub in cond.any]))
    if cond.negated is not None:
        parts.append(_dnf(cond.negated, not positive))
    if positive:
        return _and(parts)
    # not(a and b and ...) = not a or not b or ...
    return [t for part in parts for t in part] if parts else []


def _term(build: Build, route: ProfileRoute, term: Term, later: bool) -> tuple[Json | None, list[Json]]:
    """One Istio match for a conjunction, and the guard matches that must precede it."""
    methods = {l.value for l in term if l.field == "method" and l.positive}
    excluded = {l.value for l in term if l.field == "method" and not l.positive}
    paths = [l.value for l in term if l.field == "path" and l.positive]
    negated = [l.value for l in term if l.field == "path" and not l.positive]
    match: Json = {}
    if len(methods) > 1 or methods & excluded:
        return None, []
    if methods:
        match["method"] = {"exact": methods.pop()}
    elif excluded:
        allowed = [m for m in METHODS if m not in excluded]
        if not allowed:
            return None, []
        match["method"] = {"regex": "|".join(allowed)}
        build.losses.approximated(route.origin.at("condition"), "a negated method matches the other standard "
                                  f"methods ({', '.join(allowed)}); extension methods are not matched")
    if paths:
        match["uri"] = {"regex": paths[0]}
        if len(set(paths)) > 1:
            build.losses.approximated(route.origin.at("condition"), "an Istio match takes one path regex; of the "
                                      f"ANDed pathRegex values only {paths[0]!r} is kept")
    guards = []
    for regex in negated:
        if paths:
            build.losses.dropped(route.origin.at("condition"), f"'not pathRegex {regex!r}' together with a path "
                                 "regex cannot be expressed; the negation is not translated")
            continue
        guards.append({**{k: v for k, v in match.items() if k != "uri"}, "uri": {"regex": regex}})
        if later:
            build.losses.approximated(route.origin.at("condition"), f"'not pathRegex {regex!r}' became an earlier "
                                      "entry sending those requests to the default route; later routes of the "
                                      "profile no longer see them")
    return match, guards


# -- destinations --------------------------------------------------------------------------
def _weighted(build: Build, items: list[tuple[str, int | None, str, Origin]], service: Service | None,
              source: str, what: str) -> list[Json]:
    parsed = []
    for host, port, weight, origin in items:
        value = quantity(weight)
        if value is None:
            build.losses.dropped(origin, f"weight {weight!r} is not a Kubernetes quantity; the {what} is left out")
            continue
        if value > 0:
            parsed.append((service_destination(build, host, port, service, source), value))
    if not parsed:
        return [{"destination": {"host": service.fqdn if service else items[0][0]}}] if items else []
    out = [{"destination": d} for d, _ in parsed]
    if len(out) > 1:
        weights = [w for _, w in parsed]
        rounded = shares(weights)
        if not proportional(weights, rounded):
            build.losses.approximated(items[0][3], "weights " + ":".join(str(w) for w in weights)
                                      + " are written as shares of 100: " + "/".join(map(str, rounded)))
        for item, share in zip(out, rounded):
            item["weight"] = share
    return out


def _overrides(build: Build, profile: ServiceProfile, service: Service | None, source: str) -> list[Json]:
    items = []
    for override in profile.dst_overrides:
        host, port = override.authority, ""
        if ":" in override.authority:
            host, _, port = override.authority.rpartition(":")
        namespace = service.namespace if service else profile.namespace
        items.append((hosts.fqdn(host, namespace, build.mesh.domain), int(port) if port.isdigit() else None,
                      override.weight, override.origin))
    return _weighted(build, items, service, source, "override")


def _split_destinations(build: Build, split: TrafficSplit, apex: Service | None, source: str) -> list[Json]:
    items = []
    origins = split.backend_origins or tuple(split.origin for _ in split.backends)
    for (name, weight), origin in zip(split.backends, origins):
        fqdn = build.fqdn(name, split.namespace)
        items.append((fqdn, _split_port(build, fqdn, apex), weight, origin))
    return _weighted(build, items, apex, source, "backend")


def _split_port(build: Build, fqdn: str, apex: Service | None) -> int | None:
    backend = build.service_at(fqdn)
    if backend is not None and len(backend.ports) == 1:
        return backend.ports[0].port
    if apex is not None and len(apex.ports) == 1 and (backend is None or backend.port(apex.ports[0].port)):
        return apex.ports[0].port
    return None


def _split_only(build: Build, split: TrafficSplit, fqdn: str) -> bool:
    if _conflict(build, fqdn, split.origin):
        return False
    apex = build.service_at(fqdn)
    source = source_of("TrafficSplit", split.namespace, split.name)
    destinations = _split_destinations(build, split, apex, source)
    if not destinations:
        build.losses.dropped(split.origin, "the TrafficSplit has no backends; not translated")
        return False
    spec: Json = {"hosts": [fqdn]}
    tcp = apex is not None and bool(apex.ports) and all(
        not p.mesh_protocol.is_http and p.mesh_protocol is not Protocol.UNKNOWN for p in apex.ports)
    if tcp:
        spec["tcp"] = [{"route": destinations}]
    else:
        spec["http"] = [{"route": destinations, "retries": {"attempts": 0}}]
    name = apex.name if apex else split.service
    build.emit(NETWORKING, "VirtualService", build.unique("VirtualService", split.namespace, name),
               split.namespace, spec, [source])
    return True


# -- the budget and opaque ports ------------------------------------------------------------
def _budget(build: Build, profile: ServiceProfile, fqdn: str, service: Service | None, source: str,
            consumer: bool) -> None:
    budget = profile.retry_budget
    ratio, per_second, ttl = DEFAULT_BUDGET
    if budget is not None:
        ratio = budget.retry_ratio if budget.retry_ratio is not None else ratio
        per_second = budget.min_retries_per_second if budget.min_retries_per_second is not None else per_second
        ttl = budget.ttl or ttl
    where = budget.origin if budget is not None else profile.origin
    percent = min(100.0, round(ratio * 100, 6))
    if consumer:
        build.losses.dropped(where, "the retry budget of a client-side profile is not translated (a DestinationRule "
                             "applies to every client)")
        return
    draft = build.destination_rule(fqdn, service.namespace if service else profile.namespace, source)
    if draft is None:
        build.losses.dropped(where, f"an Istio DestinationRule of the inputs already configures {fqdn}; the retry "
                             "budget is not translated")
        return
    draft.traffic_policy["retryBudget"] = {"percent": percent, "minRetryConcurrency": per_second}
    build.losses.approximated(where, f"Linkerd's retry budget (ratio {ratio:g}, {per_second} retries/s, ttl {ttl}) "
                              f"became attempts: {DEFAULT_ATTEMPTS} per request and a DestinationRule retryBudget of "
                              f"{percent:g}% of active requests with minRetryConcurrency {per_second} (Istio 1.27+); "
                              "a rate is now a concurrency and the ttl has no equivalent")


def _opaque_ports(build: Build, profile: ServiceProfile, service: Service | None, source: str) -> None:
    if not profile.opaque_ports:
        return
    where = profile.opaque_ports_origin or profile.origin
    if service is None:
        build.losses.dropped(where, "opaquePorts of a Service that is not among the inputs; not translated")
        return
    ranges, names = port_tokens(",".join(profile.opaque_ports))
    for port in service.ports:
        if any(low <= port.port <= high for low, high in ranges) or port.name in names:
            build.service_draft(service, source).app_protocols[port.port] = "tcp"
            build.losses.approximated(where, f"port {port.port} of Service {service.namespace}/{service.name} gets "
                                      "appProtocol tcp: Istio then proxies it without protocol detection, as "
                                      "Linkerd's opaque ports")
