"""Istio's resource annotations: where each applies, what values it takes, its status.

The annotation rules (MSH166-MSH170) read this catalog, written from Istio's
``istio.io/api/annotation`` package (``annotations.yaml``) and the injector's value checks
(``pkg/kube/inject``, ``AnnotationValidation``)::

    lookup("sidecar.istio.io/proxyCPU")    -> IstioAnnotation(kinds={POD}, BETA, check=quantity)
    lookup("sidecar.istio.io/proxyCpu")    -> None; suggest(...) -> "sidecar.istio.io/proxyCPU"
    unknown("sidecar.istio.io/proxyCpu")   -> True   (not Istio's, in a prefix meshctl claims)
    unknown("networking.istio.io/foo")     -> False  (Istio's prefix, but meshctl does not claim it)
    placements(ctx)                        -> every `*istio.io/` annotation of the inputs, on a
                                              resource's metadata or on a pod template

Unknown means "in a prefix listed in OWNED_PREFIXES and neither in the catalog nor in
TOLERATED". A prefix is listed only when the catalog is complete for it: reporting a
real Istio annotation as unknown is the worst mistake these rules can make. Names
Istio may define but whose details are uncertain sit in TOLERATED: never reported as
unknown, never checked either.
"""

from __future__ import annotations

import difflib
import enum
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import yaml

from meshctl.diagnostics import PathPart
from meshctl.model.mesh import MeshModel
from meshctl.rules.context import Analysis
from meshctl.model.objects import Labels
from meshctl.model.origin import Origin

# Resource kinds, as ``group/Kind`` (core kinds have an empty group). POD covers pod
# templates too: what the injector reads is the annotations of the pod it creates.
POD = "/Pod"
SERVICE = "/Service"
NAMESPACE = "/Namespace"
AUTHORIZATION_POLICY = "security.istio.io/AuthorizationPolicy"
WORKLOAD_ENTRY = "networking.istio.io/WorkloadEntry"
KUBE_GATEWAY = "gateway.networking.k8s.io/Gateway"
ANY: frozenset[str] = frozenset()

KIND_NAMES = {
    POD: "Pods (a Pod's or a pod template's metadata.annotations)",
    SERVICE: "Services",
    NAMESPACE: "Namespaces",
    AUTHORIZATION_POLICY: "AuthorizationPolicies",
    WORKLOAD_ENTRY: "WorkloadEntries",
    KUBE_GATEWAY: "Gateway API Gateways",
}

# Controllers whose pods come from a template, and where the template's metadata is.
TEMPLATE_METADATA: dict[str, tuple[PathPart, ...]] = {
    "apps/Deployment": ("spec", "template", "metadata"),
    "apps/StatefulSet": ("spec", "template", "metadata"),
    "apps/DaemonSet": ("spec", "template", "metadata"),
    "apps/ReplicaSet": ("spec", "template", "metadata"),
    "batch/Job": ("spec", "template", "metadata"),
    "batch/CronJob": ("spec", "jobTemplate", "spec", "template", "metadata"),
}

# Istio's gateway controller copies a Gateway API Gateway's annotations onto the Deployment
# (pod template) and Service it generates, so pod and Service annotations belong there too.
_ALSO_ACCEPTED = {KUBE_GATEWAY: frozenset({POD, SERVICE})}


class Maturity(enum.Enum):
    ALPHA = "alpha"
    BETA = "beta"
    STABLE = "stable"


Check = Callable[[str], str | None]  # a value -> why it is invalid, or None


@dataclass(frozen=True)
class IstioAnnotation:
    name: str
    kinds: frozenset[str]  # ANY (empty) applies everywhere
    maturity: Maturity
    check: Check | None = None
    deprecated: bool = False
    replacement: str | None = None  # what to use instead, when deprecated
    generated: bool = False  # written by Istio itself (injector, CNI, controllers), not by users
    injected: bool = False  # the injection template writes it on every injected pod
    rejects_pod: bool = False  # the injector refuses to inject a pod whose value is invalid

    def applies_to(self, kind: str) -> bool:
        if not self.kinds:
            return True
        return kind in self.kinds or bool(self.kinds & _ALSO_ACCEPTED.get(kind, frozenset()))


