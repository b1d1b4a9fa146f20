"""What each connection really gets: mTLS, one-way TLS, plaintext, or a broken handshake.

Before: a MeshModel. After: one ``MtlsEdge`` per (client group, Service port), plus one per
DestinationRule subset whose TLS setting differs from the Service's::

    Namespace legacy {}  Namespace shop {istio-injection: enabled}
    PeerAuthentication default.shop {mtls: {mode: STRICT}}
    Deployment sleep.legacy, Deployment cart.shop, Service cart.shop :8080

    clients:legacy/unmeshed -> cart.shop:8080  broken
        client: no sidecar (namespace 'legacy' enables no injection): sends plaintext
        server: cart: Istio sidecar; STRICT from PeerAuthentication default.shop (namespace)
    clients:shop/meshed     -> cart.shop:8080  mtls
        client: Istio sidecar, auto-mTLS (no DestinationRule sets tls): Istio mTLS
        server: (the same)

Client groups, not workload pairs: what a client sends depends only on its namespace (which
DestinationRule it sees), whether it runs a proxy and which mesh's. So clients are grouped by
(mesh, certainty) and a namespace gets its own group only where it sees another
DestinationRule for the host than the rest do (``clients:*/meshed`` stands for the others).
The server side is worked out per Service port for each workload behind it.

How each side is decided (Istio 1.2x, Linkerd 2.1x):

* Proxy: an ``istio-proxy``/``linkerd-proxy`` container in the spec; Istio's injection webhook
  (namespace ``istio-injection``/``istio.io/rev``, pod ``sidecar.istio.io/inject``/``istio.io/rev``;
  hostNetwork and kube-system pods are never injected); ambient (``istio.io/dataplane-mode``;
  ztunnel does the mTLS); Linkerd ``linkerd.io/inject`` on the pod template or the namespace.
  A running Pod (with status) without a proxy container has none. When the inputs do not say
  (the namespace is not among them, or they label no Namespace for injection for one of the
  meshes they use, so injection is managed elsewhere: ``kubectl label``, ``linkerd inject`` at
  deploy time) the proxy is *assumed*: the facts carry ``certain=False`` and the rules stay
  silent on them.
* Server mode (Istio): the workload PeerAuthentication (selector, not in the root namespace)
  over the namespace one over the mesh-wide one (root namespace, no selector) over Istio's
  default PERMISSIVE; ``UNSET`` inherits; the oldest wins within a level (meshctl: the first
  by name, as the inputs carry no creation time); ``portLevelMtls`` of the workload policy
  overrides per *target* (container) port. A port excluded from the sidecar
  (``traffic.sidecar.istio.io/excludeInboundPorts``, Linkerd ``skip-inbound-ports``) is not
  intercepted at all.
* Client TLS (Istio): the DestinationRule the client's namespace sees (its own namespace's,
  then the Service namespace's exported ones, then the root namespace's; the most specific
  host wins; several for one host merge, the first by name keeping its traffic policy).
  Precedence: ``trafficPolicy.tls`` < ``portLevelSettings[port]`` (replaces the whole policy,
  so one without ``tls`` resets it) < the subset's ``tls`` < the subset's port-level ``tls``.
  No ``tls``: auto-mTLS (``enableAutoMtls``, on by default) sends Istio mTLS exactly to
  endpoints with a proxy whose PeerAuthentication is not DISABLE on that port, and to none
  when the Service's namespace (or the mesh) is DISABLE; with auto-mTLS off it sends plaintext.
  DestinationRules with a ``workloadSelector`` (gateways, egress) are left out.
* Linkerd: meshed pods always talk mTLS to each other; anything else arrives as plaintext
  and is admitted by the port's policy: a ``Server`` selecting the pod and port
  (``accessPolicy``, default ``deny``) with its AuthorizationPolicies/ServerAuthorizations, or
  the ``config.linkerd.io/default-inbound-policy`` of the pod, then of the namespace, then
  the cluster's (``all-unauthenticated``).

Outcomes: ``mtls`` (both proxies, mutual identity), ``tls`` (one-way TLS to the application,
no mesh identity), ``plaintext``, ``broken`` (the server refuses what the client sends, or
the application receives TLS it cannot terminate).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshctl.model import hosts
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import (
    DestinationPolicy,
    LinkerdServer,
    PeerAuthentication,
    ServerAuthorization,
    Service,
    ServicePort,
    Subset,
    TLSSettings,
    Workload,
)
from meshctl.model.origin import Origin

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph

Labels = dict[str, str]

ISTIO, LINKERD, AMBIENT = "istio", "linkerd", "ambient"
MTLS, TLS, PLAINTEXT, BROKEN = "mtls", "tls", "plaintext", "broken"
OUTCOMES = (MTLS, TLS, PLAINTEXT, BROKEN)  # from best to worst
STRICT, PERMISSIVE, DISABLE = "STRICT", "PERMISSIVE", "DISABLE"

INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
DATAPLANE_MODE = "istio.io/dataplane-mode"
SIDECAR_INJECT = "sidecar.istio.io/inject"
INJECT_TEMPLATES = "inject.istio.io/templates"
ISTIO_EXCLUDE_INBOUND = "traffic.sidecar.istio.io/excludeInboundPorts"
ISTIO_INCLUDE_INBOUND = "traffic.sidecar.istio.io/includeInboundPorts"
LINKERD_INJECT = "linkerd.io/inject"
LINKERD_SKIP_INBOUND = "config.linkerd.io/skip-inbound-ports"
LINKERD_OPAQUE = "config.linkerd.io/opaque-ports"
LINKERD_DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
LINKERD_CLUSTER_DEFAULT = "all-unauthenticated"
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})

# Linkerd policies: who gets in on a port.
UNAUTHENTICATED_POLICIES = frozenset({"all-unauthenticated", "cluster-unauthenticated", "audit"})
AUTHENTICATED_POLICIES = frozenset({"all-authenticated", "cluster-authenticated"})
_IDENTITY_KINDS = frozenset({"MeshTLSAuthentication", "ServiceAccount"})
_OTHER = "\x00other"  # a namespace no exportTo names
_CLIENT_MODES = frozenset({"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"})

# The model collections MtlsView reads (rules built on it declare them, plus their own).
VIEW_READS = frozenset({
    "services", "workloads", "peer_authentications", "destination_policies", "linkerd_servers",
    "linkerd_authorizations", "server_authorizations", "routes",
})


# -- the facts --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Dataplane:
    """What runs next to a workload: ``mesh`` is istio, linkerd, ambient or None (no proxy)."""

    mesh: str | None
    certain: bool  # False: the inputs do not say; ``mesh`` is meshctl's assumption
    reason: str
    origin: Origin | None = None

    @property
    def meshed(self) -> bool:
        return self.mesh is not None


@dataclass(frozen=True, eq=False)
class PeerDecision:
    """The PeerAuthentication mode a workload port enforces, and what decided it."""

    mode: str  # STRICT | PERMISSIVE | DISABLE
    level: str  # default | mesh | namespace | workload | port
    policy: PeerAuthentication | None
    origin: Origin | None  # the ``mtls.mode`` or ``portLevelMtls[port].mode`` field
    parent: PeerDecision | None = None  # what the levels above say

    def describe(self) -> str:
        if self.policy is None:
            return f"{self.mode} (Istio's default: no PeerAuthentication applies)"
        where = f"port level, {self.policy.name}.{self.policy.namespace}" if self.level == "port" else self.level
        return f"{self.mode} from PeerAuthentication {self.policy.name}.{self.policy.namespace} ({where})"


@dataclass(frozen=True, eq=False)
class LinkerdInbound:
    """Who Linkerd admits on a pod port."""

    policy: str  # the Server's accessPolicy or the default inbound policy
    origin: Origin | None
    server: LinkerdServer | None
    admits_unauthenticated: bool
    admits_meshed: bool
    authorizations: tuple[Origin, ...]  # AuthorizationPolicies / ServerAuthorizations on the Server
    certain: bool
    reason: str


@dataclass(frozen=True, eq=False)
class ServerSide:
    """The workloads behind a Service port that the mesh treats alike."""

    workloads: tuple[Workload, ...]  # empty: no workload among the inputs (the selector's pods)
    dataplane: Dataplane
    target_port: int | None
    peer: PeerDecision | None  # Istio and ambient servers
    linkerd: LinkerdInbound | None  # Linkerd servers
    intercepted: bool  # False: the port bypasses the proxy (excludeInboundPorts, skip-inbound-ports)
    opaque: bool  # TCP to the mesh (Istio protocol tcp/opaque, Linkerd opaque port)
    bypass_origin: Origin | None = None  # the annotation that takes the port away from the proxy

    @property
    def certain(self) -> bool:
        return self.dataplane.certain and bool(self.workloads)

    @property
    def enforces(self) -> str | None:
        """The Istio mode the server proxy enforces on this port, None when none does."""
        if self.dataplane.mesh in (ISTIO, AMBIENT) and self.intercepted and self.peer is not None:
            return self.peer.mode
        return None

    def names(self) -> str:
        if not self.workloads:
            return "pods of the Service selector (no workload among the inputs)"
        names = list(dict.fromkeys(w.name for w in self.workloads))
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    def describe(self) -> str:
        parts = [self.dataplane.reason]
        if not self.intercepted:
            parts.append(f"port {self.target_port} bypasses the proxy")
        elif self.peer is not None and self.dataplane.mesh in (ISTIO, AMBIENT):
            parts.append(self.peer.describe())
        elif self.linkerd is not None:
            parts.append(self.linkerd.reason)
        if self.opaque:
            parts.append("opaque TCP")
        return f"{self.names()}: " + "; ".join(parts)


@dataclass(frozen=True)
class ClientGroup:
    """Clients whose connections are decided by the same facts.

    ``namespace`` is the one namespace of the group, or ``*``: every namespace in
    ``namespaces`` (they see the same DestinationRule for the host).
    """

    namespace: str
    mesh: str | None
    certain: bool
    namespaces: tuple[str, ...]
    workloads: tuple[Workload, ...] = field(default=(), compare=False, hash=False, repr=False)
    reason: str = field(default="", compare=False, hash=False)

    @property
    def state(self) -> str:
        if not self.certain:
            return "unknown"
        return "meshed" if self.mesh is not None else "unmeshed"

    @property
    def node_id(self) -> str:
        return f"clients:{self.namespace}/{self.state}"

    def label(self) -> str:
        notes = []
        if self.mesh and self.certain:
            notes.append(self.mesh)
        if not self.certain:
            notes.append(f"assumed {self.mesh or 'no proxy'}")
        if self.namespace == "*":
            many = f"{len(self.namespaces)} namespaces"
            notes.append(", ".join(self.namespaces) if len(self.namespaces) <= 3 else many)
        return f"{self.namespace}/{self.state}" + (f" ({', '.join(notes)})" if notes else "")

    def workloads_in(self, namespace: str) -> list[Workload]:
        return [w for w in self.workloads if w.namespace == namespace]


@dataclass(frozen=True, eq=False)
class ClientTLS:
    """What an Istio client's DestinationRule says for one host, port and subset."""

    mode: str | None  # DISABLE | SIMPLE | MUTUAL | ISTIO_MUTUAL, or None: no tls set
    settings: TLSSettings | None
    policy: DestinationPolicy | None
    level: str  # where it was found: "trafficPolicy", "portLevelSettings[9080]", "subset v1", ...

    @property
    def origin(self) -> Origin | None:
        return self.settings.origin.at("mode") if self.settings is not None else None

    def describe(self) -> str:
        if self.settings is None or self.policy is None:
            if self.policy is not None:
                return f"DestinationRule {self.policy.name}.{self.policy.namespace} sets no tls ({self.level})"
            return "no DestinationRule sets tls"
        where = f"DestinationRule {self.policy.name}.{self.policy.namespace} ({self.level})"
        if self.mode is None:
            return f"tls.mode {self.settings.mode} from {where} is not a client TLS mode (ignored)"
        return f"tls.mode {self.mode} from {where}"


