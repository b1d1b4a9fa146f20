"""Routing equivalence for the round-trip and Envoy-judge tests: what a request gets.

Two configurations are compared by meaning, never by form: a set of sample requests
(derived from the matches of the configuration) is evaluated against each with a tiny
first-match evaluator, and the outcomes must agree. An outcome is

    ("route", ((pods, share), ...), timeout_seconds, (retry attempts, per-try seconds))
    ("redirect", ...) / ("direct", status) / ("none",)

where ``pods`` is the frozenset of workload names a destination selects (Service
selector + DestinationRule subset labels), so a subset and the per-version Service that
replaces it are the same destination, and ``share`` is the destination's fraction of the
weights (destinations reaching the same pods are merged).

Two evaluators: ``model_outcome`` over the lowered VirtualServices of a MeshModel (the
round trips), and ``envoy_outcome`` over the route table the Envoy back end emits (the
judge: prefix / path / safe_regex / path_separated_prefix, headers string_match /
present_match / invert, query_parameters; weighted clusters resolved to pods).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from meshctl.emit.manifests import render
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import MatchType, RequestMatch, Route, StringMatch

Json = dict[str, Any]
ISTIO_DEFAULT_ATTEMPTS = 2  # Istio (and its Envoy) retry a route without `retries` twice


def model(text: str) -> MeshModel:
    return lower(read_text(text, "mesh.yaml").docs)


def docs(text: str) -> list[Json]:
    return [d.data for d in read_text(text, "mesh.yaml").docs]


def key_of(doc: Json) -> tuple[str, str, str]:
    meta = doc.get("metadata", {})
    return (doc.get("kind", ""), meta.get("namespace", "default"), meta.get("name", ""))


def combine(context: list[Json], resources: list[Json]) -> str:
    """The YAML of ``resources`` plus the ``context`` objects they do not replace."""
    replaced = {key_of(r) for r in resources}
    kept = [d for d in context if key_of(d) not in replaced]
    return render(kept + list(resources), "round trip")


def kubernetes(all_docs: list[Json]) -> list[Json]:
    """Services, Deployments and other core objects (not mesh configuration)."""
    return [d for d in all_docs if d.get("apiVersion") in ("v1", "apps/v1")]


# -- durations -------------------------------------------------------------------------------
_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": Fraction(1, 1000), "us": Fraction(1, 10**6)}


def seconds(value: str | None) -> Fraction | None:
    """A Go/protobuf duration in seconds; None (and 0, "no timeout") stay None."""
    if value is None:
        return None
    total = Fraction(0)
    for number, unit in re.findall(r"([0-9.]+)(ms|us|h|m|s)", str(value)):
        total += Fraction(number) * _UNITS[unit]
    return total or None


# -- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        return dict(self.headers).get(name.lower())


# regular expressions the generators and fixtures use, with strings that do and do not match
REGEX_SAMPLES: dict[str, tuple[str, ...]] = {
    "/items/[0-9]+": ("/items/42", "/items/x", "/items/42/more"),
    "/v[12]/.*": ("/v1/a", "/v2/", "/v3/a"),
    "/(a|b)": ("/a", "/b", "/ab"),
    "ab.*": ("ab", "abc", "xab"),
    "x[0-9]": ("x1", "xx"),
}


def _values(match: StringMatch) -> list[str]:
    v = match.value
    if match.type is MatchType.EXACT:
        return [v, v + "x"]
    if match.type is MatchType.PREFIX:
        out = [v, v + "x", v.rstrip("/") + "/y", v + "/z"]
        if v.endswith("/") and len(v) > 1:
            out.append(v.rstrip("/"))
        return out
    if match.type is MatchType.REGEX:
        return list(REGEX_SAMPLES.get(v, ()))
    return ["present"]


def _requests_for(match: RequestMatch) -> list[dict[str, Any]]:
    """Partial requests that satisfy (or narrowly miss) one match."""
    base: dict[str, Any] = {}
    variants: list[dict[str, Any]] = []
    paths = _values(match.path) if match.path else []
    if paths:
        base["path"] = paths[0]
    if match.method:
        base["method"] = match.method.value
    headers = {name.lower(): _values(m)[0] for name, m in match.headers if not m.invert}
    base["headers"] = headers
    base["query"] = {name: _values(m)[0] for name, m in match.query_params if _values(m)}
    variants.append(base)
    for p in paths[1:]:
        variants.append({**base, "path": p})
    for name, m in match.headers:
        for value in [*_values(m)[1:], None]:
            changed = dict(headers)
            if value is None:
                changed.pop(name.lower(), None)
            else:
                changed[name.lower()] = value
            variants.append({**base, "headers": changed})
    if match.method:
        variants.append({**base, "method": "DELETE" if match.method.value != "DELETE" else "GET"})
    return variants


def _request(parts: dict[str, Any]) -> Request:
    return Request(parts.get("path", "/"), parts.get("method", "GET"),
                   tuple(sorted(parts.get("headers", {}).items())), tuple(sorted(parts.get("query", {}).items())))


def sample_requests(mesh: MeshModel) -> list[Request]:
    """Requests that exercise every match of every route: each match satisfied, narrowly
    missed, and pairs of matches satisfied at once (where precedence decides)."""
    partials: list[dict[str, Any]] = [{}, {"path": "/other"}, {"method": "POST"}]
    firsts: list[dict[str, Any]] = []
    for route in mesh.routes:
        for rule in route.rules:
            for match in rule.matches:
                found = _requests_for(match)
                partials += found
                firsts.append(found[0])
    for i, a in enumerate(firsts):
        for b in firsts[i + 1:]:
            merged = {**a, **b, "headers": {**a.get("headers", {}), **b.get("headers", {})},
                      "query": {**a.get("query", {}), **b.get("query", {})}}
            if "path" in a and "path" not in b:
                merged["path"] = a["path"]
            partials.append(merged)
    return sorted({_request(p) for p in partials}, key=repr)


# -- resolving destinations to pods --------------------------------------------------------------
def pods(mesh: MeshModel, fqdn: str, subset: str | None) -> frozenset[str] | str:
    services = mesh.services_for(fqdn)
    if not services:
        return f"unknown service {fqdn}"
    selector = dict(services[0].selector or {})
    if subset:
        labels = next((s.labels for p in mesh.policies_for(fqdn) for s in p.subsets if s.name == subset), None)
        if labels is None:
            return f"unknown subset {fqdn}#{subset}"
        selector.update(labels)
    return frozenset(w.name for w in mesh.workloads_in(services[0].namespace) if selects(selector, w.labels))


def shares(weighted: list[tuple[frozenset[str] | str, int | None]]) -> tuple[tuple[Any, Fraction], ...]:
    if len(weighted) == 1:
        return ((weighted[0][0], Fraction(1)),)
    total = sum(w or 0 for _, w in weighted)
    merged: dict[Any, Fraction] = {}
    for target, w in weighted:
        if w:
            merged[target] = merged.get(target, Fraction(0)) + Fraction(w, total)
    return tuple(sorted(merged.items(), key=lambda kv: repr(sorted(kv[0]) if isinstance(kv[0], frozenset) else kv[0])))


# -- the model evaluator (VirtualServices) ----------------------------------------------------------
def _string(m: StringMatch, value: str | None) -> bool:
    if m.type is MatchType.PRESENT:
        hit = value is not None
    elif value is None:
        hit = False
    elif m.type is MatchType.EXACT:
        hit = value == m.value
    elif m.type is MatchType.PREFIX:
        hit = value.startswith(m.value)
    else:
        hit = re.fullmatch(m.value, value) is not None
    return hit != m.invert


def _matches(m: RequestMatch, request: Request, port: int) -> bool:
    if m.port is not None and m.port != port:
        return False
    if m.path and not _string(m.path, request.path.split("?")[0]):
        return False
    if m.method and not _string(m.method, request.method):
        return False
    if not all(_string(s, request.header(name)) for name, s in m.headers):
        return False
    query = dict(request.query)
    return all(_string(s, query.get(name)) for name, s in m.query_params)


def virtual_service_for(mesh: MeshModel, fqdn: str) -> Route | None:
    found = [r for r in mesh.routes if r.source_kind == "VirtualService" and not r.parents
             and any(_fqdn(mesh, h, r.namespace) == fqdn for h in r.hosts)]
    assert len(found) <= 1, f"several VirtualServices for {fqdn}: {[r.name for r in found]}"
    return found[0] if found else None


def _fqdn(mesh: MeshModel, host: str, namespace: str) -> str:
    if "." not in host:
        return f"{host}.{namespace}.svc.{mesh.domain}"
    if host.count(".") == 1:
        return f"{host}.svc.{mesh.domain}"
    return host


def model_outcome(mesh: MeshModel, fqdn: str, port: int, request: Request) -> tuple[Any, ...]:
    route = virtual_service_for(mesh, fqdn)
    if route is None:  # no VirtualService: the Service itself, Istio's default retries
        return ("route", ((pods(mesh, fqdn, None), Fraction(1)),), None, (ISTIO_DEFAULT_ATTEMPTS, None))
    for rule in route.rules:
        if rule.protocol not in ("http", "grpc"):
            continue
        if rule.matches and not any(_matches(m, request, port) for m in rule.matches):
            continue
        if rule.redirect:
            r = rule.redirect
            return ("redirect", r.uri, r.authority, r.scheme, r.port, r.code or 301)
        if rule.direct_response:
            return ("direct", rule.direct_response.status)
        dests = shares([(pods(mesh, b.fqdn, b.subset), b.weight) for b in rule.backends])
        if rule.retry is None:
            retry = (ISTIO_DEFAULT_ATTEMPTS, None)
        else:
            attempts = rule.retry.attempts if rule.retry.attempts is not None else ISTIO_DEFAULT_ATTEMPTS
            retry = (attempts, seconds(rule.retry.per_try_timeout) if attempts else None)
        return ("route", dests, seconds(rule.timeout), retry)
    return ("none",)


# -- the Envoy evaluator (route tables the Envoy back end emits) ---------------------------------------
def envoy_routes(bootstrap: Json, fqdn: str, port: int) -> list[Json]:
    """The routes of the virtual host for ``fqdn`` on the outbound listener of ``port``."""
    for listener in bootstrap["static_resources"]["listeners"]:
        for chain in listener.get("filter_chains", []):
            for flt in chain.get("filters", [])[:1]:
                config = flt.get("typed_config", {}).get("route_config")
                if not config or str(config.get("name")) != str(port):
                    continue
                for host in config.get("virtual_hosts", []):
                    if fqdn in host.get("domains", []):
                        return list(host.get("routes", []))
    raise AssertionError(f"no Envoy virtual host for {fqdn}:{port}")


def _envoy_string(m: Json, value: str | None) -> bool:
    if value is None:
        return False
    if m.get("ignore_case"):
        value = value.lower()
        m = {k: (v.lower() if isinstance(v, str) else v) for k, v in m.items()}
    if "exact" in m:
        return value == m["exact"]
    if "prefix" in m:
        return value.startswith(m["prefix"])
    if "suffix" in m:
        return value.endswith(m["suffix"])
    if "contains" in m:
        return m["contains"] in value
    if "safe_regex" in m:
        return re.fullmatch(m["safe_regex"]["regex"], value) is not None
    raise AssertionError(f"string matcher not understood: {m}")


def _envoy_header(h: Json, request: Request) -> bool:
    value = request.header(h["name"])
    if "present_match" in h:
        hit = (value is not None) == bool(h["present_match"])
    elif "string_match" in h:
        hit = _envoy_string(h["string_match"], value)
    elif "exact_match" in h:
        hit = value == h["exact_match"]
    elif "safe_regex_match" in h:
        hit = value is not None and re.fullmatch(h["safe_regex_match"]["regex"], value) is not None
    else:
        hit = value is not None
    return hit != bool(h.get("invert_match"))


def envoy_matches(match: Json, request: Request) -> bool:
    path = request.path.split("?")[0]
    sensitive = match.get("case_sensitive", True)
    p = path if sensitive else path.lower()

    def norm(s: str) -> str:
        return s if sensitive else s.lower()

    if "prefix" in match:
        ok = p.startswith(norm(match["prefix"]))
    elif "path" in match:
        ok = p == norm(match["path"])
    elif "safe_regex" in match:
        ok = re.fullmatch(match["safe_regex"]["regex"], path) is not None
    elif "path_separated_prefix" in match:
        prefix = norm(match["path_separated_prefix"])
        ok = p == prefix or p.startswith(prefix + "/")
    else:
        raise AssertionError(f"path matcher not understood: {match}")
    if not ok:
        return False
    if not all(_envoy_header(h, request) for h in match.get("headers", [])):
        return False
    query = dict(request.query)
    for q in match.get("query_parameters", []):
        value = query.get(q["name"])
        if "present_match" in q:
            if (value is not None) != bool(q["present_match"]):
                return False
        elif "string_match" in q:
            if not _envoy_string(q["string_match"], value):
                return False
        elif value is None:
            return False
    return True


def _request_for_envoy(request: Request) -> Request:
    return Request(request.path, request.method, tuple((k, v) for k, v in request.headers) + ((":method", request.method),),
                   request.query)


def cluster_pods(mesh: MeshModel, name: str) -> frozenset[str] | str:
    """``outbound|port|subset|fqdn`` -> the pods it reaches."""
    parts = name.split("|")
    if len(parts) != 4 or parts[0] != "outbound":
        return name
    return pods(mesh, parts[3], parts[2] or None)


def envoy_outcome(mesh: MeshModel, routes: list[Json], request: Request) -> tuple[Any, ...]:
    r = _request_for_envoy(request)
    for route in routes:
        if not envoy_matches(route["match"], r):
            continue
        if "redirect" in route:
            red = route["redirect"]
            return ("redirect", red.get("path_redirect"), red.get("host_redirect"), red.get("scheme_redirect"),
                    red.get("port_redirect"), red.get("response_code", "MOVED_PERMANENTLY"),
                    red.get("prefix_rewrite"))
        if "direct_response" in route:
            return ("direct", route["direct_response"]["status"])
        action = route["route"]
        if "cluster" in action:
            dests = shares([(cluster_pods(mesh, action["cluster"]), None)])
        else:
            dests = shares([(cluster_pods(mesh, c["name"]), c.get("weight"))
                            for c in action["weighted_clusters"]["clusters"]])
        policy = action.get("retry_policy")
        retry = (0, None) if not policy else (policy.get("num_retries", 1), seconds(policy.get("per_try_timeout")))
        if retry[0] == 0:
            retry = (0, None)
        adds = tuple(sorted((h["header"]["key"], h["header"]["value"], h.get("append_action", h.get("append")))
                            for h in route.get("request_headers_to_add", [])))
        removes = tuple(sorted(route.get("request_headers_to_remove", [])))
        resp = tuple(sorted((h["header"]["key"], h["header"]["value"], h.get("append_action", h.get("append")))
                            for h in route.get("response_headers_to_add", [])))
        rewrite = (action.get("prefix_rewrite"), action.get("host_rewrite_literal"))
        return ("route", dests, seconds(action.get("timeout")), retry, adds, removes, resp, rewrite)
    return ("none",)
