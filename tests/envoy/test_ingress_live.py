"""ingress-nginx Ingresses, translated `--to istio`, served by a real Envoy with real requests.

tests/envoy/meshes/ingress-nginx.yaml holds Ingresses of class nginx: a main Ingress and its
canary (canary-weight 20, canary-by-header x-canary), a rewrite-target ``/$2`` on
``/api(/|$)(.*)``, an app-root, a permanent redirect, enable-cors on one host, cookie
affinity to a Service of two pods, and a TLS host that ingress-nginx redirects to HTTPS by
default. ``translate --to istio`` makes one Istio Gateway ``nginx`` and
VirtualServices; they are lowered again with the Services and Pods and compiled
``--to envoy --proxy gateway nginx.shop``. The bootstrap is made loopback-safe, the pod
endpoints are moved to test backends on the pods' 127.0.0.x addresses, and requests carry
the Host header a client of the ingress would send. Only the plain-HTTP listener runs: the
HTTPS one needs its certificate over SDS from the cluster (its routing is judged in
tests/emit/test_ingress_equivalence.py), and here HTTP on the TLS host must redirect.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from meshctl.emit import istio
from meshctl.emit.envoy import EnvoyOptions, translate
from meshctl.emit.manifests import render
from meshctl.emit.mesh_options import MeshOptions
from meshctl.load.reader import read_text
from meshctl.lower import lower
from tests.envoy.harness import (
    BackendServer,
    EnvoyProcess,
    Response,
    assert_binomial,
    backend_counts,
    loopback_safe,
    many,
    request,
    retarget_endpoints,
)

MESH = Path(__file__).parent / "meshes" / "ingress-nginx.yaml"
PODS = {"web-v1": "127.0.0.31", "web-canary-v1": "127.0.0.32", "api-v1": "127.0.0.33",  # pod -> IP in the mesh
        "cart-1": "127.0.0.34", "cart-2": "127.0.0.35"}
HTTP_LISTENER = "127.0.0.1_8080"  # the ingress gateway Service's port 80 -> container port 8080
HTTPS_LISTENER = "127.0.0.1_8443"  # 443 -> 8443: the TLS host, certificate over SDS (not run here)
SPLIT_REQUESTS = 400


def translated() -> tuple[str, list[Any]]:
    """The Istio output with the mesh's Services, Pods and the gateway Service (no Ingresses)."""
    text = MESH.read_text()
    docs = read_text(text, str(MESH)).docs
    out = istio.translate(lower(docs), MeshOptions(source="ingress"))
    kept = [d.data for d in docs if d.data.get("apiVersion") == "v1"]
    return render(kept + list(out.resources), "ingress-nginx via istio"), list(out.findings)