@dataclass(frozen=True, eq=False)
class ServerOutcome:
    side: ServerSide
    sends: str  # istio-mtls | linkerd-mtls | plaintext | tls-simple | tls-mutual
    outcome: str
    reason: str


@dataclass(frozen=True, eq=False)
class MtlsEdge:
    client: ClientGroup
    service: Service
    port: ServicePort
    outcome: str
    client_reason: str
    server_reason: str
    origins: tuple[Origin, ...]
    subset: str | None = None
    client_tls: ClientTLS | None = None  # Istio clients only
    servers: tuple[ServerOutcome, ...] = ()

    @property
    def certain(self) -> bool:
        """Every fact deciding the outcome comes from the inputs (no assumed proxy)."""
        return self.client.certain and all(s.side.certain for s in self.servers)

    @property
    def target(self) -> str:
        host = f"{self.service.name}.{self.service.namespace}:{self.port.port}"
        return host + (f" (subset {self.subset})" if self.subset else "")


# -- small readers ----------------------------------------------------------------------
def pod_metadata_path(workload: Workload) -> tuple[str, ...]:
    """Where the pod's labels and annotations are written in the workload's document."""
    if workload.kind in ("Pod", "WorkloadEntry", "ExternalWorkload"):
        return ("metadata",)
    if workload.kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "metadata")
    return ("spec", "template", "metadata")


def parse_ports(value: str | None) -> set[int] | None:
    """``"80,443, 8000-8002"`` -> {80, 443, 8000, 8001, 8002}; None for ``*``/absent."""
    if value is None:
        return None
    found: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        if part == "*":
            return None
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            start, end = int(low), int(high or low)
            if end - start <= 65535:
                found.update(range(start, end + 1))
    return found


def _mode(value: str | None) -> str | None:
    mode = (value or "").upper()
    return mode if mode in (STRICT, PERMISSIVE, DISABLE) else None


def _worst(outcomes: Iterable[str]) -> str:
    return max(outcomes, key=OUTCOMES.index, default=MTLS)


