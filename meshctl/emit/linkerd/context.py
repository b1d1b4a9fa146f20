"""What every step of the Istio -> Linkerd translation shares.

``Build`` holds the model, the options, the losses and the resources emitted so far. It
answers the questions each step asks the same way: is this object translated (``--from``),
which Gateway API version does the chosen Linkerd read, what is an unused name, and
how is an emitted object stamped with where it came from
(``meshctl.io/translated-from: VirtualService/shop/reviews``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meshctl.emit.losses import Losses
from meshctl.emit.manifests import Json, resource
from meshctl.emit.mesh_options import MeshOptions
from meshctl.emit.sources import family_of, wanted
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Service
from meshctl.model.origin import Origin

TARGET = "linkerd"
TRANSLATED_FROM = "meshctl.io/translated-from"
GENERATED = "meshctl.io/generated"
GATEWAY_GROUP = "gateway.networking.k8s.io"
POLICY_GROUP = "policy.linkerd.io"
POLICY_ROUTE_API = "policy.linkerd.io/v1beta3"  # Server-parented routes: read by 2.16-2.20 alike
SERVER_API = "policy.linkerd.io/v1beta3"
AUTHN_API = "policy.linkerd.io/v1alpha1"
PROFILE_API = "linkerd.io/v1alpha2"

_DNS_INVALID = re.compile(r"[^a-z0-9-]+")


def dns_label(text: str, limit: int = 63) -> str:
    """``Reviews_V1.x`` -> ``reviews-v1-x``: a valid DNS-1123 label (Service names also need a
    leading letter, so a leading digit gets an ``x`` in front)."""
    label = _DNS_INVALID.sub("-", text.lower()).strip("-") or "x"
    if not label[0].isalpha():
        label = "x" + label
    return label[:limit].rstrip("-")


def source_of(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


@dataclass
class Build:
    mesh: MeshModel
    options: MeshOptions
    losses: Losses = field(default_factory=Losses)
    resources: list[Json] = field(default_factory=list)
    # (namespace, name) -> annotations to set on the Namespace, and the sources that asked
    namespace_annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    namespace_sources: dict[str, list[str]] = field(default_factory=dict)
    # (Service fqdn, subset) -> name of the generated per-subset Service
    subset_services: dict[tuple[str, str], str] = field(default_factory=dict)
    # Service fqdn -> annotations to add to a copy of the input Service, and their sources
    service_annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    service_sources: dict[str, list[str]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    # (kind, namespace, spec) -> name: one authentication object per distinct content
    authentications: dict[tuple[str, str, str], str] = field(default_factory=dict)  # Service fqdns the translated routes name
    _names: set[tuple[str, str, str]] = field(default_factory=set)

    # -- what is translated -------------------------------------------------------------
    def wanted(self, origin: Origin) -> bool:
        """An Istio object that ``--from`` selects (this back-end translates Istio only)."""
        return family_of(origin) == "istio" and wanted(origin, self.options.source, TARGET)

    # -- versions ------------------------------------------------------------------------
    @property
    def version(self) -> tuple[int, int]:
        major, _, minor = self.options.linkerd_version.partition(".")
        return int(major), int(minor)

    def at_least(self, version: str) -> bool:
        major, _, minor = version.partition(".")
        return self.version >= (int(major), int(minor))

    @property
    def http_route_api(self) -> str:
        """Linkerd 2.16-2.17 watch HTTPRoute v1beta1 (Gateway API <= 1.1); 2.18+ watch v1."""
        return f"{GATEWAY_GROUP}/v1" if self.at_least("2.18") else f"{GATEWAY_GROUP}/v1beta1"

    @property
    def route_timeouts_field(self) -> bool:
        """May ``rules[].timeouts`` be written? Standard from Gateway API 1.2 (Linkerd 2.18+);
        experimental-only in 1.1, where standard-channel CRDs would prune it."""
        return self.at_least("2.18") or self.options.gateway_api_channel == "experimental"

    # -- names and objects ---------------------------------------------------------------
    def unique(self, kind: str, namespace: str, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when this translation already used it."""
        base = dns_label(name, 63)
        candidate, n = base, 1
        while (kind, namespace, candidate) in self._names or self._taken(kind, namespace, candidate):
            n += 1
            suffix = f"-{n}"
            candidate = base[: 63 - len(suffix)].rstrip("-") + suffix
        self._names.add((kind, namespace, candidate))
        return candidate

    def _taken(self, kind: str, namespace: str, name: str) -> bool:
        """A Service of the inputs already has the name (generated Services must not replace it)."""
        return kind == "Service" and self.mesh.service(name, namespace) is not None

    def emit(
        self, api_version: str, kind: str, name: str, namespace: str | None, spec: Json | None,
        sources: list[str] | tuple[str, ...], *, labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None, **top: Any,
    ) -> Json:
        notes = dict(annotations or {})
        notes[TRANSLATED_FROM] = ",".join(dict.fromkeys(sources))
        item = resource(api_version, kind, name, namespace, spec, labels=labels, annotations=notes, **top)
        self.resources.append(item)
        return item

    # -- shared look-ups -----------------------------------------------------------------
    def service_of(self, fqdn: str) -> Service | None:
        found = self.mesh.services_for(fqdn)
        return found[0] if found else None

    def annotate_namespace(self, namespace: str, key: str, value: str, source: str) -> None:
        self.namespace_annotations.setdefault(namespace, {})[key] = value
        self.namespace_sources.setdefault(namespace, []).append(source)

    def annotate_service(self, service: Service, key: str, value: str, source: str) -> None:
        self.service_annotations.setdefault(service.fqdn, {})[key] = value
        self.service_sources.setdefault(service.fqdn, []).append(source)
