"""Authorization rules beyond their fixtures: the mesh config's trust domain, closed world."""

from __future__ import annotations

from pathlib import Path

from meshctl.diagnostics import Severity
from meshctl.options import Options
from meshctl.pipeline import run_analyze

POLICY = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {serviceAccountName: web, containers: [{name: web, image: web:1}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart, namespace: shop}
spec:
  rules:
  - from:
    - source:
        principals: [corp.example/ns/shop/sa/web, cluster.local/ns/shop/sa/web, other.example/ns/shop/sa/web]
  - from:
    - source: {namespaces: [monitoring]}
"""


def _run(tmp_path: Path, *, mesh_config: str | None = None, closed_world: bool = False) -> list[tuple[int, str]]:
    (tmp_path / "mesh.yaml").write_text(POLICY)
    config = None
    if mesh_config is not None:
        config = tmp_path / "mesh-config.yaml"
        config.write_text(mesh_config)
    result = run_analyze(Options(paths=(str(tmp_path / "mesh.yaml"),), select=("MSH221",),
                                 mesh_config=str(config) if config else None, closed_world=closed_world))
    return sorted((f.location.column if f.location else 0, f.severity.label) for f in result.findings
                  if f.code == "MSH221")


def test_trust_domain_comes_from_the_mesh_config(tmp_path: Path) -> None:
    def warnings(found: list[tuple[int, str]]) -> int:
        return sum(1 for _, severity in found if severity == Severity.WARNING.label)

    # default trust domain cluster.local: corp.example and other.example are foreign
    assert warnings(_run(tmp_path)) == 2
    # trustDomain corp.example: corp.example and cluster.local (read as the mesh's own) are fine
    assert warnings(_run(tmp_path, mesh_config="trustDomain: corp.example\n")) == 1


def test_closed_world_makes_a_missing_namespace_a_warning(tmp_path: Path) -> None:
    assert [sev for _, sev in _run(tmp_path) if sev == "info"] == ["info"]
    assert "info" not in [sev for _, sev in _run(tmp_path, closed_world=True)]