def _mesh_name(mesh: str | None) -> str:
    return {ISTIO: "Istio sidecar", LINKERD: "Linkerd proxy", AMBIENT: "Istio ambient (ztunnel)"}.get(
        mesh or "", "no proxy"
    )


class PeerIndex:
    """PeerAuthentications by level, and the mode they give a pod port (reads only them)."""

    def __init__(self, policies: Iterable[PeerAuthentication], root: str) -> None:
        self.root = root
        self.mesh_policy: PeerAuthentication | None = None
        self._namespace: dict[str, PeerAuthentication] = {}
        self._workload: dict[str, list[PeerAuthentication]] = defaultdict(list)
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...], int | None], PeerDecision] = {}
        for pa in sorted(policies, key=lambda p: (p.namespace, p.name)):
            if not pa.selector:
                if pa.namespace == root:
                    self.mesh_policy = self.mesh_policy or pa
                else:
                    self._namespace.setdefault(pa.namespace, pa)
            elif pa.namespace != root:  # Istio ignores selector policies in the root namespace
                self._workload[pa.namespace].append(pa)

    def namespace_policy(self, namespace: str) -> PeerAuthentication | None:
        return self._namespace.get(namespace)

    def workload_policy(self, namespace: str, labels: Labels) -> PeerAuthentication | None:
        """The workload-level policy that applies (the first by name whose selector matches)."""
        return next((p for p in self._workload.get(namespace, ()) if selects(p.selector, labels)), None)

    def decision(self, namespace: str, labels: Labels, port: int | None) -> PeerDecision:
        """The mode a pod with ``labels`` in ``namespace`` enforces on target ``port``."""
        key = (namespace, tuple(sorted(labels.items())), port)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(namespace, labels, port)
        return found

    def _decide(self, namespace: str, labels: Labels, port: int | None) -> PeerDecision:
        decision = PeerDecision(PERMISSIVE, "default", None, None)
        levels = (("mesh", self.mesh_policy), ("namespace", self._namespace.get(namespace)))
        for level, policy in levels:
            mode = _mode(policy.mode) if policy is not None else None
            if policy is not None and mode:
                decision = PeerDecision(mode, level, policy, policy.origin.at("spec", "mtls", "mode"), decision)
        workload = self.workload_policy(namespace, labels) if labels and namespace != self.root else None
        if workload is not None:
            mode = _mode(workload.mode)
            if mode:
                decision = PeerDecision(mode, "workload", workload, workload.origin.at("spec", "mtls", "mode"),
                                        decision)
            port_mode = _mode(dict(workload.port_modes).get(port)) if port is not None else None
            if port_mode:
                decision = PeerDecision(port_mode, "port", workload,
                                        workload.origin.at("spec", "portLevelMtls", str(port), "mode"), decision)
        return decision


