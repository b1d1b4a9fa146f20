"""Fields that exclude each other are set together, or none of a required choice is set.

## Why it matters
Many Istio objects hold a choice: a string match is `exact`, `prefix` or `regex`; an
HTTP route forwards (`route`), redirects, responds directly or delegates; a load
balancer is `simple` or `consistentHash`. Setting two sides of a choice is rejected
by the API server or Istio's webhook (the YAML does not say which one you meant),
and so is leaving out a choice the object needs, like the action of an HTTP route.

## Example
```yaml
http:
- match:
  - uri:
      exact: /login
      prefix: /login/      # exact or prefix, not both
  redirect: {uri: /signin}
  route:                   # a redirect does not forward as well
  - destination: {host: web}
```

## Fix
Keep the one field you mean. The message names the fields of the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import find, find_tagged, items, mapping, present

VIRTUAL_SERVICE = "networking.istio.io/VirtualService"
DESTINATION_RULE = "networking.istio.io/DestinationRule"
ENVOY_FILTER = "networking.istio.io/EnvoyFilter"
GATEWAY = "networking.istio.io/Gateway"
SIDECAR = "networking.istio.io/Sidecar"
SERVICE_ENTRY = "networking.istio.io/ServiceEntry"
WORKLOAD_GROUP = "networking.istio.io/WorkloadGroup"
AUTHORIZATION_POLICY = "security.istio.io/AuthorizationPolicy"
REQUEST_AUTHENTICATION = "security.istio.io/RequestAuthentication"
TELEMETRY = "telemetry.istio.io/Telemetry"
WASM_PLUGIN = "extensions.istio.io/WasmPlugin"
TRAFFIC_EXTENSION = "extensions.istio.io/TrafficExtension"


@dataclass(frozen=True)
class Choice:
    """At most one (or, when ``required``, exactly one) of ``fields`` in each object at ``pattern``."""

    pattern: str
    fields: tuple[str, ...]
    what: str
    required: bool = False


_STRING_MATCH = ("exact", "prefix", "regex")
_HTTP_MATCH = "spec.http[].match[]"
_POLICIES = (
    "spec.trafficPolicy",
    "spec.trafficPolicy.portLevelSettings[]",
    "spec.subsets[].trafficPolicy",
    "spec.subsets[].trafficPolicy.portLevelSettings[]",
)
_HASH_KEYS = ("httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName")
# The CRDs exclude credentialNames with either of the others (not those two together).
_TLS_CERTIFICATES = (("credentialName", "credentialNames"), ("credentialNames", "tlsCertificates"))

CHOICES: dict[str, tuple[Choice, ...]] = {
    VIRTUAL_SERVICE: (
        *(
            Choice(f"{_HTTP_MATCH}.{f}", _STRING_MATCH, "a string match")
            for f in ("uri", "scheme", "method", "authority")
        ),
        *(
            Choice(f"{_HTTP_MATCH}.{f}{{}}", _STRING_MATCH, "a string match")
            for f in ("headers", "queryParams", "withoutHeaders")
        ),
        Choice("spec.http[].corsPolicy.allowOrigins[]", _STRING_MATCH, "a string match"),
        Choice("spec.http[].directResponse.body", ("string", "bytes"), "a response body"),
        Choice(
            "spec.http[].fault.abort", ("httpStatus", "grpcStatus", "http2Error"), "an abort fault"
        ),
        Choice("spec.http[].fault.delay", ("fixedDelay", "exponentialDelay"), "a delay fault"),
        Choice("spec.http[].redirect", ("port", "derivePort"), "a redirect port"),
        Choice("spec.http[].rewrite", ("uri", "uriRegexRewrite"), "a rewrite"),
        Choice("spec.http[]", ("mirror", "mirrors"), "an HTTP route's mirroring"),
    ),
    DESTINATION_RULE: tuple(
        choice
        for root in _POLICIES
        for choice in (
            Choice(f"{root}.loadBalancer", ("simple", "consistentHash"), "a load balancer"),
            Choice(f"{root}.loadBalancer.consistentHash", _HASH_KEYS, "a consistent hash key"),
            Choice(
                f"{root}.loadBalancer.consistentHash",
                ("ringHash", "maglev"),
                "a consistent hash algorithm",
            ),
        )
    ),
    ENVOY_FILTER: (
        Choice(
            "spec.configPatches[].match",
            ("listener", "routeConfiguration", "cluster", "waypoint"),
            "a patch match",
        ),
    ),
    GATEWAY: tuple(Choice("spec.servers[].tls", pair, "server TLS") for pair in _TLS_CERTIFICATES),
    SIDECAR: tuple(
        Choice("spec.ingress[].tls", pair, "listener TLS") for pair in _TLS_CERTIFICATES
    ),
    SERVICE_ENTRY: (
        Choice("spec", ("workloadSelector", "endpoints"), "a ServiceEntry's workloads"),
    ),
    WORKLOAD_GROUP: (
        Choice("spec.probe", ("httpGet", "tcpSocket", "exec", "grpc"), "a readiness probe"),
    ),
    REQUEST_AUTHENTICATION: (
        Choice("spec.jwtRules[]", ("jwksUri", "jwks_uri", "jwks"), "a JWT rule's keys"),
    ),
    TELEMETRY: (
        Choice("spec.metrics[].overrides[].match", ("metric", "customMetric"), "a metric selector"),
        Choice(
            "spec.tracing[].customTags{}",
            ("literal", "environment", "header", "formatter"),
            "a custom tag",
        ),
    ),
    TRAFFIC_EXTENSION: (Choice("spec", ("wasm", "lua"), "a TrafficExtension", required=True),),
}

RULE = Rule(
    "MSH026",
    "conflicting-fields",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({*CHOICES, AUTHORIZATION_POLICY, WASM_PLUGIN}),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    kind = doc.kind_key
    choices = CHOICES.get(kind, ())
    if choices:
        for index, path, obj in find_tagged(doc.data, tuple(c.pattern for c in choices)):
            if isinstance(obj, dict):
                yield from _choose(doc, path, obj, choices[index])
    for extra in _EXTRA.get(kind, ()):
        yield from extra(doc)


def _choose(
    doc: SourceDoc, path: FieldPath, obj: dict[str, Any], choice: Choice
) -> Iterator[Finding]:
    chosen = [field for field in choice.fields if present(obj, field)]
    options = _listed(choice.fields)
    if len(chosen) > 1:
        yield RULE.at(
            doc,
            (*path, chosen[1]),
            f"{_listed(chosen, 'and')} are set together; {choice.what} takes only one of {options}",
            key=True,
        )
    elif not chosen and choice.required:
        yield RULE.at(doc, path, f"{choice.what} needs one of {options}")


def _listed(fields: list[str] | tuple[str, ...], last: str = "or") -> str:
    """``a, b or c``."""
    if len(fields) == 1:
        return fields[0]
    return f"{', '.join(fields[:-1])} {last} {fields[-1]}"


# -- rules that are not a plain choice --------------------------------------------------

_ACTIONS = ("route", "redirect", "directResponse", "delegate")
# Every field of an HTTP route. A route with another key has a misspelt field the schema
# already reports (MSH011), most likely the action itself, so no action is not reported.
_HTTP_ROUTE_FIELDS = frozenset(
    {
        *_ACTIONS,
        "name",
        "match",
        "rewrite",
        "timeout",
        "retries",
        "fault",
        "mirror",
        "mirrors",
        "mirrorPercent",
        "mirror_percent",
        "mirrorPercentage",
        "corsPolicy",
        "headers",
    }
)
# For each action, the fields that may not be set with it, and why.
_EXCLUDED: dict[str, tuple[tuple[str, ...], str]] = {
    "redirect": (("route", "rewrite"), "a redirect does not forward the request"),
    "directResponse": (
        ("route", "redirect", "rewrite"),
        "a direct response does not forward the request",
    ),
    "delegate": (("route", "redirect"), "the delegate VirtualService does the routing"),
}


def _http_actions(doc: SourceDoc) -> Iterator[Finding]:
    """Istio's webhook: an HTTP route does one of forward, redirect, respond or delegate."""
    for path, route in find(doc.data, "spec.http[]"):
        if not isinstance(route, dict):
            continue
        # An empty route list forwards nowhere, so it does not count as set.
        set_fields = {f for f in route if present(route, f) and (f != "route" or items(route[f]))}
        for action, (excluded, why) in _EXCLUDED.items():
            if action in set_fields:
                for other in excluded:
                    if other in set_fields:
                        yield _both(doc, path, other, action, why)
        if not set_fields & set(_ACTIONS) and set(route) <= _HTTP_ROUTE_FIELDS:
            yield RULE.at(doc, path, f"an HTTP route needs one of {_listed(_ACTIONS)}")
        fault = route.get("fault")
        if isinstance(fault, dict) and not (present(fault, "abort") or present(fault, "delay")):
            yield RULE.at(doc, (*path, "fault"), "fault needs an abort, a delay or both", key=True)
    for section in ("tcp", "tls"):
        for path, route in find(doc.data, f"spec.{section}[]"):
            if isinstance(route, dict) and not items(route.get("route")):
                yield RULE.at(doc, path, f"a {section} route needs at least one route destination")


