"""Route rules -> Envoy routes, in Pilot's order and with Pilot's defaults (§1.3-§1.13).

One Envoy route per match of each rule, first match wins; the first catch-all ends the
list (Pilot drops what follows, it is unreachable). Route actions: redirect, else
direct response, else forwarding with timeout, retries, mirrors, rewrites, hash policy;
fault injection and CORS ride along as per-filter configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from meshctl.emit.envoy import clusters
from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.matches import is_catch_all, operation_path, route_match
from meshctl.emit.envoy.names import cluster_name
from meshctl.emit.envoy.values import (
    CORS_POLICY,
    FAULT,
    PREVIOUS_HOSTS,
    PREVIOUS_PRIORITIES,
    duration,
    fraction,
    typed,
)
from meshctl.model.hosts import gateway_reference
from meshctl.model.mesh import selects
from meshctl.model.objects import Backend, MatchType, RequestMatch, Retry, Route, RouteRule
from meshctl.model.traffic import Cors, HeaderOps, Redirect

Json = dict[str, Any]

DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
REDIRECT_CODES = {
    301: "MOVED_PERMANENTLY", 302: "FOUND", 303: "SEE_OTHER", 307: "TEMPORARY_REDIRECT", 308: "PERMANENT_REDIRECT",
}
GRPC_CODES = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9,
    "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14,
    "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}


@dataclass(frozen=True)
class Site:
    """Where the routes are served: the listener port, and which proxy asks."""

    port: int
    gateway: tuple[str, str] | None = None  # (namespace, name) for a gateway; None for the mesh
    proxy_labels: dict[str, str] | None = None  # the client's labels when known


def http_routes(build: Build, route: Route, site: Site) -> list[Json]:
    """Envoy routes for the HTTP rules of ``route`` on ``site``, stopping at a catch-all."""
    out: list[Json] = []
    for rule in route.rules:
        if rule.protocol not in ("http", "grpc"):
            continue
        if rule.delegate:
            build.losses.dropped(rule.origin, f"delegation to {rule.delegate} is not merged into the output; "
                                              "the delegate's routes are missing")
            continue
        for match in rule.matches or (None,):
            if match is not None and not _applies(build, route, match, site):
                continue
            envoy_route = _route(build, route, rule, match, site)
            if envoy_route is None:
                continue
            out.append(envoy_route)
            if is_catch_all(envoy_route["match"]):
                return out
    return out


def gateway_api_routes(build: Build, routes: list[Route], site: Site) -> list[Json]:
    """Gateway API routes on one host, merged in the API's precedence order.

    Exact path before prefix, longer prefix first, then a method match, more header
    matches, more query matches; ties keep the inputs' order (standing in for age).
    """
    entries: list[tuple[tuple[int, int, int, int, int], Json]] = []
    for route in routes:
        for rule in route.rules:
            if rule.protocol not in ("http", "grpc"):
                continue
            for match in rule.matches or (None,):
                envoy_route = _route(build, route, rule, match, site)
                if envoy_route is not None:
                    entries.append((_precedence(match), envoy_route))
    entries.sort(key=lambda entry: entry[0])
    return [route for _, route in entries]


def _precedence(match: RequestMatch | None) -> tuple[int, int, int, int, int]:
    path = match.path if match is not None else None
    kind = 0 if path is not None and path.type is MatchType.EXACT else 2 if path is not None and path.type is MatchType.REGEX else 1
    length = len(path.value) if path is not None else 1
    if match is None:
        return (1, -1, 1, 0, 0)
    return (kind, -length, 0 if match.method else 1, -len(match.headers), -len(match.query_params))


def catch_all_last(routes: list[Json]) -> list[Json]:
    """Routes of several VirtualServices merged on a gateway host: catch-alls move last (stable)."""
    return [r for r in routes if not is_catch_all(r["match"])] + [r for r in routes if is_catch_all(r["match"])]


def _applies(build: Build, route: Route, match: RequestMatch, site: Site) -> bool:
    """Port, gateway and source conditions are not Envoy matchers: Pilot filters per proxy."""
    if match.port is not None and match.port != site.port:
        return False
    if match.gateways:
        if site.gateway is None and "mesh" not in match.gateways:
            return False
        keys = {gateway_reference(g, route.namespace) for g in match.gateways if g != "mesh"}
        if site.gateway is not None and site.gateway not in keys:
            return False
    if site.gateway is None and match.source_namespace and match.source_namespace != build.proxy_namespace:
        return False
    if match.source_labels:
        if site.proxy_labels is None:
            build.losses.approximated(match.origin, "a match on sourceLabels depends on the client's labels, "
                                                     "which this proxy view does not have: the match is left out")
            return False
        return selects(match.source_labels, site.proxy_labels)
    return True


def _route(build: Build, route: Route, rule: RouteRule, match: RequestMatch | None, site: Site) -> Json | None:
    name = ".".join(n for n in (rule.name, match.name if match else None) if n)
    out: Json = {"name": name} if name else {}
    out["match"] = route_match(match, segments=route.source_kind != "VirtualService")
    if match is not None and match.stat_prefix:
        out["stat_prefix"] = match.stat_prefix
    if rule.redirect:
        redirect = _redirect(build, rule.redirect, site)
        if redirect is None:
            return None
        out["redirect"] = redirect
    elif rule.direct_response:
        response: Json = {"status": rule.direct_response.status}
        if rule.direct_response.body is not None:
            response["body"] = {"inline_string": rule.direct_response.body}
        out["direct_response"] = response
    else:
        action = _action(build, route, rule, site)
        if action is None:
            return None
        out["route"] = action
        out["decorator"] = {"operation": _operation(route, rule, match, site, action)}
    if rule.header_changes:
        out.update(_header_lists(build, rule.header_changes))
    if len(rule.backends) == 1 and rule.backends[0].headers and "route" in out:
        for key, value in _header_lists(build, rule.backends[0].headers).items():
            out[key] = out.get(key, []) + value
    per_filter = _per_filter(build, rule)
    if per_filter:
        out["typed_per_filter_config"] = per_filter
    return out


# -- forwarding -------------------------------------------------------------------------
def _action(build: Build, route: Route, rule: RouteRule, site: Site) -> Json | None:
    backends = [b for b in rule.backends if len(rule.backends) == 1 or (b.weight or 0) > 0]
    if not backends:
        build.losses.dropped(rule.origin, "the rule has no destination with a weight above 0; Envoy rejects a "
                                          "weighted route whose weights add up to 0, so the rule is left out")
        return None
    names = [_cluster(build, b, site.port) for b in backends]
    action: Json = {}
    if len(backends) == 1:
        action["cluster"] = names[0]
    else:
        entries = []
        for backend, name in zip(backends, names):
            entry: Json = {"name": name, "weight": backend.weight}
            if backend.headers:
                entry.update(_header_lists(build, backend.headers, host_key="host_rewrite_literal"))
            entries.append(entry)
        action["weighted_clusters"] = {"clusters": entries}
    timeout = duration(rule.timeout) or "0s"
    action["timeout"] = timeout
    action["max_grpc_timeout"] = timeout
    hashes = [h for b in backends for h in clusters.hash_policies(build, b.fqdn, _port(build, b, site.port), b.subset)]
    consistent = len(backends) == 1 and clusters.uses_consistent_hash(
        build, backends[0].fqdn, _port(build, backends[0], site.port), backends[0].subset
    )
    retry = retry_policy(rule.retry, keep_previous_hosts=not consistent,
                         also_default_conditions=route.source_kind != "VirtualService")
    if retry is not None:
        action["retry_policy"] = retry
    if hashes:
        action["hash_policy"] = hashes
    mirrors = [_mirror(build, m, site.port) for m in rule.mirrors if m.percent != 0]
    if mirrors:
        action["request_mirror_policies"] = mirrors
    action.update(_rewrite(rule))
    authority = _authority(rule)
    if authority and "host_rewrite_literal" not in action:
        action["host_rewrite_literal"] = authority
    return action


def _port(build: Build, backend: Backend, listener_port: int) -> int:
    """§1.1: the destination's port, else the service's only port, else the listener's."""
    if backend.port is not None:
        return backend.port
    services = build.mesh.services_for(backend.fqdn)
    if services and len(services[0].ports) == 1:
        return services[0].ports[0].port
    entries = build.mesh.entries_for(backend.fqdn)
    if not services and entries and len(entries[0].ports) == 1:
        return entries[0].ports[0].number
    return listener_port


