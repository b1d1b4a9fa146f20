"""diagnose against slow, broken and hostile API servers (issue 9).

Each test runs the real command line in a subprocess, so that a hang is a failed test
(the subprocess is killed) and not a stuck test run, against the fake API server of
``fake_apiserver.py`` on 127.0.0.1 (loopback only: no test reaches another host). Every
run must end with a documented exit code (0/1 findings, 3 the cluster cannot be read), a
message that names the server and what went wrong, no traceback, and within ``--timeout``
times the tries plus the backoff between them plus a margin for start-up.

Already covered elsewhere (tests/cluster/test_access.py, test_reading.py): a server that
reads the request and never answers (``hang``), Ctrl-C (130, no traceback), a refused
connection, an untrusted certificate, a wrong token, 429/5xx retries, and a --debug run
scanned for the token and a Secret's value.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from meshctl.cluster import api, reader
from tests.cluster.conftest import MESH, SECRET_VALUE, TOKEN, kubeconfig, objects, serve
from tests.cluster.fake_apiserver import (
    FakeCluster,
    Pki,
    SilentListener,
    close_delimited,
    delay,
    raw,
    redirect,
    status,
    trickle,
)
from tests.conftest import ROOT

TIMEOUT = 0.5  # --timeout for the runs that time out
TRIES = 4  # api.Api: the first try and 3 retries
START = 6.0  # interpreter start-up, imports and the analysis, on a busy 2-core machine
HARD_LIMIT = 60.0  # the subprocess is killed past this: a hang fails the test, it never stalls the run
PODS_LIST = r"^/api/v1/namespaces/shop/pods$"


def bound(timeout: float) -> float:
    """How long a run may take when every try of a call times out."""
    backoff = sum(min(0.25 * 2 ** (t - 1) * 1.2, api.MAX_BACKOFF, timeout) for t in range(1, TRIES))
    return TRIES * (timeout + api.JOIN_GRACE) + backoff + START


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mib: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def findings(self, code: str | None = None) -> list[dict[str, Any]]:
        found = json.loads(self.stdout)["findings"]
        return [f for f in found if code is None or f["code"] == code]

    def messages(self, code: str) -> list[str]:
        return [f["message"] for f in self.findings(code)]


def run(tmp_path: Path, url: str, pki: Pki, *args: str, user: dict[str, Any] | None = None,
        timeout: float = 1.0) -> Outcome:
    """``meshctl diagnose --kubeconfig ... --timeout T ARGS`` in a subprocess, reaped with its rusage."""
    kc = kubeconfig(tmp_path / "kubeconfig", url, pki, user=user if user is not None else {})
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "meshctl", "diagnose", "--kubeconfig", str(kc), "--timeout", str(timeout), *args],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, cwd=ROOT,
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
        )
        started = time.monotonic()
        hung = False
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > HARD_LIMIT:
                hung = True
                proc.kill()
                _, wait_status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here: Popen must not wait again
    outcome = Outcome(proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), seconds,
                      usage.ru_maxrss / 1024)
    assert not hung, f"diagnose still running after {HARD_LIMIT:g} s:\n{outcome.stderr[-2000:]}"
    return outcome


def assert_clean(outcome: Outcome, *codes: int) -> None:
    assert outcome.code in codes, (outcome.code, outcome.stderr[-3000:])
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    assert "internal error" not in outcome.stderr


def assert_unreadable(outcome: Outcome, url: str, *phrases: str) -> None:
    """Exit code 3, and one error line that names the server and says what went wrong."""
    assert_clean(outcome, 3)
    error = next(line for line in outcome.stderr.splitlines() if line.startswith("meshctl: error:"))
    assert url in error, error
    for phrase in phrases:
        assert phrase in error, error


def list_gap(outcome: Outcome, what: str) -> str:
    """The MSH518 message about ``what`` (a run that went on after one list failed)."""
    assert_clean(outcome, 1)  # MESH's VirtualService names a missing subset: MSH102 is an error
    assert outcome.findings("MSH102"), "the rest of the cluster must still be checked"
    notes = [m for m in outcome.messages("MSH518") if m.startswith(f"cannot list {what} ")]
    assert len(notes) == 1, outcome.messages("MSH518")
    return notes[0]


# -- no answer, or an answer too slow ---------------------------------------------------------
def test_a_tls_handshake_that_stalls_is_bounded(tmp_path: Path, pki: Pki) -> None:
    """The port accepts the TCP connection and never sends a byte (no ServerHello)."""
    with SilentListener() as listener:
        outcome = run(tmp_path, listener.url(), pki, timeout=TIMEOUT)
    assert_unreadable(outcome, listener.url(), f"no answer within {TIMEOUT:g} s", f"({TRIES} tries)")
    assert outcome.seconds < bound(TIMEOUT)
    assert listener.connections == TRIES and listener.received > 0  # a ClientHello each time, then waiting


def test_headers_trickled_slower_than_the_timeout(tmp_path: Path, pki: Pki) -> None:
    """Each read gets a byte before urllib3's per-read timeout, the whole never comes."""
    def slow_headers(handler: Any, path: str, query: dict[str, str]) -> bool:
        handler.close_connection = True
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(1000):
                if handler.server.stopping.wait(TIMEOUT / 4):
                    break
                handler.wfile.write(b"X-Slow-%d: y\r\n" % i)
                handler.wfile.flush()
        except OSError:
            pass
        return True

    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(r"^/version$", slow_headers)
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, timeout=TIMEOUT)
    assert_unreadable(outcome, server.url, f"no answer within {TIMEOUT:g} s")
    assert outcome.seconds < bound(TIMEOUT)
    assert [r.path for r in cluster.requests] == ["/version"] * TRIES  # then nothing more is tried


