"""What an Istio rule does besides routing -> HTTPRoute filters.

| Istio                                   | HTTPRoute filter                                    |
|-----------------------------------------|-----------------------------------------------------|
| ``headers.request`` set/add/remove      | RequestHeaderModifier                               |
| ``headers.response`` set/add/remove     | ResponseHeaderModifier                              |
| per-destination ``headers``             | the same filters on the backendRef                  |
| ``redirect`` (301 unless redirectCode)  | RequestRedirect, statusCode always written; ``uri`` -> ReplaceFullPath; ``authority`` -> hostname (and port) |
| ``rewrite.uri``                         | URLRewrite ReplaceFullPath (exact match) or ReplacePrefixMatch (prefix match) |
| ``rewrite.authority``                   | URLRewrite hostname                                 |
| ``rewrite.uriRegexRewrite``             | none (reported)                                     |
| ``mirror`` / ``mirrors`` (+ percentage) | RequestMirror per mirror, ``percent`` or ``fraction`` |
| ``corsPolicy``                          | CORS (exact origins, standard methods)              |
"""

from __future__ import annotations

import re
from typing import TypeVar

from meshctl.emit.gateway_api.backends import Site, backend_ref
from meshctl.emit.gateway_api.context import Build
from meshctl.emit.gateway_api.matches import EXACT, MAX_PATH, PREFIX, REGEX, HttpMatch
from meshctl.emit.gateway_api.values import (
    METHODS,
    envoy_formatter,
    header_name_ok,
    header_value_ok,
    is_precise_hostname,
    mirror_share,
    port_ok,
    seconds_up,
)
from meshctl.emit.manifests import Json
from meshctl.model.objects import Backend
from meshctl.model.origin import Origin
from meshctl.model.traffic import Cors, HeaderOps, Redirect, Rewrite

T = TypeVar("T")
REDIRECT_CODES = (301, 302, 303, 307, 308)
ISTIO_REDIRECT_CODE = 301
MAX_HEADERS = 16
_CORS_ORIGIN = r"^(\*|https?://((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?)$"


# -- headers -------------------------------------------------------------------------------------
def header_filters(build: Build, ops: HeaderOps | None, fallback: Origin) -> list[Json]:
    """Request and response header modifiers (empty when ``ops`` changes nothing)."""
    if not ops:
        return []
    assert ops is not None
    origin = ops.origin or fallback
    out = []
    request = _modifier(build, origin, "request", ops.request_set, ops.request_add, ops.request_remove)
    if request:
        out.append({"type": "RequestHeaderModifier", "requestHeaderModifier": request})
    response = _modifier(build, origin, "response", ops.response_set, ops.response_add, ops.response_remove)
    if response:
        out.append({"type": "ResponseHeaderModifier", "responseHeaderModifier": response})
    return out


def _modifier(
    build: Build, origin: Origin, side: str,
    set_: tuple[tuple[str, str], ...], add: tuple[tuple[str, str], ...], remove: tuple[str, ...],
) -> Json:
    out: Json = {}
    for verb, pairs in (("set", set_), ("add", add)):
        kept = []
        for name, value in pairs:
            where = origin.at(side, verb, name)
            if not header_name_ok(name) or not header_value_ok(value):
                build.losses.dropped(
                    where, f"{side} header {verb} {name}: {value!r}: Gateway API header values are non-empty "
                           "printable ASCII (single inner spaces); the change is left out",
                )
                continue
            if envoy_formatter(value):
                build.losses.approximated(
                    where, f"{side} header {name}: {value!r} uses an Envoy substitution; Istio expands it, "
                           "Linkerd writes it as it is",
                )
            kept.append({"name": name, "value": value})
        if kept:
            out[verb] = _capped(build, origin.at(side, verb), f"{side} header {verb}", kept)
    removed = sorted({name for name in remove if header_name_ok(name)})
    for name in sorted(set(remove) - set(removed)):
        build.losses.dropped(origin.at(side, "remove"), f"{side} header remove {name!r}: not a header name "
                                                         "Gateway API accepts; left out")
    if removed:
        out["remove"] = _capped(build, origin.at(side, "remove"), f"{side} header remove", removed)
    return out


