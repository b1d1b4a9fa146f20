"""The live-Envoy harness, proven against the validated reference examples and on its own."""

from __future__ import annotations

import copy
import http.client
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.envoy.conftest import BackendFactory, EnvoyFactory, ExampleLoader
from tests.envoy.harness import (
    MAX_MANY,
    BackendServer,
    EnvoyProcess,
    EnvoyStartupError,
    Reply,
    UnsafeConfig,
    assert_binomial,
    assert_loopback_safe,
    backend_counts,
    cluster,
    iter_clusters,
    iter_endpoints,
    iter_listeners,
    iter_routes,
    loopback_safe,
    many,
    neutralized_clusters,
    original_listener_ports,
    request,
    retarget_endpoints,
    validate,
)

EXAMPLE_NAMES = [
    "sidecar-outbound-reviews.yaml",
    "sidecar-mtls-inbound-rbac.yaml",
    "ingress-gateway.yaml",
    "route-features.yaml",
]
REVIEWS = "reviews.default.svc.cluster.local"
V1 = f"outbound|9080|v1|{REVIEWS}"
V2 = f"outbound|9080|v2|{REVIEWS}"


# --- the binary and validate() ------------------------------------------------------------------


def test_envoy_binary_is_1_40(envoy_bin: str) -> None:
    out = subprocess.run([envoy_bin, "--version"], capture_output=True, text=True, timeout=30)
    assert "/1.40." in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_validate_accepts_reference_example(envoy_examples: Path, name: str) -> None:
    path = envoy_examples / name
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    result = validate(path)
    assert result.ok, result.output
    assert result.mentions(f"configuration '{path.resolve()}' OK")


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_loopback_safe_examples_still_validate(example: ExampleLoader, name: str) -> None:
    safe = loopback_safe(example(name), remap_ports=True, drop_foreign_endpoints=True)
    result = validate(safe)
    assert result.ok, result.output


def test_validate_rejects_least_conn_with_envoys_reason(example: ExampleLoader, tmp_path: Path) -> None:
    config = example("sidecar-outbound-reviews.yaml")
    cluster(config, V1)["lb_policy"] = "LEAST_CONN"
    as_dict = validate(config)
    assert not as_dict.ok and as_dict.returncode != 0
    assert as_dict.mentions("unknown enum value: 'LEAST_CONN'"), as_dict.output
    # A file path works the same way.
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(config))
    as_file = validate(path)
    assert not as_file.ok and as_file.mentions("LEAST_CONN"), as_file.output


# --- loopback_safe (no Envoy needed) -------------------------------------------------------------


def test_loopback_safe_rewrites_admin_dns_listeners_and_resolving_clusters(example: ExampleLoader) -> None:
    original = example("sidecar-outbound-reviews.yaml")
    before = copy.deepcopy(original)
    retargeted = retarget_endpoints(original, {"10.244.1.11": ("127.0.0.11", 9080),
                                               "10.244.2.12:9080": ("127.0.0.12", 9080),
                                               "10.244.2.13:9080": ("127.0.0.13", 9080)})
    safe = loopback_safe(retargeted)
    assert original == before, "loopback_safe and retarget_endpoints must not touch their input"

    assert safe["admin"] == {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}
    dns = safe["typed_dns_resolver_config"]
    assert dns["name"] == "envoy.network.dns_resolver.cares"
    cares = dns["typed_config"]
    assert cares["@type"] == (
        "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig"
    )
    assert cares["resolvers"] == [{"socket_address": {"address": "127.0.0.1", "port_value": 53}}]
    [listener] = list(iter_listeners(safe))
    assert listener["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 9080}
    assert original_listener_ports(safe) == {"0.0.0.0_9080": 9080}

    assert neutralized_clusters(safe) == {f"outbound|9080||{REVIEWS}": "STRICT_DNS",
                                          "PassthroughCluster": "ORIGINAL_DST"}
    passthrough = cluster(safe, "PassthroughCluster")
    assert passthrough["type"] == "STATIC" and passthrough["lb_policy"] != "CLUSTER_PROVIDED"
    dns_cluster = cluster(safe, f"outbound|9080||{REVIEWS}")
    assert "dns_lookup_family" not in dns_cluster and list(iter_endpoints(dns_cluster)) == []
    addresses = sorted(ep["address"]["socket_address"]["address"]
                       for c in iter_clusters(safe) for ep in iter_endpoints(c))
    assert addresses == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]


