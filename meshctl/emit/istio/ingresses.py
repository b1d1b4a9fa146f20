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
from meshctl.emit.istio.build import Build, document_source
from meshctl.emit.manifests import Json
from meshctl.emit.sources import family_of
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Route
from meshctl.model.traffic import StickySession


def with_ingresses(build: Build) -> tuple[MeshModel, dict[tuple[str, str], list[str]]]:
    """The model with the converted Ingresses added, and the Ingresses behind each new Gateway."""
    view = convert(build.mesh, build.losses, lambda o: family_of(o) == "ingress" and build.wanted(o))
    if not view.gateways:
        return build.mesh, {}
    mesh = replace(build.mesh, gateways=[*build.mesh.gateways, *view.gateways],
                   routes=[*build.mesh.routes, *view.routes]).index()
    made_from = {key: [document_source(o) for o in origins] for key, origins in view.sources.items()}
    _sticky_sessions(build, view.routes)
    return mesh, made_from


def _sticky_sessions(build: Build, routes: list[Route]) -> None:
    """ingress-nginx's cookie affinity -> a DestinationRule for each backend Service that
    hashes the cookie (Envoy sets it when the request has none)."""
    for route in routes:
        for rule in route.rules:
            session = rule.session
            if session is None:
                continue
            cookie: Json = {"name": session.cookie}
            if session.path is not None:
                cookie["path"] = session.path
            cookie["ttl"] = f"{session.max_age or 0}s"
            balancer = {"consistentHash": {"httpCookie": cookie}}
            source = document_source(session.origin)
            for backend in rule.backends:
                _balance(build, session, backend.fqdn, route.namespace, source, balancer)


def _balance(build: Build, session: StickySession, fqdn: str, namespace: str, source: str, balancer: Json) -> None:
    draft = build.destination_rule(fqdn, namespace, source)
    if draft is None:
        build.losses.dropped(session.origin, f"an Istio DestinationRule of the inputs already configures {fqdn}; "
                             "the cookie affinity is not translated")
        return
    known = draft.traffic_policy.setdefault("loadBalancer", balancer)
    if known != balancer:
        build.losses.approximated(session.origin, f"{fqdn} already hashes another cookie "
                                  f"({known['consistentHash']['httpCookie']['name']}, from another Ingress); "
                                  "this affinity is not used for it")
        return
    build.losses.approximated(session.origin, f"a DestinationRule for {fqdn} hashes cookie {session.cookie!r} onto "
                              "its endpoints: ingress-nginx names the pod in the cookie, a consistent hash may move "
                              "a client when pods come or go, and it applies to every client of the Service in the "
                              "mesh, not only to the ingress")
