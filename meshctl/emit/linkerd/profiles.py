"""``--profile``: VirtualServices -> ServiceProfiles, for clusters that still use them.

Before (§5.1 of the reference)::

    VirtualService reviews.shop: one rule, 80/20 to subsets v1/v2, timeout 3s,
      retries {attempts: 2, perTryTimeout: 1s, retryOn: 5xx}

After::

    ServiceProfile reviews.shop.svc.cluster.local (linkerd.io/v1alpha2)
      routes: [{name: http-0, condition: {pathRegex: ".*"}, timeout: 3s, isRetryable: true}]
      retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}
      dstOverrides: [{authority: reviews-v1.shop.svc.cluster.local:9080, weight: 80}, ...v2 20]

A ServiceProfile route matches only path (an anchored regex) and method, first match
wins as in Istio; it can say whether requests are retryable and their timeout, nothing
per route about where they go: ``dstOverrides`` split every request of the Service. So
header and query matches, per-rule destinations, header changes, redirects, per-try
timeouts and attempt counts (Linkerd retries within a budget) are reported. While a
ServiceProfile exists Linkerd ignores HTTPRoutes and disables failure accrual for the
Service, so neither is emitted.
"""

from __future__ import annotations

import re

from meshctl.emit.linkerd.context import PROFILE_API, Build, source_of
from meshctl.emit.linkerd.durations import linkerd_duration
from meshctl.emit.linkerd.matches import METHODS, escape
from meshctl.emit.linkerd.retries import duration
from meshctl.emit.linkerd.routes import Parent, parents_of, report_unrouted_kinds, virtual_services
from meshctl.emit.manifests import Json
from meshctl.model.objects import MatchType, RequestMatch, Route, RouteRule

BUDGET = {"retryRatio": 0.2, "minRetriesPerSecond": 10, "ttl": "10s"}  # Linkerd's defaults, written out


def service_profiles(build: Build) -> None:
    profiles: dict[str, tuple[Parent, Json, list[str]]] = {}
    for vs in virtual_services(build):
        report_unrouted_kinds(build, vs)
        http = [r for r in vs.rules if r.protocol == "http"]
        if not vs.binds_mesh or not http:
            continue
        source = source_of("VirtualService", vs.namespace, vs.name)
        for parent in parents_of(build, vs):
            build.touched.add(parent.fqdn)
            _, spec, sources = profiles.setdefault(parent.fqdn, (parent, {"routes": []}, []))
            sources.append(source)
            _profile(build, vs, parent, http, spec)
    for fqdn, (parent, spec, sources) in sorted(profiles.items()):
        if not spec["routes"]:
            del spec["routes"]
        build.emit(PROFILE_API, "ServiceProfile", fqdn, parent.namespace, spec, sources)


def _profile(build: Build, vs: Route, parent: Parent, rules: list[RouteRule], spec: Json) -> None:
    losses = build.losses
    splits: list[tuple[RouteRule, list[Json]]] = []
    for rule in rules:
        condition = _condition(build, rule)
        if condition is None:
            continue
        route: Json = {"name": rule.name or f"{vs.name}-http-{rule.index}", "condition": condition}
        if rule.timeout is not None:
            millis = duration(build, rule.timeout, rule.origin.at("timeout"), "timeout")
            if millis:
                route["timeout"] = linkerd_duration(millis)
        retry = rule.retry
        if retry is None:
            losses.approximated(rule.origin, "no retries: Istio retries this route by default (2 attempts on "
                                             "connect-failure, refused-stream, unavailable, cancelled); the "
                                             "ServiceProfile route is not retryable")
        elif retry.attempts and retry.attempts > 0:
            route["isRetryable"] = True
            spec.setdefault("retryBudget", dict(BUDGET))
            losses.approximated(retry.origin, f"retries: attempts {retry.attempts} -> isRetryable; ServiceProfile "
                                              "retries are limited by a budget (20% extra requests, at least 10 per "
                                              "second), not a count per request, and only on 5xx responses")
            if retry.per_try_timeout is not None:
                losses.dropped(retry.origin.at("perTryTimeout"), "perTryTimeout: ServiceProfiles have no per-try "
                                                                 "timeout")
            conditions = [c.strip() for c in (retry.retry_on or "").split(",") if c.strip()]
            other = [c for c in conditions if c not in ("5xx", "gateway-error") and not c.startswith("5")]
            if other:
                losses.dropped(retry.origin.at("retryOn"), f"retryOn {', '.join(other)}: ServiceProfiles retry only "
                                                           "responses classified as failures (5xx)")
        for what, present in (("headers", rule.header_changes), ("redirect", rule.redirect),
                              ("rewrite", rule.rewrite), ("corsPolicy", rule.cors), ("fault", rule.fault),
                              ("directResponse", rule.direct_response)):
            if present:
                losses.dropped(rule.origin.at(what), f"{what}: a ServiceProfile cannot express it; not translated")
        for mirror in rule.mirrors:
            losses.dropped(mirror.origin, "mirror: Linkerd has no request mirroring; not translated")
        spec["routes"].append(route)
        splits.append((rule, _overrides(build, rule, parent)))
    _dst_overrides(build, parent, splits, spec)


