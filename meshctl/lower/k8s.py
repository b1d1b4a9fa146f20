"""Kubernetes objects -> Namespace, Service, Workload, ServiceAccount, Secret, EndpointSet.

Before::

    kind: Deployment
    metadata: {name: cart-v1, namespace: shop}
    spec: {template: {metadata: {labels: {app: cart, version: v1}}, spec: {containers: [...]}}}

After: ``Workload(kind="Deployment", name="cart-v1", namespace="shop",
labels={"app": "cart", "version": "v1"}, service_account="default", ...)``.
"""

from __future__ import annotations

from typing import Any

from meshctl.load.document import SourceDoc
from meshctl.lower.context import Lowering, dct, dicts, integer, labels, lst, origin, text
from meshctl.model import hosts
from meshctl.model.objects import (
    Container,
    Endpoint,
    EndpointSet,
    Namespace,
    Protocol,
    Secret,
    Service,
    ServiceAccount,
    ServicePort,
    Workload,
)

_APP_PROTOCOLS = {
    "http": Protocol.HTTP, "http2": Protocol.HTTP2, "https": Protocol.HTTPS, "grpc": Protocol.GRPC,
    "grpc-web": Protocol.GRPC, "tcp": Protocol.TCP, "tls": Protocol.TLS, "mongo": Protocol.MONGO,
    "redis": Protocol.REDIS, "mysql": Protocol.MYSQL, "udp": Protocol.UDP,
    "kubernetes.io/h2c": Protocol.HTTP2, "kubernetes.io/ws": Protocol.HTTP,
    "kubernetes.io/wss": Protocol.HTTPS, "linkerd.io/opaque": Protocol.TCP,
}


# Server-first protocols Istio never sniffs: SMTP, DNS, MySQL, MongoDB.
_TCP_PORTS = frozenset({25, 53, 3306, 27017})


def port_protocol(name: str | None, app_protocol: str | None, l4: str, number: int | None = None) -> Protocol:
    """The protocol Istio infers for a Service port: appProtocol, then the name's prefix,
    then the well-known server-first ports; otherwise Istio sniffs it (UNKNOWN)."""
    if l4 == "UDP":
        return Protocol.UDP
    if app_protocol:
        found = _APP_PROTOCOLS.get(app_protocol.lower()) or _APP_PROTOCOLS.get(app_protocol.lower().split("-", 1)[0])
        if found is not None:
            return found
    if name:
        found = _APP_PROTOCOLS.get(name.lower().split("-", 1)[0])
        if found is not None:
            return found
    if number in _TCP_PORTS:
        return Protocol.TCP
    return Protocol.UNKNOWN


def lower_namespace(doc: SourceDoc, ctx: Lowering) -> None:
    meta = doc.metadata
    ctx.model.namespaces[doc.name] = Namespace(
        doc.name, labels(meta.get("labels")), labels(meta.get("annotations")), origin(doc)
    )


def lower_service(doc: SourceDoc, ctx: Lowering) -> None:
    spec = dct(doc.data.get("spec"))
    ns = ctx.namespace(doc)
    ports = []
    for i, p in dicts(spec.get("ports")):
        number = integer(p.get("port"))
        if number is None:
            continue
        name = text(p.get("name"))
        app = text(p.get("appProtocol"))
        l4 = text(p.get("protocol")) or "TCP"
        target = p.get("targetPort")
        ports.append(
            ServicePort(
                name=name, port=number,
                target_port=target if isinstance(target, (int, str)) and not isinstance(target, bool) else None,
                protocol=l4, app_protocol=app, mesh_protocol=port_protocol(name, app, l4, number),
                origin=origin(doc, "spec", "ports", i),
            )
        )
    svc_type = text(spec.get("type")) or "ClusterIP"
    selector = spec.get("selector")
    meta = doc.metadata
    annotations = labels(meta.get("annotations"))
    ctx.model.services.append(
        Service(
            name=doc.name, namespace=ns, fqdn=hosts.service_fqdn(doc.name, ns, ctx.model.domain),
            type=svc_type, ports=tuple(ports),
            selector=labels(selector) if isinstance(selector, dict) else None,
            external_name=text(spec.get("externalName")),
            headless=spec.get("clusterIP") == "None",
            export_to=hosts.parse_export_annotation(annotations.get("networking.istio.io/exportTo")),
            labels=labels(meta.get("labels")), annotations=annotations, origin=origin(doc),
        )
    )


def _containers(doc: SourceDoc, spec: dict[str, Any], key: str, prefix: tuple[str | int, ...]) -> tuple[Container, ...]:
    out = []
    for i, c in dicts(spec.get(key)):
        ports = tuple(p for p in (integer(dct(x).get("containerPort")) for x in lst(c.get("ports"))) if p)
        named = tuple(
            (name, number) for name, number in
            ((text(dct(x).get("name")), integer(dct(x).get("containerPort"))) for x in lst(c.get("ports")))
            if name and number
        )
        out.append(
            Container(
                name=text(c.get("name")) or "", image=text(c.get("image")) or "",
                ports=ports, named_ports=named, run_as_user=integer(dct(c.get("securityContext")).get("runAsUser")),
                origin=origin(doc, *prefix, key, i),
            )
        )
    return tuple(out)


