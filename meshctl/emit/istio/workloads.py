"""Linkerd's injection and proxy annotations -> Istio labels, and opaque ports -> ``appProtocol: tcp``.

Namespaces are emitted again with an Istio injection label (``kubectl apply`` merges it)::

    metadata: {name: shop, annotations: {linkerd.io/inject: enabled}}
    -> metadata: {name: shop, labels: {istio-injection: enabled}, annotations: {...as before}}

Workloads are not rewritten (their full spec is not in the model): a pod-template
``linkerd.io/inject`` or ``config.linkerd.io/*`` proxy setting is reported at its position
with the Istio label or annotation to set instead (``sidecar.istio.io/inject``,
``traffic.sidecar.istio.io/excludeInboundPorts``, ``sidecar.istio.io/proxyCPU``...).

A Service port Linkerd treats as opaque (``appProtocol: linkerd.io/opaque``, the
``config.linkerd.io/opaque-ports`` annotation on the Service, on the pods it selects or on
their Namespace, a ServiceProfile's ``opaquePorts``) gets ``appProtocol: tcp``, so Istio
does not sniff it either; the Service is emitted again with that change.
"""

from __future__ import annotations

from meshctl.emit.istio.build import Build, annotation_origin, source_of
from meshctl.emit.istio.values import port_tokens
from meshctl.emit.manifests import Json, resource, service_port
from meshctl.model.mesh import selects
from meshctl.model.objects import Namespace, Service, ServicePort, Workload
from meshctl.model.origin import Origin

INJECT = "linkerd.io/inject"
ISTIO_INJECTION = "istio-injection"
REVISION = "istio.io/rev"
OPAQUE_PORTS = "config.linkerd.io/opaque-ports"
DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
OPAQUE_APP_PROTOCOLS = ("linkerd.io/opaque", "linkerd.io/tcp")
PROXY_SETTINGS = {
    "config.linkerd.io/skip-inbound-ports": "traffic.sidecar.istio.io/excludeInboundPorts",
    "config.linkerd.io/skip-outbound-ports": "traffic.sidecar.istio.io/excludeOutboundPorts",
    "config.linkerd.io/skip-subnets": "traffic.sidecar.istio.io/excludeOutboundIPRanges",
    "config.linkerd.io/proxy-cpu-request": "sidecar.istio.io/proxyCPU",
    "config.linkerd.io/proxy-memory-request": "sidecar.istio.io/proxyMemory",
    "config.linkerd.io/proxy-cpu-limit": "sidecar.istio.io/proxyCPULimit",
    "config.linkerd.io/proxy-memory-limit": "sidecar.istio.io/proxyMemoryLimit",
}
HANDLED = (INJECT, OPAQUE_PORTS, DEFAULT_POLICY)
HINTS = {
    "config.linkerd.io/proxy-outbound-connect-timeout": " (the nearest is a DestinationRule's "
                                                        "connectionPool.tcp.connectTimeout, per destination)",
    "config.linkerd.io/proxy-inbound-connect-timeout": " (Istio's inbound cluster connect timeout is not set per pod)",
}
# Server proxyProtocol values whose port Istio must not sniff
SERVER_PROTOCOLS = {"opaque": "tcp", "tls": "tls"}
POD_METADATA = {
    "Pod": ("metadata",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "metadata"),
}


def pod_annotation_origin(workload: Workload, key: str) -> Origin:
    """Where a pod annotation of a workload is written (a Pod's own, else its template's)."""
    path = POD_METADATA.get(workload.kind, ("spec", "template", "metadata"))
    return Origin(workload.origin.doc, (*path, "annotations", key))


def _injected(namespace: Namespace | None) -> bool:
    return namespace is not None and namespace.annotations.get(INJECT) in ("enabled", "ingress")


# -- injection ------------------------------------------------------------------------------
def translate_injection(build: Build) -> None:
    if not build.takes_linkerd:
        return
    for namespace in sorted(build.mesh.namespaces.values(), key=lambda n: n.name):
        if namespace.origin is None:
            continue
        _namespace(build, namespace, namespace.origin)
    for workload in sorted(build.mesh.workloads, key=lambda w: (w.namespace, w.name, w.kind)):
        if workload.kind != "ExternalWorkload":
            _workload(build, workload)


