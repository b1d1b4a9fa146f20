"""What diagnose reads and how: discovery, pagination, scopes, partial views, retries."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from meshctl.cluster import reader
from tests.cluster.conftest import MESH, diagnose, kubeconfig, objects, serve
from tests.cluster.fake_apiserver import FakeCluster


def _codes(run) -> list[tuple[str, str]]:
    return [(f["code"], f["severity"]) for f in json.loads(run.stdout)["findings"]]


def _messages(run, code: str) -> list[str]:
    return [f["message"] for f in json.loads(run.stdout)["findings"] if f["code"] == code]


def _pods(n: int) -> str:
    return "".join(
        f"""---
apiVersion: v1
kind: Pod
metadata: {{name: extra-{i}, namespace: shop, labels: {{app: extra}}}}
spec: {{containers: [{{name: app, image: "shop/extra:1"}}]}}
status: {{phase: Running, conditions: [{{type: Ready, status: "True"}}]}}
"""
        for i in range(n)
    )


def test_discovery_first_then_only_served_kinds(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH), installed=("istio",))
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json")
    paths = [r.path for r in cluster.requests]
    assert paths[:3] == ["/version", "/api", "/apis"]
    assert not any("linkerd" in p or "gateway.networking.k8s.io" in p for p in paths)
    infos = _messages(run, "MSH519")
    assert any(m.startswith("Linkerd is not installed") for m in infos)
    assert any(m.startswith("the Gateway API is not installed") for m in infos)
    assert ("MSH102", "error") in _codes(run)  # the Istio analysis ran all the same
    assert not any(p.endswith("/endpoints") or "/replicasets" in p for p in paths)  # EndpointSlices, Deployments do
    codes = [c for c, _ in _codes(run)]
    assert "MSH012" not in codes  # each kind is read in a version that is not deprecated
    assert "MSH504" not in codes  # reviews has a ready endpoint


def test_cluster_with_neither_mesh(tmp_path: Path, pki) -> None:
    plain = [o for o in objects(MESH) if "istio.io" not in o["apiVersion"]]
    cluster = FakeCluster(objects=plain, installed=())
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json")
    assert run.code == 0, run.stderr
    assert len(_messages(run, "MSH519")) == 3


def test_pagination_with_limit_and_continue(tmp_path: Path, pki, monkeypatch) -> None:
    monkeypatch.setattr(reader, "PAGE", 2)
    cluster = FakeCluster(objects=objects(MESH + _pods(5)))
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json", "-A")
    pods = [r for r in cluster.requests if r.path == "/api/v1/pods"]
    assert len(pods) == 3  # 6 pods, 2 a page
    assert pods[0].query == {"limit": "2", "resourceVersion": "0"}
    assert all(set(p.query) == {"limit", "continue"} for p in pods[1:])
    assert json.loads(run.stdout)["summary"]["resources"] >= 6 + 3


def test_namespaces_or_all(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        kc = str(kubeconfig(tmp_path / "kc", server.url, pki))
        diagnose("--kubeconfig", kc, "-n", "shop", "-n", "istio-system")
        scoped = [r.path for r in mesh_cluster.requests]
        mesh_cluster.requests.clear()
        diagnose("--kubeconfig", kc, "-A")
        everywhere = [r.path for r in mesh_cluster.requests]
    assert "/api/v1/namespaces/shop/pods" in scoped and "/api/v1/namespaces/istio-system/pods" in scoped
    assert "/api/v1/namespaces/shop" in scoped  # the namespaces themselves, one GET each
    assert "/api/v1/pods" not in scoped
    assert "/api/v1/pods" in everywhere and "/api/v1/namespaces" in everywhere
    assert not any(p.startswith("/api/v1/namespaces/shop/") for p in everywhere if "configmaps" not in p)


def test_forbidden_secrets_are_a_partial_view(tmp_path: Path, pki) -> None:
    mesh = MESH + """---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: web-cert}
