"""What every step of the Istio -> Gateway API translation shares.

``Build`` holds the model, the options, the losses and the resources emitted so far, and
answers the questions every step asks the same way: is this object translated
(``--from``), may an experimental field be written, what is an unused name, which
ReferenceGrants do cross-namespace references need, and how is an emitted object
stamped with where it came from (``meshctl.io/translated-from: VirtualService/shop/reviews``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from meshctl.emit.gateway_api.values import dns_label, is_namespace, is_object_name
from meshctl.emit.losses import Losses
from meshctl.emit.manifests import Json, resource
from meshctl.emit.mesh_options import MeshOptions
from meshctl.emit.sources import family_of, wanted
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Service
from meshctl.model.origin import Origin

TARGET = "gateway-api"
GROUP = "gateway.networking.k8s.io"
API = f"{GROUP}/v1"
GRANT_API = f"{GROUP}/v1beta1"  # served by every bundle since v0.6, both channels
TRANSLATED_FROM = "meshctl.io/translated-from"
GATEWAY_CLASS = "istio"


def named(origin: Origin) -> bool:
    """Does the document have a valid name and (if any) namespace? Others are not translated."""
    doc = origin.doc
    return is_object_name(doc.name) and (not doc.namespace or is_namespace(doc.namespace))


def source_of(origin: Origin) -> str:
    """``VirtualService/shop/reviews``: the kind, namespace and name of the input document."""
    doc = origin.doc
    return f"{doc.kind}/{doc.namespace or 'default'}/{doc.name}"


@dataclass
class Build:
    mesh: MeshModel
    options: MeshOptions
    losses: Losses = field(default_factory=Losses)
    resources: list[Json] = field(default_factory=list)
    # (Service fqdn, subset) -> the per-version Service routes name instead of the subset
    subset_services: dict[tuple[str, str], str] = field(default_factory=dict)
    # (target namespace, from namespace) -> {route kind}, {Service name}, sources
    grants: dict[tuple[str, str], tuple[set[str], set[str], list[str]]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)  # translated input kinds, for the summary
    _names: set[tuple[str, str, str]] = field(default_factory=set)

    # -- what is translated ----------------------------------------------------------------
    def wanted(self, origin: Origin) -> bool:
        """An Istio object that ``--from`` selects (this back-end translates Istio only), with a
        name and namespace Kubernetes accepts."""
        return named(origin) and family_of(origin) == "istio" and wanted(origin, self.options.source, TARGET)

    @property
    def experimental(self) -> bool:
        """May fields of Gateway API's experimental channel be written?"""
        return self.options.gateway_api_channel == "experimental"

    @property
    def linkerd_reads_v1(self) -> bool:
        """Does the chosen Linkerd watch HTTPRoute (and GRPCRoute) v1? 2.18 and later do; 2.16
        and 2.17 watch HTTPRoute v1beta1 (and GRPCRoute v1alpha2), so mesh routes for them are
        written as v1beta1 HTTPRoutes, which Istio reads as well."""
        major, _, minor = self.options.linkerd_version.partition(".")
        return (int(major), int(minor or 0)) >= (2, 18)

    @property
    def domain(self) -> str:
        return self.mesh.domain

    # -- names and objects -----------------------------------------------------------------
    def unique(self, kind: str, namespace: str, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when this translation (or, for Services, the
        inputs) already use it."""
        base = dns_label(name, 63) if kind == "Service" else _object_name(name)
        candidate, n = base, 1
        while (kind, namespace, candidate) in self._names or (
            kind == "Service" and self.mesh.service(candidate, namespace) is not None
        ):
            n += 1
            suffix = f"-{n}"
            candidate = base[: 63 - len(suffix)].rstrip("-") + suffix
        self._names.add((kind, namespace, candidate))
        return candidate

    def emit(
        self, api_version: str, kind: str, name: str, namespace: str, spec: Json,
        sources: list[str] | tuple[str, ...], *, annotations: dict[str, str] | None = None, **top: Any,
    ) -> Json:
        """Add a resource, stamped with the input documents it was translated from."""
        notes = dict(annotations or {})
        notes[TRANSLATED_FROM] = ",".join(dict.fromkeys(sources))
        item = resource(api_version, kind, name, namespace, spec, annotations=notes, **top)
        self.resources.append(item)
        return item

    # -- shared look-ups -------------------------------------------------------------------
    def service_of(self, fqdn: str) -> Service | None:
        found = self.mesh.services_for(fqdn)
        return found[0] if found else None

    def service_name(self, fqdn: str) -> tuple[str, str] | None:
        """(name, namespace) of the Kubernetes Service a host names, known or not; None for a
        host that is not a Service name (external, ServiceEntry, wildcard)."""
        service = self.service_of(fqdn)
        if service is not None:
            return service.name, service.namespace
        found = hosts.split_service_fqdn(fqdn, self.domain)
        if found is None or not is_namespace(found[0]) or not is_namespace(found[1]):
            return None
        return found

    # -- cross-namespace references ----------------------------------------------------------
    def grant(self, route_kind: str, from_ns: str, to_ns: str, service: str, source: str) -> None:
        """A route in ``from_ns`` names Service ``service`` of ``to_ns``: remember the grant."""
        if from_ns == to_ns:
            return
        kinds, names, sources = self.grants.setdefault((to_ns, from_ns), (set(), set(), []))
        kinds.add(route_kind)
        names.add(service)
        sources.append(source)

    def emit_grants(self) -> None:
        """One ReferenceGrant per (target namespace, route namespace), naming each Service."""
        for (to_ns, from_ns), (kinds, names, sources) in sorted(self.grants.items()):
            name = self.unique("ReferenceGrant", to_ns, f"from-{from_ns}")
            spec = {
                "from": [{"group": GROUP, "kind": kind, "namespace": from_ns} for kind in sorted(kinds)],
                "to": [{"group": "", "kind": "Service", "name": service} for service in sorted(names)][:16],
            }
            if len(names) > 16:
                spec["to"] = [{"group": "", "kind": "Service"}]  # the API caps `to` at 16 entries
            self.emit(GRANT_API, "ReferenceGrant", name, to_ns, spec, sorted(set(sources)))


def _object_name(name: str) -> str:
    """Route and policy names: lower case DNS subdomains; the inputs' names already are."""
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in name.lower()).strip("-.")
    return cleaned[:253] or "x"