def test_loopback_safe_port_options(example: ExampleLoader) -> None:
    config = example("ingress-gateway.yaml")
    safe = loopback_safe(config, port_map={8443: 18443}, remap_ports=True, drop_foreign_endpoints=True)
    ports = {lis["name"]: lis["address"]["socket_address"]["port_value"] for lis in iter_listeners(safe)}
    assert ports == {"0.0.0.0_8080": 0, "0.0.0.0_8443": 18443, "0.0.0.0_15443": 0}
    assert original_listener_ports(safe) == {
        "0.0.0.0_8080": 8080, "0.0.0.0_8443": 8443, "0.0.0.0_15443": 15443,
    }
    kept = loopback_safe(config, drop_foreign_endpoints=True)
    kept_ports = [lis["address"]["socket_address"]["port_value"] for lis in iter_listeners(kept)]
    assert kept_ports == [8080, 8443, 15443]


def test_loopback_safe_refuses_foreign_endpoints_unless_dropped(example: ExampleLoader) -> None:
    config = example("sidecar-outbound-reviews.yaml")
    with pytest.raises(UnsafeConfig, match=r"10\.244\.1\.11 is not in 127\.0\.0\.0/8"):
        loopback_safe(config)
    dropped = loopback_safe(config, drop_foreign_endpoints=True)
    assert list(iter_endpoints(cluster(dropped, V2))) == []


def test_assert_loopback_safe_catches_every_escape(example: ExampleLoader) -> None:
    raw = example("sidecar-outbound-reviews.yaml")
    with pytest.raises(UnsafeConfig) as info:
        assert_loopback_safe(raw)
    text = str(info.value)
    for expected in ("admin must be 127.0.0.1:0", "typed_dns_resolver_config must be c-ares",
                     "binds 0.0.0.0", "has type STRICT_DNS", "has type ORIGINAL_DST", "10.244.2.13"):
        assert expected in text

    safe = loopback_safe(raw, drop_foreign_endpoints=True)
    sneaky = copy.deepcopy(safe)
    sneaky["stats_sinks"] = [{"name": "envoy.stat_sinks.statsd", "typed_config": {
        "@type": "type.googleapis.com/envoy.config.metrics.v3.StatsdSink",
        "address": {"socket_address": {"address": "8.8.8.8", "port_value": 8125}}}}]
    cluster(sneaky, V1)["load_assignment"]["endpoints"] = [{"lb_endpoints": [
        {"endpoint": {"address": {"pipe": {"path": "/var/run/docker.sock"}}}}]}]
    with pytest.raises(UnsafeConfig) as info:
        assert_loopback_safe(sneaky)
    assert "'8.8.8.8' is not in 127.0.0.0/8" in str(info.value)
    assert "unix socket '/var/run/docker.sock'" in str(info.value)


def test_retarget_endpoints_fails_on_unmatched_key(example: ExampleLoader) -> None:
    with pytest.raises(KeyError, match="10.9.9.9"):
        retarget_endpoints(example("sidecar-outbound-reviews.yaml"), {"10.9.9.9": ("127.0.0.11", 1)})


# --- BackendServer on its own -------------------------------------------------------------------