def _both(doc: SourceDoc, path: FieldPath, field: str, other: str, why: str) -> Finding:
    return RULE.at(doc, (*path, field), f"{field} and {other} are both set; {why}", key=True)


def _authorization(doc: SourceDoc) -> Iterator[Finding]:
    spec = mapping(doc.data.get("spec"))
    action = spec.get("action")
    if action == "CUSTOM" and not present(spec, "provider"):
        yield RULE.at(
            doc, ("spec", "action"), "action CUSTOM needs a provider to send the check to"
        )
    elif action != "CUSTOM" and present(spec, "provider"):
        shown = action if isinstance(action, str) else "ALLOW (the default)"
        yield RULE.at(
            doc, ("spec", "provider"), f"provider is only for action CUSTOM, not {shown}", key=True
        )
    for path, source in find(doc.data, "spec.rules[].from[].source"):
        if not isinstance(source, dict):
            continue
        accounts = [f for f in ("serviceAccounts", "notServiceAccounts") if present(source, f)]
        others = [
            f
            for f in ("principals", "notPrincipals", "namespaces", "notNamespaces")
            if present(source, f)
        ]
        if accounts and others:
            yield RULE.at(
                doc,
                (*path, others[0]),
                f"{accounts[0]} and {others[0]} are both set; serviceAccounts and "
                "notServiceAccounts cannot be combined with principals or namespaces",
                key=True,
            )


