"""`translate --to envoy --proxy gateway` output served by a real Envoy, with real requests.

tests/envoy/meshes/gateway.yaml is an ingress gateway (Service port 80 -> container port
8080) with a VirtualService sending /api to one service and the rest to another, a rule
redirect, and a server that only redirects to HTTPS. The bootstrap is made loopback-safe,
the pod endpoints are moved to test backends on the pods' 127.0.0.x addresses, and the
requests carry the Host header a client of the gateway would send.
"""

from __future__ import annotations

from pathlib import Path

from meshctl.emit.envoy import EnvoyOptions, translate
from meshctl.load.reader import read_text
from meshctl.lower import lower
from tests.envoy.harness import (
    BackendServer,
    EnvoyProcess,
    loopback_safe,
    request,
    retarget_endpoints,
)

MESH = Path(__file__).parent / "meshes" / "gateway.yaml"
PODS = {"api-v1": "127.0.0.21", "web-v1": "127.0.0.22"}  # pod name -> pod IP in gateway.yaml


def test_the_gateway_routes_by_host_and_path_and_redirects(tmp_path: Path) -> None:
    docs = read_text(MESH.read_text(), str(MESH)).docs
    out = translate(lower(docs), EnvoyOptions(proxy="gateway", target=("public", "shop"), listen_address="127.0.0.1"))
    assert out.findings == []
    assert [listener["name"] for listener in out.bootstrap["static_resources"]["listeners"]] == ["127.0.0.1_8080"]
    backends = {name: BackendServer(name, ip).start() for name, ip in PODS.items()}
    envoy = None
    try:
        config = retarget_endpoints(
            out.bootstrap, {f"{PODS[name]}:9080": (b.host, b.port) for name, b in backends.items()}
        )
        envoy = EnvoyProcess(loopback_safe(config, remap_ports=True), tmp_path / "envoy").start()
        port = envoy.listener_port(8080)

        def get(host: str, path: str = "/"):  # type: ignore[no-untyped-def]
            return request(port, path, host=host)

        api = get("shop.example.com", "/api/items?page=2")
        assert (api.status, api.backend) == (200, "api-v1")
        assert api.body["path"] == "/api/items?page=2"
        assert get("shop.example.com", "/").backend == "web-v1"
        assert get("shop.example.com", "/apix").backend == "api-v1"  # a VirtualService prefix is not segment-aware
        assert get("shop.example.com:80", "/api").backend == "api-v1"  # the port in Host is ignored
        assert get("SHOP.example.com", "/index.html").backend == "web-v1"  # hosts match case-insensitively

        moved = get("shop.example.com", "/old")
        assert moved.status == 301
        assert moved.headers["location"] == "http://shop.example.com/new"

        secure = get("secure.example.com", "/login?next=/")
        assert secure.status == 301
        assert secure.headers["location"] == "https://secure.example.com/login?next=/"

        for host in ("unknown.example.com", "web.shop.svc.cluster.local"):  # the second is routed for the mesh only
            missing = get(host, "/api")
            assert (missing.status, missing.backend) == (404, None), host

        assert backends["api-v1"].count == 3 and backends["web-v1"].count == 2
    finally:
        if envoy is not None:
            envoy.stop()
        for backend in backends.values():
            backend.close()
