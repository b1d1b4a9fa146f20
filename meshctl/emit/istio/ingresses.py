"""Kubernetes Ingresses -> Istio, by way of Gateway API.

``meshctl.emit.ingress.convert`` turns the Ingresses ``--from`` selects into Gateway
API-shaped Gateways and HTTPRoutes (one Gateway per namespace and class, one route per
Ingress rule, the controller's reading of paths and annotations made explicit); this
pass adds them to a copy of the model, so the Gateway and route passes compile them into
Istio Gateways and VirtualServices exactly as they compile Gateway API inputs::

    Ingress shop (class nginx)  ->  Gateway nginx + HTTPRoute shop-...  ->  Gateway nginx + VirtualService
"""

from __future__ import annotations

from dataclasses import replace

from meshctl.emit.ingress.convert import convert
from meshctl.emit.istio.build import Build, source_of
from meshctl.emit.sources import family_of
from meshctl.model.mesh import MeshModel


def with_ingresses(build: Build) -> tuple[MeshModel, dict[tuple[str, str], list[str]]]:
    """The model with the converted Ingresses added, and the Ingresses behind each new Gateway."""
    view = convert(build.mesh, build.losses, lambda o: family_of(o) == "ingress" and build.wanted(o))
    if not view.gateways:
        return build.mesh, {}
    mesh = replace(build.mesh, gateways=[*build.mesh.gateways, *view.gateways],
                   routes=[*build.mesh.routes, *view.routes]).index()
    made_from = {key: [source_of(o.doc.kind, o.doc.namespace or "default", o.doc.name) for o in origins]
                 for key, origins in view.sources.items()}
    return mesh, made_from
