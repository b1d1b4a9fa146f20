"""An Ingress sends traffic to a STRICT mTLS service from a controller that has no Istio sidecar.

## Why it matters
With `mtls.mode: STRICT` the service's sidecar accepts only Istio mTLS. An ingress
controller without a sidecar of its own (ingress-nginx, Traefik, HAProxy or Kong in a
namespace without injection) connects in plaintext, and a cloud load balancer
(AWS ALB, GCE, Azure Application Gateway) sends from outside the cluster: the handshake
fails, and every request through the Ingress answers 502 or 503 while the same service
works from inside the mesh. Istio's own ingress gateway (class `istio`) is part of the
mesh and is not concerned. meshctl recognises the controller by the IngressClass's
`controller` (or the class name) and finds its pods among the inputs by image; when
they are not among the inputs, or their injection is not known, nothing is reported.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata: {name: ingress-nginx}            # no istio-injection label
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: web}
spec:
  mtls: {mode: STRICT}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: nginx
  defaultBackend: {service: {name: web, port: {number: 80}}}
```

## Fix
Inject the controller (label its namespace `istio-injection: enabled`; for ingress-nginx
also set `nginx.ingress.kubernetes.io/service-upstream: "true"` so the sidecar sees the
Service rather than pod IPs), move the host to Istio's ingress gateway (class `istio`, or
a Gateway), or keep the service's port PERMISSIVE (`portLevelMtls`) for the controller.
A cloud load balancer should send to Istio's ingress gateway, not to the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.objects import Service, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.ingress._ingress import Entry, entries, service_port
from meshctl.rules.security import _mtls
from meshctl.security.mtls import AMBIENT, INJECT_TEMPLATES, ISTIO, STRICT, VIEW_READS, MtlsView

RULE = Rule(
    "MSH347", "ingress-controller-without-sidecar", Severity.ERROR, __doc__,
    reads=VIEW_READS | {"gateways", "gateway_classes"},
)

# Controllers whose traffic comes from a load balancer outside the cluster.
CLOUD = {
    "ingress.k8s.aws/alb": "the AWS load balancer", "alb": "the AWS load balancer",
    "k8s.io/ingress-gce": "the Google Cloud load balancer", "gce": "the Google Cloud load balancer",
    "gce-internal": "the Google Cloud load balancer",
    "azure/application-gateway": "the Azure Application Gateway",
}
# In-cluster controllers: controller id or class name -> image fragments of their proxy pods.
IMAGES = {
    "k8s.io/ingress-nginx": ("ingress-nginx/controller", "ingress-nginx-controller"),
    "nginx": ("ingress-nginx/controller", "ingress-nginx-controller"),
    "nginx.org/ingress-controller": ("nginx/nginx-ingress", "nginx-plus-ingress"),
    "traefik.io/ingress-controller": ("traefik",), "traefik": ("traefik",),
    "haproxy.org/ingress-controller/haproxy": ("haproxytech/kubernetes-ingress", "haproxy-ingress"),
    "haproxy": ("haproxytech/kubernetes-ingress", "haproxy-ingress"),
    "ingress-controllers.konghq.com/kong": ("kong",), "kong": ("kong",),
}
GATEWAY_LABELS = ("gateway.networking.k8s.io/gateway-name", "gateway.istio.io/managed")


@dataclass(frozen=True)
class Client:
    what: str  # "the AWS load balancer" / "its controller Deployment ingress-nginx.ingress-nginx"
    reason: str
    origins: tuple[Origin, ...]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    found = [e for e in entries(ctx) if not e.istio]
    if not found:
        return
    view = _mtls.view(ctx)
    for entry in found:
        client = _client(ctx, entry, view)
        if client is None:
            continue
        reported: set[tuple[str, int]] = set()
        for backend in (b for route in entry.routes() for rule in route.rules for b in rule.backends):
            target = service_port(ctx, backend)
            if target is None:
                continue
            service, port = target
            if (service.fqdn, port.port) in reported or _is_gateway(ctx, service):
                continue
            for _, side in view.server_sides(service, port):
                peer = side.peer
                if side.enforces != STRICT or peer is None or peer.policy is None or peer.origin is None:
                    continue
                reported.add((service.fqdn, port.port))
                related: list[Related] = [ctx.related(peer.origin, "STRICT by")]
                related += [ctx.related(o, "the controller:") for o in client.origins[:1]]
                yield RULE.on(
                    backend.host_origin,
                    f"{entry.label} ({entry.class_label()}) sends traffic to {service.name}.{service.namespace}:"
                    f"{port.port}, which PeerAuthentication {peer.policy.name}.{peer.policy.namespace} makes STRICT, "
                    f"but it arrives from {client.what}, {client.reason}: its plaintext connections are refused "
                    "(502/503 at the Ingress)",
                    related=tuple(related),
                )
                break


def _client(ctx: Analysis, entry: Entry, view: MtlsView) -> Client | None:
    """Who connects to the backends for this Ingress, when the inputs show it has no sidecar."""
    keys = [k for k in (entry.klass.controller, entry.klass.name) if k]
    cloud = next((CLOUD[k] for k in keys if k in CLOUD), None)
    if cloud is not None:
        return Client(cloud, "which sends from outside the cluster, without a sidecar", ())
    markers = next((IMAGES[k] for k in keys if k in IMAGES), None)
    if markers is None:
        return None
    pods = [w for w in ctx.mesh.workloads if any(m in c.image for c in w.containers for m in markers)]
    if not pods:
        return None
    planes = [view.dataplane(w) for w in pods]
    if any(p.mesh in (ISTIO, AMBIENT) or not p.certain for p in planes):
        return None
    first: Workload = pods[0]
    origins = tuple(o for o in (first.origin, planes[0].origin) if o is not None)
    return Client(f"its controller {first.kind} {first.name}.{first.namespace}", f"which has {planes[0].reason}",
                  origins)


def _is_gateway(ctx: Analysis, service: Service) -> bool:
    """Istio's own gateways take plaintext on their listeners whatever PeerAuthentication says."""
    selector = service.selector or {}
    if selector.get("istio", "").endswith("gateway") or any(k in selector for k in GATEWAY_LABELS):
        return True
    for w in ctx.mesh.workloads_selected(service.namespace, selector) if selector else ():
        if w.labels.get("istio", "").endswith("gateway") or "gateway" in w.annotations.get(INJECT_TEMPLATES, "") \
                or any(k in w.labels for k in GATEWAY_LABELS):
            return True
    return service.name == ctx.mesh.mesh_config.ingress_service