def _namespace(build: Build, namespace: Namespace, origin: Origin) -> None:
    value = namespace.annotations.get(INJECT)
    source = source_of("Namespace", namespace.name, namespace.name)
    if value is not None:
        where = annotation_origin(origin, INJECT)
        if value not in ("enabled", "disabled", "ingress"):
            build.losses.dropped(where, f"linkerd.io/inject {value!r} is not enabled, disabled or ingress; not "
                                 "translated")
        elif REVISION in namespace.labels:
            build.losses.approximated(where, f"the namespace already has {REVISION}; no {ISTIO_INJECTION} label is "
                                      "added (it would win over the revision)")
        else:
            build.label_namespace(namespace.name, ISTIO_INJECTION, "disabled" if value == "disabled" else "enabled",
                                  source)
            if value == "ingress":
                build.losses.approximated(where, "Linkerd's ingress mode has no Istio equivalent: the pods are "
                                          "injected normally; route ingress through an Istio gateway instead")
    for key in sorted(namespace.annotations):
        if key.startswith("config.linkerd.io/") and key not in HANDLED:
            hint = f" (Istio reads {PROXY_SETTINGS[key]} per pod)" if key in PROXY_SETTINGS else ""
            build.losses.dropped(annotation_origin(origin, key), f"namespace-wide {key} has no Istio equivalent"
                                 f"{hint}; not translated")


def _workload(build: Build, workload: Workload) -> None:
    namespace = build.mesh.namespaces.get(workload.namespace)
    value = workload.annotations.get(INJECT)
    where = pod_annotation_origin(workload, INJECT)
    label = f"{workload.kind} {workload.namespace}/{workload.name}"
    if workload.has_linkerd_proxy:
        build.losses.dropped(workload.origin, f"{label} already contains the linkerd-proxy container (an injected "
                             "manifest); deploy it without, and let Istio inject its sidecar")
    if value in ("enabled", "ingress") and not _injected(namespace):
        build.losses.dropped(where, f"set the pod-template label sidecar.istio.io/inject: \"true\" on {label} "
                             f"(workloads are not rewritten), or label namespace {workload.namespace} "
                             f"{ISTIO_INJECTION}=enabled")
    elif value == "disabled" and _injected(namespace):
        build.losses.dropped(where, f"set the pod-template label sidecar.istio.io/inject: \"false\" on {label} "
                             "(workloads are not rewritten), or Istio injects it")
    elif value not in (None, "enabled", "disabled", "ingress"):
        build.losses.dropped(where, f"linkerd.io/inject {value!r} is not enabled, disabled or ingress; not translated")
    if value == "ingress":
        build.losses.approximated(where, "Linkerd's ingress mode has no Istio equivalent: route ingress through an "
                                  "Istio gateway instead")
    for key in sorted(workload.annotations):
        if key in PROXY_SETTINGS:
            build.losses.dropped(pod_annotation_origin(workload, key), f"set the pod annotation {PROXY_SETTINGS[key]}: "
                                 f"{workload.annotations[key]!r} on {label} (workloads are not rewritten)")
        elif key.startswith("config.linkerd.io/") and key not in HANDLED:
            build.losses.dropped(pod_annotation_origin(workload, key), f"{key} has no Istio equivalent"
                                 f"{HINTS.get(key, '')}; not translated")


# -- opaque ports ---------------------------------------------------------------------------
def _target(port: ServicePort, workload: Workload) -> int | None:
    target = port.target_port
    if target is None:
        return port.port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    return next((number for c in workload.containers for name, number in c.named_ports if name == target), None)


def _in(text: str, number: int | None, name: str | None) -> bool:
    ranges, names = port_tokens(text)
    return (number is not None and any(low <= number <= high for low, high in ranges)) or (
        name is not None and name in names)


