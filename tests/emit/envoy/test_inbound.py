"""A workload's inbound side -> per-port listeners, filter chains and inbound clusters.

Rows of envoy-translation.md §1.1 (names), §1.7 (inbound retry), §2.4 (inbound clusters)
and §4.1 (PeerAuthentication -> chains). Expected values are written from the reference,
not produced by the code. The last tests run the output through a real Envoy 1.40:
``--mode validate`` for each mTLS mode, then live traffic on loopback.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.inbound import find_workload, inbound_listeners, inbound_ports
from meshctl.emit.envoy.options import EnvoyOptions
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Protocol, Workload
from tests.envoy.harness import BackendServer, EnvoyProcess, loopback_safe, request, validate

Json = dict[str, Any]
TYPE = "type.googleapis.com/envoy.extensions."
UINT32_MAX = 4294967295
ISTIO_ALPNS = ["istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"]

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: reviews-v1, namespace: default, labels: {{app: reviews}}}}
spec:
  containers:
  - name: app
    image: reviews
    ports: [{{name: db, containerPort: 5433}}]
status: {{podIP: {ip}}}
"""
SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080, targetPort: 9080}
  - {name: tcp-db, port: 5432, targetPort: db}
"""


def peer(mode: str, *, name: str = "default", namespace: str = "default", extra: str = "") -> str:
    return (f"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  mtls: {{mode: {mode}}}\n{extra}---\n")


def mesh_of(text: str) -> MeshModel:
    return lower(read_text(text, "test.yaml").docs)


def compile_inbound(extra: str = "", *, services: str = SERVICE, ip: str = "10.244.1.11", name: str = "reviews-v1",
                    listen: str = "0.0.0.0") -> tuple[Build, list[Json]]:
    mesh = mesh_of(POD.format(ip=ip) + "---\n" + services + "---\n" + extra)
    options = EnvoyOptions(proxy="inbound", target=(name, "default"), listen_address=listen)
    build = Build(mesh, options, proxy_namespace="default")
    workload = find_workload(mesh, name, "default")
    assert workload is not None
    return build, inbound_listeners(build, workload)


def listener(listeners: list[Json], name: str) -> Json:
    found = [item for item in listeners if item["name"] == name]
    assert len(found) == 1, [item["name"] for item in listeners]
    return found[0]


def matches(item: Json) -> list[Json]:
    return [chain["filter_chain_match"] for chain in item["filter_chains"]]


SDS = {
    "api_config_source": {
        "api_type": "GRPC", "transport_api_version": "V3", "set_node_on_first_message_only": True,
        "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}],
    },
    "resource_api_version": "V3",
    "initial_fetch_timeout": "0s",
}


def istio_mtls(alpn: list[str]) -> Json:
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": TYPE + "transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": True,
        "common_tls_context": {
            "alpn_protocols": alpn,
            "tls_params": {
                "tls_minimum_protocol_version": "TLSv1_2",
                "tls_maximum_protocol_version": "TLSv1_3",
                "cipher_suites": ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                                  "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                                  "AES256-GCM-SHA384", "AES128-GCM-SHA256"],
            },
            "tls_certificate_sds_secret_configs": [{"name": "default", "sds_config": SDS}],
            "combined_validation_context": {
                "default_validation_context": {},
                "validation_context_sds_secret_config": {"name": "ROOTCA", "sds_config": SDS},
            },
        },
    }}


HTTP_MTLS = istio_mtls(["h2", "http/1.1"])
TCP_MTLS = istio_mtls(["istio-peer-exchange", "h2", "http/1.1"])
TLS_INSPECTOR = {"name": "envoy.filters.listener.tls_inspector",
                 "typed_config": {"@type": TYPE + "filters.listener.tls_inspector.v3.TlsInspector"}}
TAIL_FILTERS = [
    {"name": "envoy.filters.http.fault", "typed_config": {"@type": TYPE + "filters.http.fault.v3.HTTPFault"}},
    {"name": "envoy.filters.http.cors", "typed_config": {"@type": TYPE + "filters.http.cors.v3.Cors"}},
    {"name": "envoy.filters.http.router", "typed_config": {"@type": TYPE + "filters.http.router.v3.Router"}},
]


def hcm(port: int, route_config: Json, http_filters: list[Json] = TAIL_FILTERS) -> Json:
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": TYPE + "filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": f"inbound_0.0.0.0_{port}",
        "route_config": route_config,
        "http_filters": http_filters,
        "use_remote_address": False,
        "forward_client_cert_details": "APPEND_FORWARD",
        "set_current_client_cert_details": {"subject": True, "dns": True, "uri": True},
        "normalize_path": True,
        "upgrade_configs": [{"upgrade_type": "websocket"}],
    }}


def inbound_routes(target: int, service_port: int, fqdn: str = "reviews.default.svc.cluster.local",
                   retry: bool = True) -> Json:
    action: Json = {
        "cluster": f"inbound|{target}||",
        "timeout": "0s",
        "max_stream_duration": {"max_stream_duration": "0s", "grpc_timeout_header_max": "0s"},
    }
    if retry:
        action["retry_policy"] = {"retry_on": "reset-before-request", "num_retries": 2}
    return {
        "name": f"inbound|{target}||",
        "virtual_hosts": [{
            "name": f"inbound|http|{service_port}",
            "domains": ["*"],
            "routes": [{"name": "default", "match": {"prefix": "/"},
                        "decorator": {"operation": f"{fqdn}:{service_port}/*"}, "route": action}],
        }],
        "validate_clusters": False,
    }


def tcp_proxy(target: int) -> Json:
    return {"name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": TYPE + "filters.network.tcp_proxy.v3.TcpProxy",
        "stat_prefix": f"inbound|{target}||", "cluster": f"inbound|{target}||"}}


# -- the workload and its ports --------------------------------------------------------------


def test_find_workload_pod_or_controller() -> None:
    mesh = mesh_of(POD.format(ip="10.0.0.1") + """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ratings, namespace: default}
