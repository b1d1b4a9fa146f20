"""Istio's bookinfo sample: every networking file translates and validates clean, and where
Istio ships the same routing as Gateway API (``samples/bookinfo/gateway-api``) the
translation says the same thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshctl.diagnostics import Severity
from meshctl.emit.manifests import Manifests
from meshctl.options import Options
from meshctl.pipeline import run_analyze
from tests.conftest import CORPUS, requires_corpus
from tests.emit.gateway_api.harness import analyzed, resources, translated, validated

pytestmark = requires_corpus()

BOOKINFO = CORPUS / "istio" / "samples" / "bookinfo"
NETWORKING = BOOKINFO / "networking"
SERVICES = BOOKINFO / "platform" / "kube" / "bookinfo.yaml"
VERSIONS = BOOKINFO / "platform" / "kube" / "bookinfo-versions.yaml"
SUBSETS = NETWORKING / "destination-rule-all.yaml"
FILES = sorted(p.name for p in NETWORKING.glob("*.yaml")) if NETWORKING.is_dir() else []

# Istio's Gateway API version of a networking sample: (gateway-api file, networking file)
PAIRS = [
    ("route-all-v1.yaml", "virtual-service-all-v1.yaml"),
    ("route-reviews-50-v3.yaml", "virtual-service-reviews-50-v3.yaml"),
    ("route-reviews-90-10.yaml", "virtual-service-reviews-90-10.yaml"),
    ("route-reviews-v3.yaml", "virtual-service-reviews-v3.yaml"),
    ("bookinfo-gateway.yaml", "bookinfo-gateway.yaml"),
]


def _unit(*paths: Path) -> str:
    return "\n---\n".join(p.read_text() for p in paths)


def _input_errors(paths: tuple[Path, ...]) -> bool:
    result = run_analyze(Options(paths=tuple(str(p) for p in paths)))
    return any(f.severity >= Severity.ERROR for f in result.findings)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("channel", ["standard", "experimental"])
def test_every_networking_sample_translates_and_validates_clean(name: str, channel: str) -> None:
    paths = (SERVICES, SUBSETS, NETWORKING / name) if name != SUBSETS.name else (SERVICES, SUBSETS)
    text = _unit(*paths)
    out = translated(text, channel)
    assert validated(out, channel) == []
    assert all(f.severity < Severity.ERROR for f in out.findings)
    if not _input_errors(paths):  # an input that refers to what bookinfo lacks keeps its errors
        assert analyzed(out, text, channel) == []


def test_all_of_bookinfo_at_once() -> None:
    text = _unit(SERVICES, *(NETWORKING / name for name in FILES))
    out = translated(text)
    assert validated(out) == []
    names = [(r["kind"], r["metadata"]["namespace"], r["metadata"]["name"]) for r in out.resources]
    assert len(names) == len(set(names))


# -- the same routing as Istio's own Gateway API samples -----------------------------------------
def _routes(out: Manifests) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: _normal(r["spec"]) for r in resources(out, "HTTPRoute")}


def _normal(spec: dict[str, Any]) -> dict[str, Any]:
    """Defaults made explicit (weight 1, parent namespace), order kept."""
    rules = []
    for rule in spec["rules"]:
        rule = dict(rule)
        rule.pop("name", None)
        rule["backendRefs"] = [{"weight": 1, **ref} for ref in rule.get("backendRefs", [])]
        rules.append(rule)
    return {"parentRefs": spec["parentRefs"], "hostnames": spec.get("hostnames", []), "rules": rules}


@pytest.mark.parametrize(("gateway_api", "istio"), PAIRS, ids=[p[0] for p in PAIRS])
def test_the_translation_routes_like_istios_gateway_api_sample(gateway_api: str, istio: str) -> None:
    text = _unit(SERVICES, VERSIONS, SUBSETS, NETWORKING / istio)
    out = translated(text)
    shipped = [d for d in yaml.safe_load_all((BOOKINFO / "gateway-api" / gateway_api).read_text()) if d]
    expected = {d["metadata"]["name"]: _normal(d["spec"]) for d in shipped if d["kind"] == "HTTPRoute"}
    assert _routes(out) == expected
    assert resources(out, "Service") == []  # bookinfo-versions.yaml already has the per-version Services
    assert validated(out) == []


def test_the_gateway_is_istios_sample_but_for_the_pod_port_and_the_namespaces() -> None:
    out = translated(_unit(SERVICES, NETWORKING / "bookinfo-gateway.yaml"))
    [listener] = next(r for r in out.resources if r["kind"] == "Gateway")["spec"]["listeners"]
    shipped = next(d for d in yaml.safe_load_all((BOOKINFO / "gateway-api" / "bookinfo-gateway.yaml").read_text())
                   if d and d["kind"] == "Gateway")
    [theirs] = shipped["spec"]["listeners"]
    assert (listener["name"], listener["protocol"]) == (theirs["name"], theirs["protocol"])
    # Istio's server port 8080 is the ingress pod's (its Service maps 80 to it): without that
    # Service among the inputs the port stays, and the selector note says clients move
    assert listener["port"] == 8080 and theirs["port"] == 80
    # hosts "*" lets VirtualServices of every namespace bind; Istio's sample narrows it to Same
    assert listener["allowedRoutes"] == {"namespaces": {"from": "All"}}