def translate_opaque_ports(build: Build) -> None:
    if not build.takes_linkerd:
        return
    for service in sorted(build.mesh.services, key=lambda s: (s.namespace, s.name)):
        source = source_of("Service", service.namespace, service.name)
        annotation = service.annotations.get(OPAQUE_PORTS)
        pods = build.mesh.workloads_of(service)
        for port in service.ports:
            why: Origin | None = None
            protocol = "tcp"
            if (port.app_protocol or "").lower() in OPAQUE_APP_PROTOCOLS:
                why = port.origin.at("appProtocol")
            elif (port.app_protocol or "").lower() == "kubernetes.io/h2c":
                build.service_draft(service, source).app_protocols[port.port] = "http2"
                continue
            elif annotation is not None and _in(annotation, port.port, port.name):
                why = annotation_origin(service.origin, OPAQUE_PORTS)
            else:
                why = _pod_opaque(build, port, pods)
            if why is None:
                found = _server_protocol(build, port, pods)
                if found is not None:
                    why, protocol = found
            if why is not None:
                build.service_draft(service, source).app_protocols[port.port] = protocol
                build.losses.approximated(why, f"port {port.port} of Service {service.namespace}/{service.name} gets "
                                          f"appProtocol {protocol}: Istio then proxies it without protocol detection, "
                                          "as Linkerd did (pods reached without the Service are still sniffed)")


def _server_protocol(build: Build, port: ServicePort, pods: list[Workload]) -> tuple[Origin, str] | None:
    """An opaque or TLS Server on the pod port the Service port reaches."""
    for server in sorted(build.mesh.linkerd_servers, key=lambda s: (s.namespace, s.name)):
        protocol = SERVER_PROTOCOLS.get((server.proxy_protocol or "").lower())
        if protocol is None or not build.wanted(server.origin):
            continue
        for pod in pods:
            if pod.namespace != server.namespace or not selects(server.pod_selector or {}, pod.labels) or not all(
                    e.holds(pod.labels) for e in server.match_expressions):
                continue
            target = _target(port, pod)
            numbers = {n for c in pod.containers for name, n in c.named_ports if name == server.port}
            if target is not None and (server.port == target or str(server.port) == str(target) or target in numbers):
                return server.origin.at("spec", "proxyProtocol"), protocol
    return None


def _pod_opaque(build: Build, port: ServicePort, pods: list[Workload]) -> Origin | None:
    for pod in pods:
        text = pod.annotations.get(OPAQUE_PORTS)
        where = pod_annotation_origin(pod, OPAQUE_PORTS)
        if text is None:
            namespace = build.mesh.namespaces.get(pod.namespace)
            if namespace is None or namespace.origin is None or OPAQUE_PORTS not in namespace.annotations:
                continue
            text, where = namespace.annotations[OPAQUE_PORTS], annotation_origin(namespace.origin, OPAQUE_PORTS)
        target = _target(port, pod)
        names = [name for c in pod.containers for name, number in c.named_ports if number == target]
        if _in(text, target, None) or any(_in(text, None, n) for n in names):
            return where
    return None


# -- what is emitted last -------------------------------------------------------------------
def service_copy(build: Build, service: Service, app_protocols: dict[int, str], sources: list[str]) -> Json:
    """The input Service again, with the changed ``appProtocol`` values."""
    spec: Json = {}
    if service.type != "ClusterIP":
        spec["type"] = service.type
    if service.headless:
        spec["clusterIP"] = "None"
    if service.external_name:
        spec["externalName"] = service.external_name
    if service.selector is not None:
        spec["selector"] = dict(service.selector)
    ports = []
    for port in service.ports:
        ports.append(service_port(port, app_protocols.get(port.port)))
    spec["ports"] = ports
    build.losses.approximated(service.origin, f"Service {service.namespace}/{service.name} is emitted again with "
                              "the appProtocol changes; only its type, selector, ports, labels and annotations are "
                              "copied: merge the change by hand if it sets other fields")
    annotations = dict(service.annotations)
    annotations["meshctl.io/translated-from"] = ",".join(dict.fromkeys(sources))
    return resource("v1", "Service", service.name, service.namespace, spec, labels=service.labels or None,
                    annotations=annotations)


def namespace_copy(build: Build, namespace: str, labels: dict[str, str], sources: list[str]) -> Json:
    found = build.mesh.namespaces.get(namespace)
    merged = {**(found.labels if found else {}), **labels}
    annotations = dict(found.annotations if found else {})
    annotations["meshctl.io/translated-from"] = ",".join(dict.fromkeys(sources))
    return resource("v1", "Namespace", namespace, None, None, labels=merged, annotations=annotations)