def _cluster(build: Build, backend: Backend, listener_port: int) -> str:
    port = _port(build, backend, listener_port)
    name = clusters.outbound_cluster(build, backend.fqdn, port, backend.subset)
    if name is None:
        build.losses.approximated(
            backend.host_origin,
            f"{backend.fqdn} port {port}{f' subset {backend.subset}' if backend.subset else ''} is not defined in "
            "the inputs: the route names a cluster that does not exist, so Envoy answers 503 as Istio's proxy would",
        )
        return cluster_name(port, backend.subset, backend.fqdn)
    return name


def _mirror(build: Build, backend: Backend, listener_port: int) -> Json:
    percent = backend.percent
    share = {"numerator": 100, "denominator": "HUNDRED"} if percent is None else fraction(percent)
    return {
        "cluster": _cluster(build, backend, listener_port),
        "runtime_fraction": {"default_value": share},
        "trace_sampled": False,
        "disable_shadow_host_suffix_append": True,
    }


def _operation(route: Route, rule: RouteRule, match: RequestMatch | None, site: Site, action: Json) -> str:
    path = operation_path(match)
    if "cluster" in action:
        fqdn = rule.backends[0].fqdn if len(rule.backends) == 1 else action["cluster"].split("|")[-1]
        backend = next((b for b in rule.backends if b.fqdn == fqdn), rule.backends[0])
        port = backend.port or int(action["cluster"].split("|")[1])
        return f"{fqdn}:{port}{path}"
    return f"{route.name}:{site.port}{path}"