def _get(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    """A GET on an existing (keep-alive) connection: status, JSON body, x-backend header."""
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, json.loads(body) if body else {}, resp.getheader("x-backend") or ""


def test_backend_echoes_json_and_keeps_connections_alive(backend: BackendFactory) -> None:
    b = backend("alpha", "127.0.0.2")
    conn = http.client.HTTPConnection(*b.address, timeout=5)
    try:
        s1, body1, who = _get(conn, "/a?x=1", headers={"X-Test": "yes"})
        s2, body2, _ = _get(conn, "/b")
        conn.request("POST", "/c", body=b'{"k": 1}', headers={"Content-Type": "application/json"})
        posted = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert (s1, s2, who) == (200, 200, "alpha")
    assert body1["backend"] == "alpha" and body1["method"] == "GET" and body1["path"] == "/a?x=1"
    assert body1["headers"]["x-test"] == "yes"
    assert body2["path"] == "/b" and posted["method"] == "POST" and posted["body"] == '{"k": 1}'
    assert b.count == 3 and b.connections == 1, "three requests must share one keep-alive connection"
    assert [r.path for r in b.requests] == ["/a?x=1", "/b", "/c"]
    assert b.requests[2].body == b'{"k": 1}' and b.requests[0].client[0] == "127.0.0.1"
    b.reset()
    assert (b.count, b.requests, b.connections) == (0, [], 0)


def test_backend_binds_any_loopback_address_and_nothing_else() -> None:
    for host in ("127.0.0.2", "127.0.0.13", "127.1.2.3"):
        with BackendServer(f"on-{host}", host) as b:
            assert b.host == host and b.port > 0
            assert request(b.port, address=host).backend == f"on-{host}"
    for host in ("0.0.0.0", "10.0.0.1", "::", "localhost"):
        with pytest.raises(ValueError, match="loopback only"):
            BackendServer("nope", host)


def test_backend_status_script_then_default(backend: BackendFactory) -> None:
    b = backend("scripted", "127.0.0.3", script=[503, Reply(status=502, delay=0.05)])
    got = [request(b.port, address=b.host).status for _ in range(3)]
    assert got == [503, 502, 200]
    b.fail_first(2)
    b.configure(status=418)
    assert [request(b.port, address=b.host).status for _ in range(3)] == [503, 503, 418]
    b.configure(status=204)
    empty = request(b.port, address=b.host)
    assert empty.status == 204 and empty.raw == b""
    assert b.count == 7


def test_backend_delay(backend: BackendFactory) -> None:
    b = backend("slow", "127.0.0.4", delay=0.3)
    r = request(b.port, address=b.host)
    assert r.status == 200 and r.elapsed >= 0.29
    b.configure(delay=0)
    assert request(b.port, address=b.host).elapsed < 0.25


def test_backend_hold_until_release(backend: BackendFactory) -> None:
    b = backend("holder", "127.0.0.5", hold=True, hold_max=8.0)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(request(b.port, address=b.host).status))
               for _ in range(3)]
    for t in threads:
        t.start()
    assert b.wait_for(3, timeout=5, active=True), f"only {b.active} requests in flight"
    time.sleep(0.1)
    assert results == [] and b.active == 3 and b.count == 3
    t0 = time.monotonic()
    b.release()
    for t in threads:
        t.join(timeout=5)
    assert results == [200, 200, 200] and time.monotonic() - t0 < 2
    assert b.active == 0 and b.peak_active == 3


def test_backend_hold_is_bounded_by_hold_max(backend: BackendFactory) -> None:
    b = backend("bounded", "127.0.0.6", hold=True, hold_max=0.3)
    r = request(b.port, address=b.host, timeout=5)
    assert r.status == 200 and 0.29 <= r.elapsed < 3


