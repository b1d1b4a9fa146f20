"""The mesh model (Istio resources) -> Linkerd resources, naming everything that did not carry over.

``translate(mesh, options)`` is pure: it reads the model and the options (Linkerd
version 2.16-2.20, Gateway API channel, ``--profile``) and returns ``Manifests``:
Kubernetes objects ready to apply, the losses (MSH400 dropped, MSH401 approximated) at
the Istio fields that asked for them, and a summary line. Every emitted object carries
``meshctl.io/translated-from: <Kind>/<namespace>/<name>`` naming its sources.

The passes, in order (each module's docstring shows its before and after):

1. ``services.subset_services``  DestinationRule subsets -> per-version Services
2. ``services.traffic_policies`` outlierDetection -> failure accrual; pools, LB, TLS -> losses
3. ``routes.http_routes`` or, with ``--profile``, ``profiles.service_profiles``
   VirtualServices -> Service-parented HTTPRoutes with retry/timeout annotations
4. ``inject.namespace_injection``, ``inject.workload_settings`` injection and proxy settings
5. ``policy.peer_authentications``, ``policy.authorization_policies``
   mTLS modes and ALLOW policies -> default inbound policy, Servers, authorizations
6. ``unsupported.report`` Istio kinds without a Linkerd counterpart
7. ``services.service_copies``, ``inject.namespaces`` the input Services and Namespaces
   that gained annotations, re-emitted with them
"""

from __future__ import annotations

from collections import Counter

from meshctl.emit.linkerd import inject, policy, profiles, routes, services, unsupported
from meshctl.emit.linkerd.context import Build
from meshctl.emit.manifests import Manifests
from meshctl.emit.mesh_options import MeshOptions
from meshctl.model.mesh import MeshModel

__all__ = ["translate"]


def translate(mesh: MeshModel, options: MeshOptions) -> Manifests:
    build = Build(mesh, options)
    services.subset_services(build)
    services.traffic_policies(build)
    if options.profile:
        profiles.service_profiles(build)
    else:
        routes.http_routes(build)
    services.protocol_notes(build)
    inject.namespace_injection(build)
    policy.peer_authentications(build)
    inject.workload_settings(build)
    policy.authorization_policies(build)
    unsupported.report(build)
    services.service_copies(build)
    inject.namespaces(build)
    findings = sorted(build.losses.findings, key=lambda f: f.sort_key())
    return Manifests(build.resources, findings, _summary(build))


def _summary(build: Build) -> str:
    kinds = Counter(str(r["kind"]) for r in build.resources)
    made = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(kinds.items())) or "nothing"
    mode = "ServiceProfiles" if build.options.profile else "HTTPRoutes"
    return f"Linkerd {build.options.linkerd_version} ({mode}): {made}"