spec: {template: {metadata: {labels: {app: ratings}}, spec: {containers: [{name: app, image: r}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: default}
spec: {template: {metadata: {labels: {app: reviews}}, spec: {containers: [{name: app, image: r}]}}}
""")
    assert (found := find_workload(mesh, "ratings", "default")) is not None and found.kind == "Deployment"
    assert (found := find_workload(mesh, "reviews-v1", "default")) is not None and found.kind == "Pod"
    assert find_workload(mesh, "ratings", "shop") is None
    assert find_workload(mesh, "nope", "default") is None


def test_inbound_ports_resolve_named_targets_dedupe_and_sort() -> None:
    mesh = mesh_of(POD.format(ip="10.0.0.1") + """---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 80, targetPort: 9080}
  - {name: tcp-db, port: 5432, targetPort: db}
  - {name: grpc-api, port: 9090}
  - {name: dns, port: 53, protocol: UDP}
  - {name: http-gone, port: 81, targetPort: missing}
---
apiVersion: v1
kind: Service
metadata: {name: a-first, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: tcp-raw, port: 1, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: elsewhere, namespace: default}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 7000}]
""")
    workload = find_workload(mesh, "reviews-v1", "default")
    assert workload is not None
    ports = inbound_ports(mesh, workload)
    # 9080 is targeted by two Services: the first by name (a-first, tcp) decides, as Istio's oldest does
    assert [(number, protocol) for number, protocol, _ in ports] == [
        (5433, Protocol.TCP), (9080, Protocol.TCP), (9090, Protocol.GRPC)]
    assert [origin.location().path for _, _, origin in ports] == ["spec.ports[1]", "spec.ports[0]", "spec.ports[2]"]


def test_workload_without_service_has_no_inbound_listener() -> None:
    build, listeners = compile_inbound(services="")
    assert listeners == [] and build.clusters == {}


# -- PeerAuthentication -> filter chains -------------------------------------------------------


def test_strict_http_port_is_tls_only() -> None:
    build, listeners = compile_inbound(peer("STRICT"))
    assert listener(listeners, "0.0.0.0_9080") == {
        "name": "0.0.0.0_9080",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9080}},
        "traffic_direction": "INBOUND",
        "continue_on_listener_filters_timeout": True,
        "listener_filters": [TLS_INSPECTOR],
        "filter_chains": [{
            "name": "0.0.0.0_9080",
            "filter_chain_match": {"transport_protocol": "tls"},
            "transport_socket": HTTP_MTLS,
            "filters": [hcm(9080, inbound_routes(9080, 9080))],
        }],
    }
    assert listener(listeners, "0.0.0.0_5433")["filter_chains"] == [{
        "name": "0.0.0.0_5433",
        "filter_chain_match": {"transport_protocol": "tls"},
        "transport_socket": TCP_MTLS,
        "filters": [tcp_proxy(5433)],
    }]
    assert sorted(build.clusters) == ["inbound|5433||", "inbound|9080||", "sds-grpc"]
    assert build.losses.findings == []


def test_permissive_http_port_adds_plaintext() -> None:
    _, listeners = compile_inbound(peer("PERMISSIVE"))
    http = listener(listeners, "0.0.0.0_9080")
    assert matches(http) == [{"transport_protocol": "tls", "application_protocols": ISTIO_ALPNS},
                             {"transport_protocol": "raw_buffer"}]
    assert http["filter_chains"][0]["transport_socket"] == HTTP_MTLS
    assert "transport_socket" not in http["filter_chains"][1]
    assert [chain["filters"] for chain in http["filter_chains"]] == [[hcm(9080, inbound_routes(9080, 9080))]] * 2
    assert http["listener_filters"] == [TLS_INSPECTOR]


def test_permissive_tcp_port_passes_the_applications_tls_through() -> None:
    _, listeners = compile_inbound()  # no PeerAuthentication: Istio's default PERMISSIVE
    tcp = listener(listeners, "0.0.0.0_5433")
    assert matches(tcp) == [{"transport_protocol": "tls", "application_protocols": ISTIO_ALPNS},
                            {"transport_protocol": "tls"},
                            {"transport_protocol": "raw_buffer"}]
    assert [chain.get("transport_socket") for chain in tcp["filter_chains"]] == [TCP_MTLS, None, None]
    assert [chain["filters"] for chain in tcp["filter_chains"]] == [[tcp_proxy(5433)]] * 3


def test_disable_is_plaintext_only_without_inspector_or_sds() -> None:
    build, listeners = compile_inbound(peer("DISABLE"))
    http = listener(listeners, "0.0.0.0_9080")
    assert http == {
        "name": "0.0.0.0_9080",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9080}},
        "traffic_direction": "INBOUND",
        "filter_chains": [{"name": "0.0.0.0_9080", "filter_chain_match": {"transport_protocol": "raw_buffer"},
                           "filters": [hcm(9080, inbound_routes(9080, 9080))]}],
    }
    assert matches(listener(listeners, "0.0.0.0_5433")) == [{"transport_protocol": "raw_buffer"}]
    assert "sds-grpc" not in build.clusters


def test_port_level_mtls_overrides_per_target_port() -> None:
    workload_policy = """apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  mtls: {mode: STRICT}
  portLevelMtls:
    5433: {mode: DISABLE}
