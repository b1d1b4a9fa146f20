"""One VirtualService ``http`` rule -> HTTPRoute rules (one, or one per match for rewrites).

Before::

    - name: canary
      match: [{uri: {prefix: /v1}}]
      rewrite: {uri: /}
      route: [{destination: {host: cart, subset: v2}, weight: 20}, {destination: {host: cart}, weight: 80}]
      timeout: 3s

After::

    - name: canary
      matches: [{path: {type: PathPrefix, value: /v1}}]
      filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
      backendRefs: [{name: cart-v2, port: 8080, weight: 20}, {name: cart, port: 8080, weight: 80}]
      timeouts: {request: 3s}

Retries become ``rules[].retry`` (experimental channel only) with ``perTryTimeout`` as
``timeouts.backendRequest`` (written only together with a retry: without one, Istio
would take it as the whole route's timeout). Fault injection, ``directResponse`` and
``delegate`` have no Gateway API form: a rule that had only those keeps its matches and
no backend, so its requests fail (Istio answers 500) instead of reaching another rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from meshctl.emit.gateway_api.backends import Site, backend_ref
from meshctl.emit.gateway_api.context import Build
from meshctl.emit.gateway_api.filters import (
    cors_filter,
    header_filters,
    mirror_filter,
    redirect_filter,
    rewrite_filter,
)
from meshctl.emit.gateway_api.matches import EXACT, PREFIX, HttpMatch, convert
from meshctl.emit.gateway_api.values import (
    exact_duration,
    gateway_duration,
    is_section_name,
    millis,
    section_name,
    weight,
)
from meshctl.emit.manifests import Json
from meshctl.model.objects import Fault, RequestMatch, Retry, RouteRule

IMPLIED_BY_ISTIO = frozenset({"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"})
CODES = {"5xx": (500, 501, 502, 503, 504), "gateway-error": (502, 503, 504), "retriable-4xx": (409,)}
ISTIO_DEFAULT_CODES = (503,)
MAX_MATCHES = 64


@dataclass
class HttpRule:
    """One HTTPRoute rule being built; ``source`` is the Istio rule it stands for."""

    source: RouteRule
    matches: list[HttpMatch]  # empty: no matches written (every request)
    filters: list[Json] = field(default_factory=list)
    backend_refs: list[Json] = field(default_factory=list)
    timeouts: Json = field(default_factory=dict)
    retry: Json | None = None
    name: str | None = None

    def action(self) -> str:
        """What the rule does to a request, as a comparable string (matches and name aside)."""
        return json.dumps([self.filters, self.backend_refs, self.timeouts, self.retry], sort_keys=True)

    @property
    def forwards(self) -> bool:
        return bool(self.backend_refs) or any(f["type"] == "RequestRedirect" for f in self.filters)

    def json(self) -> Json:
        out: Json = {}
        if self.name:
            out["name"] = self.name
        if self.matches:
            out["matches"] = [m.json() for m in self.matches]
        if self.filters:
            out["filters"] = self.filters
        if self.backend_refs:
            out["backendRefs"] = self.backend_refs
        if self.timeouts:
            out["timeouts"] = self.timeouts
        if self.retry is not None:
            out["retry"] = self.retry
        return out


def convert_rule(build: Build, rule: RouteRule, matches: tuple[RequestMatch, ...], site: Site) -> list[HttpRule]:
    """The HTTPRoute rules for ``rule`` restricted to ``matches`` (the rule's matches that apply
    where the route is placed, placement conditions removed; empty for a rule without any)."""
    converted: list[HttpMatch] = []
    for match in matches:
        converted.extend(convert(build, match))
    if matches and not converted:
        return []  # nothing the rule matched can be matched in Gateway API (reported)
    if any(m.every_request for m in converted):
        converted = []
    base = HttpRule(rule, converted, name=_name(rule))
    if rule.delegate:
        build.losses.dropped(
            rule.origin.at("delegate"),
            f"delegate {rule.delegate}: Gateway API has no delegation and the delegate's rules are not inlined; "
            "the rule keeps its matches without a backend, so its requests fail (Istio answers 500)",
        )
        return _capped(base)
    if rule.fault is not None:
        build.losses.dropped(rule.fault.origin, f"fault injection ({_fault(rule.fault)}) has no Gateway API "
                                                "equivalent; left out")
    if rule.redirect is not None:
        base.filters = header_filters(build, rule.header_changes, rule.origin.at("headers"))
        base.filters.append(redirect_filter(build, rule.redirect))
        return _capped(base)
    if rule.direct_response is not None:
        build.losses.dropped(
            rule.direct_response.origin,
            f"directResponse {rule.direct_response.status}: Gateway API cannot answer from the route; the rule "
            "keeps its matches without a backend, so its requests fail (Istio answers 500)",
        )
        return _capped(base)
    _forward(build, rule, site, base)
    if rule.rewrite is not None:
        return _rewritten(build, rule, base)
    return _capped(base)


def _capped(rule: HttpRule) -> list[HttpRule]:
    """A rule of more than 64 matches (the API's limit) as adjacent rules doing the same."""
    if len(rule.matches) <= MAX_MATCHES:
        return [rule]
    out = []
    for start in range(0, len(rule.matches), MAX_MATCHES):
        out.append(HttpRule(rule.source, rule.matches[start:start + MAX_MATCHES], rule.filters, rule.backend_refs,
                            rule.timeouts, rule.retry, rule.name if start == 0 else None))
    return out


def _name(rule: RouteRule) -> str | None:
    if not rule.name:
        return None
    return rule.name if is_section_name(rule.name) else section_name(rule.name)


def _forward(build: Build, rule: RouteRule, site: Site, out: HttpRule) -> None:
    refs = []
    for backend in rule.backends:
        ref = backend_ref(build, backend, site)
        if ref is None:
            continue
        ref["weight"] = 1 if len(rule.backends) == 1 else weight(backend.weight)
        backend_filters = header_filters(build, backend.headers, backend.origin.at("headers"))
        if backend_filters:
            ref["filters"] = backend_filters
        refs.append(ref)
    if rule.backends and not refs:
        build.losses.dropped(rule.origin, "no destination of the rule could be translated; it keeps its matches "
                                          "without a backend, so its requests fail (Istio answers 500)")
    out.backend_refs = refs
    out.filters = header_filters(build, rule.header_changes, rule.origin.at("headers"))
    for mirror in rule.mirrors:
        mirrored = mirror_filter(build, mirror, site)
        if mirrored is not None:
            out.filters.append(mirrored)
    if rule.cors is not None:
        cors = cors_filter(build, rule.cors)
        if cors is not None:
            out.filters.append(cors)
    _timeouts(build, rule, out)


def _timeouts(build: Build, rule: RouteRule, out: HttpRule) -> None:
    request_ms = None
    if rule.timeout is not None:
        value = gateway_duration(rule.timeout)
        if value is None:
            build.losses.dropped(rule.origin.at("timeout"), f"timeout {rule.timeout!r} is not a duration Gateway API "
                                                            "can write; left out")
        else:
            request_ms = millis(rule.timeout)
            out.timeouts["request"] = value
            if not exact_duration(rule.timeout):
                build.losses.approximated(rule.origin.at("timeout"), f"timeout {rule.timeout} rounded up to {value}: "
                                                                     "Gateway API durations count milliseconds")
    if rule.retry is not None:
        _retry(build, rule.retry, request_ms, out)


def _retry(build: Build, retry: Retry, request_ms: int | None, out: HttpRule) -> None:
    origin = retry.origin
    if retry.attempts is not None and retry.attempts < 1:
        build.losses.approximated(
            origin.at("attempts"),
            "attempts: 0 turns Istio's retries off; Gateway API cannot say 'no retries', and Istio applies its "
            "default retry policy (2 attempts) to a route without a retry stanza",
        )
        return
    if not build.experimental:
        build.losses.dropped(
            origin, f"retries ({_retry_text(retry)}): rules[].retry is in Gateway API's experimental channel "
                    "only; left out, so Istio retries with its default policy (--gateway-api-channel experimental "
                    "to keep them)",
        )
        return
    body: Json = {}
    if retry.attempts is not None:
        body["attempts"] = retry.attempts
    codes = _codes(build, retry)
    if codes:
        body["codes"] = codes
    if retry.backoff is not None:
        backoff = gateway_duration(retry.backoff)
        if backoff is not None:
            body["backoff"] = backoff
    if retry.per_try_timeout is not None:
        per_try = millis(retry.per_try_timeout)
        if per_try is not None:
            if request_ms and per_try > request_ms:
                build.losses.approximated(
                    origin.at("perTryTimeout"),
                    f"perTryTimeout {retry.per_try_timeout} is longer than the route's timeout; Gateway API requires "
                    f"backendRequest to be at most the request timeout, so it is written as {request_ms}ms (the "
                    "route timeout ends every attempt anyway)")
                per_try = request_ms
            out.timeouts["backendRequest"] = gateway_duration(f"{per_try}ms")
    if retry.remote_localities:
        build.losses.dropped(origin.at("retryRemoteLocalities"), "retryRemoteLocalities has no Gateway API "
                                                                 "equivalent; left out")
    if retry.ignore_previous_hosts is False:
        build.losses.dropped(origin.at("retryIgnorePreviousHosts"), "retryIgnorePreviousHosts: false has no "
                                                                    "Gateway API equivalent; left out")
    out.retry = body


def _codes(build: Build, retry: Retry) -> list[int]:
    """HTTP status codes to retry on. Istio's Gateway API conversion adds connect-failure,
    refused-stream, unavailable and cancelled to them by itself."""
    if retry.retry_on is None:
        return list(ISTIO_DEFAULT_CODES)
    codes: set[int] = set()
    lost = []
    for token in (t.strip() for t in retry.retry_on.split(",")):
        if not token or token in IMPLIED_BY_ISTIO:
            continue
        if token.isdigit() and 400 <= int(token) <= 599:
            codes.add(int(token))
        elif token in CODES:
            codes.update(CODES[token])
            if token == "5xx":
                build.losses.approximated(
                    retry.origin.at("retryOn"),
                    "retryOn 5xx is written as codes 500-504: Gateway API lists status codes, so other 5xx "
                    "statuses are not retried",
                )
        else:
            lost.append(token)
    if lost:
        build.losses.dropped(retry.origin.at("retryOn"), f"retryOn {', '.join(lost)}: Gateway API retries on "
                                                         "status codes (and Istio on connection failures); left out")
    return sorted(codes)


def _rewritten(build: Build, rule: RouteRule, base: HttpRule) -> list[HttpRule]:
    """URLRewrite needs exactly one PathPrefix match for ReplacePrefixMatch: a rule whose
    prefix rewrite covers several matches becomes one rule per match (adjacent, same action,
    so the order of the Istio rules is kept)."""
    assert rule.rewrite is not None
    matches = base.matches
    needs_prefix = rule.rewrite.uri is not None and (not matches or any(m.path_type != EXACT for m in matches))
    if not needs_prefix:
        rewrite = rewrite_filter(build, rule.rewrite, matches[0] if matches else None)
        if rewrite is not None:
            base.filters.append(rewrite)
        return _capped(base)
    out = []
    for index, match in enumerate(matches or [HttpMatch(rule.origin)]):
        one = match if match.path_type is not None else replace(match, path_type=PREFIX, path="/")
        rewrite = rewrite_filter(build, rule.rewrite, one)
        part = HttpRule(rule, [one], list(base.filters), [dict(r) for r in base.backend_refs],
                        dict(base.timeouts), base.retry, base.name if index == 0 or not base.name
                        else f"{base.name[:250]}-{index + 1}")
        if rewrite is not None:
            part.filters.append(rewrite)
        out.append(part)
    return out


def _fault(fault: Fault) -> str:
    parts = []
    if fault.delay or fault.exponential_delay:
        parts.append(f"delay {fault.delay or fault.exponential_delay}" + _share(fault.delay_percent))
    if fault.abort_status is not None or fault.abort_grpc is not None:
        status = fault.abort_status if fault.abort_status is not None else f"gRPC {fault.abort_grpc}"
        parts.append(f"abort {status}" + _share(fault.abort_percent))
    return ", ".join(parts) or "empty"


def _share(percent: float | None) -> str:
    return "" if percent is None else f" for {percent:g}% of requests"


def _retry_text(retry: Retry) -> str:
    parts = []
    if retry.attempts is not None:
        parts.append(f"attempts {retry.attempts}")
    if retry.retry_on:
        parts.append(f"retryOn {retry.retry_on}")
    if retry.per_try_timeout:
        parts.append(f"perTryTimeout {retry.per_try_timeout}")
    return ", ".join(parts) or "default"
