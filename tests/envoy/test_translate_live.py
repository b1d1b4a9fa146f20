"""`translate --to envoy` output served by a real Envoy, with real requests on loopback.

tests/envoy/meshes/traffic.yaml puts one feature on each service and every pod on a
127.0.0.x address. The bootstrap meshctl emits for a client sidecar in `shop` is made
loopback-safe (admin and listeners on 127.0.0.1, no DNS), its pod endpoints are moved to
test backends bound on those same pod addresses, and one Envoy serves every test here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from meshctl.emit.envoy import EnvoyOptions, translate
from meshctl.load.reader import read_text
from meshctl.lower import lower
from tests.envoy.harness import (
    BackendServer,
    EnvoyProcess,
    assert_binomial,
    backend_counts,
    loopback_safe,
    many,
    request,
    retarget_endpoints,
)

MESH = Path(__file__).parent / "meshes" / "traffic.yaml"
PODS = {  # pod name -> pod IP in traffic.yaml
    "reviews-v1": "127.0.0.11", "reviews-v2": "127.0.0.12", "slow-v1": "127.0.0.13", "flaky-v1": "127.0.0.14",
    "web-v1": "127.0.0.15", "busy-v1": "127.0.0.16", "pool-a": "127.0.0.17", "pool-b": "127.0.0.18",
}


@dataclass
class Served:
    envoy: EnvoyProcess
    port: int
    backends: dict[str, BackendServer]

    def get(self, host: str, path: str = "/", **kwargs: object):  # type: ignore[no-untyped-def]
        return request(self.port, path, host=host, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    docs = read_text(MESH.read_text(), str(MESH)).docs
    out = translate(lower(docs), EnvoyOptions(namespace="shop", listen_address="127.0.0.1"))
    assert out.findings == []
    backends = {name: BackendServer(name, ip).start() for name, ip in PODS.items()}
    envoy = None
    try:
        config = retarget_endpoints(
            out.bootstrap, {f"{PODS[name]}:9080": (b.host, b.port) for name, b in backends.items()}
        )
        envoy = EnvoyProcess(loopback_safe(config, remap_ports=True), tmp_path_factory.mktemp("envoy")).start()
        yield Served(envoy, envoy.listener_port(9080), backends)
    finally:
        if envoy is not None:
            envoy.stop()
        for backend in backends.values():
            backend.close()


def test_header_routing_sends_the_canary_to_v2(served: Served) -> None:
    responses = many(20, served.port, "/", host="reviews", headers={"x-canary": "1"})
    assert backend_counts(responses) == {"reviews-v2": 20}


def test_weighted_split_is_80_20(served: Served) -> None:
    responses = many(300, served.port, "/", host="reviews.shop.svc.cluster.local", concurrency=4)
    counts = backend_counts(responses)
    assert set(counts) == {"reviews-v1", "reviews-v2"}
    assert_binomial(counts["reviews-v2"], 300, 0.2, what="requests to v2")


def test_the_port_in_the_host_header_is_ignored(served: Served) -> None:
    response = served.get("reviews.shop:9080", headers={"x-canary": "1"})
    assert response.backend == "reviews-v2"


def test_timeout_fires(served: Served) -> None:
    served.backends["slow-v1"].configure(delay=3.0)
    started = time.monotonic()
    response = served.get("slow")
    elapsed = time.monotonic() - started
    assert response.status == 504
    assert 0.4 < elapsed < 2.5


def test_retries_hide_a_flaky_backend(served: Served) -> None:
    flaky = served.backends["flaky-v1"]
    flaky.reset()
    flaky.fail_first(2, status=503)
    response = served.get("flaky")
    assert response.status == 200 and response.backend == "flaky-v1"
    assert flaky.count == 3


def test_fault_abort_answers_without_the_backend(served: Served) -> None:
    web = served.backends["web-v1"]
    web.reset()
    response = served.get("web", "/broken/page")
    assert response.status == 418
    assert web.count == 0


def test_redirect(served: Served) -> None:
    response = served.get("web", "/old")
    assert response.status == 301
    assert response.headers["location"] == "http://web.example.com/new"


def test_rewrite_and_headers_are_seen_by_the_backend(served: Served) -> None:
    response = served.get("web", "/api/v1/items?x=1")
    assert response.status == 200
    assert response.body["path"] == "/v2/items?x=1"
    assert response.body["headers"]["x-rewritten"] == "yes"
    assert response.headers["x-served-by"] == "meshctl"


def test_circuit_breaker_overflows(served: Served) -> None:
    busy = served.backends["busy-v1"]
    busy.configure(hold=True)
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(served.get, "busy", "/", timeout=10.0) for _ in range(6)]
            assert busy.wait_for(1, timeout=5.0, active=True)
            time.sleep(0.3)
            busy.release()
            statuses = sorted(f.result().status for f in futures)
    finally:
        busy.configure(hold=False)
        busy.release()
    assert 200 in statuses
    assert statuses.count(503) >= 3, statuses
    assert served.envoy.cluster_stat("outbound|9080||busy.shop.svc.cluster.local", "upstream_rq_pending_overflow") >= 1


def test_outlier_detection_ejects_the_failing_endpoint(served: Served) -> None:
    served.backends["pool-a"].configure(status=500)
    served.backends["pool-b"].configure(status=200)
    first = many(10, served.port, "/", host="pool")
    assert "pool-a" in backend_counts(first)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if served.envoy.cluster_stat("outbound|9080||pool.shop.svc.cluster.local", "outlier_detection.ejections_enforced_total"):
            break
        time.sleep(0.1)
    later = many(20, served.port, "/", host="pool")
    assert backend_counts(later) == {"pool-b": 20}
