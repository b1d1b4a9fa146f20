"""Linkerd default inbound policies -> Istio PeerAuthentications and AuthorizationPolicies.

The default policy decides the ports no Server selects (a pod annotation wins over its
Namespace's, which wins over the cluster's ``all-unauthenticated``)::

    all-unauthenticated       nothing (Istio's PERMISSIVE default)
    all-authenticated         PeerAuthentication STRICT
    cluster-authenticated     STRICT + ALLOW {principals: ["*"], ipBlocks: clusterNetworks} on the other ports
    cluster-unauthenticated   ALLOW {ipBlocks: clusterNetworks} on the other ports
    deny                      an allow-nothing policy for the namespace (Istio rewrites probes, so
                              they still pass); DENY on the other ports for some pods
    audit                     nothing (Linkerd only flags the requests)

"The other ports" are those of no Server: the Servers' own policies decide theirs.
"""

from __future__ import annotations

from meshctl.emit.istio.build import CLUSTER_NETWORKS, SECURITY, Build, annotation_origin
from meshctl.emit.istio.identities import Sources, from_field
from meshctl.emit.istio.workloads import pod_annotation_origin
from meshctl.emit.manifests import Json
from meshctl.model.objects import Workload
from meshctl.model.origin import Origin

DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
POLICIES = ("all-unauthenticated", "all-authenticated", "cluster-authenticated", "cluster-unauthenticated",
            "deny", "audit")
OPEN = ("all-unauthenticated", "audit")
STRICT = ("all-authenticated", "cluster-authenticated")
Labels = dict[str, str]


def default_of(value: str | None, origin: Origin, build: Build) -> str | None:
    """A valid policy name, or None (an invalid one is reported)."""
    if value is None:
        return None
    if value not in POLICIES:
        build.losses.dropped(origin, f"{value!r} is not a Linkerd default inbound policy; not translated")
        return None
    return value


def namespace_default(build: Build, namespace: str) -> tuple[str, Origin | None]:
    """The namespace's policy and where it is written (None: the cluster default)."""
    found = build.mesh.namespaces.get(namespace)
    if found is None or found.origin is None or DEFAULT_POLICY not in found.annotations:
        return "all-unauthenticated", None
    origin = annotation_origin(found.origin, DEFAULT_POLICY)
    return default_of(found.annotations[DEFAULT_POLICY], origin, build) or "all-unauthenticated", origin


def workload_default(build: Build, workload: Workload, fallback: str) -> str:
    """The pods' own policy, else ``fallback`` (their namespace's)."""
    value = workload.annotations.get(DEFAULT_POLICY)
    if value is None:
        return fallback
    return default_of(value, pod_annotation_origin(workload, DEFAULT_POLICY), build) or fallback


def default_sources(policy: str) -> Sources:
    """The clients a policy admits, as Istio sources (None: anyone; []: nobody)."""
    if policy in OPEN:
        return None
    if policy == "all-authenticated":
        return [{"principals": ["*"]}]
    if policy == "cluster-authenticated":
        return [{"principals": ["*"], "ipBlocks": list(CLUSTER_NETWORKS)}]
    if policy == "cluster-unauthenticated":
        return [{"ipBlocks": list(CLUSTER_NETWORKS)}]
    return []


def scope(build: Build, namespace: str, selector: Labels | None, policy: str, origin: Origin, server_ports: list[int],
           label: str, ns_default: str, sources: list[str]) -> None:
    """The default inbound policy of a namespace (``selector`` None) or of some pods."""
    where: Json = {"selector": {"matchLabels": selector}} if selector else {}
    istio_pa = [p for p in build.mesh.peer_authentications if p.namespace == namespace
                and (p.selector or None) == (selector or None)]
    mode = "STRICT" if policy in STRICT else "PERMISSIVE" if selector and ns_default in STRICT else None
    if mode is not None:
        if istio_pa:
            build.losses.dropped(origin, f"an Istio PeerAuthentication of the inputs already sets the mode here; mTLS "
                                 f"{mode} is not emitted")
        else:
            build.emit(SECURITY, "PeerAuthentication", build.unique("PeerAuthentication", namespace, label), namespace,
                       {**where, "mtls": {"mode": mode}}, sources)
    other: Json = {"notPorts": [str(p) for p in server_ports]} if server_ports else {}
    spec: Json | None = None
    if policy in ("cluster-authenticated", "cluster-unauthenticated"):
        rule: Json = {"from": from_field(default_sources(policy))}
        if other:
            rule["to"] = [{"operation": other}]
        spec = {**where, "action": "ALLOW", "rules": [rule]}
        build.losses.approximated(origin, f"{policy} admits Linkerd's default clusterNetworks "
                                  f"({', '.join(CLUSTER_NETWORKS)}); adjust the ipBlocks if the cluster was "
                                  "installed with others")
    elif policy == "deny":
        if selector is None:
            spec = {}  # allow nothing: only the Servers' ALLOW policies admit anything
        elif ns_default != "deny":
            deny: Json = {"to": [{"operation": other}]} if other else {}
            spec = {**where, "action": "DENY", "rules": [deny]}
    elif selector is not None and ns_default not in (*OPEN, "all-authenticated"):
        open_rule: Json = {}
        found = from_field(default_sources(policy))
        if found is not None:
            open_rule["from"] = found
        if other:
            open_rule["to"] = [{"operation": other}]
        spec = {**where, "action": "ALLOW", "rules": [open_rule]}
    if policy == "audit":
        build.losses.approximated(origin, "audit admits every client; Linkerd flags the requests, Istio does not")
    if spec is not None:
        build.emit(SECURITY, "AuthorizationPolicy", build.unique("AuthorizationPolicy", namespace,
                                                                 f"{label}-inbound-policy" if selector else
                                                                 "default-inbound-policy"),
                   namespace, spec, sources)