def test_a_body_trickled_slower_than_the_timeout(tmp_path: Path, pki: Pki) -> None:
    """Headers at once, then the body a few bytes at a time: 200 bytes would take 10 s."""
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(PODS_LIST, trickle(json.dumps({"kind": "PodList", "items": [], "pad": "x" * 170}), TIMEOUT / 5))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json", timeout=TIMEOUT)
    assert_clean(outcome, 0, 1)
    notes = outcome.messages("MSH518")
    assert any(m.startswith(f"cannot list pods in namespace shop: the answer was still incomplete after {TIMEOUT:g} s "
                            f"after {TRIES} tries;") for m in notes), notes
    assert outcome.seconds < bound(TIMEOUT)
    # the server is then taken as gone: the other lists are reported, not waited for one by one
    assert any("not tried" in m for m in notes)
    assert [r.path for r in cluster.requests].count("/api/v1/namespaces/shop/pods") == TRIES


def test_an_answer_just_under_the_timeout_is_read(tmp_path: Path, pki: Pki) -> None:
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(r"^/version$", delay(1.2))
    cluster.respond(PODS_LIST, delay(1.2))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json", timeout=2.0)
    assert_clean(outcome, 1)
    assert outcome.messages("MSH518") == []
    paths = [r.path for r in cluster.requests]
    assert paths.count("/version") == 1 and paths.count("/api/v1/namespaces/shop/pods") == 1  # no retry
    assert outcome.findings("MSH102")


# -- garbage --------------------------------------------------------------------------------
def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