---
"""
    _, listeners = compile_inbound(peer("PERMISSIVE") + workload_policy)
    assert matches(listener(listeners, "0.0.0.0_9080")) == [{"transport_protocol": "tls"}]
    assert matches(listener(listeners, "0.0.0.0_5433")) == [{"transport_protocol": "raw_buffer"}]


def test_workload_policy_beats_namespace_beats_mesh() -> None:
    selected = peer("DISABLE", name="reviews", extra="  selector: {matchLabels: {app: reviews}}\n")
    _, listeners = compile_inbound(peer("STRICT", namespace="istio-system") + peer("PERMISSIVE"))
    assert len(matches(listener(listeners, "0.0.0.0_9080"))) == 2  # namespace PERMISSIVE over mesh STRICT
    _, listeners = compile_inbound(peer("STRICT", namespace="istio-system") + peer("PERMISSIVE") + selected)
    assert matches(listener(listeners, "0.0.0.0_9080")) == [{"transport_protocol": "raw_buffer"}]
    _, listeners = compile_inbound(peer("STRICT", namespace="istio-system"))
    assert matches(listener(listeners, "0.0.0.0_9080")) == [{"transport_protocol": "tls"}]


# -- names, HCM and routes -----------------------------------------------------------------


def test_listener_binds_the_listen_address_chains_keep_istio_names() -> None:
    _, listeners = compile_inbound(peer("DISABLE"), listen="127.0.0.1")
    http = listener(listeners, "127.0.0.1_9080")
    assert http["address"] == {"socket_address": {"address": "127.0.0.1", "port_value": 9080}}
    assert http["filter_chains"][0]["name"] == "0.0.0.0_9080"
    assert http["filter_chains"][0]["filters"][0]["typed_config"]["stat_prefix"] == "inbound_0.0.0.0_9080"


def test_route_config_is_named_by_target_port_vhost_and_operation_by_service_port() -> None:
    services = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http-web, port: 80, targetPort: 8080}]
"""
    _, listeners = compile_inbound(peer("DISABLE"), services=services)
    chain = listener(listeners, "0.0.0.0_8080")["filter_chains"][0]
    assert chain["filters"] == [hcm(8080, inbound_routes(8080, 80, fqdn="web.default.svc.cluster.local"))]