@dataclass
class Served:
    envoy: EnvoyProcess
    port: int
    backends: dict[str, BackendServer]

    def get(self, host: str, path: str = "/", **kwargs: Any) -> Response:
        return request(self.port, path, host=host, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    text, _ = translated()
    out = translate(lower(read_text(text, "istio.yaml").docs),
                    EnvoyOptions(proxy="gateway", target=("nginx", "shop"), listen_address="127.0.0.1"))
    assert out.findings == []
    names = [listener["name"] for listener in out.bootstrap["static_resources"]["listeners"]]
    assert names == [HTTP_LISTENER, HTTPS_LISTENER]
    bootstrap = copy.deepcopy(out.bootstrap)
    resources = bootstrap["static_resources"]
    resources["listeners"] = [li for li in resources["listeners"] if li["name"] == HTTP_LISTENER]
    backends = {name: BackendServer(name, ip).start() for name, ip in PODS.items()}
    envoy = None
    try:
        config = retarget_endpoints(bootstrap, {f"{PODS[name]}:9080": (b.host, b.port) for name, b in backends.items()})
        envoy = EnvoyProcess(loopback_safe(config, remap_ports=True), tmp_path_factory.mktemp("envoy")).start()
        yield Served(envoy, envoy.listener_port(8080), backends)
    finally:
        if envoy is not None:
            envoy.stop()
        for backend in backends.values():
            backend.close()


def test_the_translation_reports_only_what_it_changes() -> None:
    """The canary, rewrite, app-root and ssl-redirect carry over exactly; the redirect keeps the
    query ingress-nginx drops, and the class's controller is replaced by Istio's gateway."""
    _, findings = translated()
    got = sorted((f.code, f.resource.name if f.resource else "", f.location.path if f.location else "") for f in findings)
    assert got == [
        ("MSH401", "api", "spec.ingressClassName"),
        ("MSH401", "moved", 'metadata.annotations["nginx.ingress.kubernetes.io/permanent-redirect"]'),
        ("MSH401", "sticky", 'metadata.annotations["nginx.ingress.kubernetes.io/affinity"]'),
    ]


def test_the_canary_header_always_and_never(served: Served) -> None:
    always = many(20, served.port, "/", host="shop.example.com", headers={"x-canary": "always"})
    never = many(20, served.port, "/", host="shop.example.com", headers={"x-canary": "never"})
    assert backend_counts(always) == {"web-canary-v1": 20}
    assert backend_counts(never) == {"web-v1": 20}


def test_the_canary_weight_takes_a_fifth(served: Served) -> None:
    responses = many(SPLIT_REQUESTS, served.port, "/items", host="shop.example.com", concurrency=8)
    counts = backend_counts(responses)
    assert set(counts) == {"web-v1", "web-canary-v1"}, counts
    assert_binomial(counts["web-canary-v1"], SPLIT_REQUESTS, 0.2, what="requests to the canary")


def test_the_backend_sees_the_rewritten_path(served: Served) -> None:
    for path, seen in (("/api/items?page=2", "/items?page=2"), ("/api", "/"), ("/api/", "/"),
                       ("/api/v1/users/7", "/v1/users/7")):
        response = served.get("shop.example.com", path)
        assert (response.status, response.backend) == (200, "api-v1"), path
        assert response.body["path"] == seen, path
    other = served.get("shop.example.com", "/apix", headers={"x-canary": "never"})
    assert (other.backend, other.body["path"]) == ("web-v1", "/apix")  # /api(/|$) needs a segment end


def test_the_app_root_redirects_the_root_only(served: Served) -> None:
    root = served.get("app.example.com", "/")
    assert root.status == 302
    assert root.headers["location"] == "http://app.example.com/app/home"
    page = served.get("app.example.com", "/app/home")
    assert (page.status, page.backend, page.body["path"]) == (200, "web-v1", "/app/home")


def test_http_on_the_tls_host_is_redirected_to_https_with_308(served: Served) -> None:
    web = served.backends["web-v1"]
    before = web.count
    response = served.get("secure.example.com", "/account?tab=2")
    assert response.status == 308
    assert response.headers["location"] == "https://secure.example.com/account?tab=2"
    assert web.count == before


def test_the_permanent_redirect_answers_301_with_its_location(served: Served) -> None:
    response = served.get("old.example.com", "/anything")
    assert response.status == 301
    assert response.headers["location"] == "https://new.example.com/landing"


def test_cors_preflights_are_answered_for_the_allowed_origin_only(served: Served) -> None:
    """enable-cors: a preflight from the allowed origin is answered by the proxy with the
    annotations' values (never reaching the backend), the response to the real request
    carries the origin and the exposed headers; another origin gets no CORS headers."""
    api = served.backends["api-v1"]
    before = api.count
    preflight = {"origin": "https://app.example.com", "access-control-request-method": "POST"}
    answer = served.get("cors.example.com", "/orders", method="OPTIONS", headers=preflight)
    assert answer.status in (200, 204) and api.count == before
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    assert answer.headers["access-control-allow-methods"] == "GET,POST"
    assert answer.headers["access-control-allow-credentials"] == "true"  # ingress-nginx's default
    assert answer.headers["access-control-max-age"] == "600"
    real = served.get("cors.example.com", "/orders", headers={"origin": "https://app.example.com"})
    assert (real.status, real.backend) == (200, "api-v1")
    assert real.headers["access-control-allow-origin"] == "https://app.example.com"
    assert real.headers["access-control-expose-headers"] == "X-Trace"
    stranger = served.get("cors.example.com", "/orders", headers={"origin": "https://evil.example.net"})
    assert (stranger.status, stranger.backend) == (200, "api-v1")
    assert "access-control-allow-origin" not in stranger.headers


def test_cookie_affinity_keeps_a_client_on_one_pod(served: Served) -> None:
    """affinity: cookie: a first request gets the cookie (Envoy sets it, with the max-age), the
    requests that carry it reach one pod; different cookies reach both pods."""
    first = served.get("sticky.example.com", "/cart")
    assert first.status == 200 and first.backend in ("cart-1", "cart-2")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("route=") and "Max-Age=3600" in cookie
    value = cookie.split(";")[0]
    again = many(20, served.port, "/cart", host="sticky.example.com", headers={"cookie": value})
    assert len(backend_counts(again)) == 1
    spread = {served.get("sticky.example.com", "/cart", headers={"cookie": f"route=client-{n}"}).backend
              for n in range(40)}
    assert spread == {"cart-1", "cart-2"}  # 40 clients on one of two pods: 2 x 0.5^40 to fail by chance


def test_a_host_no_ingress_names_gets_404(served: Served) -> None:
    response = served.get("unknown.example.com", "/")
    assert (response.status, response.backend) == (404, None)