# -- the view: indexes built once per model ----------------------------------------------
class MtlsView:
    """Indexes over one MeshModel that the mTLS questions share (built once, then queried).

    Reads services, workloads, peer_authentications, destination_policies, linkerd_servers,
    linkerd_authorizations, server_authorizations and routes, all when it is built.
    """

    def __init__(self, mesh: MeshModel) -> None:
        self.mesh = mesh
        config = mesh.mesh_config
        self.root = config.root_namespace
        self.auto_mtls = config.enable_auto_mtls
        # A resource defined twice among the inputs (alternative files of one app) counts once.
        self.services = _unique(mesh.services, lambda s: (s.fqdn,))
        self.workloads = _unique(mesh.workloads, lambda w: (w.namespace, w.kind, w.name))
        self._kept = set(self.workloads)
        self._dataplanes: dict[Workload, Dataplane] = {}
        self._target_ports: dict[Workload, set[int]] | None = None
        self._groups: dict[tuple[str | None, bool, tuple[str, ...]], ClientGroup] = {}
        self._namespace_lists: dict[int, list[str]] = {}
        self._edges: list[MtlsEdge] | None = None
        self.peers = PeerIndex(mesh.peer_authentications, self.root)
        self._index_destination_rules(list(mesh.destination_policies))
        self._index_linkerd(mesh)
        self.uses_istio, self.uses_linkerd, self.istio_enrolled, self.linkerd_enrolled = self._scope(mesh)
        # A Namespace without injection labels is known to run no proxy only when the inputs
        # enrol namespaces by label for every mesh they use (otherwise injection may be done
        # elsewhere: `kubectl label`, `linkerd inject` at deploy time).
        self.enrolled = (self.uses_istio or self.uses_linkerd) and (self.istio_enrolled or not self.uses_istio) \
            and (self.linkerd_enrolled or not self.uses_linkerd)
        self.default_mesh = ISTIO if self.uses_istio else LINKERD if self.uses_linkerd else None

    # -- which meshes the inputs are about --------------------------------------------
    def _scope(self, mesh: MeshModel) -> tuple[bool, bool, bool, bool]:
        """(Istio used, Linkerd used, a Namespace is enrolled in Istio by label, one in Linkerd)."""
        istio = linkerd = istio_enrolled = linkerd_enrolled = False
        for resource in mesh.resources:
            group = resource.api_version.rpartition("/")[0]
            if group.endswith("istio.io"):
                istio = True
            elif group.endswith("linkerd.io"):
                linkerd = True
        for ns in mesh.namespaces.values():
            if ns.origin is None:
                continue
            if ns.labels.get(INJECTION_LABEL) == "enabled" or REVISION_LABEL in ns.labels \
                    or ns.labels.get(DATAPLANE_MODE) == "ambient":
                istio = istio_enrolled = True
            if ns.annotations.get(LINKERD_INJECT) in ("enabled", "ingress"):
                linkerd = linkerd_enrolled = True
        for w in self.workloads:
            opt = w.labels.get(SIDECAR_INJECT, w.annotations.get(SIDECAR_INJECT, "")).lower()
            istio = istio or w.has_istio_proxy or opt == "true" or REVISION_LABEL in w.labels \
                or w.labels.get(DATAPLANE_MODE) == "ambient"
            linkerd = linkerd or w.has_linkerd_proxy or w.annotations.get(LINKERD_INJECT) in ("enabled", "ingress")
        return istio, linkerd, istio_enrolled, linkerd_enrolled

    # -- proxies -----------------------------------------------------------------------
    def dataplane(self, workload: Workload) -> Dataplane:
        found = self._dataplanes.get(workload)
        if found is None:
            found = self._dataplanes[workload] = self._decide(workload)
        return found

    def _decide(self, w: Workload) -> Dataplane:
        meta = w.origin.at(*pod_metadata_path(w))
        if w.kind == "WorkloadEntry":
            return Dataplane(ISTIO, True, "WorkloadEntry (a VM running the Istio proxy)", w.origin)
        if w.kind == "ExternalWorkload":
            return Dataplane(LINKERD, True, "ExternalWorkload (runs the Linkerd proxy)", w.origin)
        if w.has_istio_proxy:
            return Dataplane(ISTIO, True, "Istio sidecar (istio-proxy container in the spec)", w.origin)
        if w.has_linkerd_proxy:
            return Dataplane(LINKERD, True, "Linkerd proxy (linkerd-proxy container in the spec)", w.origin)
        if w.host_network:
            return Dataplane(None, True, "no proxy (hostNetwork pods are never injected)", w.origin)
        if w.namespace in SYSTEM_NAMESPACES:
            return Dataplane(None, True, f"no proxy (namespace {w.namespace!r} is never injected)", w.origin)
        if w.is_pod and (w.pod_ip is not None or w.ready is not None):
            return Dataplane(None, True, "no proxy (a running Pod without a proxy container)", w.origin)
        labels, annotations = w.labels, w.annotations
        linkerd_opt = annotations.get(LINKERD_INJECT)
        if linkerd_opt in ("enabled", "ingress"):
            return Dataplane(LINKERD, True, f"Linkerd proxy ({LINKERD_INJECT}: {linkerd_opt})",
                             meta.at("annotations", LINKERD_INJECT))
        if "gateway" in annotations.get(INJECT_TEMPLATES, ""):
            return Dataplane(ISTIO, True, "Istio gateway proxy (inject.istio.io/templates: gateway)",
                             meta.at("annotations", INJECT_TEMPLATES))
        namespace = self.mesh.namespaces.get(w.namespace)
        known = namespace is not None and namespace.origin is not None
        ns_labels = namespace.labels if namespace is not None and known else {}
        ns_annotations = namespace.annotations if namespace is not None and known else {}
        ns_origin = namespace.origin if namespace is not None else None

        istio = self._istio_injection(w, meta, ns_labels, ns_origin, known)
        if istio is not None and istio.mesh == ISTIO:
            return istio
        mode = labels.get(DATAPLANE_MODE)
        if mode == "ambient":
            return Dataplane(AMBIENT, True, f"Istio ambient ({DATAPLANE_MODE}: ambient on the pod)",
                             meta.at("labels", DATAPLANE_MODE))
        if mode != "none" and ns_labels.get(DATAPLANE_MODE) == "ambient" and ns_origin is not None:
            return Dataplane(AMBIENT, True, f"Istio ambient (namespace {w.namespace!r} {DATAPLANE_MODE}: ambient)",
                             ns_origin.at("metadata", "labels", DATAPLANE_MODE))
        if linkerd_opt != "disabled" and ns_annotations.get(LINKERD_INJECT) in ("enabled", "ingress") \
                and ns_origin is not None:
            value = ns_annotations[LINKERD_INJECT]
            return Dataplane(LINKERD, True, f"Linkerd proxy (namespace {w.namespace!r} {LINKERD_INJECT}: {value})",
                             ns_origin.at("metadata", "annotations", LINKERD_INJECT))
        if istio is not None:  # an explicit "no" from Istio's side
            return istio
        if linkerd_opt == "disabled":
            return Dataplane(None, True, f"no proxy ({LINKERD_INJECT}: disabled)",
                             meta.at("annotations", LINKERD_INJECT))
        if known and ns_origin is not None:
            if self.enrolled:
                return Dataplane(None, True, f"no proxy (namespace {w.namespace!r} enables no injection)",
                                 ns_origin.at("metadata", "labels") if ns_labels else ns_origin)
            return Dataplane(self.default_mesh, False,
                             f"{_mesh_name(self.default_mesh)} assumed (the inputs label no Namespace for "
                             "injection in every mesh they use: injection is managed elsewhere)", ns_origin)
        return Dataplane(self.default_mesh, False,
                         f"{_mesh_name(self.default_mesh)} assumed (namespace {w.namespace!r} is not among the inputs)")

    def _istio_injection(
        self, w: Workload, meta: Origin, ns_labels: Labels, ns_origin: Origin | None, known: bool
    ) -> Dataplane | None:
        """Istio's injection webhook: ISTIO, an explicit no (mesh None), or None (it does not say)."""
        labels, annotations = w.labels, w.annotations
        where = "labels" if SIDECAR_INJECT in labels else "annotations"
        opt = labels.get(SIDECAR_INJECT, annotations.get(SIDECAR_INJECT))
        opt = opt.lower() if opt is not None else None
        if opt in ("false", "no", "n", "0", "off"):
            return Dataplane(None, True, f'no Istio sidecar ({SIDECAR_INJECT}: "{opt}")',
                             meta.at(where, SIDECAR_INJECT))
        if known and ns_origin is not None and INJECTION_LABEL in ns_labels:
            value = ns_labels[INJECTION_LABEL]
            at = ns_origin.at("metadata", "labels", INJECTION_LABEL)
            if value == "enabled":
                return Dataplane(ISTIO, True, f"Istio sidecar (namespace {w.namespace!r} {INJECTION_LABEL}: enabled)",
                                 at)
            return Dataplane(None, True, f"no Istio sidecar (namespace {w.namespace!r} {INJECTION_LABEL}: {value})", at)
        if known and ns_origin is not None and REVISION_LABEL in ns_labels:
            return Dataplane(ISTIO, True, f"Istio sidecar (namespace {w.namespace!r} {REVISION_LABEL}: "
                             f"{ns_labels[REVISION_LABEL]})", ns_origin.at("metadata", "labels", REVISION_LABEL))
        if opt in ("true", "yes", "y", "1", "on"):
            return Dataplane(ISTIO, True, f'Istio sidecar ({SIDECAR_INJECT}: "{opt}")', meta.at(where, SIDECAR_INJECT))
        if REVISION_LABEL in labels:
            return Dataplane(ISTIO, True, f"Istio sidecar ({REVISION_LABEL}: {labels[REVISION_LABEL]} on the pod)",
                             meta.at("labels", REVISION_LABEL))
        return None

    def sidecar_of(self, workload: Workload) -> str | None:
        return self.dataplane(workload).mesh

    # -- PeerAuthentication --------------------------------------------------------------
    @property
    def mesh_policy(self) -> PeerAuthentication | None:
        """The mesh-wide PeerAuthentication (root namespace, no selector)."""
        return self.peers.mesh_policy

    def peer_decision(self, namespace: str, labels: Labels, port: int | None) -> PeerDecision:
        """The mode a pod with ``labels`` in ``namespace`` enforces on target ``port``."""
        return self.peers.decision(namespace, labels, port)

    def peer_mode(self, workload: Workload, port: int | None) -> tuple[str, Origin | None]:
        decision = self.peers.decision(workload.namespace, workload.labels, port)
        return decision.mode, decision.origin

    # -- DestinationRules ----------------------------------------------------------------
    def _index_destination_rules(self, policies: list[DestinationPolicy]) -> None:
        self._dr_exact: dict[str, dict[str, list[DestinationPolicy]]] = defaultdict(lambda: defaultdict(list))
        self._dr_wild: dict[str, list[DestinationPolicy]] = defaultdict(list)
        self._dr_local_hosts: dict[str, set[str]] = defaultdict(set)  # exact host -> namespaces with a local DR
        self._dr_wild_namespaces: set[str] = set()
        self._export_named: set[str] = set()
        for dr in sorted(policies, key=lambda p: (p.namespace, p.name)):
            if dr.workload_selector is not None or not dr.fqdn:
                continue
            if "*" in dr.fqdn:
                self._dr_wild[dr.namespace].append(dr)
                self._dr_wild_namespaces.add(dr.namespace)
            else:
                self._dr_exact[dr.namespace][dr.fqdn].append(dr)
                self._dr_local_hosts[dr.fqdn].add(dr.namespace)
            self._export_named.update(t for t in dr.export_to if t not in ("*", ".", "~"))

    def destination_rules(self, viewer: str | None, fqdn: str) -> tuple[DestinationPolicy, ...]:
        """The DestinationRules a client in ``viewer`` applies to ``fqdn`` (None: a namespace no
        exportTo names and without DestinationRules of its own)."""
        if viewer is not None:
            found = self._most_specific(viewer, fqdn, viewer, local=True)
            if found:
                return found
        service = hosts.split_service_fqdn(fqdn, self.mesh.domain)
        for namespace in ((service[1],) if service else ()) + (self.root,):
            found = self._most_specific(namespace, fqdn, viewer or _OTHER, local=False)
            if found:
                return found
        return ()

    def _most_specific(self, namespace: str, fqdn: str, viewer: str, *, local: bool) -> tuple[DestinationPolicy, ...]:
        def visible(dr: DestinationPolicy) -> bool:
            return hosts.visible(dr.export_to, dr.namespace, dr.namespace if local else viewer)

        exact = [dr for dr in self._dr_exact.get(namespace, {}).get(fqdn, ()) if visible(dr)]
        if exact:
            return tuple(exact)
        wild = [dr for dr in self._dr_wild.get(namespace, ()) if hosts.matches(dr.fqdn, fqdn) and visible(dr)]
        if not wild:
            return ()
        best = max(len(dr.fqdn) for dr in wild)
        return tuple(dr for dr in wild if len(dr.fqdn) == best)

    def special_viewers(self, fqdn: str) -> set[str]:
        """Namespaces that may see other DestinationRules for ``fqdn`` than an unnamed namespace."""
        found = set(self._dr_local_hosts.get(fqdn, ())) | self._dr_wild_namespaces | self._export_named
        service = hosts.split_service_fqdn(fqdn, self.mesh.domain)
        if service is not None:
            found.add(service[1])
        found.add(self.root)
        return found

    @staticmethod
    def client_tls(rules: tuple[DestinationPolicy, ...], port: int, subset: str | None = None) -> ClientTLS:
        """The tls a client applies: trafficPolicy < its portLevelSettings < subset < subset's port level."""
        top = next((dr for dr in rules if dr.traffic_policy is not None), None)
        policy = top or (rules[0] if rules else None)
        settings: TLSSettings | None = None
        level = "trafficPolicy"
        if top is not None and top.traffic_policy is not None:
            settings = top.traffic_policy.tls
            port_level = dict(top.traffic_policy.port_level).get(port)
            if port_level is not None:  # replaces the whole policy, tls included
                settings, level = port_level.tls, f"portLevelSettings[{port}]"
        if subset is not None:
            found = _subset(rules, subset)
            if found is not None and found[0].traffic_policy is not None:
                own, owner = found[0].traffic_policy, found[1]
                port_level = dict(own.port_level).get(port)
                chosen = port_level.tls if port_level is not None and port_level.tls is not None else own.tls
                if chosen is not None:
                    settings, policy = chosen, owner
                    level = f"subset {subset}" + (f" portLevelSettings[{port}]" if chosen is not own.tls else "")
        mode = settings.mode.upper() if settings is not None else None
        return ClientTLS(mode if mode in _CLIENT_MODES else None, settings, policy, level)

    # -- Linkerd -------------------------------------------------------------------------
    def _index_linkerd(self, mesh: MeshModel) -> None:
        self._servers: dict[str, list[LinkerdServer]] = defaultdict(list)
        for server in sorted(mesh.linkerd_servers, key=lambda s: (s.namespace, s.name)):
            self._servers[server.namespace].append(server)
        self._route_parents: dict[tuple[str, str], set[str]] = defaultdict(set)  # (ns, route) -> Servers
        for route in mesh.routes:
            for parent in route.parents:
                if parent.kind == "Server":
                    self._route_parents[(route.namespace, route.name)].add(parent.name)
        # (namespace, Server name) -> [(origin, admits unauthenticated)]
        self._authz: dict[tuple[str, str], list[tuple[Origin, bool]]] = defaultdict(list)
        self._namespace_authz: dict[str, list[tuple[Origin, bool]]] = defaultdict(list)
        for policy in mesh.linkerd_authorizations:
            refs = policy.required_authentications
            open_ = not any(ref.kind in _IDENTITY_KINDS for ref in refs)
            entry = (policy.origin, open_)
            target = policy.target
            if target.kind == "Server":
                self._authz[(policy.namespace, target.name)].append(entry)
            elif target.kind == "Namespace":
                self._namespace_authz[target.name or policy.namespace].append(entry)
            elif target.kind in ("HTTPRoute", "GRPCRoute"):
                for server_name in sorted(self._route_parents.get((policy.namespace, target.name), ())):
                    self._authz[(policy.namespace, server_name)].append(entry)
        self._server_authz: dict[str, list[ServerAuthorization]] = defaultdict(list)
        for authz in mesh.server_authorizations:
            self._server_authz[authz.namespace].append(authz)
        self._server_labels = {
            (r.namespace, r.name): r.labels
            for r in mesh.resources if r.kind == "Server" and "linkerd.io" in r.api_version
        }

    def linkerd_server(self, workload: Workload, number: int | None, name: str | None) -> LinkerdServer | None:
        """The Server that selects this pod port (the first by name)."""
        for server in self._servers.get(workload.namespace, ()):
            if server.pod_selector is None or not selects(server.pod_selector, workload.labels):
                continue
            if (isinstance(server.port, int) and server.port == number) or \
                    (isinstance(server.port, str) and server.port and server.port == name):
                return server
        return None

    def linkerd_inbound(self, workload: Workload, number: int | None, name: str | None) -> LinkerdInbound:
        server = self.linkerd_server(workload, number, name)
        if server is not None:
            policy = (server.access_policy or "deny").lower()
            origin = server.origin.at("spec", "accessPolicy") if server.access_policy else server.origin
            grants = self._server_grants(server)
            open_ = policy in UNAUTHENTICATED_POLICIES or any(g[1] for g in grants)
            meshed = open_ or policy in AUTHENTICATED_POLICIES or bool(grants)
            what = f"Server {server.name} (accessPolicy {policy}" + ("" if server.access_policy else " by default")
            if grants:
                what += f", {len(grants)} authorization{'s' if len(grants) > 1 else ''}"
            what += ")"
            return LinkerdInbound(policy, origin, server, open_, meshed, tuple(g[0] for g in grants),
                                  not server.pod_expressions, what)
        own = workload.annotations.get(LINKERD_DEFAULT_POLICY)
        if own:
            origin = workload.origin.at(*pod_metadata_path(workload), "annotations", LINKERD_DEFAULT_POLICY)
            return self._default_inbound(own, origin, f"default inbound policy {own} (pod annotation)")
        namespace = self.mesh.namespaces.get(workload.namespace)
        value = namespace.annotations.get(LINKERD_DEFAULT_POLICY) if namespace is not None else None
        if namespace is not None and namespace.origin is not None and value:
            origin = namespace.origin.at("metadata", "annotations", LINKERD_DEFAULT_POLICY)
            reason = f"default inbound policy {value} (namespace {namespace.name!r})"
            return self._default_inbound(value, origin, reason)
        return self._default_inbound(LINKERD_CLUSTER_DEFAULT, None,
                                     f"default inbound policy {LINKERD_CLUSTER_DEFAULT} (Linkerd's default)")

    @staticmethod
    def _default_inbound(policy: str, origin: Origin | None, reason: str) -> LinkerdInbound:
        policy = policy.lower()
        open_ = policy in UNAUTHENTICATED_POLICIES
        return LinkerdInbound(policy, origin, None, open_, open_ or policy in AUTHENTICATED_POLICIES, (), True, reason)

    def _server_grants(self, server: LinkerdServer) -> list[tuple[Origin, bool]]:
        grants = list(self._authz.get((server.namespace, server.name), ()))
        grants += self._namespace_authz.get(server.namespace, [])
        labels = self._server_labels.get((server.namespace, server.name), {})
        for authz in self._server_authz.get(server.namespace, ()):
            if authz.server_name == server.name or (
                authz.server_name is None and authz.server_selector is not None
                and selects(authz.server_selector, labels)
            ):
                open_ = authz.unauthenticated or not (authz.mesh_identities or authz.service_accounts)
                grants.append((authz.origin, open_))
        return grants

    # -- server sides ----------------------------------------------------------------------
    def server_sides(self, service: Service, port: ServicePort) -> list[tuple[Workload | None, ServerSide]]:
        """Each workload behind the Service port with its facts; (None, side) when the inputs
        hold none of them (the side is then read from the selector and the namespace)."""
        workloads = sorted(
            (w for w in self.mesh.workloads_of(service) if w in self._kept), key=lambda w: (w.kind, w.name)
        )
        if not workloads:
            stub = _selector_pods(service)
            return [(None, self._side(stub, port, service, stub_of=service))]
        return [(w, self._side(w, port, service)) for w in workloads]

    def _side(self, w: Workload, port: ServicePort, service: Service, stub_of: Service | None = None) -> ServerSide:
        number, name = _target(w, port)
        dataplane = self.dataplane(w)
        if stub_of is not None and dataplane.certain:
            dataplane = Dataplane(dataplane.mesh, False, dataplane.reason, dataplane.origin)
        bypass = _bypass(w, dataplane.mesh, number)
        peer = self.peer_decision(w.namespace, w.labels, number) if dataplane.mesh in (ISTIO, AMBIENT) else None
        inbound = self.linkerd_inbound(w, number, name) if dataplane.mesh == LINKERD else None
        opaque = port.mesh_protocol.value == "tcp" or (
            LINKERD_OPAQUE in w.annotations and number in (parse_ports(w.annotations[LINKERD_OPAQUE]) or set())
        ) or (LINKERD_OPAQUE in service.annotations
              and port.port in (parse_ports(service.annotations[LINKERD_OPAQUE]) or set()))
        return ServerSide((w,) if stub_of is None else (), dataplane, number, peer, inbound, bypass is None, opaque,
                          bypass)

    def target_ports(self) -> dict[Workload, set[int]]:
        """Workload -> the container ports its Services send to (built once)."""
        if self._target_ports is None:
            found: dict[Workload, set[int]] = defaultdict(set)
            for service in self.services:
                for w in self.mesh.workloads_of(service):
                    if w not in self._kept:
                        continue
                    for port in service.ports:
                        number = _target(w, port)[0]
                        if number is not None:
                            found[w].add(number)
            self._target_ports = found
        return self._target_ports

    # -- client groups ---------------------------------------------------------------------
    def client_kinds(self) -> dict[tuple[str | None, bool], dict[str, list[Workload]]]:
        """(mesh, certain) -> namespace -> the client workloads of that kind."""
        kinds: dict[tuple[str | None, bool], dict[str, list[Workload]]] = defaultdict(lambda: defaultdict(list))
        for w in sorted(self.workloads, key=lambda w: (w.namespace, w.kind, w.name)):
            dp = self.dataplane(w)
            kinds[(dp.mesh, dp.certain)][w.namespace].append(w)
        return kinds

    # -- edges ---------------------------------------------------------------------------
    def edges(self) -> list[MtlsEdge]:
        """Every connection, computed once per view."""
        if self._edges is None:
            self._edges = self._compute_edges()
        return list(self._edges)

    def _compute_edges(self) -> list[MtlsEdge]:
        if self.default_mesh is None and not any(self.dataplane(w).certain and self.dataplane(w).meshed
                                                 for w in self.workloads):
            return []  # no mesh among the inputs: nothing to say about mTLS
        kinds = self.client_kinds()
        self._namespace_lists.clear()
        order = sorted(kinds, key=lambda k: (k[0] or "", k[1]))
        out: list[MtlsEdge] = []
        for service in sorted(self.services, key=lambda s: s.fqdn):
            if not service.selector:
                continue
            for port in service.ports:
                if port.protocol != "TCP":
                    continue
                sides = self.server_sides(service, port)
                for kind in order:
                    out.extend(self._edges_for(kind, kinds[kind], service, port, sides))
        return out

    def _edges_for(
        self, kind: tuple[str | None, bool], namespaces: dict[str, list[Workload]],
        service: Service, port: ServicePort, sides: list[tuple[Workload | None, ServerSide]],
    ) -> Iterator[MtlsEdge]:
        mesh, certain = kind
        if mesh != ISTIO:
            group = self._group(mesh, certain, namespaces, self._sorted_namespaces(namespaces))
            yield self._edge(group, service, port, sides, None, None)
            return
        # Istio clients: split the namespaces by the DestinationRules they see for the host.
        default = self.destination_rules(None, service.fqdn)
        default_key = tuple(id(r) for r in default)
        by_rules: dict[tuple[int, ...], tuple[tuple[DestinationPolicy, ...], list[str]]] = {}
        moved: set[str] = set()
        for ns in sorted(self.special_viewers(service.fqdn)):
            if ns not in namespaces:
                continue
            rules = self.destination_rules(ns, service.fqdn)
            key = tuple(id(r) for r in rules)
            if key != default_key:
                by_rules.setdefault(key, (rules, []))[1].append(ns)
                moved.add(ns)
        rest = [ns for ns in self._sorted_namespaces(namespaces) if ns not in moved] if moved \
            else self._sorted_namespaces(namespaces)
        if rest:
            by_rules[default_key] = (default, rest)
        for rules, members in sorted(by_rules.values(), key=lambda item: item[1]):
            group = self._group(mesh, certain, namespaces, members)
            base = self.client_tls(rules, port.port)
            yield self._edge(group, service, port, sides, base, None)
            for subset in _subsets(rules):
                tls = self.client_tls(rules, port.port, subset.name)
                if tls.settings is base.settings:
                    continue
                chosen = [(w, s) for w, s in sides if w is None or selects(subset.labels, w.labels)]
                if chosen:
                    yield self._edge(group, service, port, chosen, tls, subset.name)

    def _sorted_namespaces(self, namespaces: dict[str, list[Workload]]) -> list[str]:
        found = self._namespace_lists.get(id(namespaces))
        if found is None:
            found = self._namespace_lists[id(namespaces)] = sorted(namespaces)
        return found

    def _group(
        self, mesh: str | None, certain: bool, namespaces: dict[str, list[Workload]], members: list[str]
    ) -> ClientGroup:
        key = (mesh, certain, tuple(members))
        found = self._groups.get(key)
        if found is None:
            workloads = tuple(w for ns in members for w in namespaces[ns])
            reasons = {self.dataplane(w).reason for w in workloads}
            reason = reasons.pop() if len(reasons) == 1 else _mesh_name(mesh) + ("" if certain else " assumed")
            name = members[0] if len(members) == 1 else "*"
            found = self._groups[key] = ClientGroup(name, mesh, certain, tuple(members), workloads, reason)
        return found

    def _edge(
        self, group: ClientGroup, service: Service, port: ServicePort,
        sides: list[tuple[Workload | None, ServerSide]], tls: ClientTLS | None, subset: str | None,
    ) -> MtlsEdge:
        view = None
        if group.mesh == ISTIO and (tls is None or tls.mode is None):
            # Istio's best-effort guess of the Service's mode: namespace and mesh policies only
            view = self.peer_decision(service.namespace, {}, None)
        merged = _merge_sides([s for _, s in sides])
        results = tuple(self._connect(group, tls, view, side) for side in merged)
        outcome = _worst(r.outcome for r in results)
        origins: list[Origin] = []
        for origin in ([tls.origin] if tls is not None else []) + [
            o for r in results for o in (r.side.peer.origin if r.side.peer else None,
                                         r.side.linkerd.origin if r.side.linkerd else None, r.side.dataplane.origin)
        ]:
            if origin is not None and origin not in origins:
                origins.append(origin)
        return MtlsEdge(
            client=group, service=service, port=port, outcome=outcome,
            client_reason=self._client_reason(group, tls, view),
            server_reason=" | ".join(f"{r.side.describe()} -> {r.outcome}: {r.reason}" for r in results),
            origins=tuple(origins), subset=subset, client_tls=tls, servers=results,
        )

    def _client_reason(self, group: ClientGroup, tls: ClientTLS | None, view: PeerDecision | None) -> str:
        proxy = group.reason or _mesh_name(group.mesh)
        if group.mesh == ISTIO:
            if tls is not None and tls.mode is not None:
                return f"{proxy}; {tls.describe()}"
            if not self.auto_mtls:
                return f"{proxy}; auto-mTLS is off (mesh config) and {tls.describe() if tls else 'no tls'}: plaintext"
            extra = ""
            if view is not None and view.mode == DISABLE:
                extra = f"; the namespace's mode is DISABLE ({view.describe()})"
            return f"{proxy}; auto-mTLS ({tls.describe() if tls else 'no tls'}){extra}"
        if group.mesh == AMBIENT:
            return f"{proxy}: mTLS (HBONE) to meshed pods"
        if group.mesh == LINKERD:
            return f"{proxy}: mTLS to Linkerd-meshed pods"
        return f"{proxy}: plaintext"

    def _sends(self, group: ClientGroup, tls: ClientTLS | None, view: PeerDecision | None, side: ServerSide) -> str:
        server_mesh = side.dataplane.mesh
        if group.mesh == ISTIO:
            mode = tls.mode if tls is not None else None
            if mode == "ISTIO_MUTUAL":
                return "istio-mtls"
            if mode == "DISABLE":
                return "plaintext"
            if mode == "SIMPLE":
                return "tls-simple"
            if mode == "MUTUAL":
                return "tls-mutual"
            if not self.auto_mtls or (view is not None and view.mode == DISABLE):
                return "plaintext"
            # auto-mTLS, per endpoint: a proxy, and a PeerAuthentication that is not DISABLE there
            disabled = side.peer is not None and side.peer.mode == DISABLE
            return "istio-mtls" if server_mesh in (ISTIO, AMBIENT) and not disabled else "plaintext"
        if group.mesh == AMBIENT:
            return "istio-mtls" if server_mesh in (ISTIO, AMBIENT) else "plaintext"
        if group.mesh == LINKERD:
            return "linkerd-mtls" if server_mesh == LINKERD and side.intercepted else "plaintext"
        return "plaintext"

    def _connect(
        self, group: ClientGroup, tls: ClientTLS | None, view: PeerDecision | None, side: ServerSide
    ) -> ServerOutcome:
        sends = self._sends(group, tls, view, side)
        outcome, reason = _accept(sends, side)
        return ServerOutcome(side, sends, outcome, reason)