def test_backend_close_shuts_idle_and_held_connections() -> None:
    b = BackendServer("closing", "127.0.0.7", hold=True, hold_max=30).start()
    port = b.port
    idle = socket.create_connection(b.address, timeout=5)
    held: list[object] = []
    t = threading.Thread(target=lambda: held.append(_try_request(port, b.host)))
    t.start()
    assert b.wait_for(1, active=True)
    t0 = time.monotonic()
    b.close()
    t.join(timeout=5)
    assert time.monotonic() - t0 < 3, "close() must not wait for held requests or idle keep-alives"
    assert idle.recv(1) == b"", "an idle connection must be closed by close()"
    idle.close()
    assert held, "the held request must finish (answered or reset) once the server closes"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.7", port), timeout=1)


def _try_request(port: int, host: str) -> object:
    try:
        return request(port, address=host, timeout=5).status
    except (OSError, http.client.HTTPException) as exc:
        return exc


# --- client --------------------------------------------------------------------------------------


def test_client_talks_to_loopback_only() -> None:
    for address in ("10.0.0.1", "8.8.8.8", "example.com", "0.0.0.0"):
        with pytest.raises(ValueError, match="127.0.0.0/8 only"):
            request(80, address=address)


def test_many_is_bounded_and_ordered(backend: BackendFactory) -> None:
    with pytest.raises(ValueError):
        many(MAX_MANY + 1, 1)
    with pytest.raises(ValueError):
        many(1, 1, concurrency=0)
    b = backend("many", "127.0.0.8")
    responses = many(30, b.port, concurrency=6, address=b.host)
    assert len(responses) == 30 and backend_counts(responses) == {"many": 30}
    slow = backend("slow-many", "127.0.0.9", delay=0.2)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        many(50, slow.port, address=slow.host, total_timeout=0.5)
    assert time.monotonic() - t0 < 2


def test_assert_binomial() -> None:
    assert_binomial(160, 200, 0.8)
    assert_binomial(133, 200, 0.8)  # 4.7 sigma: still fine
    with pytest.raises(AssertionError, match="outside"):
        assert_binomial(100, 200, 0.8)


# --- EnvoyProcess --------------------------------------------------------------------------------


def _reviews_live_config(
    example: ExampleLoader, backend: BackendFactory
) -> tuple[dict[str, Any], list[BackendServer]]:
    """The reference reviews sidecar with pods on 127.0.0.11 (v1), .12 and .13 (v2), fault removed."""
    v1, v2a, v2b = (backend("v1", "127.0.0.11"), backend("v2a", "127.0.0.12"), backend("v2b", "127.0.0.13"))
    config = retarget_endpoints(example("sidecar-outbound-reviews.yaml"), {
        "10.244.1.11:9080": v1.address, "10.244.2.12:9080": v2a.address, "10.244.2.13:9080": v2b.address,
    })
    removed = 0
    for route in iter_routes(config):
        if (route.get("typed_per_filter_config") or {}).pop("envoy.filters.http.fault", None):
            removed += 1
    assert removed == 1, "the reference split route carries the fault injection"
    return loopback_safe(config, remap_ports=True), [v1, v2a, v2b]


def test_reviews_header_routing_and_weighted_split(
    example: ExampleLoader, backend: BackendFactory, envoy: EnvoyFactory
) -> None:
    config, (v1, v2a, v2b) = _reviews_live_config(example, backend)
    proxy = envoy(config)
    port = proxy.listener_port(9080)
    assert port == proxy.listener_port("0.0.0.0_9080") and proxy.port_map == {9080: port}

    canary = many(20, port, host="reviews.default:9080", headers={"x-canary": "1"})
    assert {r.status for r in canary} == {200}
    assert set(backend_counts(canary)) <= {"v2a", "v2b"}, backend_counts(canary)
    assert v1.count == 0

    for b in (v1, v2a, v2b):
        b.reset()
    n = 200
    split = many(n, port, host="reviews")
    counts = backend_counts(split)
    assert sum(counts[k] for k in ("v1", "v2a", "v2b")) == n, counts
    assert_binomial(counts["v1"], n, 0.8, what="v1 share of the 80/20 split")
    assert v2a.count > 0 and v2b.count > 0, "both v2 pods must serve"
    assert (v1.count, v2a.count + v2b.count) == (counts["v1"], counts["v2a"] + counts["v2b"])
    assert all(r.requests[0].headers.get("host") == "reviews" for r in (v1, v2a, v2b))

    # Envoy's own view agrees (stats live under Istio's alt_stat_name, with its trailing ';').
    assert proxy.cluster_stat(V1, "upstream_rq_total") == v1.count
    assert proxy.cluster_stat(V2, "upstream_rq_total") == 20 + v2a.count + v2b.count
    hosts = proxy.cluster_hosts(V2)
    assert set(hosts) == {f"{b.host}:{b.port}" for b in (v2a, v2b)}
    assert "PassthroughCluster" in proxy.clusters()

    # Unknown host -> allow_any -> the neutralised PassthroughCluster: answered by Envoy, goes nowhere.
    stray = request(port, host="example.com")
    assert stray.status == 503 and stray.backend is None and stray.body == "no healthy upstream"