# -- value checks: each returns why the value is invalid, or None ------------------------
_PARSE_BOOL = frozenset({"1", "t", "T", "TRUE", "true", "True",
                         "0", "f", "F", "FALSE", "false", "False"})
_YAML_TRUE = frozenset({"y", "yes", "true", "on"})
_YAML_FALSE = frozenset({"n", "no", "false", "off"})
_ENVOY_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")
_AGENT_LEVELS = ("debug", "info", "warn", "warning", "error", "fatal", "none")
_QUANTITY = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ISTIO_CODE = re.compile(r"^IST\d{4}$")
_UINT32_MAX = 2**32 - 1


def boolean(value: str) -> str | None:
    """strconv.ParseBool, as the injector reads booleans."""
    return None if value in _PARSE_BOOL else "expected true or false"


def inject_switch(value: str) -> str | None:
    """The injector's reading of ``sidecar.istio.io/inject``: only y/yes/true/on inject."""
    word = value.strip().lower()
    if word == "" or word in _YAML_TRUE or word in _YAML_FALSE:
        return None
    return (
        "expected true or false: the injector injects only on y, yes, true or on, "
        f"so {value!r} means do not inject"
    )


def _uint(value: str, limit: int, what: str) -> str | None:
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        return f"{value!r} is not {what}"
    if int(text) > limit:
        return f"{text} is out of range (0-{limit})"
    return None


def uint32(value: str) -> str | None:
    return _uint(value, _UINT32_MAX, "a non-negative integer")


def port(value: str) -> str | None:
    return _uint(value, 65535, "a port number")


def _ports(value: str, star: bool) -> str | None:
    text = value.strip()
    if not text or (star and text == "*"):
        return None
    for item in text.split(","):
        problem = _uint(item, 65535, "a port number")
        if problem is not None:
            return "empty entry in the port list" if not item.strip() else problem
    return None


def port_list(value: str) -> str | None:
    """A comma-separated list of ports (strconv.ParseUint(.., 16) each)."""
    return _ports(value, star=False)


def port_list_or_star(value: str) -> str | None:
    """A comma-separated list of ports, or ``*`` for all."""
    return _ports(value, star=True)


def _cidrs(value: str, star: bool) -> str | None:
    if value == "" or (star and value.strip() == "*"):
        return None
    for item in value.split(","):
        cidr = item.strip()
        if not cidr:
            return "empty entry in the CIDR list"
        problem = _cidr(cidr)
        if problem is not None:
            return f"{cidr!r} is not a CIDR: {problem}"
    return None


def _cidr(cidr: str) -> str | None:
    """netip.ParsePrefix: an address, a slash and a prefix length the address family allows."""
    address, sep, length = cidr.partition("/")
    if not sep:
        return "no /prefix-length"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address!r} is not an IP address"
    if not length.isascii() or not length.isdigit():
        return f"{length!r} is not a prefix length"
    if int(length) > ip.max_prefixlen:
        return f"the prefix length of an IPv{ip.version} range is at most {ip.max_prefixlen}"
    return None


def cidr_list(value: str) -> str | None:
    return _cidrs(value, star=False)


def cidr_list_or_star(value: str) -> str | None:
    return _cidrs(value, star=True)


def quantity(value: str) -> str | None:
    """A Kubernetes resource quantity (``100m``, ``0.5``, ``128Mi``, ``1e3``), not negative."""
    text = value.strip()
    if not _QUANTITY.match(text):
        return f"{value!r} is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1Gi)"
    if text.startswith("-"):
        return f"{value!r} is negative"
    return None