def _accept(sends: str, side: ServerSide) -> tuple[str, str]:
    """What the server side does with what the client sends."""
    tls_note = "one-way TLS to the application (works only if it serves TLS; no mesh identity)"
    server = side.dataplane.mesh
    if server is None or not side.intercepted:
        where = "no proxy" if server is None else "the port bypasses the proxy"
        if sends in ("istio-mtls", "linkerd-mtls"):
            return BROKEN, f"mTLS to {where}: the application receives TLS it cannot terminate"
        if sends.startswith("tls-"):
            return TLS, tls_note
        return PLAINTEXT, f"plaintext ({where} on the server)"
    if server in (ISTIO, AMBIENT):
        mode = side.peer.mode if side.peer is not None else PERMISSIVE
        if sends == "istio-mtls":
            if mode == DISABLE:
                return BROKEN, "mTLS to a server whose proxy accepts only plaintext (DISABLE)"
            return MTLS, "Istio mTLS"
        if sends == "linkerd-mtls":
            return BROKEN, "Linkerd mTLS to an Istio server"
        if sends == "tls-mutual":
            if mode == STRICT:
                return MTLS, "MUTUAL with the DestinationRule's certificates (accepted only if the mesh CA issued them)"
            return TLS, tls_note
        if mode == STRICT:
            what = "one-way TLS without a client certificate" if sends == "tls-simple" else "plaintext"
            return BROKEN, f"{what} to a STRICT server"
        if sends == "tls-simple":
            return TLS, tls_note
        return PLAINTEXT, f"plaintext accepted ({mode})"
    # Linkerd server
    inbound = side.linkerd
    if sends == "linkerd-mtls":
        return MTLS, "Linkerd mTLS"
    if sends == "istio-mtls":
        return BROKEN, "Istio mTLS to a Linkerd proxy (it cannot terminate it)"
    admitted = inbound is None or inbound.admits_unauthenticated
    if not admitted and inbound is not None:
        return BROKEN, f"an unauthenticated client, refused by {inbound.reason}"
    return (TLS, tls_note) if sends.startswith("tls-") else (PLAINTEXT, "plaintext admitted (unauthenticated)")


