"""Whole meshes: golden outputs, validation of everything emitted, names, annotations, purity.

``meshes/<case>/input.yaml`` translates to ``expected/<channel>.yaml`` with the findings in
``expected/<channel>.findings``; each golden was read against mesh-translation.md before it
was committed. After an intended change, ``MESHCTL_UPDATE_GOLDEN=1 pytest
tests/emit/gateway_api/test_output.py`` rewrites them: review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from meshctl.emit.gateway_api import translate
from meshctl.emit.manifests import Manifests, render
from meshctl.emit.mesh_options import MeshOptions
from tests.emit.gateway_api.harness import analyzed, has_loss, model, translated, validated

MESHES = Path(__file__).parent / "meshes"
CASES = sorted(p.name for p in MESHES.iterdir() if (p / "input.yaml").is_file())
CHANNELS = ("standard", "experimental")
UPDATE = os.environ.get("MESHCTL_UPDATE_GOLDEN") == "1"


def _findings(out: Manifests) -> str:
    lines = []
    for f in sorted(out.findings, key=lambda f: f.sort_key()):
        where = f"{f.location.line}:{f.location.column}" if f.location else "-"
        lines.append(f"{where} {f.code} {f.message}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, channel: str) -> None:
    text = (MESHES / case / "input.yaml").read_text()
    out = translated(text, channel)
    rendered = render(out.resources, f"{case}, {channel} channel")
    findings = _findings(out)
    expected = MESHES / case / "expected"
    if UPDATE:
        expected.mkdir(exist_ok=True)
        (expected / f"{channel}.yaml").write_text(rendered)
        (expected / f"{channel}.findings").write_text(findings)
    assert rendered == (expected / f"{channel}.yaml").read_text()
    assert findings == (expected / f"{channel}.findings").read_text()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("case", CASES)
def test_every_mesh_validates_clean_and_analyzes_without_errors(case: str, channel: str) -> None:
    text = (MESHES / case / "input.yaml").read_text()
    out = translated(text, channel)
    assert validated(out, channel) == []
    assert analyzed(out, text, channel) == []


@pytest.mark.parametrize("case", CASES)
def test_every_object_says_where_it_came_from_and_nothing_else(case: str) -> None:
    out = translated((MESHES / case / "input.yaml").read_text())
    for item in out.resources:
        metadata = item["metadata"]
        assert "labels" not in metadata
        source = metadata["annotations"]["meshctl.io/translated-from"]
        for one in source.split(","):
            kind, namespace, name = one.split("/")
            assert kind in ("VirtualService", "Gateway", "DestinationRule") and namespace and name
        assert set(metadata["annotations"]) <= {"meshctl.io/translated-from", "timeout.linkerd.io/request"}
        assert metadata["namespace"]


@pytest.mark.parametrize("case", CASES)
def test_every_finding_points_into_the_input(case: str) -> None:
    out = translated((MESHES / case / "input.yaml").read_text())
    assert out.findings
    assert all(f.location is not None and f.location.file == "mesh.yaml" for f in out.findings)
    assert {f.code for f in out.findings} <= {"MSH400", "MSH401"}


def test_the_output_is_deterministic_and_the_model_untouched() -> None:
    text = (MESHES / "shop" / "input.yaml").read_text()
    mesh = model(text)
    before = [repr(r) for r in mesh.routes]
    first = translate(mesh, MeshOptions())
    second = translate(mesh, MeshOptions())
    assert render(first.resources, "x") == render(second.resources, "x")
    assert [f.message for f in first.findings] == [f.message for f in second.findings]
    assert [repr(r) for r in mesh.routes] == before


def test_no_experimental_field_in_the_standard_channel() -> None:
    for case in CASES:
        out = translated((MESHES / case / "input.yaml").read_text(), "standard")
        assert "retry:" not in render(out.resources, "x")
        assert not any(f.code == "MSH015" for f in validated(out, "standard"))


def test_the_summary_counts_inputs_and_outputs() -> None:
    out = translated((MESHES / "shop" / "input.yaml").read_text())
    assert out.summary == ("2 DestinationRules, 1 Gateway, 2 VirtualServices -> 1 BackendTLSPolicy, 1 Gateway, "
                           "4 HTTPRoutes, 1 ReferenceGrant, 2 Services")


ISTIO_AND_LINKERD = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart]
  http:
  - route: [{destination: {host: cart}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: cart.shop.svc.cluster.local, namespace: shop}
spec:
  routes: [{name: all, condition: {pathRegex: /.*}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: already, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: cart, port: 8080}]
  rules: [{backendRefs: [{name: cart, port: 8080}]}]
"""


def test_from_selects_the_inputs() -> None:
    auto = translated(ISTIO_AND_LINKERD)
    assert [r["metadata"]["name"] for r in auto.resources] == ["cart"]
    assert has_loss(auto, "MSH400", "ServiceProfile", "translating linkerd resources to Gateway API is not supported")
    assert not has_loss(auto, "MSH400", "HTTPRoute already")  # already Gateway API: not an input of --to gateway-api
    istio = translated(ISTIO_AND_LINKERD, source="istio")
    assert [r["metadata"]["name"] for r in istio.resources] == ["cart"]
    assert not has_loss(istio, "MSH400", "ServiceProfile")
    linkerd = translated(ISTIO_AND_LINKERD, source="linkerd")
    assert linkerd.resources == []
    assert has_loss(linkerd, "MSH400", "ServiceProfile")


def test_names_do_not_collide() -> None:
    text = ISTIO_AND_LINKERD.split("---\napiVersion: linkerd.io")[0] + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart-1, namespace: shop}
spec:
  hosts: [cart]
  http:
  - route: [{destination: {host: cart}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart]
  gateways: [mesh, gw]
  http:
  - route: [{destination: {host: cart}}]
"""
    out = translated(text)
    names = sorted(r["metadata"]["name"] for r in out.resources if r["kind"] == "HTTPRoute")
    assert len(names) == len(set(names))
    assert validated(out) == []
