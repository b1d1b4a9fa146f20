"""The weighted destination lists of a VirtualService, shared by the weight checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.diagnostics import FieldPath
from meshctl.load.document import SourceDoc
from meshctl.rules.values._walk import find, mapping, number

ROUTE_LISTS = ("spec.http[].route", "spec.tcp[].route", "spec.tls[].route")


@dataclass(frozen=True)
class WeightedRoute:
    path: FieldPath  # the route list
    weights: tuple[int, ...]  # one per destination; an unset weight is 0
    names: tuple[str, ...]  # "host" or "host (subset)", for messages

    @property
    def total(self) -> int:
        return sum(self.weights)


def weighted_routes(doc: SourceDoc) -> Iterator[WeightedRoute]:
    """Each route list whose weights are all integers or unset (others fail the schema)."""
    for pattern in ROUTE_LISTS:
        for path, route in find(doc.data, pattern):
            if not isinstance(route, list) or not route:
                continue
            weights: list[int] = []
            names: list[str] = []
            for entry in route:
                raw = mapping(entry).get("weight")
                weight = number(raw)
                if raw is not None and (weight is None or weight < 0):
                    break
                weights.append(weight or 0)
                names.append(_name(mapping(mapping(entry).get("destination"))))
            else:
                yield WeightedRoute(path, tuple(weights), tuple(names))


def _name(destination: dict[str, object]) -> str:
    host = destination.get("host")
    subset = destination.get("subset")
    shown = host if isinstance(host, str) else "?"
    return f"{shown} ({subset})" if isinstance(subset, str) and subset else shown