def _tag_overrides(doc: SourceDoc) -> Iterator[Finding]:
    for path, override in find(doc.data, "spec.metrics[].overrides[].tagOverrides{}"):
        if not isinstance(override, dict):
            continue
        operation = override.get("operation")
        if operation == "UPSERT" and not override.get("value"):
            yield RULE.at(doc, path, "operation UPSERT needs a non-empty value")
        elif operation == "REMOVE" and present(override, "value"):
            yield RULE.at(doc, (*path, "value"), "operation REMOVE takes no value", key=True)


def _env_from_host(env_pattern: str) -> Callable[[SourceDoc], Iterator[Finding]]:
    def check_env(doc: SourceDoc) -> Iterator[Finding]:
        for path, env in find(doc.data, env_pattern):
            if isinstance(env, dict) and env.get("valueFrom") == "HOST" and present(env, "value"):
                yield RULE.at(
                    doc,
                    (*path, "value"),
                    "valueFrom HOST takes the value from the proxy's environment; value is "
                    "only for valueFrom INLINE",
                    key=True,
                )

    return check_env


def _service_entry(doc: SourceDoc) -> Iterator[Finding]:
    spec = mapping(doc.data.get("spec"))
    resolution = spec.get("resolution") if isinstance(spec.get("resolution"), str) else "NONE"
    endpoints = items(spec.get("endpoints"))
    if resolution == "NONE" and present(spec, "endpoints"):
        yield RULE.at(
            doc,
            ("spec", "endpoints"),
            "resolution NONE (the default) forwards to the address the client asked for; "
            "endpoints need resolution STATIC or DNS",
            key=True,
        )
    if resolution == "DNS_ROUND_ROBIN" and len(endpoints) > 1:
        yield RULE.at(
            doc,
            ("spec", "endpoints"),
            "resolution DNS_ROUND_ROBIN takes at most one endpoint",
            key=True,
        )
    if resolution not in ("NONE", "STATIC"):
        for path, address in find(doc.data, "spec.addresses[]"):
            if isinstance(address, str) and "/" in address:
                yield RULE.at(
                    doc,
                    path,
                    f"CIDR address {address!r} needs resolution NONE or STATIC, not {resolution}",
                )


def _envoy_filter_waypoint(doc: SourceDoc) -> Iterator[Finding]:
    for path, match in find(doc.data, "spec.configPatches[].match"):
        if not isinstance(match, dict):
            continue
        waypoint_context = match.get("context") == "WAYPOINT"
        if present(match, "waypoint") and not waypoint_context:
            yield RULE.at(
                doc, (*path, "waypoint"), "match.waypoint is only for context WAYPOINT", key=True
            )
        elif waypoint_context and not present(match, "waypoint"):
            yield RULE.at(doc, (*path, "context"), "context WAYPOINT needs match.waypoint")


_EXTRA: dict[str, tuple[Callable[[SourceDoc], Iterator[Finding]], ...]] = {
    VIRTUAL_SERVICE: (_http_actions,),
    AUTHORIZATION_POLICY: (_authorization,),
    TELEMETRY: (_tag_overrides,),
    WASM_PLUGIN: (_env_from_host("spec.vmConfig.env[]"),),
    TRAFFIC_EXTENSION: (_env_from_host("spec.wasm.vmConfig.env[]"),),
    SERVICE_ENTRY: (_service_entry,),
    ENVOY_FILTER: (_envoy_filter_waypoint,),
}