def _target(w: Workload, port: ServicePort) -> tuple[int | None, str | None]:
    """The container port number (and its name) a Service port sends to on this workload."""
    target = port.target_port
    if target is None:
        number: int | None = port.port
    elif isinstance(target, int):
        number = target
    elif target.isdigit():
        number = int(target)
    else:
        named = {name: n for c in w.containers for name, n in c.named_ports}
        return named.get(target), target
    name = next((nm for c in w.containers for nm, n in c.named_ports if n == number), None)
    return number, name


def _position(origin: Origin) -> tuple[str, int, int]:
    doc = origin.doc
    return (doc.file, doc.index, -1 if doc.item is None else doc.item)


def _unique(items: Iterable[Any], key: Any) -> list[Any]:
    """The first definition of each object (by file and position), in input-independent order."""
    seen: dict[Any, Any] = {}
    for item in sorted(items, key=lambda i: _position(i.origin)):
        seen.setdefault(key(item), item)
    return list(seen.values())


def _bypass(w: Workload, mesh: str | None, number: int | None) -> Origin | None:
    """The annotation that keeps container port ``number`` away from the workload's proxy."""
    annotations = w.annotations
    if number is None or not annotations or not (
        key in annotations for key in (ISTIO_EXCLUDE_INBOUND, ISTIO_INCLUDE_INBOUND, LINKERD_SKIP_INBOUND)
    ):
        return None
    meta = w.origin.at(*pod_metadata_path(w), "annotations")
    if mesh == ISTIO:
        if number in (parse_ports(w.annotations.get(ISTIO_EXCLUDE_INBOUND)) or set()):
            return meta.at(ISTIO_EXCLUDE_INBOUND)
        included = parse_ports(w.annotations.get(ISTIO_INCLUDE_INBOUND))
        if included is not None and number not in included:
            return meta.at(ISTIO_INCLUDE_INBOUND)
    elif mesh == LINKERD and number in (parse_ports(w.annotations.get(LINKERD_SKIP_INBOUND)) or set()):
        return meta.at(LINKERD_SKIP_INBOUND)
    return None


