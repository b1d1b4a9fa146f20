"""``meshctl translate --to gateway-api``: Istio routing -> Gateway API resources.

Gateway API is the pivot both meshes read: Istio as ingress and mesh (GAMMA)
configuration, Linkerd as mesh configuration. This back-end compiles the Istio objects
and Ingresses ``--from`` selects:

- Istio Gateways -> Gateways of class ``istio`` (``gateways``);
- VirtualServices -> HTTPRoutes (GRPCRoutes for gRPC-only ports), TCPRoutes, TLSRoutes,
  attached to those Gateways (ingress) or to Services (mesh, ``group: ""``) (``routes``);
- DestinationRule subsets -> per-version Services the routes name (``backends``);
- DestinationRule TLS origination -> BackendTLSPolicy (``policies``);
- backendRefs to other namespaces -> ReferenceGrants;
- Kubernetes Ingresses (with ingress-nginx's annotations) -> Gateways and HTTPRoutes
  (``ingresses``).

The output uses the fields of ``--gateway-api-channel`` only (standard by default, as
the v1.6 CRDs define the channels): an experimental field such as ``rules[].retry`` is
reported instead of written. Everything that could not be carried over is a finding at
its source: MSH400 (left out) or MSH401 (carried over with different semantics, or
read differently by Istio and Linkerd). Objects get the annotation
``meshctl.io/translated-from: <Kind>/<namespace>/<name>`` and nothing else.

Pure: no I/O, no clock; the same model gives the same output, in a stable order.
"""

from __future__ import annotations

from collections import Counter

from meshctl.emit.gateway_api.context import TARGET, Build, named
from meshctl.emit.gateway_api.gateways import translate_gateways
from meshctl.emit.gateway_api.ingresses import translate_ingresses
from meshctl.emit.gateway_api.policies import translate_policies
from meshctl.emit.gateway_api.routes import translate_routes
from meshctl.emit.manifests import Manifests
from meshctl.emit.mesh_options import MeshOptions
from meshctl.emit.sources import family_of, wanted
from meshctl.model.mesh import MeshModel

__all__ = ["TARGET", "translate"]

TRANSLATED = frozenset({"VirtualService", "Gateway", "DestinationRule"})
NO_EQUIVALENT = {
    "ServiceEntry": "Gateway API has no registry of hosts outside the cluster; keep the ServiceEntry for Istio",
    "PeerAuthentication": "Gateway API has no mutual-TLS resource; keep it for Istio or use --to linkerd",
    "AuthorizationPolicy": "Gateway API has no authorization resource; keep it for Istio or use --to linkerd",
    "RequestAuthentication": "Gateway API has no JWT authentication resource; keep it for Istio",
    "Sidecar": "Gateway API does not scope proxy configuration; keep it for Istio",
    "EnvoyFilter": "Gateway API cannot patch proxy configuration; keep it for Istio",
}


def translate(mesh: MeshModel, options: MeshOptions) -> Manifests:
    """Gateway API resources for the Istio objects of ``mesh`` that ``options.source`` selects."""
    build = Build(mesh, options)
    gateways = translate_gateways(build)
    translate_routes(build, gateways)
    translate_policies(build)
    translate_ingresses(build)
    build.emit_grants()
    _not_translated(build)
    return Manifests(build.resources, build.losses.findings, _summary(build))


def _not_translated(build: Build) -> None:
    """Every selected input object this back-end does not translate is reported once."""
    for meta in build.mesh.resources:
        if not wanted(meta.origin, build.options.source, TARGET):
            continue
        family = family_of(meta.origin)
        if not named(meta.origin):
            build.losses.dropped(meta.origin, f"{meta.kind} {meta.name or '(no name)'} is not translated: its name "
                                              "or namespace is not one Kubernetes accepts")
            continue
        if family == "istio" and meta.kind in TRANSLATED or family == "ingress":
            continue
        if family == "istio":
            reason = NO_EQUIVALENT.get(meta.kind, "it has no Gateway API equivalent")
        else:
            reason = f"translating {family} resources to Gateway API is not supported"
        build.losses.dropped(meta.origin, f"{meta.kind} {meta.name} is not translated: {reason}")


def _summary(build: Build) -> str:
    inputs = ", ".join(_count(n, k) for k, n in sorted(build.counts.items()) if n)
    made = Counter(str(r["kind"]) for r in build.resources)
    outputs = ", ".join(_count(n, k) for k, n in sorted(made.items()))
    return f"{inputs or 'nothing'} -> {outputs or 'nothing'}"


def _count(n: int, kind: str) -> str:
    return f"{n} {kind}" if n == 1 else f"{n} {kind}{'es' if kind.endswith('s') else 's'}"
