"""Istio's length ordering of an Ingress host's paths, against its definition.

``istio_shadowed`` finds the paths Istio never reaches with an index of prefix stems (a
host may have thousands of paths). Its definition is pairwise: a path is left out when a
Prefix path of its host (or an ImplementationSpecific ``/*``/``.*`` one) is written longer
and covers it (same stem, a parent segment, or ``/``). Hypothesis writes Istio-class
Ingresses over a small alphabet of segments, so covering paths are common (extra trailing
slashes make a parent's prefix written longer than a child path), and checks that
exactly the paths the definition names are reported, each naming the longest covering path.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.emit.ingress.cases import API, PRELUDE, host, ingress
from tests.emit.ingress.helpers import istio_out

SEGMENTS = st.lists(st.sampled_from(["a", "b", "ab"]), min_size=0, max_size=3)


@st.composite
def paths(draw: st.DrawFn) -> tuple[str, str]:
    stem = "/" + "/".join(draw(SEGMENTS))
    kind = draw(st.sampled_from(["Exact", "Prefix", "ImplementationSpecific"]))
    if kind == "Prefix":  # trailing slashes count for the length, not for the stem
        stem = stem.rstrip("/") + "/" * draw(st.integers(0, 3))
    if kind == "ImplementationSpecific" and draw(st.booleans()):
        stem = stem.rstrip("/") + draw(st.sampled_from(["/*", ".*"]))
    return stem, kind


def _reading(value: str, kind: str) -> tuple[bool, str]:
    """(a prefix for Istio, its stem)."""
    if kind == "Prefix":
        return True, value.rstrip("/")
    if kind == "ImplementationSpecific" and value.endswith(("/*", ".*")):
        return True, value[:-2]
    return False, value


def _expected(written: list[tuple[str, str]]) -> dict[int, str]:
    """Index of each path left out -> the longest written path that covers it (pairwise)."""
    out: dict[int, str] = {}
    for i, (value, kind) in enumerate(written):
        stem = _reading(value, kind)[1]
        takers = [other for other, other_kind in written
                  if _reading(other, other_kind)[0] and len(other) > len(value)
                  and ((o := _reading(other, other_kind)[1]) == stem or stem.startswith(o + "/") or not o)]
        if takers:
            out[i] = max(takers, key=len)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(paths(), min_size=1, max_size=8, unique_by=lambda p: p))
@example([("/a/", "Prefix"), ("/a", "Exact"), ("/a/b", "ImplementationSpecific")])
@example([("/a///", "Prefix"), ("/a/b", "Exact"), ("/a/*", "ImplementationSpecific")])  # a parent's stem
def test_paths_istio_never_reaches_are_exactly_the_covered_shorter_ones(written: list[tuple[str, str]]) -> None:
    text = (ISTIO_CLASS + PRELUDE + ingress("mesh", host(
        "mesh.example.com", *(f"{{path: '{value}', pathType: {kind}, {API}}}" for value, kind in written)),
        class_line="ingressClassName: istio"))
    out = istio_out(text)
    found = {f.location.path: f.message for f in out.findings
             if f.code == "MSH400" and "by written length" in f.message and f.location}
    expected = _expected(written)
    assert set(found) == {f"spec.rules[0].http.paths[{i}]" for i in expected}
    for i, taker in expected.items():
        # the longest covering path is named (several may be equally long: any of those)
        named = found[f"spec.rules[0].http.paths[{i}]"].split("'")[1]
        assert len(named) == len(taker), (named, taker)


ISTIO_CLASS = """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: istio}
spec: {controller: istio.io/ingress-controller}
---
"""
