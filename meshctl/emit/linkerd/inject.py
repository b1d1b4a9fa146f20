"""Istio injection labels and proxy annotations -> Linkerd's injection and proxy config.

Before::

    Namespace shop  labels: {istio-injection: enabled}
    Deployment legacy.shop  pod labels: {sidecar.istio.io/inject: "false"}

After: the Namespace re-emitted with ``linkerd.io/inject: enabled`` (an annotation, read
when pods are created) and without Istio's injection labels, so that restarted pods get
one proxy; workloads are not re-emitted, so what their pod templates need
(``linkerd.io/inject: disabled`` here, ``config.linkerd.io/skip-inbound-ports`` for
``traffic.sidecar.istio.io/excludeInboundPorts``...) is reported at the Istio field with
the exact annotation to write. Namespace annotations that other steps add
(``config.linkerd.io/default-inbound-policy``) go on the same Namespace object.
"""

from __future__ import annotations

from meshctl.emit.linkerd.context import Build
from meshctl.model.objects import Namespace, Workload
from meshctl.security.mtls import pod_metadata_path

ISTIO_INJECTION = "istio-injection"
REVISION = "istio.io/rev"
DATAPLANE_MODE = "istio.io/dataplane-mode"
SIDECAR_INJECT = "sidecar.istio.io/inject"
LINKERD_INJECT = "linkerd.io/inject"
ISTIO_NAMESPACE_LABELS = (ISTIO_INJECTION, REVISION, DATAPLANE_MODE)
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# Istio pod annotation -> (Linkerd pod annotation, exact?)
PROXY_ANNOTATIONS = {
    "traffic.sidecar.istio.io/excludeInboundPorts": ("config.linkerd.io/skip-inbound-ports", True),
    "traffic.sidecar.istio.io/excludeOutboundPorts": ("config.linkerd.io/skip-outbound-ports", True),
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": ("config.linkerd.io/skip-subnets", False),
    "sidecar.istio.io/proxyCPU": ("config.linkerd.io/proxy-cpu-request", True),
    "sidecar.istio.io/proxyMemory": ("config.linkerd.io/proxy-memory-request", True),
    "sidecar.istio.io/proxyCPULimit": ("config.linkerd.io/proxy-cpu-limit", True),
    "sidecar.istio.io/proxyMemoryLimit": ("config.linkerd.io/proxy-memory-limit", True),
}


def translates_istio(build: Build) -> bool:
    """Labels and annotations of Kubernetes objects are Istio's when Istio is a source."""
    return build.options.source in ("auto", "istio")


def namespace_injection(build: Build) -> None:
    if not translates_istio(build):
        return
    for ns in sorted(build.mesh.namespaces.values(), key=lambda n: n.name):
        if ns.origin is None:
            continue
        value = _namespace_value(build, ns)
        if value is not None:
            build.annotate_namespace(ns.name, LINKERD_INJECT, value, f"Namespace/{ns.name}")


def _namespace_value(build: Build, ns: Namespace) -> str | None:
    assert ns.origin is not None
    labels = ns.labels
    where = ns.origin.at("metadata", "labels")
    if labels.get(ISTIO_INJECTION) in ("enabled", "disabled"):
        value = labels[ISTIO_INJECTION]
        if value == "enabled":
            build.losses.approximated(
                where.at(ISTIO_INJECTION), f"istio-injection=enabled -> {LINKERD_INJECT}: enabled on Namespace "
                                           f"{ns.name}: takes effect when pods restart; the emitted Namespace leaves "
                                           "the Istio label out, remove it from the live namespace too "
                                           f"(kubectl label namespace {ns.name} {ISTIO_INJECTION}-) so pods get one proxy")
        return value
    if REVISION in labels:
        build.losses.approximated(where.at(REVISION), f"istio.io/rev={labels[REVISION]}: Linkerd has no control-plane "
                                                      f"revisions; {LINKERD_INJECT}: enabled")
        return "enabled"
    if labels.get(DATAPLANE_MODE) == "ambient":
        build.losses.approximated(where.at(DATAPLANE_MODE), "istio.io/dataplane-mode=ambient: Linkerd injects a sidecar "
                                                            f"proxy instead ({LINKERD_INJECT}: enabled)")
        return "enabled"
    return None


def workload_settings(build: Build) -> None:
    """What pod templates need, reported at the Istio label or annotation that said it."""
    if not translates_istio(build):
        return
    for w in sorted(build.mesh.workloads, key=lambda w: (w.namespace, w.kind, w.name)):
        if w.kind in ("WorkloadEntry", "ExternalWorkload", "Selected"):
            continue
        _injection(build, w)
        meta = w.origin.at(*pod_metadata_path(w), "annotations")
        for key, (target, exact) in PROXY_ANNOTATIONS.items():
            if key in w.annotations:
                note = "" if exact else " (Linkerd skips whole subnets of outbound traffic, bypassing the proxy)"
                build.losses.dropped(meta.at(key), f"{key} -> add {target}: \"{w.annotations[key]}\" to the pod "
                                                   f"template of {w.kind} {w.name} (workloads are not re-emitted){note}")


def _injection(build: Build, w: Workload) -> None:
    where_label = w.origin.at(*pod_metadata_path(w), "labels", SIDECAR_INJECT)
    where_annotation = w.origin.at(*pod_metadata_path(w), "annotations", SIDECAR_INJECT)
    value, where = w.labels.get(SIDECAR_INJECT), where_label
    if value is None:
        value, where = w.annotations.get(SIDECAR_INJECT), where_annotation
    if value is None:
        return
    want = "enabled" if value == "true" else "disabled" if value == "false" else None
    if want is None:
        return
    namespace = build.namespace_annotations.get(w.namespace, {}).get(LINKERD_INJECT, "disabled")
    if want != namespace:
        build.losses.dropped(where, f"{SIDECAR_INJECT}: \"{value}\" -> add the annotation {LINKERD_INJECT}: {want} to "
                                    f"the pod template of {w.kind} {w.name} (workloads are not re-emitted)")


def namespaces(build: Build) -> None:
    """Emit each Namespace that needs Linkerd annotations (its labels and annotations kept,
    Istio's injection labels left out)."""
    for name in sorted(build.namespace_annotations):
        ns = build.mesh.namespaces.get(name)
        labels = {k: v for k, v in (ns.labels if ns else {}).items() if k not in ISTIO_NAMESPACE_LABELS}
        annotations = {k: v for k, v in (ns.annotations if ns else {}).items() if k != LAST_APPLIED}
        annotations.update(build.namespace_annotations[name])
        build.emit("v1", "Namespace", name, None, None, build.namespace_sources[name],
                   labels=labels or None, annotations=annotations)
