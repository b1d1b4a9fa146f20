"""`meshctl analyze` as users run it: validation included, open and closed world,
mesh config, determinism."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from meshctl.errors import InputError, UsageError
from meshctl.lower.mesh_config import load_mesh_config
from tests.conftest import run_meshctl

MESH = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
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
  - route:
    - destination: {host: payments.billing.svc.cluster.local}
    timout: 5s
"""


def test_analyze_reports_validation_and_analysis_findings(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(MESH)
    run = run_meshctl("analyze", "-f", "json", str(tmp_path))
    report = json.loads(run.stdout)
    codes = [(f["code"], f["severity"]) for f in report["findings"]]
    assert ("MSH011", "error") in codes
    assert ("MSH101", "info") in codes  # billing is not among the inputs: unresolved
    assert run.code == 1  # the unknown field


def test_closed_world_makes_unresolved_references_errors(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(MESH.replace("    timout: 5s\n", ""))
    open_world = run_meshctl("analyze", str(tmp_path))
    assert open_world.code == 0
    assert "info MSH101" in open_world.stdout and "(not among the inputs)" in open_world.stdout
    closed = run_meshctl("analyze", "--closed-world", str(tmp_path))
    assert closed.code == 1
    assert "error MSH101" in closed.stdout
    (tmp_path / ".meshctl.yaml").write_text("closed-world: true\n")
    assert run_meshctl("analyze", ".", cwd=tmp_path).code == 1


def test_output_is_byte_identical_whatever_the_input_order(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parent.parent / "testdata" / "demo"
    files = sorted(str(p) for p in demo.rglob("*.yaml"))
    first = run_meshctl("analyze", "-f", "json", *files)
    shuffled = files[:]
    random.Random(7).shuffle(shuffled)
    second = run_meshctl("analyze", "-f", "json", *shuffled)
    assert first.stdout == second.stdout
    assert json.loads(first.stdout)["findings"]


def test_mesh_config_reads_meshconfig_and_the_istio_configmap(tmp_path: Path) -> None:
    raw = tmp_path / "mesh.yaml"
    raw.write_text("rootNamespace: mesh-root\ntrustDomain: example.org\ndefaultProviders:\n  accessLogging: [envoy]\n")
    config = load_mesh_config(raw)
    assert (config.root_namespace, config.trust_domain, config.default_access_log_providers) == (
        "mesh-root", "example.org", ("envoy",)
    )
    cm = tmp_path / "cm.yaml"
    cm.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
        "data:\n  mesh: |-\n    rootNamespace: other-root\n    enableAutoMtls: false\n"
    )
    config = load_mesh_config(cm)
    assert config.root_namespace == "other-root" and config.enable_auto_mtls is False
    with pytest.raises(InputError):
        load_mesh_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rootNamespace: [\n")
    with pytest.raises(UsageError):
        load_mesh_config(bad)


def test_mesh_config_flag_errors_exit_with_input_code(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(MESH)
    run = run_meshctl("analyze", "--mesh-config", str(tmp_path / "nope.yaml"), str(tmp_path / "mesh.yaml"))
    assert run.code == 3
    assert "no such mesh config file" in run.stderr


def test_documents_with_wrong_types_are_analysed_from_their_sound_parts(tmp_path: Path) -> None:
    mesh = MESH.replace("    timout: 5s\n", "") + """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  trafficPolicy:
    tls: {mode: STRICT}
  subsets:
  - {name: v1, labels: {app: cart}}
"""
    mesh = mesh.replace("    - destination: {host: payments.billing.svc.cluster.local}", "    - destination: {host: cart, subset: v1}")
    (tmp_path / "mesh.yaml").write_text(mesh)
    run = run_meshctl("analyze", "-f", "json", str(tmp_path))
    codes = [f["code"] for f in json.loads(run.stdout)["findings"]]
    assert codes == ["MSH010"]  # the bad TLS mode, and no MSH102 for the subset it still defines
    broken = MESH.replace("hosts: [cart]", "hosts: cart")  # a string where a list belongs
    (tmp_path / "mesh.yaml").write_text(broken)
    run = run_meshctl("analyze", "-f", "json", str(tmp_path))
    assert "MSH010" in {f["code"] for f in json.loads(run.stdout)["findings"]}
    assert "Traceback" not in run.stderr


def test_analyze_on_the_corpus_does_not_crash(tmp_path: Path) -> None:
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip("corpus not beside the checkout")
    run = run_meshctl("analyze", "-f", "json", "--fail-on", "never", str(CORPUS))
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["summary"]["resources"] > 1500


def test_annotations_suppress_analysis_findings(tmp_path: Path) -> None:
    quiet = MESH.replace("    timout: 5s\n", "").replace(
        "metadata: {name: cart, namespace: shop}\nspec:\n  hosts",
        "metadata:\n  name: cart\n  namespace: shop\n  annotations: {meshctl.io/ignore: MSH1*}\nspec:\n  hosts",
    )
    (tmp_path / "mesh.yaml").write_text(quiet)
    report = json.loads(run_meshctl("analyze", "-f", "json", "--closed-world", str(tmp_path)).stdout)
    assert report["findings"] == []


def test_explain_mtls_prints_the_per_edge_table(tmp_path: Path) -> None:
    mesh = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: cart, image: cart:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: batch, namespace: legacy}
spec:
  selector: {matchLabels: {app: batch}}
  template:
    metadata: {labels: {app: batch}}
    spec: {containers: [{name: batch, image: batch:1}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
"""
    (tmp_path / "mesh.yaml").write_text(mesh)
    run = run_meshctl("analyze", "--explain-mtls", str(tmp_path))
    table = run.stdout.split("in 1 file", 1)[1]
    assert "cart.shop:8080" in table
    rows = [line for line in table.splitlines() if "cart.shop:8080" in line]
    assert any("mtls" in row for row in rows) and any("broken" in row for row in rows)
    assert "STRICT from PeerAuthentication default.shop" in table
    as_json = run_meshctl("analyze", "--explain-mtls", "-f", "json", str(tmp_path))
    json.loads(as_json.stdout)  # the table goes to stderr, stdout stays one JSON document
    assert "cart.shop:8080" in as_json.stderr
