"""What a mesh-to-mesh translation (``--to istio|linkerd|gateway-api``) is asked for."""

from __future__ import annotations

from dataclasses import dataclass

LINKERD_VERSIONS = ("2.16", "2.17", "2.18", "2.19", "2.20")
SOURCES = ("auto", "istio", "linkerd", "gateway-api", "ingress")


@dataclass(frozen=True)
class MeshOptions:
    source: str = "auto"  # which family of the inputs is translated (auto: all but the target's)
    linkerd_version: str = LINKERD_VERSIONS[-1]  # what the target Linkerd reads and accepts
    gateway_api_channel: str = "standard"  # standard | experimental: which Gateway API fields may be emitted
    profile: bool = False  # --to linkerd: ServiceProfiles instead of HTTPRoutes