def test_grpc_port_has_no_inbound_retry_and_speaks_h2() -> None:
    services = """apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: grpc, port: 9090}]
"""
    build, listeners = compile_inbound(peer("DISABLE"), services=services)
    config = listener(listeners, "0.0.0.0_9090")["filter_chains"][0]["filters"][0]["typed_config"]
    assert config["route_config"] == inbound_routes(9090, 9090, fqdn="api.default.svc.cluster.local", retry=False)
    assert config["http2_protocol_options"] == {}
    assert build.clusters["inbound|9090||"]["typed_extension_protocol_options"] == {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": TYPE + "upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}},
        }}


def test_undeclared_protocol_is_served_as_http_and_reported() -> None:
    services = """apiVersion: v1
kind: Service
metadata: {name: odd, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{port: 7000}]
"""
    build, listeners = compile_inbound(peer("DISABLE"), services=services)
    chain = listener(listeners, "0.0.0.0_7000")["filter_chains"][0]
    assert chain["filters"] == [hcm(7000, inbound_routes(7000, 7000, fqdn="odd.default.svc.cluster.local"))]
    assert [(f.code, f.location.path if f.location else "") for f in build.losses.findings] == [("MSH401", "spec.ports[0]")]
    assert build.clusters["inbound|7000||"]["typed_extension_protocol_options"] == {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": TYPE + "upstreams.http.v3.HttpProtocolOptions",
            "use_downstream_protocol_config": {"http_protocol_options": {}, "http2_protocol_options": {}},
        }}


def test_rbac_filters_precede_fault_cors_router_and_tcp_proxy() -> None:
    policies = "".join(
        f"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {action.lower()}, "
        f"namespace: default}}\nspec:\n  action: {action}\n  rules: [{{}}]\n---\n"
        for action in ("ALLOW", "DENY", "AUDIT"))
    _, listeners = compile_inbound(peer("DISABLE") + policies)
    http = listener(listeners, "0.0.0.0_9080")["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    assert [f["name"] for f in http] == ["envoy.filters.http.rbac"] * 3 + [
        "envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.router"]
    assert [f["typed_config"]["rules"]["action"] for f in http[:3]] == ["LOG", "DENY", "ALLOW"]
    tcp = listener(listeners, "0.0.0.0_5433")["filter_chains"][0]["filters"]
    assert [f["name"] for f in tcp] == ["envoy.filters.network.rbac"] * 3 + ["envoy.filters.network.tcp_proxy"]
    assert [f["typed_config"]["stat_prefix"] for f in tcp[:3]] == ["tcp."] * 3


# -- inbound clusters ----------------------------------------------------------------------


def endpoint(address: str, port: int) -> Json:
    return {"cluster_name": f"inbound|{port}||", "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": {"socket_address": {"address": address, "port_value": port}}}}]}]}