def _capped(build: Build, origin: Origin, what: str, items: list[T]) -> list[T]:
    if len(items) > MAX_HEADERS:
        build.losses.dropped(origin, f"{what}: {len(items)} entries, Gateway API allows {MAX_HEADERS}; "
                                     "the rest are left out")
    return items[:MAX_HEADERS]


# -- redirects -----------------------------------------------------------------------------------
def redirect_filter(build: Build, redirect: Redirect) -> Json:
    """RequestRedirect; the status code is always written (Istio's default is 301, Gateway API's 302)."""
    origin = redirect.origin
    out: Json = {}
    if redirect.scheme is not None:
        if redirect.scheme.lower() in ("http", "https"):
            out["scheme"] = redirect.scheme.lower()
        else:
            build.losses.dropped(origin.at("scheme"), f"redirect scheme {redirect.scheme!r}: Gateway API "
                                                      "redirects to http or https only; the scheme is kept")
    port = redirect.port
    if redirect.authority is not None:
        host, _, written_port = redirect.authority.lower().partition(":")
        if is_precise_hostname(host) and (not written_port or written_port.isdigit()):
            out["hostname"] = host
            if written_port and port is None:
                port = int(written_port)
        else:
            build.losses.dropped(origin.at("authority"), f"redirect authority {redirect.authority!r} is not a "
                                                         "hostname Gateway API accepts; the host is kept")
    if redirect.uri is not None and len(redirect.uri) <= MAX_PATH:
        out["path"] = {"type": "ReplaceFullPath", "replaceFullPath": redirect.uri}
    elif redirect.uri is not None:
        build.losses.dropped(origin.at("uri"), f"redirect uri of {len(redirect.uri)} characters: Gateway API paths "
                                               f"have at most {MAX_PATH}; the path is kept")
    if port is not None and port_ok(port):
        out["port"] = port
    elif redirect.derive_port and "scheme" in out:
        build.losses.approximated(
            origin.at("derivePort"),
            "derivePort FROM_REQUEST_PORT with a scheme change: Gateway API redirects to the scheme's "
            "well-known port (80 or 443) instead of the request's",
        )
    code = redirect.code if redirect.code is not None else ISTIO_REDIRECT_CODE
    if code not in REDIRECT_CODES:
        build.losses.dropped(origin.at("redirectCode"), f"redirect code {code}: Gateway API redirects with "
                                                        f"{', '.join(map(str, REDIRECT_CODES))}; 301 is used")
        code = ISTIO_REDIRECT_CODE
    out["statusCode"] = code
    return {"type": "RequestRedirect", "requestRedirect": out}


# -- rewrites ------------------------------------------------------------------------------------
def rewrite_filter(build: Build, rewrite: Rewrite, match: HttpMatch | None) -> Json | None:
    """URLRewrite for one match of the rule (``match`` None: the rule has no path condition).

    Istio's ``rewrite.uri`` replaces what the match matched: the whole path for an exact
    match, the prefix for a prefix match. The caller gives a prefix rewrite its own rule
    with exactly one PathPrefix match, as Gateway API requires.
    """
    origin = rewrite.origin
    out: Json = {}
    if rewrite.authority is not None:
        host = rewrite.authority.lower()
        if is_precise_hostname(host):
            out["hostname"] = host
        else:
            build.losses.dropped(origin.at("authority"), f"rewrite authority {rewrite.authority!r} is not a "
                                                         "hostname Gateway API accepts; the Host is not rewritten")
    if rewrite.regex is not None:
        build.losses.dropped(origin.at("uriRegexRewrite"), f"uriRegexRewrite {rewrite.regex[0]!r} -> "
                                                           f"{rewrite.regex[1]!r}: Gateway API has no regex "
                                                           "rewrite; the path is not rewritten")
    if rewrite.uri is not None and len(rewrite.uri) > MAX_PATH:
        build.losses.dropped(origin.at("uri"), f"rewrite uri of {len(rewrite.uri)} characters: Gateway API paths "
                                               f"have at most {MAX_PATH}; the path is not rewritten")
    elif rewrite.uri is not None:
        path = _path_rewrite(build, rewrite.uri, match, origin)
        if path is not None:
            out["path"] = path
    if not out:
        return None
    return {"type": "URLRewrite", "urlRewrite": out}


