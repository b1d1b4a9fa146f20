"""A label selector has an invalid or wildcard label, or targets workloads twice.

## Why it matters
Istio's CRDs and webhook reject the resource: label keys must be non-empty, valid
Kubernetes label keys (an optional DNS prefix and `/`, then at most 63 letters,
digits, `-`, `_` or `.`) and values valid label values; selectors match labels
exactly, so `*` is not a wildcard and is refused. A policy picks its workloads with
one of `selector`, `targetRef` or `targetRefs`, never two, and a target reference
may not name another namespace.

## Example
```yaml
kind: AuthorizationPolicy
spec:
  selector:
    matchLabels:
      app: "*"              # not a wildcard
  targetRefs:               # and a selector as well
  - {kind: Gateway, group: gateway.networking.k8s.io, name: web}
```

## Fix
Select with exact labels (or drop the selector to apply to the whole namespace),
keep one of `selector` and `targetRefs`, and leave `namespace` out of target
references: the policy's own namespace is implied.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import find, mapping, present

AUTHORIZATION_POLICY = "security.istio.io/AuthorizationPolicy"
PEER_AUTHENTICATION = "security.istio.io/PeerAuthentication"
REQUEST_AUTHENTICATION = "security.istio.io/RequestAuthentication"
TELEMETRY = "telemetry.istio.io/Telemetry"
WASM_PLUGIN = "extensions.istio.io/WasmPlugin"
TRAFFIC_EXTENSION = "extensions.istio.io/TrafficExtension"
PROXY_CONFIG = "networking.istio.io/ProxyConfig"
DESTINATION_RULE = "networking.istio.io/DestinationRule"
SIDECAR = "networking.istio.io/Sidecar"
SERVICE_ENTRY = "networking.istio.io/ServiceEntry"
ENVOY_FILTER = "networking.istio.io/EnvoyFilter"
GATEWAY = "networking.istio.io/Gateway"
VIRTUAL_SERVICE = "networking.istio.io/VirtualService"
WORKLOAD_ENTRY = "networking.istio.io/WorkloadEntry"
WORKLOAD_GROUP = "networking.istio.io/WorkloadGroup"

_SOURCE_LABELS = tuple(f"spec.{kind}[].match[].sourceLabels" for kind in ("http", "tcp", "tls"))
LABEL_MAPS: dict[str, tuple[str, ...]] = {
    AUTHORIZATION_POLICY: ("spec.selector.matchLabels",),
    PEER_AUTHENTICATION: ("spec.selector.matchLabels",),
    REQUEST_AUTHENTICATION: ("spec.selector.matchLabels",),
    TELEMETRY: ("spec.selector.matchLabels",),
    WASM_PLUGIN: ("spec.selector.matchLabels",),
    TRAFFIC_EXTENSION: ("spec.selector.matchLabels",),
    PROXY_CONFIG: ("spec.selector.matchLabels",),
    DESTINATION_RULE: ("spec.workloadSelector.matchLabels", "spec.subsets[].labels"),
    SIDECAR: ("spec.workloadSelector.labels",),
    SERVICE_ENTRY: ("spec.workloadSelector.labels", "spec.endpoints[].labels"),
    ENVOY_FILTER: ("spec.workloadSelector.labels",),
    GATEWAY: ("spec.selector",),
    VIRTUAL_SERVICE: _SOURCE_LABELS,
    WORKLOAD_ENTRY: ("spec.labels",),
    WORKLOAD_GROUP: ("spec.metadata.labels", "spec.template.labels"),
}
# The ways a policy picks workloads, of which at most one may be set.
TARGETING: dict[str, tuple[str, ...]] = {
    AUTHORIZATION_POLICY: ("selector", "targetRef", "targetRefs"),
    REQUEST_AUTHENTICATION: ("selector", "targetRef", "targetRefs"),
    TELEMETRY: ("selector", "targetRef", "targetRefs"),
    WASM_PLUGIN: ("selector", "targetRef", "targetRefs"),
    TRAFFIC_EXTENSION: ("selector", "targetRefs"),
    ENVOY_FILTER: ("workloadSelector", "targetRefs"),
}

RULE = Rule(
    "MSH025",
    "invalid-label-selector",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset(LABEL_MAPS),
)

MAX_NAME = 63
MAX_PREFIX = 253
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_CHARS = _ALNUM | frozenset("-_.")
_PREFIX_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_NAME_RULE = (
    "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
)


def _is_name(text: str) -> bool:
    return (
        0 < len(text) <= MAX_NAME
        and set(text) <= _NAME_CHARS
        and text[0] in _ALNUM
        and text[-1] in _ALNUM
    )


def _is_prefix(text: str) -> bool:
    """A DNS-1123 subdomain: lower-case labels joined by dots."""
    return 0 < len(text) <= MAX_PREFIX and all(
        label and set(label) <= _PREFIX_LABEL_CHARS and label[0] != "-" and label[-1] != "-"
        for label in text.split(".")
    )


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a label key a selector can use, or None."""
    if not key:
        return "label key is empty"
    if "*" in key:
        return f"label key {key!r} has '*': selectors match labels exactly, there are no wildcards"
    prefix, slash, name = key.rpartition("/")
    if slash and not _is_prefix(prefix):
        return (
            f"label key {key!r}: prefix {prefix!r} is not a lower-case DNS subdomain "
            f"of at most {MAX_PREFIX} characters"
        )
    if not _is_name(name):
        return f"label key {key!r} is not a valid label name ({_NAME_RULE})"
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a label value, or None (the length is the schema's to check)."""
    if "*" in value:
        return (
            f"label value {value!r} has '*': selectors match labels exactly, there are no wildcards"
        )
    if value and not (set(value) <= _NAME_CHARS and value[0] in _ALNUM and value[-1] in _ALNUM):
        return f"label value {value!r} is not a valid label value ({_NAME_RULE}, or empty)"
    return None


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    kind = doc.kind_key
    for pattern in LABEL_MAPS.get(kind, ()):
        for path, labels in find(doc.data, pattern):
            for key, value in mapping(labels).items():
                problem = label_key_problem(str(key))
                if problem:
                    yield RULE.at(doc, (*path, str(key)), problem, key=True)
                elif isinstance(value, str):
                    problem = label_value_problem(value)
                    if problem:
                        yield RULE.at(doc, (*path, str(key)), problem)
    spec = mapping(doc.data.get("spec"))
    fields = [field for field in TARGETING.get(kind, ()) if present(spec, field)]
    if len(fields) > 1:
        yield RULE.at(
            doc,
            ("spec", fields[1]),
            f"{' and '.join(fields)} are {'both' if len(fields) == 2 else 'all'} set; "
            "a policy picks its workloads with only one of them",
            key=True,
        )
    for path, namespace in find(doc.data, "spec.targetRef.namespace"):
        yield from _cross_namespace(doc, path, namespace)
    for path, namespace in find(doc.data, "spec.targetRefs[].namespace"):
        yield from _cross_namespace(doc, path, namespace)


def _cross_namespace(
    doc: SourceDoc, path: tuple[str | int, ...], namespace: object
) -> Iterator[Finding]:
    if isinstance(namespace, str) and namespace:
        yield RULE.at(
            doc,
            path,
            f"target reference namespace {namespace!r}: cross-namespace targets are not "
            "supported; leave namespace out to target the policy's own namespace",
        )