def interception_mode(value: str) -> str | None:
    return None if value in ("REDIRECT", "TPROXY", "NONE") else "expected REDIRECT, TPROXY or NONE"


def envoy_log_level(value: str) -> str | None:
    level = value.strip().lower()
    return None if level in _ENVOY_LEVELS else f"expected one of {', '.join(_ENVOY_LEVELS)}"


def component_log_level(value: str) -> str | None:
    """Envoy's ``--component-log-level``: ``upstream:debug,connection:trace``."""
    for item in value.split(","):
        component, sep, level = item.strip().partition(":")
        if not sep or not component.strip():
            return f"{item.strip()!r} is not <component>:<level>"
        if level.strip().lower() not in _ENVOY_LEVELS:
            return f"{level.strip()!r} is not an Envoy log level ({', '.join(_ENVOY_LEVELS)})"
    return None


def agent_log_level(value: str) -> str | None:
    """pilot-agent's ``--log_output_level``: ``info`` or ``default:info,ads:debug``."""
    for item in value.split(","):
        scope, sep, level = item.strip().rpartition(":")
        if sep and not scope.strip():
            return f"{item.strip()!r} is not <scope>:<level>"
        if level.strip().lower() not in _AGENT_LEVELS:
            return f"{level.strip()!r} is not a log level ({', '.join(_AGENT_LEVELS)})"
    return None


def _json(value: str) -> tuple[object, str | None]:
    try:
        return json.loads(value), None
    except ValueError as error:
        return None, f"not valid JSON ({error})"


def json_object_or_list(value: str) -> str | None:
    data, problem = _json(value)
    if problem is None and not isinstance(data, (dict, list)):
        problem = "expected a JSON object or list"
    return problem


def histogram_buckets(value: str) -> str | None:
    """``{"istiocustom": [1, 5, 10], "cluster_manager": [...]}``: stat prefix -> bucket bounds."""
    data, problem = _json(value)
    if problem is not None:
        return problem
    if not isinstance(data, dict):
        return "expected a JSON object of stat prefix to list of bucket bounds"
    for prefix, buckets in data.items():
        if not isinstance(buckets, list) or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in buckets
        ):
            return f"the buckets of {prefix!r} are not a list of numbers"
    return None


