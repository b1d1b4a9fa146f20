"""The mesh model -> Istio resources: ``meshctl translate --to istio``.

Before: a MeshModel with Linkerd objects (ServiceProfiles, HTTPRoutes, Servers and their
authorizations, annotations on Services, pods and Namespaces) and Gateway API objects
(Gateways, HTTPRoutes, GRPCRoutes, TCPRoutes, TLSRoutes) and Kubernetes Ingresses. After: ``Manifests`` with
``networking.istio.io/v1`` and ``security.istio.io/v1`` resources (Gateways,
VirtualServices, DestinationRules, PeerAuthentications, AuthorizationPolicies), Namespaces
and Services whose labels or ports change, and the losses: every field whose behaviour
could not be carried over exactly, at its position (MSH400 dropped, MSH401 approximated).

Which inputs are translated follows ``--from`` (``auto``: everything that is not Istio).
The semantics follow mesh-translation.md §3 (Linkerd -> Istio) and §4 (Gateway API as Istio
reads it); a Service-parented route in a Linkerd mesh keeps Linkerd's reading. Every
emitted object says what it came from (``meshctl.io/translated-from``). The function is
pure and deterministic: no I/O, inputs visited in sorted order.

The passes, in order (each module's docstring shows its before and after)::

    ingresses              Ingresses -> Gateway API Gateways and HTTPRoutes (compiled like the others)
    profiles.shadowing     which Services Linkerd routes by a ServiceProfile or TrafficSplit
    gateways               Gateway API Gateways -> Istio Gateways
    routes                 HTTPRoute/GRPCRoute/TCPRoute/TLSRoute -> VirtualServices
    profiles               ServiceProfiles, TrafficSplits -> VirtualServices (+ retry budget)
    routes.service_defaults  Service retry/timeout annotations without routes -> VirtualServices
    resilience             failure accrual -> outlierDetection
    policy                 Servers, authorizations, default policies -> PeerAuthentication, AuthorizationPolicy
    workloads              injection -> Namespace labels; opaque ports -> appProtocol tcp
    unsupported            kinds with no Istio equivalent, reported
"""

from __future__ import annotations

from collections import Counter

from meshctl.emit.istio import (
    gateways,
    policy,
    profiles,
    resilience,
    routes,
    unsupported,
    workloads,
)
from meshctl.emit.istio.build import NETWORKING, TARGET, TRANSLATED_FROM, Build, DestinationDraft
from meshctl.emit.istio.ingresses import with_ingresses
from meshctl.emit.manifests import Json, Manifests
from meshctl.emit.mesh_options import MeshOptions
from meshctl.model.mesh import MeshModel

__all__ = ["TARGET", "translate"]


def translate(mesh: MeshModel, options: MeshOptions) -> Manifests:
    build = Build(mesh, options)
    build.mesh, build.made_from = with_ingresses(build)
    shadowed = profiles.shadowing(build)
    gateways.translate_gateways(build)
    covered = routes.translate_routes(build, shadowed)
    covered |= profiles.translate_profiles(build)
    routes.service_defaults(build, covered, shadowed)
    resilience.translate_accrual(build, shadowed)
    policy.translate_policy(build)
    workloads.translate_injection(build)
    workloads.translate_opaque_ports(build)
    unsupported.report_unsupported(build)
    _finish(build)
    return Manifests(build.resources, build.losses.findings, _summary(build))


def _finish(build: Build) -> None:
    """Emit what several passes contributed to: DestinationRules, Services, Namespaces."""
    for fqdn in sorted(build.destination_rules):
        draft = build.destination_rules[fqdn]
        spec = _destination_rule(draft)
        if spec is not None:
            build.emit(NETWORKING, "DestinationRule", build.unique("DestinationRule", draft.namespace, draft.name),
                       draft.namespace, spec, draft.sources)
    for fqdn in sorted(build.services):
        draft = build.services[fqdn]
        build.resources.append(workloads.service_copy(build, draft.service, draft.app_protocols, draft.sources))
    for namespace in sorted(build.namespace_labels):
        build.resources.append(workloads.namespace_copy(build, namespace, build.namespace_labels[namespace],
                                                        build.namespace_sources[namespace]))


def _destination_rule(draft: DestinationDraft) -> Json | None:
    if not draft.subsets and not draft.traffic_policy:
        return None
    spec: Json = {"host": draft.host}
    if draft.traffic_policy:
        spec["trafficPolicy"] = dict(sorted(draft.traffic_policy.items()))
    if draft.subsets:
        subsets = []
        for name in sorted(draft.subsets):
            subset: Json = {"name": name, "labels": dict(sorted(draft.subsets[name].items()))}
            if name in draft.subset_policies:
                subset["trafficPolicy"] = draft.subset_policies[name]
            subsets.append(subset)
        spec["subsets"] = subsets
    return spec


def _summary(build: Build) -> str:
    sources = {part for r in build.resources
               for part in r["metadata"].get("annotations", {}).get(TRANSLATED_FROM, "").split(",") if part}
    made = Counter(str(r.get("kind")) for r in build.resources)
    if not made:
        return "nothing to translate into Istio resources"
    wrote = ", ".join(f"{n} {kind}" for kind, n in sorted(made.items()))
    return f"translated {len(sources)} object(s) into {wrote}"