def _condition(build: Build, rule: RouteRule) -> Json | None:
    if not rule.matches:
        return {"pathRegex": ".*"}
    alternatives = []
    for m in rule.matches:
        if m.gateways and "mesh" not in m.gateways:
            continue
        alternatives.extend(_alternatives(build, m))
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else {"any": alternatives}


def _alternatives(build: Build, m: RequestMatch) -> list[Json]:
    for what, present in (("headers", m.headers), ("queryParams", m.query_params), ("authority", m.authority),
                          ("scheme", m.scheme), ("port", m.port), ("sourceLabels", m.source_labels),
                          ("sourceNamespace", m.source_namespace)):
        if present:
            build.losses.dropped(m.origin.at(what), f"{what} match: ServiceProfile routes match only path and method; "
                                                    "dropped, so the route matches more requests")
    out: Json = {}
    path = m.path
    if path is None or (path.type is MatchType.PREFIX and path.value in ("", "/")):
        out["pathRegex"] = ".*"
    else:
        flags = "(?i)" if path.ignore_case else ""
        if path.type is MatchType.EXACT:
            out["pathRegex"] = flags + escape(path.value)
        elif path.type is MatchType.PREFIX:
            out["pathRegex"] = f"{flags}{escape(path.value)}.*"
        else:
            out["pathRegex"] = flags + path.value
    if m.method is None:
        return [out]
    if m.method.type is MatchType.EXACT:
        methods = [m.method.value]
    else:
        try:
            pattern = re.compile(m.method.value if m.method.type is MatchType.REGEX else f"{re.escape(m.method.value)}.*")
        except re.error:
            pattern = re.compile("$^")
        methods = [x for x in METHODS if pattern.fullmatch(x)]
    if len(methods) == 1:
        return [dict(out, method=methods[0])]
    return [{"all": [dict(out), {"any": [{"method": x} for x in methods]}]}] if methods else []


def _overrides(build: Build, rule: RouteRule, parent: Parent) -> list[Json]:
    out = []
    for b in rule.backends:
        service = build.service_of(b.fqdn)
        name = service.name if service else b.fqdn.split(".")[0]
        namespace = service.namespace if service else parent.namespace
        if b.subset:
            generated = build.subset_services.get((b.fqdn, b.subset))
            if generated is None:
                build.losses.dropped(b.origin.at("destination", "subset"), f"subset {b.subset!r} is defined by no "
                                                                           "DestinationRule of the inputs; left out")
                continue
            name = generated
        port = b.port or (service.ports[0].port if service and len(service.ports) == 1 else None)
        authority = f"{name}.{namespace}.svc.{build.mesh.domain}" + (f":{port}" if port else "")
        weight = 1 if len(rule.backends) == 1 else (b.weight or 0)
        out.append({"authority": authority, "weight": weight})
    return out


def _dst_overrides(build: Build, parent: Parent, splits: list[tuple[RouteRule, list[Json]]], spec: Json) -> None:
    """dstOverrides split every request: one destination set for the whole Service."""
    if not splits:
        return
    chosen = next((s for r, s in splits if r.catch_all), splits[-1][1])
    for rule, split in splits:
        if repr(split) != repr(chosen):
            build.losses.dropped(rule.origin.at("route"), "per-route destinations: ServiceProfile dstOverrides apply "
                                                          "to every request of the Service; this rule's destinations "
                                                          "were not translated")
    itself = [o["authority"].split(":")[0] for o in chosen] == [parent.fqdn]
    if chosen and not itself:
        spec["dstOverrides"] = chosen