def _selector_pods(service: Service) -> Workload:
    """A stand-in for the pods a Service selects when the inputs hold none of them."""
    return Workload(
        kind="Selected", name=f"pods of Service {service.name}", namespace=service.namespace,
        labels=dict(service.selector or {}), annotations={}, service_account="default", containers=(),
        init_containers=(), run_as_user=None, has_istio_proxy=False, has_linkerd_proxy=False, replicas=None,
        pod_ip=None, ready=None, origin=service.origin,
    )


def _merge_sides(sides: list[ServerSide]) -> list[ServerSide]:
    """Workloads whose facts are the same become one side (deterministic order)."""
    merged: dict[tuple[Any, ...], list[ServerSide]] = {}
    for side in sides:
        key = (side.dataplane.mesh, side.dataplane.certain, side.dataplane.reason, side.target_port,
               side.peer.mode if side.peer else None, side.peer.origin if side.peer else None,
               side.linkerd.reason if side.linkerd else None, side.linkerd.origin if side.linkerd else None,
               side.intercepted, side.opaque)
        merged.setdefault(key, []).append(side)
    out = []
    for group in merged.values():
        first = group[0]
        workloads = tuple(w for s in group for w in s.workloads)
        out.append(ServerSide(workloads, first.dataplane, first.target_port, first.peer, first.linkerd,
                              first.intercepted, first.opaque, first.bypass_origin))
    return out


