"""What an analysis rule sees: the mesh model, the service graph, and the run's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from meshctl.diagnostics import Related
from meshctl.model.mesh import MeshModel

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph
    from meshctl.model.origin import Origin

T = TypeVar("T")


@dataclass
class Analysis:
    mesh: MeshModel
    closed_world: bool = False
    _graph: ServiceGraph | None = field(default=None, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """A derived view several rules share (an index, a scan), built once per run."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]

    @cached_property
    def graph(self) -> ServiceGraph:
        from meshctl.graph import build

        return self._graph if self._graph is not None else build(self.mesh)

    def related(self, origin: Origin, message: str) -> Related:
        """A pointer to another object: ``conflicts with VirtualService cart.shop``."""
        return Related(f"{message} {origin.ref.display()}", origin.location())

    def outside_inputs(self, namespace: str) -> bool:
        """Do the inputs leave ``namespace``'s contents unknown (open world)?

        True when no Namespace object, Service or workload of that namespace is among the
        inputs: a reference into it is then *unresolved* (reported as info), not wrong.
        With --closed-world the inputs are the whole mesh and nothing is outside them.
        """
        if self.closed_world:
            return False
        mesh = self.mesh
        return not (namespace in mesh.namespaces or mesh.services_in(namespace) or mesh.workloads_in(namespace))