def test_envoy_process_refuses_unsafe_config(example: ExampleLoader, tmp_path: Path) -> None:
    with pytest.raises(UnsafeConfig):
        EnvoyProcess(example("route-features.yaml"), tmp_path)


def test_envoy_start_failure_carries_envoys_reason(example: ExampleLoader, envoy: EnvoyFactory) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        config = loopback_safe(example("route-features.yaml"),
                               port_map={19280: busy.getsockname()[1]}, drop_foreign_endpoints=True)
        with pytest.raises(EnvoyStartupError, match="Address already in use"):
            envoy(config)
    finally:
        busy.close()
    broken = loopback_safe(example("route-features.yaml"), remap_ports=True, drop_foreign_endpoints=True)
    next(iter_clusters(broken))["lb_policy"] = "LEAST_CONN"
    with pytest.raises(EnvoyStartupError, match="LEAST_CONN"):
        envoy(broken)


def test_envoy_process_lifecycle_ends_by_pid(example: ExampleLoader, tmp_path: Path) -> None:
    config = loopback_safe(example("route-features.yaml"), remap_ports=True, drop_foreign_endpoints=True)
    with EnvoyProcess(config, tmp_path / "e") as proxy:
        pid = proxy.pid
        assert proxy.running and proxy.admin_port > 0
        assert (tmp_path / "e" / "admin-address.txt").read_text().strip() == f"127.0.0.1:{proxy.admin_port}"
        assert proxy.admin("/ready").strip() == "LIVE"
        assert proxy.stat("server.state") == 0  # 0 = LIVE
        assert "listener_manager.total_listeners_active" in proxy.stats(filter="^listener_manager")
        with pytest.raises(KeyError, match="no bound listener"):
            proxy.listener_port(1)
    assert not proxy.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no such process


def test_reviews_503_retried_on_split_route_not_by_default_policy(
    example: ExampleLoader, backend: BackendFactory, envoy: EnvoyFactory
) -> None:
    """Status scripts drive retry checks: §6.1 of the reference, live."""
    config, pods = _reviews_live_config(example, backend)
    proxy = envoy(config)
    port = proxy.listener_port(9080)
    # The canary route has Istio's default policy: retriable-status-codes with no codes.
    for pod in pods:
        pod.fail_first(1)
    canary = request(port, host="reviews", headers={"x-canary": "1"})
    assert canary.status == 503 and canary.backend in {"v2a", "v2b"}
    assert proxy.cluster_stat(V2, "upstream_rq_retry") == 0
    # The split route retries 503 (retriable_status_codes: [503], 3 retries).
    for pod in pods:
        pod.fail_first(1)
    split = request(port, host="reviews")
    assert split.status == 200
    assert sum(p.count for p in pods) >= 3  # the canary attempt + >=1 failed + 1 good
    assert proxy.cluster_stat(V1, "upstream_rq_retry") + proxy.cluster_stat(V2, "upstream_rq_retry") >= 1
