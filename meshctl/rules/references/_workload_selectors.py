"""Which workloads a selector picks, across namespaces too, and which ones are gateways.

Istio Gateways select their workloads in every namespace (PILOT_SCOPE_GATEWAY_TO_NAMESPACE
is off by default), and a policy in the root namespace selects in every namespace. The
index below answers both without scanning every workload for every selector: it keeps
the workloads by label pair and filters the shortest candidate list.

>>> is_gateway_selector({"istio": "ingressgateway"})
True
>>> is_gateway_selector({"app": "reviews"})
False
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Gateway, Workload

Labels = dict[str, str]

# Labels on the workloads Istio deploys for a Gateway API Gateway (gateways and waypoints).
GENERATED_NAME_KEYS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")
_GATEWAY_WORDS = ("gateway", "ingress", "egress")


def is_gateway_selector(selector: Labels) -> bool:
    """Does the selector pick gateway proxies (the default `istio: ingressgateway` and kin)?"""
    if any(key in selector for key in GENERATED_NAME_KEYS) or "istio" in selector:
        return True
    return any(word in value.lower() for value in selector.values() for word in _GATEWAY_WORDS)


def is_gateway_workload(workload: Workload) -> bool:
    """An Istio gateway proxy: labelled as Istio's charts label one, or running only the proxy."""
    labels = workload.labels
    if "istio" in labels or any(key in labels for key in GENERATED_NAME_KEYS):
        return True
    if "gateway.istio.io/managed" in labels:
        return True
    if "gateway" in workload.annotations.get("inject.istio.io/templates", ""):
        return True
    return [c.name for c in workload.containers] == ["istio-proxy"]


def describe(selector: Labels) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(selector.items())) or "{}"


class WorkloadIndex:
    """The workloads of the mesh by label pair (built once per rule run)."""

    def __init__(self, mesh: MeshModel) -> None:
        self.mesh = mesh
        self.workloads = list(mesh.workloads)
        self._any_gateway: bool | None = None
        self._by_label: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        self._by_namespace_label: dict[tuple[str, str, str], list[Workload]] = defaultdict(list)
        for w in self.workloads:
            for key, value in w.labels.items():
                self._by_label[(key, value)].append(w)
                self._by_namespace_label[(w.namespace, key, value)].append(w)

    def anywhere(self, selector: Labels | None) -> list[Workload]:
        """The workloads of every namespace the selector picks."""
        if not selector:
            return self.workloads
        shortest = min((self._by_label.get(pair, []) for pair in selector.items()), key=len)
        return [w for w in shortest if selects(selector, w.labels)]

    def in_scope(self, namespace: str | None, selector: Labels | None) -> list[Workload]:
        """The workloads the selector picks in ``namespace`` (every namespace for None)."""
        if namespace is None:
            return self.anywhere(selector)
        if not selector:
            return self.mesh.workloads_in(namespace)
        shortest = min(
            (self._by_namespace_label.get((namespace, *pair), []) for pair in selector.items()),
            key=len,
        )
        return [w for w in shortest if selects(selector, w.labels)]

    def has_workloads(self, namespace: str | None) -> bool:
        return bool(self.workloads if namespace is None else self.mesh.workloads_in(namespace))

    def has_gateway_workloads(self, namespace: str | None) -> bool:
        pool = self.workloads if namespace is None else self.mesh.workloads_in(namespace)
        if namespace is None and self._any_gateway is not None:
            return self._any_gateway
        found = any(is_gateway_workload(w) for w in pool)
        if namespace is None:
            self._any_gateway = found
        return found

    def suggestion(self, namespace: str | None, selector: Labels) -> str:
        """``did you mean app=reviews?`` or the labels the workloads in scope do carry."""
        pool = self.workloads if namespace is None else self.mesh.workloads_in(namespace)
        matched: list[str] = []  # the selector's pairs the pool still satisfies
        for key, value in sorted(selector.items()):
            values = sorted({w.labels[key] for w in pool if key in w.labels})
            if value in values:
                pool = [w for w in pool if w.labels.get(key) == value]
                matched.append(f"{key}={value}")
                continue
            close = difflib.get_close_matches(value, values, n=1, cutoff=0.7)
            if close:
                return f"; did you mean {key}={close[0]}?"
            which = f"workloads with {', '.join(matched)}" if matched else "workloads there"
            if values:
                shown = ", ".join(f"{key}={v}" for v in values[:4]) + (
                    ", ..." if len(values) > 4 else ""
                )
                return f"; {which} have {shown}"
            return f"; none of the {which} has a {key!r} label"
        return ""


def generated_for_gateway_api(
    mesh: MeshModel, namespace: str | None, selector: Labels
) -> Gateway | None:
    """The Gateway API Gateway whose generated deployment the selector names, if it is an input."""
    for key in GENERATED_NAME_KEYS:
        name = selector.get(key)
        if name is None:
            continue
        candidates = mesh.gateways if namespace is None else mesh.gateways_named(namespace, name)
        for gateway in candidates:
            if gateway.source_kind == "Gateway" and gateway.name == name:
                return gateway
    return None
