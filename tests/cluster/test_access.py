"""Reaching the cluster as kubectl does: kubeconfig files, contexts, credentials, TLS, errors.

Every test talks to the fake API server over real HTTPS through the official client.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path


from meshctl.cluster import access
from tests.cluster.conftest import MESH, SECRET_VALUE, TOKEN, diagnose, kubeconfig, objects, serve
from tests.cluster.fake_apiserver import FakeCluster
from tests.conftest import ROOT


def _users(cluster: FakeCluster) -> set[str | None]:
    return {r.user for r in cluster.requests}


def test_token_auth(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki)), "-f", "json")
    assert run.code == 1, run.stderr  # the VirtualService's missing subset is an error
    assert _users(mesh_cluster) == {"alice"}
    assert json.loads(run.stdout)["findings"]


def test_wrong_token_is_a_clear_error_with_exit_code_3(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        kc = kubeconfig(tmp_path / "kc", server.url, pki, user={"token": "not-the-token"})
        run = diagnose("--kubeconfig", str(kc))
    assert run.code == 3
    assert "rejected the credentials" in run.stderr and server.url in run.stderr
    assert "not-the-token" not in run.output


def test_client_certificate_auth(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH), client_certs=True, anonymous=False)
    user = {"client-certificate-data": pki.b64("client_cert"), "client-key-data": pki.b64("client_key")}
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user=user)))
    assert run.code == 1, run.stderr
    assert _users(cluster) == {"alice"}  # the certificate's CN
    key_body = pki.text("client_key").splitlines()[1]
    assert key_body not in run.output


def test_client_certificate_files_relative_to_the_kubeconfig(tmp_path: Path, pki) -> None:
    cluster = FakeCluster(objects=objects(MESH), client_certs=True, anonymous=False)
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "c.crt").write_bytes(pki.client_cert.read_bytes())
    (tmp_path / "certs" / "c.key").write_bytes(pki.client_key.read_bytes())
    user = {"client-certificate": "certs/c.crt", "client-key": "certs/c.key"}
    with serve(cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user=user)))
    assert run.code == 1, run.stderr
    assert _users(cluster) == {"alice"}


def _exec_plugin(tmp_path: Path, token: str, fail: bool = False) -> Path:
    script = tmp_path / "cred-plugin.sh"
    marker = tmp_path / "plugin-ran"
    body = (
        "echo 'plugin: no credentials for you' >&2\nexit 4\n" if fail else
        f"touch {marker}\n"
        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
        f"\"status\":{{\"token\":\"{token}\"}}}}'\n"
    )
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_exec_credential_plugin(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    script = _exec_plugin(tmp_path, TOKEN)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
                     "interactiveMode": "Never"}}
    with serve(mesh_cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user=user)), "--debug")
    assert run.code == 1, run.stderr
    assert (tmp_path / "plugin-ran").exists()
    assert _users(mesh_cluster) == {"alice"}
    assert f"exec credential plugin {str(script)!r}" in run.stderr  # --debug names the plugin
    assert TOKEN not in run.output


def test_failing_exec_plugin_is_exit_code_3(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    script = _exec_plugin(tmp_path, TOKEN, fail=True)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script)}}
    with serve(mesh_cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, user=user)))
    assert run.code == 3
    assert "exec credential plugin" in run.stderr and "failed" in run.stderr
    assert mesh_cluster.requests == []


def test_merged_kubeconfig_files_and_context(tmp_path: Path, pki, mesh_cluster: FakeCluster, monkeypatch) -> None:
    other = FakeCluster(objects=objects(MESH), tokens={"tok-bob": "bob"}, anonymous=False)
    with serve(mesh_cluster, pki) as first, serve(other, pki) as second:
        a = kubeconfig(tmp_path / "a", first.url, pki, context="prod", current="prod")
        b = kubeconfig(tmp_path / "b", second.url, pki, context="staging", current="staging", user={"token": "tok-bob"})
        monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(a), str(tmp_path / "missing"), str(b)]))
        default = diagnose("-f", "json")  # the first file's current-context wins, as in kubectl
        assert default.code == 1, default.stderr
        assert mesh_cluster.requests and not other.requests
        chosen = diagnose("--context", "staging", "-f", "json")
        assert chosen.code == 1, chosen.stderr
        assert _users(other) == {"bob"}
        files = {f["location"]["file"] for f in json.loads(chosen.stdout)["findings"] if f["location"]}
        assert any(f.startswith("cluster:staging/shop/") for f in files)
        unknown = diagnose("--context", "nope")
    assert unknown.code == 2 and "prod" in unknown.stderr and "staging" in unknown.stderr


def test_insecure_skip_tls_verify_warns(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        kc = kubeconfig(tmp_path / "kc", server.url, pki, ca=False, cluster_extra={"insecure-skip-tls-verify": True})
        run = diagnose("--kubeconfig", str(kc))
    assert run.code == 1, run.stderr
    assert "warning: TLS verification is off" in run.stderr
    assert "InsecureRequestWarning" not in run.stderr


def test_untrusted_server_certificate_is_exit_code_3(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki, ca=False)))
    assert run.code == 3
    assert server.url in run.stderr and "TLS" in run.stderr


def test_in_cluster_config(tmp_path: Path, pki, mesh_cluster: FakeCluster, monkeypatch) -> None:
    account = tmp_path / "sa"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "ca.crt").write_bytes(pki.ca.read_bytes())
    (account / "namespace").write_text("shop")
    monkeypatch.setattr(access, "SERVICE_ACCOUNT_DIR", account)
    with serve(mesh_cluster, pki) as server:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", server.url.rsplit(":", 1)[1])
        run = diagnose("-f", "json")
    assert run.code == 1, run.stderr
    assert _users(mesh_cluster) == {"alice"}
    assert any(r.path == "/api/v1/namespaces/shop/pods" for r in mesh_cluster.requests)


def test_no_kubeconfig_at_all_is_a_usage_error() -> None:
    run = diagnose()
    assert run.code == 2 and "no kubeconfig" in run.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_cluster_exits_3_with_the_url(tmp_path: Path, pki) -> None:
    url = f"https://127.0.0.1:{_closed_port()}"
    kc = kubeconfig(tmp_path / "kc", url, pki)
    proc = subprocess.run(
        [sys.executable, "-m", "meshctl", "diagnose", "--kubeconfig", str(kc), "--timeout", "2"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
    )
    assert proc.returncode == 3, proc.stderr
    assert url in proc.stderr and "connection refused" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    mesh_cluster.hang(r"^/api/v1/namespaces/shop/pods$")
    with serve(mesh_cluster, pki) as server:
        kc = kubeconfig(tmp_path / "kc", server.url, pki)
        proc = subprocess.Popen(
            [sys.executable, "-m", "meshctl", "diagnose", "--kubeconfig", str(kc), "--timeout", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "NO_PROXY": "127.0.0.1"},
        )
        try:
            deadline = time.monotonic() + 30
            while not any(r.path.endswith("/pods") for r in mesh_cluster.requests) and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err


def test_only_get_requests_and_no_secret_values_anywhere(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        kc = kubeconfig(tmp_path / "kc", server.url, pki)
        outputs = [diagnose("--kubeconfig", str(kc), "-A", "--debug", "-f", fmt) for fmt in ("text", "json", "sarif")]
    assert mesh_cluster.requests
    assert {r.method for r in mesh_cluster.requests} == {"GET"}
    assert mesh_cluster.writes() == []
    secret_reads = [r for r in mesh_cluster.requests if "/secrets" in r.path]
    assert secret_reads and all("as=PartialObjectMetadataList" in r.accept for r in secret_reads)
    assert all(r.path.endswith("/secrets") for r in secret_reads)  # lists only, never one Secret in full
    import base64

    forbidden = [SECRET_VALUE, base64.b64encode(SECRET_VALUE.encode()).decode(), TOKEN, pki.b64("ca")[:40]]
    for run in outputs:
        for value in forbidden:
            assert value not in run.output
        assert "last-applied-configuration" not in run.output


def test_kubeconfig_with_an_unknown_flag_file(tmp_path: Path) -> None:
    run = diagnose("--kubeconfig", str(tmp_path / "missing"))
    assert run.code == 2 and "no such file" in run.stderr


def test_namespace_and_all_namespaces_exclude_each_other(tmp_path: Path, pki, mesh_cluster: FakeCluster) -> None:
    with serve(mesh_cluster, pki) as server:
        run = diagnose("--kubeconfig", str(kubeconfig(tmp_path / "kc", server.url, pki)), "-n", "shop", "-A")
    assert run.code == 2
    assert mesh_cluster.requests == []