GARBAGE_IN_DISCOVERY = {
    "invalid-json": ("^/api$", b'{"kind": "APIVersions", "versions": [', "the answer to GET /api is not JSON"),
    "array-for-object": ("^/apis$", b'[{"name": "apps"}]', "the answer to GET /apis is not a JSON object"),
    "binary": ("^/api$", bytes(range(256)) * 8, "the answer to GET /api is not JSON"),
    "wrong-types": ("^/apis$", b'{"kind": "APIGroupList", "groups": {"name": "apps"}}',
                    "the answer to GET /apis is not a discovery document: its groups are not a list"),
    "nested-100000-deep": ("^/api$", ("[" * 100_000 + "]" * 100_000).encode(),
                           "the answer to GET /api is nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(GARBAGE_IN_DISCOVERY))
def test_garbage_in_discovery_is_exit_3(tmp_path: Path, pki: Pki, case: str) -> None:
    pattern, body, expected = GARBAGE_IN_DISCOVERY[case]
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(pattern, raw(body))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki)
    assert_unreadable(outcome, server.url, expected)
    assert outcome.seconds < START


POD = {"metadata": {"name": "ok", "namespace": "shop"}, "spec": {"containers": []}}
GARBAGE_IN_A_LIST = {
    "invalid-json": (b'{"kind": "PodList", "items": [', "is not JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50, "is not JSON"),
    "array-for-object": (json.dumps([POD]).encode(), "is not a JSON object"),
    "items-not-objects": (json.dumps({"kind": "PodList", "metadata": {}, "items": [POD, 1, "two", None, []]}).encode(),
                          "is not a list of objects: item 1 is not a JSON object"),
    "no-items": (b'{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"}}',
                 "is not a list of objects: it has no items"),
    "items-not-a-list": (b'{"kind": "PodList", "metadata": {}, "items": {"name": "ok"}}',
                         "is not a list of objects: its items are not a list"),
    "metadata-not-an-object": (b'{"kind": "PodList", "metadata": "x", "items": []}',
                               "is not a list of objects: its metadata is not an object"),
    "continue-not-a-string": (b'{"kind": "PodList", "metadata": {"continue": 7}, "items": []}',
                              "is not a list of objects: its continue token is not a string"),
    "nameless-item": (json.dumps({"kind": "PodList", "items": [{"metadata": {"namespace": "shop"}}]}).encode(),
                      "is not a list of objects: item 0 has no name"),
    "labels-not-strings": (json.dumps({"kind": "PodList", "items": [
        {"metadata": {"name": "p", "namespace": "shop", "labels": {"app": 5}}}]}).encode(),
        "is not a list of objects: item 0 has labels that are not a map of strings"),
    "nested-100000-deep": (('{"kind": "PodList", "items": ' + "[" * 100_000 + "]" * 100_000 + "}").encode(),
                           "is nested too deeply"),
    "item-nested-700-deep": (('{"kind": "PodList", "items": [{"metadata": {"name": "p", "namespace": "shop"}, '
                              f'"spec": {_deep(700)}}}]}}').encode(),
                             f"is not a list of objects: item 0 is nested more than {reader.MAX_DEPTH} levels deep"),
}


@pytest.mark.parametrize("case", sorted(GARBAGE_IN_A_LIST))
def test_garbage_in_a_list_is_reported_and_the_rest_is_checked(tmp_path: Path, pki: Pki, case: str) -> None:
    body, expected = GARBAGE_IN_A_LIST[case]
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(PODS_LIST, raw(body))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json")
    note = list_gap(outcome, "pods")
    assert note.startswith(f"cannot list pods in namespace shop: the answer to GET /api/v1/namespaces/shop/pods {expected};")
    assert "MSH175 pod-missing-proxy" in note  # what a partial view of the pods skips
    assert outcome.seconds < START


def test_wrong_types_inside_well_formed_objects(tmp_path: Path, pki: Pki) -> None:
    mesh = MESH.replace("status: {replicas: 1, readyReplicas: 1, availableReplicas: 1}",
                        'status: {replicas: 1, readyReplicas: "1", availableReplicas: []}')
    mesh += """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop}
spec: {parentRefs: "x", rules: 5, hostnames: {a: 1}}
status: {parents: [{conditions: [{type: [Accepted], status: "False"}]}]}
"""
    cluster = FakeCluster(objects=objects(mesh))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json")
    assert_clean(outcome, 0, 1)


# -- the wire itself ------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["not-gzip", "gzip-of-garbage"])
def test_a_gzip_encoded_garbage_body(tmp_path: Path, pki: Pki, case: str) -> None:
    body = b"\x1f\x8b\x08 this is not gzip" if case == "not-gzip" else gzip.compress(b"\x00{garbage" * 100)
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(r"^/api$", raw(body, headers={"Content-Encoding": "gzip"}))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, timeout=TIMEOUT)
    if case == "not-gzip":  # a transport failure: retried, then reported
        assert_unreadable(outcome, server.url, "the answer could not be decoded (it says Content-Encoding: gzip)")
    else:
        assert_unreadable(outcome, server.url, "the answer to GET /api is not JSON")
    assert outcome.seconds < bound(TIMEOUT)


def test_a_content_length_that_lies(tmp_path: Path, pki: Pki) -> None:
    """5,000 bytes announced, 21 sent, and the connection closed."""
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(r"^/api$", raw(b'{"kind":"APIVersions"', content_length=5000))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, timeout=TIMEOUT)
    assert_unreadable(outcome, server.url, "the server closed the connection after 21 of the 5000 bytes it announced",
                      f"({TRIES} tries)")
    assert outcome.seconds < bound(TIMEOUT)


def test_http_1_0_close_delimited_answers_are_read(tmp_path: Path, pki: Pki) -> None:
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(r"", close_delimited())  # every answer: HTTP/1.0, no Content-Length, then closed
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json")
    assert_clean(outcome, 1)
    assert outcome.messages("MSH518") == []
    assert outcome.findings("MSH102")
    assert [r.path for r in cluster.requests].count("/api/v1/namespaces/shop/pods") == 1