DEFAULT_BREAKERS = {"thresholds": [{"max_connections": UINT32_MAX, "max_pending_requests": UINT32_MAX,
                                    "max_requests": UINT32_MAX, "max_retries": UINT32_MAX}]}


def test_inbound_cluster_targets_the_pod_ip() -> None:
    build, _ = compile_inbound(peer("DISABLE"))
    assert build.clusters["inbound|9080||"] == {
        "name": "inbound|9080||",
        "type": "STATIC",
        "connect_timeout": "10s",
        "circuit_breakers": DEFAULT_BREAKERS,
        "upstream_bind_config": {"source_address": {"address": "127.0.0.6", "port_value": 0}},
        "load_assignment": endpoint("10.244.1.11", 9080),
    }


def test_inbound_cluster_without_pod_ip_targets_localhost() -> None:
    deployment = """apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: default}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: r, ports: [{name: db, containerPort: 5433}]}]}
---
"""
    build, _ = compile_inbound(peer("DISABLE") + deployment, name="reviews")
    assert build.clusters["inbound|5433||"] == {
        "name": "inbound|5433||",
        "type": "STATIC",
        "connect_timeout": "10s",
        "circuit_breakers": DEFAULT_BREAKERS,
        "load_assignment": endpoint("127.0.0.1", 5433),
    }


def test_destination_rule_connection_pool_shapes_inbound_clusters() -> None:
    rule = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 2s}
      http: {http1MaxPendingRequests: 50, http2MaxRequests: 200, maxRetries: 5, idleTimeout: 60s,
             maxRequestsPerConnection: 10}
    portLevelSettings:
    - port: {number: 5432}
      connectionPool: {tcp: {maxConnections: 7}}
---
"""
    build, _ = compile_inbound(peer("DISABLE") + rule)
    http = build.clusters["inbound|9080||"]
    assert http["connect_timeout"] == "2s"
    assert http["circuit_breakers"] == {"thresholds": [{"max_connections": 100, "max_pending_requests": 50,
                                                        "max_requests": 200, "max_retries": 5}]}
    assert http["typed_extension_protocol_options"] == {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": TYPE + "upstreams.http.v3.HttpProtocolOptions",
        "common_http_protocol_options": {"idle_timeout": "60s", "max_requests_per_connection": 10},
        "explicit_http_config": {"http_protocol_options": {}},
    }}
    # the port-level entry (service port 5432 -> target 5433) replaces the whole policy
    tcp = build.clusters["inbound|5433||"]
    assert tcp["connect_timeout"] == "10s"
    assert tcp["circuit_breakers"] == {"thresholds": [{"max_connections": 7, "max_pending_requests": UINT32_MAX,
                                                       "max_requests": UINT32_MAX, "max_retries": UINT32_MAX}]}
    assert "typed_extension_protocol_options" not in tcp


# -- a real Envoy ---------------------------------------------------------------------------

POLICIES = """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-all, namespace: default}
spec: {action: AUDIT, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: default}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin*"], methods: [POST]}}]
    from: [{source: {notNamespaces: [istio-system]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-shop, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web], requestPrincipals: ["issuer/*"]}}]
    to: [{operation: {hosts: ["*.example.com"], paths: ["/users/{*}", "*.png"], ports: ["9080", "5433"]}}]
    when:
    - {key: "request.auth.claims[groups]", values: [admins]}
    - {key: source.ip, notValues: [10.0.0.0/8]}
    - {key: connection.sni, values: ["*.local"]}
---
"""
MORE_PORTS = SERVICE + """  - {name: grpc, port: 9090}
  - {port: 7000}