def _subset(rules: tuple[DestinationPolicy, ...], name: str) -> tuple[Subset, DestinationPolicy] | None:
    for dr in rules:
        for subset in dr.subsets:
            if subset.name == name:
                return subset, dr
    return None


def _subsets(rules: tuple[DestinationPolicy, ...]) -> list[Subset]:
    seen: dict[str, Subset] = {}
    for dr in rules:
        for subset in dr.subsets:
            seen.setdefault(subset.name, subset)
    return [seen[name] for name in sorted(seen)]


# -- public API ---------------------------------------------------------------------------
_VIEW: list[MtlsView] = []  # the view of the last model asked about (one entry)


def view_of(mesh: MeshModel) -> MtlsView:
    """The indexes for ``mesh``, built once and reused while the same model is asked about."""
    if _VIEW and _VIEW[0].mesh is mesh:
        return _VIEW[0]
    view = MtlsView(mesh)
    _VIEW[:] = [view]
    return view


def mtls_edges(mesh: MeshModel) -> list[MtlsEdge]:
    """Every (client group, Service port[, subset]) connection with its outcome and reasons."""
    return view_of(mesh).edges()


def sidecar_of(mesh: MeshModel, workload: Workload) -> str | None:
    """``"istio"``, ``"linkerd"``, ``"ambient"`` or None (also assumed ones: see ``dataplane_of``)."""
    return view_of(mesh).sidecar_of(workload)


def dataplane_of(mesh: MeshModel, workload: Workload) -> Dataplane:
    """The proxy next to ``workload``, whether the inputs say so (``certain``), why, and where."""
    return view_of(mesh).dataplane(workload)


def peer_mode(mesh: MeshModel, workload: Workload, port: int | None) -> tuple[str, Origin | None]:
    """The PeerAuthentication mode ``workload`` enforces on container ``port`` and the field
    that decided it (None: Istio's default PERMISSIVE)."""
    return view_of(mesh).peer_mode(workload, port)


def mtls_table(edges: Iterable[MtlsEdge]) -> str:
    """A plain-text table, one row per edge: client group, server, outcome, and why (client
    side on the first line, each server side below it)."""
    ordered = sorted(edges, key=lambda e: (e.service.fqdn, e.port.port, e.subset or "", e.client.node_id))
    if not ordered:
        return "no connection to analyse (no Service with workloads in a mesh among the inputs)\n"
    rows = [("CLIENTS", "SERVER", "OUTCOME", ["WHY"])]
    for edge in ordered:
        why = [f"client: {edge.client_reason}"]
        why += [f"server: {s.side.describe()} -> {s.outcome}: {s.reason}" for s in edge.servers]
        rows.append((edge.client.label(), edge.target, edge.outcome + ("" if edge.certain else "?"), why))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    indent = " " * (sum(widths) + 6)
    lines = []
    for clients, server, outcome, why in rows:
        head = "  ".join(text.ljust(width) for text, width in zip((clients, server, outcome), widths))
        lines.append(f"{head}  {why[0]}")
        lines.extend(f"{indent}{more}" for more in why[1:])
    if any(not e.certain for e in ordered):
        lines += ["", "? = decided from an assumed proxy (the inputs do not say whether those pods are injected)"]
    return "\n".join(lines) + "\n"


def add_mtls(graph: ServiceGraph, mesh: MeshModel, edges: Iterable[MtlsEdge]) -> None:
    """Client-group nodes ``clients:<ns>/<meshed|unmeshed|unknown>`` and ``mtls`` edges to Services."""
    g = graph.g
    for edge in edges:
        node = edge.client.node_id
        if node not in g:
            g.add_node(node, kind="clients", label=edge.client.label(), mesh=edge.client.mesh,
                       certain=edge.client.certain, namespaces=list(edge.client.namespaces))
        g.add_edge(node, f"service:{edge.service.fqdn}", kind="mtls", outcome=edge.outcome, port=edge.port.port,
                   subset=edge.subset, certain=edge.certain)