# -- redirects ------------------------------------------------------------------------------
@pytest.mark.parametrize("code,target", [
    (301, "another-loopback-server"), (302, "external-host"), (307, "plain-http"), (308, "another-loopback-server"),
])
def test_redirects_are_never_followed(tmp_path: Path, pki: Pki, code: int, target: str) -> None:
    """The official client would follow (urllib3), to any host; diagnose says where and stops."""
    other = FakeCluster(objects=objects(MESH))
    with serve(other, pki) as elsewhere, SilentListener() as plain:
        location, shown = {
            "another-loopback-server": (elsewhere.url + "{path}", elsewhere.url),
            "external-host": ("https://user:pw@kubernetes.example.com:6443{path}?x=1",
                              "https://kubernetes.example.com:6443"),
            "plain-http": (plain.url("http") + "{path}", plain.url("http")),
        }[target]
        cluster = FakeCluster(objects=objects(MESH), tokens={TOKEN: "alice"}, anonymous=False)
        on_list = code == 308
        cluster.respond(PODS_LIST if on_list else r"^/api$", redirect(location, code))
        with serve(cluster, pki) as server:
            outcome = run(tmp_path, server.url, pki, "-f", "json", user={"token": TOKEN})
            if on_list:
                note = list_gap(outcome, "pods")
                assert f"GET /api/v1/namespaces/shop/pods was redirected ({code}) to {shown}" in note
            else:
                assert_unreadable(outcome, server.url, f"GET /api was redirected ({code}) to {shown}, ",
                                  "does not follow redirects")
        assert other.requests == [] and plain.connections == 0  # not followed, not even tried
    assert "user:pw" not in outcome.output and TOKEN not in outcome.output
    assert outcome.seconds < START


# -- errors after discovery -----------------------------------------------------------------
def test_401_after_discovery_is_exit_3(tmp_path: Path, pki: Pki) -> None:
    cluster = FakeCluster(objects=objects(MESH), tokens={TOKEN: "alice"}, anonymous=False)
    cluster.respond(PODS_LIST, status(401, "Unauthorized", "Unauthorized"))  # the token was revoked meanwhile
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, user={"token": TOKEN})
    assert_unreadable(outcome, server.url, "rejected the credentials of context 'test' (401 Unauthorized, token)")
    assert TOKEN not in outcome.output
    assert cluster.requests[-1].path == "/api/v1/namespaces/shop/pods"  # nothing read after it


def _many_pods(n: int) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p-{i:04d}", "namespace": "shop"},
             "spec": {"containers": [{"name": "app", "image": "shop/app:1"}]}} for i in range(n)]


def _token_offset(query: dict[str, str]) -> int | None:
    token = query.get("continue")
    return None if token is None else int(json.loads(base64.urlsafe_b64decode(token))["offset"])


def test_410_on_a_continue_token_restarts_the_list_once(tmp_path: Path, pki: Pki) -> None:
    cluster = FakeCluster(objects=objects(MESH) + _many_pods(700))
    cluster.respond(PODS_LIST, status(410, "Expired", "The provided continue parameter is too old"),
                    when=lambda query: "continue" in query, times=1)
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json")
    assert_clean(outcome, 1)
    assert outcome.messages("MSH518") == []
    pods = [r.query for r in cluster.requests if r.path == "/api/v1/namespaces/shop/pods"]
    assert pods == [
        {"limit": "500", "resourceVersion": "0"},
        {"limit": "500", "continue": pods[1]["continue"]},  # 410 Gone
        {"limit": "500"},  # the restart, from the latest state
        {"limit": "500", "continue": pods[3]["continue"]},
    ]
    assert json.loads(outcome.stdout)["summary"]["resources"] >= 701


def test_410_again_after_the_restart_is_reported(tmp_path: Path, pki: Pki) -> None:
    cluster = FakeCluster(objects=objects(MESH) + _many_pods(700))
    cluster.respond(PODS_LIST, status(410, "Expired", "The provided continue parameter is too old"),
                    when=lambda query: "continue" in query)
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json")
    note = list_gap(outcome, "pods")
    assert "its continue token expired again after a restart (410 Gone)" in note
    assert [r.path for r in cluster.requests].count("/api/v1/namespaces/shop/pods") == 4


def test_a_continue_token_that_comes_back_ends_the_list(tmp_path: Path, pki: Pki) -> None:
    """A server paginating in a circle would keep diagnose reading forever."""
    cluster = FakeCluster(objects=objects(MESH))
    cluster.respond(PODS_LIST, raw(json.dumps({"kind": "PodList", "metadata": {"continue": "again"}, "items": [POD]})))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-f", "json")
    note = list_gap(outcome, "pods")
    assert "the answer to GET /api/v1/namespaces/shop/pods repeats an earlier continue token" in note
    assert [r.path for r in cluster.requests].count("/api/v1/namespaces/shop/pods") == 2


