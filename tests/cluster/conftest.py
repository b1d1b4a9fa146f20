"""Fixtures for diagnose: certificates, a fake API server, kubeconfigs, an in-process runner."""

from __future__ import annotations

import contextlib
import gc
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.fake_apiserver import FakeApiServer, FakeCluster, Pki, make_pki

SECRET_VALUE = "s3cr3t-db-password-0xC0FFEE"
TOKEN = "tok-alice-4b1d5e6f7a8b"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _no_proxy_and_no_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent-home-for-meshctl-tests")


@contextlib.contextmanager
def serve(cluster: FakeCluster, pki: Pki) -> Iterator[FakeApiServer]:
    server = FakeApiServer(cluster, pki).start()
    try:
        yield server
    finally:
        server.stop()


def kubeconfig(
    path: Path,
    server: str,
    pki: Pki,
    *,
    user: dict[str, Any] | None = None,
    context: str = "test",
    namespace: str | None = "shop",
    current: str | None = "test",
    ca: bool = True,
    cluster_extra: dict[str, Any] | None = None,
) -> Path:
    cluster: dict[str, Any] = {"server": server}
    if ca:
        cluster["certificate-authority-data"] = pki.b64("ca")
    cluster.update(cluster_extra or {})
    ctx: dict[str, Any] = {"cluster": f"{context}-cluster", "user": f"{context}-user"}
    if namespace:
        ctx["namespace"] = namespace
    data: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": f"{context}-cluster", "cluster": cluster}],
        "users": [{"name": f"{context}-user", "user": user if user is not None else {"token": TOKEN}}],
        "contexts": [{"name": context, "context": ctx}],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def diagnose(*args: str) -> Run:
    """``meshctl diagnose ARGS`` in this process (the fake server runs in its threads)."""
    from meshctl import cli

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["meshctl", "diagnose", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
        gc.enable()  # main() turns the collector off for the rest of the process
    return Run(code, out.getvalue(), err.getvalue())


def objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


MESH = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: shop, labels: {{istio-injection: enabled}}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: istio-system}}
---
apiVersion: v1
kind: Service
metadata: {{name: reviews, namespace: shop}}
spec:
  selector: {{app: reviews}}
  ports: [{{name: http, port: 9080}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: reviews-v1, namespace: shop}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: reviews, version: v1}}}}
  template:
    metadata: {{labels: {{app: reviews, version: v1}}}}
    spec:
      containers: [{{name: reviews, image: "shop/reviews:1.0", ports: [{{containerPort: 9080}}]}}]
status: {{replicas: 1, readyReplicas: 1}}
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1-5d8f7-abcde
  namespace: shop
  labels: {{app: reviews, version: v1, pod-template-hash: 5d8f7}}
  annotations: {{sidecar.istio.io/status: '{{"containers":["istio-proxy"]}}'}}
spec:
  containers:
  - {{name: reviews, image: "shop/reviews:1.0", ports: [{{containerPort: 9080}}]}}
  - {{name: istio-proxy, image: "docker.io/istio/proxyv2:1.22.0"}}
status:
  phase: Running
  podIP: 10.1.0.7
  conditions: [{{type: Ready, status: "True"}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: reviews-x7k2p, namespace: shop, labels: {{kubernetes.io/service-name: reviews}}}}
addressType: IPv4
ports: [{{name: http, port: 9080, protocol: TCP}}]
endpoints:
- addresses: [10.1.0.7]
  conditions: {{ready: true}}
  targetRef: {{kind: Pod, name: reviews-v1-5d8f7-abcde, namespace: shop}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: reviews, namespace: shop}}
spec:
  host: reviews
  subsets: [{{name: v1, labels: {{version: v1}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: shop}}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {{host: reviews, subset: v3}}
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{{"apiVersion":"v1","kind":"Secret","stringData":{{"password":"{SECRET_VALUE}"}}}}'
type: Opaque
data: {{password: {__import__("base64").b64encode(SECRET_VALUE.encode()).decode()}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: istiod, namespace: istio-system, labels: {{app: istiod}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: istiod}}}}
  template:
    metadata: {{labels: {{app: istiod}}}}
    spec:
      containers: [{{name: discovery, image: "docker.io/istio/pilot:1.22.0"}}]
status: {{replicas: 1, readyReplicas: 1, availableReplicas: 1}}
"""


@pytest.fixture
def mesh_cluster() -> FakeCluster:
    return FakeCluster(objects=objects(MESH), tokens={TOKEN: "alice"}, anonymous=False)