def retry_policy(
    retry: Retry | None, *, keep_previous_hosts: bool = True, also_default_conditions: bool = False
) -> Json | None:
    """§1.7: Istio's default policy unless attempts is 0; retryOn codes split out.

    ``also_default_conditions``: a Gateway API ``retry`` names status codes only; Istio
    retries them on top of its default connection-failure conditions."""
    if retry is not None and retry.attempts is not None and retry.attempts <= 0:
        return None
    policy: Json = {"retry_on": DEFAULT_RETRY_ON, "num_retries": 2}
    if retry is not None:
        if retry.attempts is not None:
            policy["num_retries"] = retry.attempts
        if retry.per_try_timeout:
            policy["per_try_timeout"] = duration(retry.per_try_timeout)
        if retry.retry_on:
            conditions = f"{DEFAULT_RETRY_ON},{retry.retry_on}" if also_default_conditions else retry.retry_on
            policy["retry_on"], codes = split_retry_on(conditions)
            if codes:
                policy["retriable_status_codes"] = codes
        if retry.ignore_previous_hosts is False:
            keep_previous_hosts = False
        if retry.remote_localities:
            policy["retry_priority"] = {
                "name": "envoy.retry_priorities.previous_priorities",
                "typed_config": typed(PREVIOUS_PRIORITIES, update_frequency=2),
            }
        if retry.backoff:
            policy["retry_back_off"] = {"base_interval": duration(retry.backoff)}
    if keep_previous_hosts:
        policy["retry_host_predicate"] = [
            {"name": "envoy.retry_host_predicates.previous_hosts", "typed_config": typed(PREVIOUS_HOSTS)}
        ]
        policy["host_selection_retry_max_attempts"] = 5
    return policy


def split_retry_on(value: str) -> tuple[str, list[int]]:
    """``"gateway-error,503"`` -> (``"gateway-error,retriable-status-codes"``, [503]).

    Envoy ignores numbers in ``retry_on``; Pilot moves the ones that are HTTP status
    codes to ``retriable_status_codes`` and makes sure ``retriable-status-codes`` is on.
    """
    tokens = [t.strip() for t in value.split(",") if t.strip()]
    codes = [int(t) for t in tokens if t.isdigit() and int(t) in HTTPStatus._value2member_map_]
    words = [t for t in tokens if not (t.isdigit() and int(t) in codes)]
    if codes and "retriable-status-codes" not in words:
        words.append("retriable-status-codes")
    return ",".join(words), codes


# -- rewrites and redirects ---------------------------------------------------------------
def _rewrite(rule: RouteRule) -> Json:
    rewrite = rule.rewrite
    if not rewrite:
        return {}
    out: Json = {}
    if rewrite.regex is not None:
        out["regex_rewrite"] = {"pattern": {"regex": rewrite.regex[0]}, "substitution": rewrite.regex[1]}
    elif rewrite.full_path is not None:
        out["regex_rewrite"] = {"pattern": {"regex": "^/.*$"}, "substitution": rewrite.full_path}
    elif rewrite.uri is not None:
        out["prefix_rewrite"] = rewrite.uri
    if rewrite.authority:
        out["host_rewrite_literal"] = rewrite.authority
    return out


def _authority(rule: RouteRule) -> str | None:
    """A ``:authority``/``host`` header set (wins) or added becomes the host rewrite (§1.11)."""
    ops = rule.header_changes
    if not ops:
        return None
    for key, value in (*ops.request_set, *ops.request_add):
        if key.lower() in (":authority", "host"):
            return value
    return None


def _redirect(build: Build, redirect: Redirect, site: Site) -> Json | None:
    code = redirect.code or 301
    if code not in REDIRECT_CODES:
        build.losses.dropped(redirect.origin, f"Envoy has no redirect with status {code} (only 301, 302, 303, "
                                              "307 and 308); the route is left out, as Pilot leaves it without an action")
        return None
    out: Json = {}
    if redirect.uri is not None:
        out["path_redirect"] = redirect.uri
    elif redirect.prefix is not None:
        out["prefix_rewrite"] = redirect.prefix
    if redirect.authority:
        out["host_redirect"] = redirect.authority
    if redirect.scheme:
        out["scheme_redirect"] = redirect.scheme
    port = site.port if redirect.derive_port else redirect.port
    scheme = (redirect.scheme or "http").lower()
    if port is not None and not ((scheme, port) in (("http", 80), ("https", 443))):
        out["port_redirect"] = port
    out["response_code"] = REDIRECT_CODES[code]
    return out


