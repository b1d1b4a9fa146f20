"""Which groups and versions the cluster serves, and so which lists to make.

Before: ``GET /api``, ``/api/v1``, ``/apis`` and ``/apis/<group>/<version>`` for the
groups meshctl reads (nothing else is asked about). After: one Resource per kind to
list, in the best version both the cluster serves and meshctl knows (GA before beta
before alpha, deprecated versions last), and the kinds that are not served at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meshctl.cluster.api import Api, ApiError
from meshctl.validate.catalog import Catalog

# Kinds read besides the ones meshctl checks (the live checks need them): as metadata
# only where the content is not needed.
EXTRA_KINDS: dict[str, tuple[str, ...]] = {
    "admissionregistration.k8s.io": ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
    "apiextensions.k8s.io": ("CustomResourceDefinition",),
}
METADATA_ONLY = frozenset({"/Secret", "apiextensions.k8s.io/CustomResourceDefinition"})
# Kinds of the catalog that are not listed: ConfigMaps are read one by one (the mesh
# config), ReplicaSets repeat their Deployments, Endpoints repeat EndpointSlices (and are
# deprecated: every object would be reported as MSH012), extensions/Ingress repeats
# networking.k8s.io's (served only by clusters older than 1.22).
NOT_LISTED = frozenset({"/ConfigMap", "apps/ReplicaSet", "/Endpoints", "extensions/Ingress"})
FAMILY_NAMES = {"istio": "Istio", "linkerd": "Linkerd", "gateway-api": "Gateway API", "smi": "SMI"}

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_rank(version: str) -> tuple[int, int, int]:
    """Kubernetes' version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else."""
    match = _VERSION.match(version)
    if match is None:
        return (-1, 0, 0)
    stability = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    return (stability, int(match.group(1)), int(match.group(3) or 0))


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def kind_key(self) -> str:
        return f"{self.group}/{self.kind}"

    @property
    def display(self) -> str:
        """``secrets``, ``virtualservices.networking.istio.io``: as kubectl names resources."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is not None and self.namespaced:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return base + (f"/{name}" if name else "")


@dataclass(frozen=True)
class NotServed:
    group: str
    kinds: tuple[str, ...]
    family: str  # "istio", "linkerd", "gateway-api", "core", ...
    whole_group: bool  # the group is not served at all (vs. some kinds of it)


@dataclass
class Discovery:
    version: dict[str, Any] = field(default_factory=dict)  # GET /version
    served: dict[str, list[str]] = field(default_factory=dict)  # group -> versions
    resources: dict[str, Resource] = field(default_factory=dict)  # kind_key -> what to list
    not_served: list[NotServed] = field(default_factory=list)

    def get(self, kind_key: str) -> Resource | None:
        return self.resources.get(kind_key)

    def families_served(self) -> set[str]:
        catalog = Catalog.default()
        families = catalog.families()
        return {families[r.group] for r in self.resources.values() if r.group in families}


def wanted(catalog: Catalog, channel: str) -> dict[str, dict[str, list[str]]]:
    """group -> kind -> the versions meshctl can read, best first."""
    out: dict[str, dict[str, list[str]]] = {}
    for entry in catalog.entries():
        key = f"{entry.group}/{entry.kind}"
        if key in NOT_LISTED:
            continue
        if channel == "standard" and entry.channel == "experimental":
            continue
        out.setdefault(entry.group, {}).setdefault(entry.kind, []).append(entry.version)
    for group, kinds in EXTRA_KINDS.items():
        for kind in kinds:
            out.setdefault(group, {})[kind] = ["v1"]
    deprecated = {(e.group, e.version, e.kind) for e in catalog.entries() if e.deprecated}
    for group, kinds in out.items():
        for kind, versions in kinds.items():
            versions.sort(key=lambda v: ((group, v, kind) not in deprecated, version_rank(v)), reverse=True)
    return out


def discover(api: Api, channel: str = "experimental") -> Discovery:
    """Raises ApiError/TransportError only for the first call (the cluster is not there)."""
    catalog = Catalog.default()
    families = catalog.families()
    result = Discovery()
    try:
        result.version = api.get("/version")
    except ApiError as exc:
        if exc.status == 401:
            raise
        result.version = {}  # some clusters hide it; only the Kubernetes version check needs it
    core = api.get("/api")
    result.served[""] = [str(v) for v in _listed(core, "versions", "/api") if isinstance(v, str)]
    groups = api.get("/apis")
    for group in _listed(groups, "groups", "/apis"):
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            continue
        versions = [str(v.get("version")) for v in _listed(group, "versions", "/apis") if isinstance(v, dict)]
        result.served[group["name"]] = versions
    for group, kinds in wanted(catalog, channel).items():
        served = result.served.get(group)
        family = families.get(group, "core")
        if not served:
            result.not_served.append(NotServed(group, tuple(sorted(kinds)), family, True))
            continue
        versions = sorted({v for vs in kinds.values() for v in vs if v in served}, key=version_rank, reverse=True)
        lists: dict[str, dict[str, Resource]] = {}
        for version in versions:
            lists[version] = _resources(api, group, version)
        missing = []
        for kind, candidates in kinds.items():
            found = next((lists[v][kind] for v in candidates if v in lists and kind in lists[v]), None)
            if found is None:
                missing.append(kind)
            else:
                result.resources[f"{group}/{kind}"] = found
        if missing:
            result.not_served.append(NotServed(group, tuple(sorted(missing)), family, len(missing) == len(kinds)))
    return result


def _resources(api: Api, group: str, version: str) -> dict[str, Resource]:
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    try:
        data = api.get(path)
    except ApiError as exc:
        if exc.status in (403, 404, 503):  # an aggregated API that is down answers 503
            return {}
        raise
    out: dict[str, Resource] = {}
    for item in _listed(data, "resources", path):
        if not isinstance(item, dict):
            continue
        name, kind = item.get("name"), item.get("kind")
        if not isinstance(name, str) or "/" in name or not isinstance(kind, str):
            continue  # subresources (pods/log, gateways/status)
        verbs = item.get("verbs")
        if not isinstance(verbs, list) or "list" not in verbs:
            continue
        out[kind] = Resource(group, version, kind, name, bool(item.get("namespaced")))
    return out


def _listed(data: dict[str, Any], key: str, path: str) -> list[Any]:
    """``data[key]``, a list (null: empty); anything else is not a discovery document."""
    value = data.get(key)
    if value is None and key in data:
        return []
    if not isinstance(value, list):
        what = f"it has no {key}" if value is None else f"its {key} are not a list"
        raise ApiError(200, "BadResponse", f"the answer to GET {path} is not a discovery document: {what}")
    return value