# -- a huge list ----------------------------------------------------------------------------
HUGE = 20_000


def test_a_huge_list_is_read_page_by_page_in_bounded_time_and_memory(tmp_path: Path, pki: Pki) -> None:
    services = [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": f"svc-{i:05d}", "namespace": f"team-{i % 40:02d}", "labels": {"app": f"a{i}"}},
         "spec": {"selector": {"app": f"a{i}"}, "ports": [{"name": "http", "port": 80}]}}
        for i in range(HUGE)
    ]
    cluster = FakeCluster(objects=objects(MESH) + services, installed=("istio",))
    with serve(cluster, pki) as server:
        outcome = run(tmp_path, server.url, pki, "-A", "-f", "json", timeout=30)
    assert_clean(outcome, 0, 1)
    assert outcome.messages("MSH518") == []
    pages = [r.query for r in cluster.requests if r.path == "/api/v1/services"]
    assert [_token_offset(q) for q in pages] == [None] + list(range(reader.PAGE, HUGE + 1, reader.PAGE))
    assert pages[0] == {"limit": str(reader.PAGE), "resourceVersion": "0"}
    assert json.loads(outcome.stdout)["summary"]["resources"] >= HUGE
    # measured on the project's 2-core machine: ~5 s and ~275 MiB for the diagnose process
    # (the server runs in this one); a step quadratic in the objects would take minutes
    assert outcome.seconds < 30, outcome.seconds
    assert outcome.max_rss_mib < 768, outcome.max_rss_mib


# -- credentials and Secrets ----------------------------------------------------------------
def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def test_no_credential_or_secret_in_any_output_even_with_debug(tmp_path: Path, pki: Pki) -> None:
    """A token and a client key in the kubeconfig, Secrets with known values (a TLS one read
    in full with --check-certificates), and a server that echoes the token in an error."""
    other_value = "hunter2-0xDEADBEEF-opaque"
    mesh = MESH + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: web, namespace: shop}}
spec:
  gatewayClassName: istio
  listeners:
  - {{name: https, port: 443, protocol: HTTPS, tls: {{certificateRefs: [{{name: web-cert}}]}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: web-cert, namespace: shop}}
type: kubernetes.io/tls
data: {{tls.crt: {pki.b64("server_cert")}, tls.key: {pki.b64("server_key")}, extra: {_b64(other_value)}}}
"""
    cluster = FakeCluster(objects=objects(mesh), tokens={TOKEN: "alice"}, client_certs=True, anonymous=False)
    user = {"token": TOKEN, "client-certificate-data": pki.b64("client_cert"), "client-key-data": pki.b64("client_key")}
    outcomes = []
    with serve(cluster, pki) as server:
        for fmt in ("text", "json"):
            outcomes.append(run(tmp_path, server.url, pki, "-A", "--debug", "--check-certificates", "-f", fmt,
                                user=user, timeout=5))
        assert [r.path for r in cluster.requests if "/secrets/" in r.path] == ["/api/v1/namespaces/shop/secrets/web-cert"] * 2
        cluster.respond(r"^/api$", status(400, "BadRequest", f"token {TOKEN} is not welcome here (Bearer {TOKEN})"))
        echoed = run(tmp_path, server.url, pki, "--debug", user=user, timeout=5)
    for outcome in outcomes:
        assert_clean(outcome, 0, 1)
        assert "meshctl: debug: GET /api/v1/namespaces/shop/secrets/web-cert -> 200" in outcome.stderr
    assert_unreadable(echoed, server.url, "[redacted] is not welcome here")
    leaks = {"token": TOKEN, "Secret value": SECRET_VALUE, "Secret value (base64)": _b64(SECRET_VALUE),
             "other Secret value": other_value, "other Secret value (base64)": _b64(other_value)}
    for name in ("client_key", "server_key"):  # the kubeconfig's key, and the TLS Secret's
        pem_lines = [line for line in pki.text(name).splitlines() if line and not line.startswith("-----")]
        leaks.update({f"{name} PEM line {i}": line for i, line in enumerate(pem_lines)})
        encoded = pki.b64(name)
        leaks.update({f"{name} base64 {i}": encoded[i : i + 24] for i in range(0, len(encoded) - 24, 24)})
    for outcome in [*outcomes, echoed]:
        found = [name for name, value in leaks.items() if value in outcome.output]
        assert found == [], found
        assert "Authorization:" not in outcome.output
        assert "last-applied-configuration" not in outcome.output