def _workload(
    doc: SourceDoc, ctx: Lowering, pod_meta: dict[str, Any], pod_spec: dict[str, Any],
    prefix: tuple[str | int, ...], replicas: int | None, status: dict[str, Any],
) -> None:
    containers = _containers(doc, pod_spec, "containers", prefix)
    inits = _containers(doc, pod_spec, "initContainers", prefix)
    names = {c.name for c in containers + inits}
    ready = None
    if doc.kind == "Pod":
        for cond in lst(status.get("conditions")):
            if isinstance(cond, dict) and cond.get("type") == "Ready":
                ready = cond.get("status") == "True"
    ctx.model.workloads.append(
        Workload(
            kind=doc.kind, name=doc.name, namespace=ctx.namespace(doc),
            labels=labels(pod_meta.get("labels")), annotations=labels(pod_meta.get("annotations")),
            service_account=text(pod_spec.get("serviceAccountName")) or text(pod_spec.get("serviceAccount")) or "default",
            containers=containers, init_containers=inits,
            run_as_user=integer(dct(pod_spec.get("securityContext")).get("runAsUser")),
            has_istio_proxy="istio-proxy" in names, has_linkerd_proxy="linkerd-proxy" in names,
            replicas=replicas, pod_ip=text(status.get("podIP")), ready=ready, origin=origin(doc),
            host_network=pod_spec.get("hostNetwork") is True,
        )
    )


def lower_pod(doc: SourceDoc, ctx: Lowering) -> None:
    _workload(doc, ctx, doc.metadata, dct(doc.data.get("spec")), ("spec",), None, dct(doc.data.get("status")))


def lower_controller(doc: SourceDoc, ctx: Lowering) -> None:
    """Deployment, StatefulSet, DaemonSet, ReplicaSet, Job: the pod template."""
    spec = dct(doc.data.get("spec"))
    template = dct(spec.get("template"))
    _workload(
        doc, ctx, dct(template.get("metadata")), dct(template.get("spec")),
        ("spec", "template", "spec"), integer(spec.get("replicas")), {},
    )


def lower_cronjob(doc: SourceDoc, ctx: Lowering) -> None:
    job = dct(dct(doc.data.get("spec")).get("jobTemplate"))
    template = dct(dct(job.get("spec")).get("template"))
    _workload(
        doc, ctx, dct(template.get("metadata")), dct(template.get("spec")),
        ("spec", "jobTemplate", "spec", "template", "spec"), None, {},
    )


def lower_service_account(doc: SourceDoc, ctx: Lowering) -> None:
    ctx.model.service_accounts.append(ServiceAccount(doc.name, ctx.namespace(doc), origin(doc)))


def lower_secret(doc: SourceDoc, ctx: Lowering) -> None:
    keys = sorted(set(dct(doc.data.get("data"))) | set(dct(doc.data.get("stringData"))))
    ctx.model.secrets.append(
        Secret(doc.name, ctx.namespace(doc), text(doc.data.get("type")) or "Opaque", tuple(keys), origin(doc))
    )


def lower_endpoint_slice(doc: SourceDoc, ctx: Lowering) -> None:
    service = labels(doc.metadata.get("labels")).get("kubernetes.io/service-name", doc.name)
    ports = tuple((text(p.get("name")), integer(p.get("port")) or 0) for _, p in dicts(doc.data.get("ports")))
    endpoints = []
    for _, ep in dicts(doc.data.get("endpoints")):
        ready = dct(ep.get("conditions")).get("ready")
        target = dct(ep.get("targetRef"))
        for address in lst(ep.get("addresses")):
            if isinstance(address, str):
                endpoints.append(Endpoint(address, ready is not False, text(target.get("name")), ports))
    ctx.model.endpoints.append(EndpointSet(service, ctx.namespace(doc), tuple(endpoints), origin(doc)))


def lower_endpoints(doc: SourceDoc, ctx: Lowering) -> None:
    endpoints = []
    for _, subset in dicts(doc.data.get("subsets")):
        ports = tuple((text(p.get("name")), integer(p.get("port")) or 0) for _, p in dicts(subset.get("ports")))
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for _, address in dicts(subset.get(key)):
                ip = text(address.get("ip"))
                if ip:
                    target = text(dct(address.get("targetRef")).get("name"))
                    endpoints.append(Endpoint(ip, ready, target, ports))
    ctx.model.endpoints.append(EndpointSet(doc.name, ctx.namespace(doc), tuple(endpoints), origin(doc)))


LOWERERS = {
    "/Namespace": lower_namespace,
    "/Service": lower_service,
    "/Pod": lower_pod,
    "apps/Deployment": lower_controller,
    "apps/StatefulSet": lower_controller,
    "apps/DaemonSet": lower_controller,
    "apps/ReplicaSet": lower_controller,
    "batch/Job": lower_controller,
    "batch/CronJob": lower_cronjob,
    "/ServiceAccount": lower_service_account,
    "/Secret": lower_secret,
    "discovery.k8s.io/EndpointSlice": lower_endpoint_slice,
    "/Endpoints": lower_endpoints,
}