"""
    cluster = FakeCluster(objects=objects(mesh))
    cluster.forbid("secrets")
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json")
    notes = _messages(run, "MSH518")
    assert len(notes) == 1
    assert notes[0].startswith("cannot list secrets in namespace shop: forbidden; checks that need them were skipped:")
    assert "MSH111 gateway-secret-not-found" in notes[0]
    codes = [c for c, _ in _codes(run)]
    assert "MSH111" not in codes  # not reported on a view without Secrets
    assert "MSH102" in codes  # everything else still ran


def test_missing_crd_of_one_kind(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH), installed=("istio", "gateway-api", "linkerd"))
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json")
    notes = _messages(run, "MSH519")
    assert any("TLSRoute" in m and "(the Gateway API)" in m for m in notes)


def test_429_then_success_is_retried(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH))
    cluster.fail(r"^/api/v1/namespaces/shop/pods$", 429, 429, 0)
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json")
    assert [r.path for r in cluster.requests].count("/api/v1/namespaces/shop/pods") == 3
    assert "MSH518" not in [c for c, _ in _codes(run)]


def test_5xx_forever_is_reported_after_retries(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH))
    cluster.fail(r"/virtualservices$", 503)
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "-f", "json")
    assert [r.path for r in cluster.requests].count("/apis/networking.istio.io/v1/namespaces/shop/virtualservices") == 4
    notes = _messages(run, "MSH518")
    assert len(notes) == 1 and "virtualservices.networking.istio.io" in notes[0]
    assert "503 ServiceUnavailable 4 times" in notes[0]
    assert "MSH102" in notes[0]  # the routes were not all read: reference checks on them were skipped


def test_a_server_that_stops_answering_is_bounded_by_timeout(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH))
    cluster.hang(r"^/api/v1/namespaces/shop/pods$")
    with serve(cluster, pki) as server:
        started = time.monotonic()
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})),
                       "-f", "json", "--timeout", "0.4")
        elapsed = time.monotonic() - started
    assert elapsed < 10
    notes = _messages(run, "MSH518")
    assert any("cannot list pods in namespace shop: no answer within 0.4 s after 4 tries" in m for m in notes)
    assert any("not tried" in m for m in notes)  # the rest is not waited for, one timeout at a time


def test_a_server_that_never_answers_at_all_is_exit_3(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH))
    cluster.hang(r"^/version$")
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user={})), "--timeout", "0.3")
    assert run.code == 3
    assert server.url in run.stderr and "no answer within 0.3 s" in run.stderr


def test_findings_on_live_objects_have_cluster_positions(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        kc = str(kubeconfig(tmp_path / "kc", server.url, pki, context="prod", current="prod"))
        as_json = diagnose("--kubeconfig", kc, "-f", "json")
        as_text = diagnose("--kubeconfig", kc, "--select", "MSH102")
    finding = next(f for f in json.loads(as_json.stdout)["findings"] if f["code"] == "MSH102")
    assert finding["location"]["file"] == "cluster:prod/shop/VirtualService/reviews"
    assert finding["location"]["path"] == "spec.http[0].route[0].destination.subset"
    assert finding["location"]["line"] > 1
    assert "cluster:prod/shop/VirtualService/reviews:" in as_text.stdout
    assert "subset: v3" in as_text.stdout  # the generated YAML line, with its caret
    assert as_text.code == 1


@pytest.mark.parametrize("fmt", ["sarif", "github", "junit"])
def test_every_output_format(tmp_path: Path, pki, mesh_cluster: FakeCluster, fmt: str) -> None:
    with serve(mesh_cluster, pki) as server:
        out = tmp_path / f"report.{fmt}"
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki)), "-f", fmt,
                       "-o", f"json={out}")
    assert run.code == 1
    assert "MSH102" in run.stdout and json.loads(out.read_text())["findings"]


def test_check_certificates_reads_only_the_named_tls_secrets(tmp_path: Path, pki) -> None:
    import base64

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    mesh = MESH + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: web, namespace: shop}}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: shop.example.com
    tls: {{certificateRefs: [{{name: web-cert}}]}}
---
apiVersion: v1
kind: Secret
metadata: {{name: web-cert, namespace: shop}}
type: kubernetes.io/tls
data: {{tls.crt: {b64(pki.server_cert)}, tls.key: {b64(pki.client_key)}}}
"""
    cluster = FakeCluster(objects=objects(mesh))
    with serve(cluster, pki) as server:
        kc = str(kubeconfig(tmp_path / "kc", server.url, pki, user={}))
        plain = diagnose("--kubeconfig", kc, "-f", "json")
        gets_without = [r.path for r in cluster.requests if "/secrets/" in r.path]
        checked = diagnose("--kubeconfig", kc, "-f", "json", "--check-certificates")
    assert gets_without == []
    assert [r.path for r in cluster.requests if "/secrets/" in r.path] == ["/api/v1/namespaces/shop/secrets/web-cert"]
    assert "MSH512" not in plain.stdout
    messages = _messages(checked, "MSH512")
    assert messages and "does not belong to the certificate" in messages[0]
    key_line = pki.text("client_key").splitlines()[1]
    assert key_line not in checked.output and b64(pki.client_key)[:40] not in checked.output


def test_analyze_never_imports_the_kubernetes_client(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    (tmp_path / "m.yaml").write_text(MESH)
    probe = (
        "import sys; sys.argv=['meshctl','analyze',sys.argv[1]]\n"
        "from meshctl.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('KUBERNETES' if any(m == 'kubernetes' or m.startswith('kubernetes.') for m in sys.modules) else 'CLEAN')\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "m.yaml")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.stdout.strip().endswith("CLEAN"), proc.stderr


def test_a_namespace_that_does_not_exist(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki)), "-f", "json", "-n", "nope")
    assert _messages(run, "MSH518") == ["namespace 'nope' does not exist in the cluster: nothing was read from it"]


def test_progress_bar_steps_through_the_lists(capsys) -> None:
    with reader.progress_bar(True) as start:
        assert start is not None
        step = start(2)
        step("pods")
        step("services")
    with reader.progress_bar(False) as nothing:
        assert nothing is None
    assert capsys.readouterr().out == ""  # the bar never writes to standard output
