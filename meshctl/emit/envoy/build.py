"""The state one Envoy translation accumulates: the model, the options, clusters, losses.

Every part of the back-end receives a ``Build``; clusters are registered by name (the
same cluster asked for twice is built once) and emitted sorted, so the output is a pure,
deterministic function of the model and the options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshctl.emit.envoy.options import EnvoyOptions
from meshctl.emit.losses import Losses
from meshctl.model.mesh import MeshModel

Json = dict[str, Any]


@dataclass
class Build:
    mesh: MeshModel
    options: EnvoyOptions
    proxy_namespace: str
    losses: Losses = field(default_factory=Losses)
    clusters: dict[str, Json] = field(default_factory=dict)
    # answers computed once per translation (which DestinationRule a host gets, ...)
    memo: dict[str, dict[Any, Any]] = field(default_factory=dict)

    def add_cluster(self, name: str, make: Callable[[], Json]) -> str:
        """Register the cluster ``name`` (built by ``make`` the first time); returns the name."""
        if name not in self.clusters:
            self.clusters[name] = make()
        return name

    def cached(self, table: str, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per (table, key): lookups the emitters repeat per route."""
        entries = self.memo.setdefault(table, {})
        if key not in entries:
            entries[key] = compute()
        return entries[key]

    def sorted_clusters(self) -> list[Json]:
        return [self.clusters[name] for name in sorted(self.clusters)]