"""


def bootstrap(builds: list[Build], listeners: list[Json]) -> Json:
    clusters: dict[str, Json] = {}
    for build in builds:
        clusters.update(build.clusters)
    return {
        "node": {"id": "sidecar~10.244.1.11~reviews-v1.default~default.svc.cluster.local", "cluster": "reviews.default"},
        "static_resources": {"listeners": listeners, "clusters": [clusters[name] for name in sorted(clusters)]},
    }


@pytest.mark.parametrize("mode", ["STRICT", "PERMISSIVE", "DISABLE"])
def test_envoy_accepts_each_mode(mode: str) -> None:
    build, listeners = compile_inbound(peer(mode) + POLICIES, services=MORE_PORTS)
    assert len(listeners) == 4
    result = validate(bootstrap([build], listeners))
    assert result.ok, result.output[-3000:]


def test_envoy_accepts_port_level_mtls() -> None:
    selected = peer("STRICT", name="reviews",
                    extra="  selector: {matchLabels: {app: reviews}}\n  portLevelMtls:\n    5433: {mode: PERMISSIVE}\n")
    build, listeners = compile_inbound(peer("DISABLE") + selected + POLICIES, services=MORE_PORTS)
    result = validate(bootstrap([build], listeners))
    assert result.ok, result.output[-3000:]


def _short_sds_wait(config: Json) -> Json:
    """No istio-agent serves SDS in the test: Istio's ``initial_fetch_timeout: 0s`` would keep
    Envoy initializing forever, so the live copy waits 0.25s for the secrets instead."""
    if isinstance(config, dict):
        return {k: ("0.25s" if k == "initial_fetch_timeout" else _short_sds_wait(v)) for k, v in config.items()}
    if isinstance(config, list):
        return [_short_sds_wait(v) for v in config]
    return config


def test_live_permissive_serves_plaintext_with_rbac_and_strict_refuses_it(tmp_path: Path) -> None:
    backend = BackendServer("app", "127.0.0.21").start()
    envoy: EnvoyProcess | None = None
    try:
        port = backend.port
        strict_port = port + 1 if port < 65535 else port - 1
        text = f"""apiVersion: v1
kind: Service
metadata: {{name: web, namespace: default}}
spec: {{selector: {{app: web}}, ports: [{{name: http, port: 80, targetPort: {port}}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: default, labels: {{app: web}}}}
spec: {{containers: [{{name: app, image: web}}]}}
status: {{podIP: 127.0.0.21}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: deny-admin, namespace: default}}
spec: {{action: DENY, selector: {{matchLabels: {{app: web}}}}, rules: [{{to: [{{operation: {{paths: ["/admin*"]}}}}]}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: vault, namespace: default}}
spec: {{selector: {{app: vault}}, ports: [{{name: http, port: 80, targetPort: {strict_port}}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: vault, namespace: default, labels: {{app: vault}}}}
spec: {{containers: [{{name: app, image: vault}}]}}
status: {{podIP: 127.0.0.22}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: vault, namespace: default}}
spec: {{selector: {{matchLabels: {{app: vault}}}}, mtls: {{mode: STRICT}}}}
"""
        mesh = mesh_of(text)
        builds, listeners = [], []
        for name in ("web", "vault"):
            build = Build(mesh, EnvoyOptions(proxy="inbound", target=(name, "default"), listen_address="127.0.0.1"),
                          proxy_namespace="default")
            workload: Workload | None = find_workload(mesh, name, "default")
            assert workload is not None
            listeners += inbound_listeners(build, workload)
            builds.append(build)
        assert [matches(item) for item in listeners] == [
            [{"transport_protocol": "tls", "application_protocols": ISTIO_ALPNS}, {"transport_protocol": "raw_buffer"}],
            [{"transport_protocol": "tls"}],
        ]
        config = loopback_safe(_short_sds_wait(bootstrap(builds, listeners)), remap_ports=True)
        envoy = EnvoyProcess(config, tmp_path / "envoy").start()

        web = envoy.listener_port(f"127.0.0.1_{port}")
        ok = request(web, "/ok", timeout=5)
        assert (ok.status, ok.backend) == (200, "app")
        denied = request(web, "/admin/users", timeout=5)
        assert (denied.status, denied.raw) == (403, b"RBAC: access denied")
        assert backend.count == 1  # the denied request never reached the application

        vault = envoy.listener_port(f"127.0.0.1_{strict_port}")
        with socket.create_connection(("127.0.0.1", vault), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: vault\r\n\r\n")
            try:
                answer = conn.recv(1024)
            except ConnectionResetError:
                answer = b""
        assert answer == b"", answer  # no filter chain for plaintext: closed without an HTTP response
    finally:
        if envoy is not None:
            envoy.stop()
        backend.close()
