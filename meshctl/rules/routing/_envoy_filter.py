"""What istioctl's EnvoyPatchAnalyzer knows about EnvoyFilter patch operations (IST0151-IST0155).

Before::

    kind: EnvoyFilter
    metadata: {name: ratelimit, namespace: istio-system}
    spec:
      configPatches:
      - applyTo: HTTP_FILTER
        match: {listener: {filterChain: {filter: {subFilter: {name: envoy.filters.http.router}}}}}
        patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.ratelimit}}

After: ``order_dependent(patch)`` is True and ``unprioritized(filter)`` is True, so the patch
is reported by MSH144, or by MSH148 when ``PinnedPatches.elsewhere`` finds another patch that
merges, replaces or removes the same filter only for proxies of a given proxyVersion.

The classification follows Istio's analyzer: an operation that Istio ignores for the
``applyTo`` (REPLACE outside HTTP_FILTER/NETWORK_FILTER/VIRTUAL_HOST, ADD or REMOVE on
ROUTE_CONFIGURATION/HTTP_ROUTE) is reported as misused, not as order-dependent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.model.mesh import MeshModel
from meshctl.model.objects import EnvoyFilterConfig, EnvoyPatch
from meshctl.model.origin import Origin

INSERTS = frozenset({"INSERT_BEFORE", "INSERT_AFTER"})
REPLACEABLE = ("HTTP_FILTER", "NETWORK_FILTER", "VIRTUAL_HOST")  # VIRTUAL_HOST: accepted by Istio's code
FILTERS = ("HTTP_FILTER", "NETWORK_FILTER", "LISTENER_FILTER")
ROUTE_LEVEL = ("ROUTE_CONFIGURATION", "HTTP_ROUTE")  # ADD and REMOVE are ignored there
Pinned = tuple[EnvoyFilterConfig, EnvoyPatch]


def patches(mesh: MeshModel) -> Iterator[tuple[EnvoyFilterConfig, int, EnvoyPatch]]:
    """Every patch of every EnvoyFilter, with its index in ``configPatches``."""
    for envoy_filter in mesh.envoy_filters:
        for index, patch in enumerate(envoy_filter.patches):
            yield envoy_filter, index, patch


def unprioritized(envoy_filter: EnvoyFilterConfig) -> bool:
    """No ``priority`` (0, the proto default, is the same as none: ordered by creation time)."""
    return not envoy_filter.priority


def order_dependent(patch: EnvoyPatch) -> bool:
    """INSERT_BEFORE/INSERT_AFTER anywhere, REPLACE and REMOVE where Istio applies them."""
    if patch.operation in INSERTS:
        return True
    if patch.operation == "REPLACE":
        return patch.apply_to in REPLACEABLE
    if patch.operation == "REMOVE":
        return patch.apply_to not in ROUTE_LEVEL
    return False


def operation_origin(patch: EnvoyPatch) -> Origin:
    return patch.origin.at("patch", "operation")


def describe(index: int, patch: EnvoyPatch) -> str:
    """``configPatches[0] (INSERT_BEFORE on HTTP_FILTER, filter 'envoy.filters.http.router')``."""
    named = f", filter {patch.filter_name!r}" if patch.filter_name and patch.apply_to in FILTERS else ""
    return f"configPatches[{index}] ({patch.operation} on {patch.apply_to}{named})"


class PinnedPatches:
    """Patches that merge, replace or remove a filter only for a proxyVersion, by filter name."""

    def __init__(self, mesh: MeshModel) -> None:
        self.root = mesh.mesh_config.root_namespace
        self._by_name: dict[str, list[Pinned]] = defaultdict(list)
        for envoy_filter, _, patch in patches(mesh):
            if patch.proxy_version and patch.filter_name and _acts_on_named_filter(patch):
                self._by_name[patch.filter_name].append((envoy_filter, patch))

    def elsewhere(self, envoy_filter: EnvoyFilterConfig, patch: EnvoyPatch) -> list[Pinned]:
        """Other pinned patches of the filter ``patch`` is placed against or acts on, that can
        reach the same proxies.

        A filter in the root namespace reaches every namespace; others reach their own.
        """
        if not patch.filter_name or patch.apply_to not in FILTERS:
            return []
        return [
            (other_filter, other)
            for other_filter, other in self._by_name.get(patch.filter_name, [])
            if other is not patch
            and (
                other_filter.namespace == envoy_filter.namespace
                or self.root in (other_filter.namespace, envoy_filter.namespace)
            )
        ]


def _acts_on_named_filter(patch: EnvoyPatch) -> bool:
    """MERGE, REPLACE or REMOVE of a filter: ``filter_name`` is then the filter patched.

    (For INSERT_* and ADD it is usually the anchor, not the filter the patch adds.)
    """
    return patch.apply_to in FILTERS and patch.operation in ("MERGE", "REPLACE", "REMOVE")