def _path_rewrite(build: Build, uri: str, match: HttpMatch | None, origin: Origin) -> Json | None:
    path_type = match.path_type if match is not None else None
    if path_type == EXACT:
        return {"type": "ReplaceFullPath", "replaceFullPath": uri}
    if path_type == REGEX:
        build.losses.dropped(origin.at("uri"), f"rewrite.uri {uri!r} on a regex match: Gateway API rewrites "
                                               "a matched prefix or the full path only; the path is not rewritten")
        return None
    prefix = match.path if match is not None and path_type == PREFIX else "/"
    assert prefix is not None
    if prefix.endswith("/") != uri.endswith("/"):
        build.losses.approximated(
            origin.at("uri"),
            f"rewrite.uri {uri!r} of prefix {prefix!r}: Istio replaces the characters (so "
            f"{prefix + 'x'!r} becomes {uri + 'x'!r}); Gateway API's ReplacePrefixMatch replaces whole segments "
            "and keeps one '/' between the new prefix and the rest",
        )
    return {"type": "ReplacePrefixMatch", "replacePrefixMatch": uri}


# -- mirrors -------------------------------------------------------------------------------------
def mirror_filter(build: Build, mirror: Backend, site: Site) -> Json | None:
    """RequestMirror, with the share of requests copied when it is not all of them."""
    if mirror.percent is not None and mirror.percent <= 0:
        return None  # Istio mirrors nothing
    ref = backend_ref(build, mirror, site, mirror=True)
    if ref is None:
        return None
    body: Json = {"backendRef": ref}
    if mirror.percent is not None and mirror.percent < 100:
        body.update(mirror_share(mirror.percent))
    return {"type": "RequestMirror", "requestMirror": body}


# -- CORS ------------------------------------------------------------------------------------------
def cors_filter(build: Build, cors: Cors) -> Json | None:
    """The CORS filter (standard channel since Gateway API v1.5)."""
    origin = cors.origin
    origins: list[str] = []
    for item in cors.allow_origins:
        value = "*" if item.type == "regex" and item.value in (".*", "*") else item.value
        if (item.type == "exact" or value == "*") and len(value) <= 253 and re.match(_CORS_ORIGIN, value):
            if value not in origins:
                origins.append(value)
        else:
            build.losses.dropped(origin.at("allowOrigins"), f"CORS origin {item.type} {item.value!r}: Gateway "
                                                            "API allows '*' or exact scheme://host[:port] origins "
                                                            "(with an optional '*.' label); left out")
    if not origins:
        if cors.allow_origins:
            build.losses.dropped(origin, "corsPolicy: no allowed origin can be expressed, so the CORS filter is "
                                         "left out and browsers refuse cross-origin requests")
        return None
    out: Json = {"allowOrigins": ["*"] if "*" in origins else origins[:64]}
    if cors.allow_credentials is not None:
        out["allowCredentials"] = cors.allow_credentials
    methods = [m for m in dict.fromkeys(cors.allow_methods) if m in METHODS or m == "*"]
    for method in sorted(set(cors.allow_methods) - set(methods)):
        build.losses.dropped(origin.at("allowMethods"), f"CORS method {method!r} is not one Gateway API "
                                                        "allows; left out")
    if methods:
        out["allowMethods"] = ["*"] if "*" in methods else methods
    for key, names in (("allowHeaders", cors.allow_headers), ("exposeHeaders", cors.expose_headers)):
        kept = [n for n in dict.fromkeys(names) if header_name_ok(n)]
        for name in sorted(set(names) - set(kept)):
            build.losses.dropped(origin.at(key), f"CORS {key} {name!r} is not a header name; left out")
        if kept:
            out[key] = ["*"] if "*" in kept and key == "allowHeaders" else kept[:64]
    if cors.max_age is not None:
        age = seconds_up(cors.max_age)
        if age:
            out["maxAge"] = age
    if cors.unmatched_preflights == "IGNORE":
        build.losses.dropped(origin.at("unmatchedPreflights"), "unmatchedPreflights IGNORE: Gateway API's CORS "
                                                               "filter answers every preflight; left out")
    return {"type": "CORS", "cors": out}
