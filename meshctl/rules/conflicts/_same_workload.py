"""Which objects select the same workload, found by index rather than by comparing pairs.

Sidecars, Telemetries and Istio Gateways conflict when two of them apply to one pod. Two
ways to know that they do:

* through the inputs' workloads: each workload is matched against the selectors via a
  label index (the candidates of a selector's rarest label pair), and the objects that
  select one workload form a group (``by_workload``);
* through the selectors alone, when the workloads are not among the inputs: equal
  selectors select the same pods, and so does a selector that is a subset of another (it
  selects every pod the other one does) (``by_selector``).

Objects and workloads that share kind, namespace and name are one object written twice
(alternative manifests of a sample, say): a group only counts distinct ones.

>>> show_selector({"app": "reviews", "version": "v1"})
'{app: reviews, version: v1}'
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Generic, Protocol, TypeVar

from meshctl.diagnostics import Finding
from meshctl.model.mesh import selects
from meshctl.model.objects import Gateway, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

Labels = dict[str, str]
# Selectors with more items than this are compared for equality only (2**n subsets).
MAX_SUBSET_ITEMS = 8
# A finding points at this many of the objects it conflicts with at most (the message counts all).
MAX_RELATED = 10


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def namespace(self) -> str: ...


T = TypeVar("T", bound=Named)
Selector = Callable[[T], "Labels | None"]


def identity(obj: Named) -> tuple[str, str]:
    return (obj.namespace, obj.name)


def distinct(objects: Iterable[Named]) -> int:
    return len({identity(o) for o in objects})


def show_names(objects: Sequence[Named], limit: int = 3) -> str:
    """``a.ns, b.ns and 2 more``."""
    shown = ", ".join(f"{o.name}.{o.namespace}" for o in objects[:limit])
    return shown + (f" and {len(objects) - limit} more" if len(objects) > limit else "")


def show_selector(selector: Labels | None) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in (selector or {}).items()) + "}"


def show_workloads(workloads: Sequence[Workload]) -> str:
    """``Deployment reviews-v1.bookinfo`` (and how many more)."""
    first = workloads[0]
    more = len(workloads) - 1
    return f"{first.kind} {first.name}.{first.namespace}" + (f" (and {more} more)" if more else "")


class WorkloadIndex:
    """Workloads by label pair; the first of several same-named manifests only."""

    def __init__(self, workloads: Iterable[Workload]) -> None:
        self.workloads: list[Workload] = []
        seen: set[tuple[str, str, str]] = set()
        for w in workloads:
            key = (w.namespace, w.kind, w.name)
            if key not in seen:
                seen.add(key)
                self.workloads.append(w)
        self._by_label: dict[tuple[str, str], list[int]] = defaultdict(list)
        for position, w in enumerate(self.workloads):
            for pair in w.labels.items():
                self._by_label[pair].append(position)

    def selected(self, selector: Labels | None) -> list[int]:
        """Positions of the workloads ``selector`` picks (an empty selector picks all)."""
        if not selector:
            return list(range(len(self.workloads)))
        shortest = min((self._by_label.get(pair, []) for pair in selector.items()), key=len)
        return [p for p in shortest if selects(selector, self.workloads[p].labels)]


@dataclass(frozen=True)
class Group(Generic[T]):
    """Objects that all select the same pods: ``workloads`` of the inputs, or () when the
    selectors alone say so."""

    members: tuple[T, ...]
    workloads: tuple[Workload, ...]


def by_workload(items: Sequence[T], selector: Selector[T], index: WorkloadIndex) -> list[Group[T]]:
    """One group per set of objects selecting a workload together (two or more distinct)."""
    selecting: dict[int, list[int]] = defaultdict(list)  # workload position -> item positions
    for i, item in enumerate(items):
        for position in index.selected(selector(item)):
            selecting[position].append(i)
    groups: dict[tuple[int, ...], list[Workload]] = {}
    for position in sorted(selecting):
        members = tuple(selecting[position])
        if distinct(items[i] for i in members) > 1:
            groups.setdefault(members, []).append(index.workloads[position])
    return [Group(tuple(items[i] for i in members), tuple(ws)) for members, ws in groups.items()]


def by_selector(items: Sequence[T], selector: Selector[T]) -> list[Group[T]]:
    """For each selector S, the objects whose selector is S or a subset of it (they all
    select S's pods), when two or more distinct ones are."""
    by_items: dict[frozenset[tuple[str, str]], list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_items[frozenset((selector(item) or {}).items())].append(i)
    groups: list[Group[T]] = []
    seen: set[tuple[int, ...]] = set()
    for key in by_items:
        members = tuple(sorted(i for sub in _subsets(key) for i in by_items.get(sub, ())))
        if members not in seen and distinct(items[i] for i in members) > 1:
            seen.add(members)
            groups.append(Group(tuple(items[i] for i in members), ()))
    return groups


def _subsets(key: frozenset[tuple[str, str]]) -> Iterator[frozenset[tuple[str, str]]]:
    if len(key) > MAX_SUBSET_ITEMS:
        yield key
        yield frozenset()
        return
    ordered = sorted(key)
    for size in range(len(ordered) + 1):
        for combo in combinations(ordered, size):
            yield frozenset(combo)


def istio_gateways(ctx: Analysis) -> list[Gateway]:
    return [g for g in ctx.mesh.gateways if g.source_kind == "IstioGateway"]


def gateway_groups(ctx: Analysis, gateways: Sequence[Gateway]) -> list[Group[Gateway]]:
    """Istio Gateways that share a gateway workload, selected in any namespace (Istio's
    default, PILOT_SCOPE_GATEWAY_TO_NAMESPACE off); groups with input workloads come first."""
    index = WorkloadIndex(ctx.mesh.workloads)
    return by_workload(gateways, _gateway_selector, index) + by_selector(
        gateways, _gateway_selector
    )


def _gateway_selector(gateway: Gateway) -> Labels | None:
    return gateway.selector


@dataclass(frozen=True)
class Conflict(Generic[T]):
    """``item`` selects pods that each of ``others`` selects too."""

    item: T
    others: tuple[T, ...]
    # per other object, the workloads of the inputs both select; () when inferred from selectors
    shared: tuple[tuple[Workload, ...], ...]
    unresolved: bool  # inferred from the selectors: the namespace's workloads are not in the inputs


def namespace_conflicts(
    ctx: Analysis, items: Sequence[T], selector: Selector[T]
) -> Iterator[Conflict[T]]:
    """Namespace-scoped selectors (Sidecar, Telemetry) that select a common workload.

    With workloads of the namespace among the inputs, only those count. Without any, equal
    or nested selectors are reported as unresolved (nothing with --closed-world: the
    namespace then has no pods to conflict over).
    """
    by_namespace: dict[str, list[T]] = defaultdict(list)
    for item in items:
        by_namespace[item.namespace].append(item)
    for namespace, members in by_namespace.items():
        if distinct(members) < 2:
            continue
        workloads = ctx.mesh.workloads_in(namespace)
        if workloads:
            yield from conflicts(
                by_workload(members, selector, WorkloadIndex(workloads)), unresolved=False
            )
        elif not ctx.closed_world:
            yield from conflicts(by_selector(members, selector), unresolved=True)


def conflicts(groups: Iterable[Group[T]], *, unresolved: bool) -> Iterator[Conflict[T]]:
    """Each object of the groups with every distinct other object it shares pods with."""
    items: dict[int, T] = {}
    rivals: dict[int, dict[tuple[str, str], tuple[T, dict[int, Workload]]]] = {}
    for group in groups:
        keyed = [(identity(m), m) for m in group.members]
        for key, member in keyed:
            items.setdefault(id(member), member)
            mine = rivals.setdefault(id(member), {})
            for other_key, other in keyed:
                if other_key == key:
                    continue
                _, workloads = mine.setdefault(other_key, (other, {}))
                for w in group.workloads:
                    workloads.setdefault(id(w), w)
    for position, member in items.items():
        if rivals[position]:
            found = rivals[position].values()
            yield Conflict(
                member,
                tuple(o for o, _ in found),
                tuple(tuple(ws.values()) for _, ws in found),
                unresolved,
            )


def selector_message(field: str, kind: str, conflict: Conflict[T], selector: Selector[T]) -> str:
    """``workloadSelector {app: a} selects Deployment a.ns, which Sidecar b.ns also selects; ...``."""
    mine = show_selector(selector(conflict.item))
    other, shared = conflict.others[0], conflict.shared[0]
    name = f"{kind} {other.name}.{other.namespace}"
    more = f" (and {len(conflict.others) - 1} more)" if len(conflict.others) > 1 else ""
    if shared:
        return (
            f"{field} {mine} selects {show_workloads(shared)}, which {name}{more} also selects; "
            f"which {kind} applies to it is undefined"
        )
    return (
        f"{field} {mine} and {name}'s {show_selector(selector(other))}{more} select the same pods, "
        f"so which {kind} applies to them is undefined; the workloads are in namespace {other.namespace!r}"
    )


class Config(Named, Protocol):
    @property
    def origin(self) -> Origin: ...


C = TypeVar("C", bound=Config)


def several_defaults(
    ctx: Analysis, rule: Rule, defaults: Iterable[C], kind: str, what: str
) -> Iterator[Finding]:
    """One finding per namespace-wide default when a namespace has more than one.

    ``defaults`` are the objects without a selector (``what`` says how: "without
    workloadSelector"); the root namespace's default is the mesh-wide one.
    """
    by_namespace: dict[str, list[C]] = defaultdict(list)
    for obj in defaults:
        by_namespace[obj.namespace].append(obj)
    root = ctx.mesh.mesh_config.root_namespace
    for namespace, objects in by_namespace.items():
        if distinct(objects) < 2:
            continue
        scope = (
            "the mesh-wide default (root namespace)" if namespace == root
            else f"a default for namespace {namespace!r}"
        )
        for obj in objects:
            others = list({identity(o): o for o in objects if identity(o) != identity(obj)}.values())
            yield rule.on(
                obj.origin.at("metadata", "name"),
                f"{kind} {what} is {scope}, and so is {kind} {show_names(others)}; "
                "Istio applies only one of them and which one is undefined",
                related=tuple(
                    ctx.related(o.origin.at("metadata", "name"), "conflicts with") for o in others[:MAX_RELATED]
                ),
            )