# -- headers, fault, CORS -----------------------------------------------------------------
def _header_lists(build: Build, ops: HeaderOps, host_key: str | None = None) -> Json:
    """§1.11: set entries overwrite, add entries append; pseudo-headers and host are not headers."""
    out: Json = {}
    for direction in ("request", "response"):
        adds = []
        for mode, pairs in (("OVERWRITE_IF_EXISTS_OR_ADD", getattr(ops, f"{direction}_set")),
                            ("APPEND_IF_EXISTS_OR_ADD", getattr(ops, f"{direction}_add"))):
            for key, value in pairs:
                if key.startswith(":") or key.lower() == "host":
                    if direction == "request" and host_key and key.lower() in (":authority", "host"):
                        out.setdefault(host_key, value)
                    continue
                adds.append({"header": {"key": key, "value": value}, "append_action": mode})
        if adds:
            out[f"{direction}_headers_to_add"] = adds
        removes = list(getattr(ops, f"{direction}_remove"))
        if removes:
            out[f"{direction}_headers_to_remove"] = removes
    return out


def _per_filter(build: Build, rule: RouteRule) -> Json:
    out: Json = {}
    fault = _fault(build, rule)
    if fault:
        out["envoy.filters.http.fault"] = typed(FAULT, **fault)
    if rule.cors:
        out["envoy.filters.http.cors"] = typed(CORS_POLICY, **cors_policy(rule.cors))
    return out


def _fault(build: Build, rule: RouteRule) -> Json:
    """§1.8: a delay needs a fixed delay; a missing percentage means 0% (Pilot's reading)."""
    fault = rule.fault
    if fault is None:
        return {}
    out: Json = {}
    if fault.exponential_delay:
        build.losses.dropped(fault.origin, "Envoy's fault filter has no exponential delay; the delay is left out")
    elif fault.delay:
        out["delay"] = {
            "fixed_delay": duration(fault.delay),
            "percentage": fraction(fault.delay_percent) if fault.delay_percent is not None
            else {"numerator": 0, "denominator": "HUNDRED"},
        }
    abort: Json = {}
    if fault.abort_status is not None:
        abort["http_status"] = fault.abort_status
    elif fault.abort_grpc is not None:
        code = GRPC_CODES.get(fault.abort_grpc.upper(), int(fault.abort_grpc) if fault.abort_grpc.isdigit() else None)
        if code is None:
            build.losses.dropped(fault.origin, f"unknown gRPC status {fault.abort_grpc!r}; the abort is left out")
        else:
            abort["grpc_status"] = code
    if abort:
        if fault.abort_percent is not None:
            abort["percentage"] = fraction(fault.abort_percent)
        out["abort"] = abort
    return out


def cors_policy(cors: Cors) -> Json:
    """§1.10: the CORS filter's per-route policy (the route-level CorsPolicy type is rejected)."""
    out: Json = {}
    if cors.allow_origins:
        out["allow_origin_string_match"] = [
            {"safe_regex": {"regex": o.value}} if o.type == "regex" else {o.type: o.value} for o in cors.allow_origins
        ]
    for key, values in (("allow_methods", cors.allow_methods), ("allow_headers", cors.allow_headers),
                        ("expose_headers", cors.expose_headers)):
        if values:
            out[key] = ",".join(values)
    max_age = duration(cors.max_age)
    if max_age:
        out["max_age"] = max_age[:-1].split(".")[0]
    if cors.allow_credentials is not None:
        out["allow_credentials"] = cors.allow_credentials
    out["filter_enabled"] = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    out["forward_not_matching_preflights"] = (cors.unmatched_preflights or "FORWARD") != "IGNORE"
    return out


def default_route(build: Build, fqdn: str, port: int) -> Json:
    """The route of a service no VirtualService routes: its own cluster, Istio's defaults."""
    name = clusters.outbound_cluster(build, fqdn, port, None) or cluster_name(port, None, fqdn)
    action: Json = {"cluster": name, "timeout": "0s", "max_grpc_timeout": "0s"}
    consistent = clusters.uses_consistent_hash(build, fqdn, port, None)
    retry = retry_policy(None, keep_previous_hosts=not consistent)
    if retry is not None:
        action["retry_policy"] = retry
    hashes = clusters.hash_policies(build, fqdn, port, None)
    if hashes:
        action["hash_policy"] = hashes
    return {
        "name": "default",
        "match": {"prefix": "/"},
        "route": action,
        "decorator": {"operation": f"{fqdn}:{port}/*"},
    }