def proxy_config(value: str) -> str | None:
    """A ProxyConfig in YAML or JSON (a mapping)."""
    try:
        data = yaml.load(value, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem", None) or "does not parse"
        return f"not valid YAML or JSON ({mark})"
    if data is not None and not isinstance(data, dict):
        return "expected a ProxyConfig mapping (YAML or JSON)"
    return None


def export_to(value: str) -> str | None:
    """Namespaces, ``.`` (own), ``*`` (all) or ``~`` (none), comma-separated."""
    for item in value.split(","):
        target = item.strip()
        if target in ("*", ".", "~") or _DNS_LABEL.match(target):
            continue
        if not target:
            return "empty entry in the list"
        return f"{target!r} is not a namespace name, '.', '*' or '~'"
    return None


def analysis_codes(value: str) -> str | None:
    """``IST0108,IST0103`` or ``*``."""
    if value.strip() == "*":
        return None
    for item in value.split(","):
        if not _ISTIO_CODE.match(item.strip()):
            return f"{item.strip()!r} is not an analysis message code (ISTnnnn) or '*'"
    return None


# -- the catalog -------------------------------------------------------------------------
A, B = Maturity.ALPHA, Maturity.BETA
_POD, _SVC = frozenset({POD}), frozenset({SERVICE})
_WLE, _GW = frozenset({WORKLOAD_ENTRY}), frozenset({KUBE_GATEWAY})
_STATS_MATCHER = "proxyStatsMatcher in proxy.istio.io/config (or the mesh's defaultConfig)"
_INJECT_LABEL = "the sidecar.istio.io/inject label"


def _pod(
    name: str, maturity: Maturity = A, check: Check | None = None, *, rejects: bool = False,
    injected: bool = False, generated: bool = False, replacement: str | None = None,
) -> IstioAnnotation:
    """A pod annotation; ``replacement`` marks it deprecated, ``rejects`` blocks injection."""
    return IstioAnnotation(
        name, _POD, maturity, check, deprecated=replacement is not None, replacement=replacement,
        generated=generated, injected=injected, rejects_pod=rejects,
    )


_CATALOG: tuple[IstioAnnotation, ...] = (
    # sidecar.istio.io: the injected proxy
    _pod("sidecar.istio.io/agentLogLevel", check=agent_log_level),
    _pod("sidecar.istio.io/bootstrapOverride"),
    _pod("sidecar.istio.io/componentLogLevel", check=component_log_level),
    _pod("sidecar.istio.io/controlPlaneAuthPolicy"),
    _pod("sidecar.istio.io/discoveryAddress"),
    _pod("sidecar.istio.io/enableCoreDump", check=boolean, rejects=True),
    _pod("sidecar.istio.io/extraStatTags"),
    _pod("sidecar.istio.io/inject", B, inject_switch, replacement=_INJECT_LABEL),
    _pod("sidecar.istio.io/interceptionMode", B, interception_mode, injected=True, rejects=True),
    _pod("sidecar.istio.io/logLevel", check=envoy_log_level),
    _pod("sidecar.istio.io/proxyCPU", B, quantity),
    _pod("sidecar.istio.io/proxyCPULimit", B, quantity),
    _pod("sidecar.istio.io/proxyImage"),
    _pod("sidecar.istio.io/proxyImageType"),
    _pod("sidecar.istio.io/proxyMemory", B, quantity),
    _pod("sidecar.istio.io/proxyMemoryLimit", B, quantity),
    _pod("sidecar.istio.io/rewriteAppHTTPProbers", B, boolean),
    _pod("sidecar.istio.io/statsHistogramBuckets", check=histogram_buckets),
    _pod("sidecar.istio.io/statsInclusionPrefixes", replacement=_STATS_MATCHER),
    _pod("sidecar.istio.io/statsInclusionRegexps", replacement=_STATS_MATCHER),
    _pod("sidecar.istio.io/statsInclusionSuffixes", replacement=_STATS_MATCHER),
    _pod("sidecar.istio.io/status", generated=True),
    _pod("sidecar.istio.io/userVolume", check=json_object_or_list),
    _pod("sidecar.istio.io/userVolumeMount", check=json_object_or_list),
    # traffic.sidecar.istio.io: what istio-init / istio-cni redirect
    _pod("traffic.sidecar.istio.io/excludeInboundPorts", check=port_list, injected=True,
         rejects=True),
    _pod("traffic.sidecar.istio.io/excludeInterfaces"),
    _pod("traffic.sidecar.istio.io/excludeOutboundIPRanges", check=cidr_list, injected=True,
         rejects=True),
    _pod("traffic.sidecar.istio.io/excludeOutboundPorts", check=port_list, rejects=True),
    _pod("traffic.sidecar.istio.io/includeInboundPorts", check=port_list_or_star, injected=True,
         rejects=True),
    _pod("traffic.sidecar.istio.io/includeOutboundIPRanges", check=cidr_list_or_star, injected=True,
         rejects=True),
    _pod("traffic.sidecar.istio.io/includeOutboundPorts", check=port_list, rejects=True),
    _pod("traffic.sidecar.istio.io/kubevirtInterfaces"),
    # the proxy's health and readiness
    _pod("status.sidecar.istio.io/port", check=port, rejects=True),
    _pod("readiness.status.sidecar.istio.io/applicationPorts", check=port_list_or_star,
         rejects=True),
    _pod("readiness.status.sidecar.istio.io/failureThreshold", check=uint32, rejects=True),
    _pod("readiness.status.sidecar.istio.io/initialDelaySeconds", check=uint32, rejects=True),
    _pod("readiness.status.sidecar.istio.io/periodSeconds", check=uint32, rejects=True),
    # proxy configuration, injection templates, what Istio writes on pods
    _pod("proxy.istio.io/config", B, proxy_config),
    _pod("proxy.istio.io/overrides", generated=True),
    _pod("prometheus.istio.io/merge-metrics", check=boolean),
    _pod("inject.istio.io/templates"),
    _pod("istio.io/rev", generated=True),
    _pod("ambient.istio.io/redirection", generated=True),
    # Services
    IstioAnnotation("networking.istio.io/exportTo", _SVC, A, export_to),
    IstioAnnotation("traffic.istio.io/nodeSelector", _SVC, A),
    IstioAnnotation("alpha.istio.io/canonical-serviceaccounts", _SVC, A, deprecated=True),
    IstioAnnotation("alpha.istio.io/kubernetes-serviceaccounts", _SVC, A, deprecated=True),
    # other kinds
    IstioAnnotation("istio.io/dry-run", frozenset({AUTHORIZATION_POLICY}), A, boolean),
    IstioAnnotation("istio.io/autoRegistrationGroup", _WLE, A, generated=True),
    IstioAnnotation("istio.io/workloadController", _WLE, A, generated=True),
    IstioAnnotation("istio.io/connectedAt", _WLE, A, generated=True),
    IstioAnnotation("istio.io/disconnectedAt", _WLE, A, generated=True),
    IstioAnnotation("gateway.istio.io/controller-version", _GW, A, generated=True),
    IstioAnnotation("gateway.istio.io/service-account", _GW, A),
    # anywhere
    IstioAnnotation("galley.istio.io/analyze-suppress", ANY, A, analysis_codes),
    IstioAnnotation("topology.istio.io/controlPlaneClusters", ANY, A),
)

CATALOG: dict[str, IstioAnnotation] = {a.name: a for a in _CATALOG}

# Names Istio defines or has defined whose kinds, values or maturity are not certain enough
# to check: never reported as unknown, never checked.
TOLERATED = frozenset({
    "sidecar.istio.io/nativeSidecar",
    "sidecar.istio.io/statsCompression",
    "sidecar.istio.io/statsEvictionInterval",
    "sidecar.istio.io/statsFlushInterval",
    "sidecar.istio.io/dualStack",
    "proxy.istio.io/health-checks-enabled",
})

# Istio's labels (istio.io/api label package): written as annotations, Istio never sees them.
LABELS = frozenset({
    "sidecar.istio.io/inject",
    "istio.io/rev",
    "istio.io/tag",
    "istio.io/dataplane-mode",
    "istio.io/use-waypoint",
    "istio.io/use-waypoint-namespace",
    "istio.io/waypoint-for",
    "istio.io/ingress-use-waypoint",
    "topology.istio.io/network",
    "topology.istio.io/cluster",
    "topology.istio.io/subzone",
    "service.istio.io/canonical-name",
    "service.istio.io/canonical-revision",
    "security.istio.io/tlsMode",
    "networking.istio.io/gatewayPort",
    "gateway.istio.io/managed",
})

# Prefixes for which CATALOG + TOLERATED is the whole list of Istio's annotations, so a
# name that is in neither is unknown. Istio owns every `*.istio.io` prefix, but meshctl
# claims only these (networking.istio.io, istio.io, gateway.istio.io, ambient.istio.io ...
# gain names every release: there only the catalogued names are checked).
OWNED_PREFIXES = frozenset({
    "sidecar.istio.io",
    "traffic.sidecar.istio.io",
    "status.sidecar.istio.io",
    "readiness.status.sidecar.istio.io",
    "proxy.istio.io",
    "prometheus.istio.io",
    "inject.istio.io",
    "galley.istio.io",
})

_KNOWN_NAMES = tuple(sorted(set(CATALOG) | TOLERATED))
_BY_LOWER = {name.lower(): name for name in _KNOWN_NAMES}
_BY_LOCAL: dict[str, list[str]] = {}
for _name in _KNOWN_NAMES:
    _BY_LOCAL.setdefault(_name.partition("/")[2].lower(), []).append(_name)


def istio_prefixed(key: str) -> bool:
    """In Istio's namespace of annotation names (``*istio.io/...``), as istioctl decides it."""
    prefix, sep, _ = key.partition("/")
    return bool(sep) and prefix.endswith("istio.io")


def lookup(key: str) -> IstioAnnotation | None:
    return CATALOG.get(key)


def owned(key: str) -> bool:
    """An annotation in a prefix meshctl knows every Istio annotation of."""
    return key.partition("/")[0] in OWNED_PREFIXES


def unknown(key: str) -> bool:
    return owned(key) and key not in CATALOG and key not in TOLERATED and key not in LABELS


def suggest(key: str) -> str | None:
    """The Istio annotation ``key`` most likely meant: same name in another case or prefix."""
    same_case = _BY_LOWER.get(key.lower())
    if same_case is not None:
        return same_case
    same_local = _BY_LOCAL.get(key.partition("/")[2].lower(), [])
    if len(same_local) == 1:
        return same_local[0]
    close = difflib.get_close_matches(key, _KNOWN_NAMES, n=1, cutoff=0.8)
    return close[0] if close else None


def kinds_text(annotation: IstioAnnotation) -> str:
    return ", ".join(KIND_NAMES.get(k, k.rpartition("/")[2]) for k in sorted(annotation.kinds))


# -- where annotations are written -------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """One ``*istio.io/`` annotation where the inputs write it.

    ``kind`` is the ``group/Kind`` it applies to as written: the resource's own kind for
    its ``metadata.annotations``, ``/Pod`` for a controller's pod template. ``owner`` is
    the resource that carries it (``Deployment``), ``where`` the metadata it sits in.
    """

    key: str
    value: str
    kind: str
    owner: str
    namespace: str | None
    where: str  # "metadata" or "spec.template.metadata"
    origin: Origin  # the annotation's field
    labels: Labels  # the labels beside it
    annotations: Labels  # the annotations beside it (itself included)
    template: tuple[PathPart, ...] | None  # a controller's own metadata: its pod template's
    template_annotations: Labels  # ... and the annotations there

    @property
    def injected_pod(self) -> bool:
        """The pod (or template) was already injected: the injector's own annotations are on it."""
        return "sidecar.istio.io/status" in self.annotations


def placements(ctx: Analysis) -> list[Placement]:
    """Every ``*istio.io/`` annotation of every resource and pod template, in input order
    (scanned once per run, whichever annotation rules ask)."""
    return ctx.memo("istio-annotation-placements", lambda: list(_placements(ctx.mesh)))


def _placements(mesh: MeshModel) -> Iterator[Placement]:
    templates = {w.origin: w for w in mesh.workloads if w.kind not in ("Pod", "WorkloadEntry")}
    for resource in mesh.resources:
        kind = f"{resource.api_version.rpartition('/')[0]}/{resource.kind}"
        template_path = TEMPLATE_METADATA.get(kind)
        workload = templates.get(resource.origin) if template_path is not None else None
        template_annotations = workload.annotations if workload is not None else {}
        for key in sorted(resource.annotations):
            if istio_prefixed(key):
                yield Placement(
                    key, resource.annotations[key], kind, resource.kind, resource.namespace,
                    "metadata", resource.origin.at("metadata", "annotations", key),
                    resource.labels, resource.annotations, template_path, template_annotations,
                )
        if workload is None or template_path is None:
            continue
        for key in sorted(workload.annotations):
            if istio_prefixed(key):
                yield Placement(
                    key, workload.annotations[key], POD, resource.kind, workload.namespace,
                    ".".join(map(str, template_path)),
                    workload.origin.at(*template_path, "annotations", key), workload.labels,
                    workload.annotations, None, {},
                )
