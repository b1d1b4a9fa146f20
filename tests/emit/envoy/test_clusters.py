"""DestinationRule traffic policy -> Envoy clusters (envoy-translation.md §0, §2, §1.13, §5).

Expected dicts are written from the reference, not generated. The last test puts every
kind of cluster this module produces into one bootstrap and has a real Envoy 1.40 validate it.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshctl.emit.envoy import clusters
from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.options import EnvoyOptions
from meshctl.emit.envoy.tls import upstream_transport
from meshctl.emit.envoy.values import duration
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.objects import MeshConfig
from tests.envoy.harness import validate

Json = dict[str, Any]
MAX = 4294967295
FQDN = "reviews.default.svc.cluster.local"
UNLIMITED = {"max_connections": MAX, "max_pending_requests": MAX, "max_requests": MAX, "max_retries": MAX}
HPO = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
HPO_TYPE = "type.googleapis.com/" + HPO
TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
TLS_PARAMS = {"tls_minimum_protocol_version": "TLSv1_2", "tls_maximum_protocol_version": "TLSv1_3"}
SDS_CONFIG = {
    "api_config_source": {
        "api_type": "GRPC", "transport_api_version": "V3", "set_node_on_first_message_only": True,
        "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}],
    },
    "resource_api_version": "V3",
    "initial_fetch_timeout": "0s",
}
TLS_ISTIO = {"filter_metadata": {"envoy.transport_socket_match": {"tlsMode": "istio"}}}

# A Service without endpoints among the inputs (STRICT_DNS), port 9080 named http.
SERVICE = """
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080, targetPort: 8080}
  - {name: grpc-api, port: 9090}
  - {port: 7000}
  - {name: tcp-db, port: 5432}
"""


def pod(name: str, ip: str, labels: str, *, sidecar: bool = False, namespace: str = "default",
        account: str = "default") -> str:
    proxy = ", {name: istio-proxy, image: proxyv2}" if sidecar else ""
    return f"""
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {{{labels}}}}}
spec:
  serviceAccountName: {account}
  containers: [{{name: app, image: app, ports: [{{name: http, containerPort: 9080}}]}}{proxy}]
status: {{podIP: {ip}, conditions: [{{type: Ready, status: "True"}}]}}
"""


def dr(spec: str, *, name: str = "reviews", namespace: str = "default") -> str:
    return f"""
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {name}, namespace: {namespace}}}
spec:
{spec}
"""


def make(text: str, namespace: str = "default", *, mesh_config: MeshConfig | None = None,
         **options: Any) -> Build:
    mesh = lower(read_text(text, "test.yaml").docs, mesh_config)
    return Build(mesh, EnvoyOptions(**options), proxy_namespace=namespace)


def cluster(build: Build, port: int = 9080, subset: str | None = None, fqdn: str = FQDN) -> Json:
    name = clusters.outbound_cluster(build, fqdn, port, subset)
    assert name is not None, f"no cluster for {fqdn}:{port} {subset}"
    return build.clusters[name]


def losses(build: Build) -> list[tuple[str, str]]:
    """(code, field path) of every loss."""
    return [(f.code, f.location.path if f.location else "") for f in build.losses.findings]


def messages(build: Build) -> str:
    return "\n".join(f.message for f in build.losses.findings)


# -- §0 defaults, exact clusters ---------------------------------------------------------------
def test_defaults_without_destination_rule_exact():
    assert cluster(make(SERVICE)) == {
        "name": f"outbound|9080||{FQDN}",
        "alt_stat_name": f"outbound|9080||{FQDN};",
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "10s",
        "lb_policy": "LEAST_REQUEST",
        "circuit_breakers": {"thresholds": [UNLIMITED]},
        # the ClusterIP name listens on the Service port (9080), not the targetPort (8080)
        "load_assignment": {"cluster_name": f"outbound|9080||{FQDN}", "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": FQDN, "port_value": 9080}}}}]}
        ]},
    }


WORKED_DR = dr("""
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 2s}
      http: {http1MaxPendingRequests: 50, http2MaxRequests: 200, maxRequestsPerConnection: 10,
             maxRetries: 5, idleTimeout: 60s}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}""")

ZONE = "topology.kubernetes.io/region: us-east1, topology.kubernetes.io/zone: us-east1-b"


def test_worked_example_subset_cluster_exact():
    """§5.2: the v2 subset cluster (pods without a sidecar, so no auto mTLS)."""
    text = SERVICE.replace("targetPort: 8080", "targetPort: 9080") + WORKED_DR + \
        pod("reviews-v1", "10.244.1.11", f"app: reviews, version: v1, {ZONE}") + \
        pod("reviews-v2-b", "10.244.2.13", f"app: reviews, version: v2, {ZONE}") + \
        pod("reviews-v2-a", "10.244.2.12", f"app: reviews, version: v2, {ZONE}")
    name = f"outbound|9080|v2|{FQDN}"
    assert cluster(make(text), subset="v2") == {
        "name": name,
        "alt_stat_name": f"{name};",
        "type": "STATIC",
        "connect_timeout": "2s",
        "lb_policy": "LEAST_REQUEST",
        "circuit_breakers": {"thresholds": [
            {"max_connections": 100, "max_pending_requests": 50, "max_requests": 200, "max_retries": 5}
        ]},
        "outlier_detection": {
            "consecutive_5xx": 5, "enforcing_consecutive_5xx": 100, "enforcing_success_rate": 0,
            "interval": "10s", "base_ejection_time": "30s", "max_ejection_percent": 50,
        },
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
        "typed_extension_protocol_options": {HPO: {
            "@type": HPO_TYPE,
            "common_http_protocol_options": {"idle_timeout": "60s", "max_requests_per_connection": 10},
            "explicit_http_config": {"http_protocol_options": {}},
        }},
        "load_assignment": {"cluster_name": name, "endpoints": [{
            "locality": {"region": "us-east1", "zone": "us-east1-b"},
            "lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": "10.244.2.12", "port_value": 9080}}}},
                {"endpoint": {"address": {"socket_address": {"address": "10.244.2.13", "port_value": 9080}}}},
            ],
        }]},
    }


def test_builtin_clusters_exact():
    build = make(SERVICE)
    clusters.builtin_clusters(build)
    assert build.clusters["PassthroughCluster"] == {
        "name": "PassthroughCluster", "alt_stat_name": "PassthroughCluster;", "type": "ORIGINAL_DST",
        "connect_timeout": "10s", "lb_policy": "CLUSTER_PROVIDED", "circuit_breakers": {"thresholds": [UNLIMITED]},
    }
    assert build.clusters["BlackHoleCluster"] == {
        "name": "BlackHoleCluster", "alt_stat_name": "BlackHoleCluster;", "type": "STATIC", "connect_timeout": "10s",
    }
    assert "sds-grpc" not in build.clusters  # nothing uses SDS


# -- §2.3 load balancer ------------------------------------------------------------------------
@pytest.mark.parametrize(("balancer", "expected"), [
    ("{simple: ROUND_ROBIN}", {"lb_policy": "ROUND_ROBIN"}),
    ("{simple: LEAST_CONN}", {"lb_policy": "LEAST_REQUEST"}),
    ("{simple: LEAST_REQUEST}", {"lb_policy": "LEAST_REQUEST"}),
    ("{simple: RANDOM}", {"lb_policy": "RANDOM"}),
    ("{simple: UNSPECIFIED}", {"lb_policy": "LEAST_REQUEST"}),
    ("{consistentHash: {httpHeaderName: x-user}}",
     {"lb_policy": "RING_HASH", "ring_hash_lb_config": {"minimum_ring_size": 1024}}),
    ("{consistentHash: {useSourceIp: true, ringHash: {minimumRingSize: 2048}}}",
     {"lb_policy": "RING_HASH", "ring_hash_lb_config": {"minimum_ring_size": 2048}}),
    ("{consistentHash: {useSourceIp: true, minimumRingSize: 4096}}",
     {"lb_policy": "RING_HASH", "ring_hash_lb_config": {"minimum_ring_size": 4096}}),
    ("{consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}",
     {"lb_policy": "MAGLEV", "maglev_lb_config": {"table_size": 65537}}),
    ("{consistentHash: {useSourceIp: true, maglev: {}}}", {"lb_policy": "MAGLEV"}),
])
def test_load_balancer(balancer: str, expected: Json):
    build = make(SERVICE + dr(f"  host: reviews\n  trafficPolicy:\n    loadBalancer: {balancer}"))
    found = cluster(build)
    assert {k: v for k, v in found.items() if "lb" in k and k != "common_lb_config"} == expected
    assert losses(build) == []


def test_maglev_table_size_must_be_prime():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 1000}}}}"""))
    found = cluster(build)
    assert found["lb_policy"] == "MAGLEV" and "maglev_lb_config" not in found
    assert losses(build) == [("MSH400", "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize")]


def test_passthrough_load_balancer_is_original_dst_without_endpoints():
    text = SERVICE + pod("r", "10.0.0.1", "app: reviews") + \
        dr("  host: reviews\n  trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}")
    found = cluster(make(text))
    assert found["type"] == "ORIGINAL_DST" and found["lb_policy"] == "CLUSTER_PROVIDED"
    assert "load_assignment" not in found


def test_warmup_slow_start():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 1m, aggression: 2.5, minimumPercent: 5}}
  subsets:
  - name: rr
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 30s}}
  - name: random
    trafficPolicy: {loadBalancer: {simple: RANDOM, warmupDurationSecs: 30s}}"""))
    assert cluster(build)["least_request_lb_config"] == {"slow_start_config": {
        "slow_start_window": "60s", "aggression": {"default_value": 2.5}, "min_weight_percent": {"value": 5.0},
    }}
    assert cluster(build, subset="rr")["round_robin_lb_config"] == {"slow_start_config": {"slow_start_window": "30s"}}
    random = cluster(build, subset="random")
    assert random["lb_policy"] == "RANDOM" and "random_lb_config" not in random
    assert losses(build) == [("MSH400", "spec.subsets[1].trafficPolicy.loadBalancer")]


def test_locality_lb_setting_is_reported():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, localityLbSetting: {enabled: true}}}"""))
    assert cluster(build)["lb_policy"] == "ROUND_ROBIN"
    assert losses(build) == [("MSH400", "spec.trafficPolicy.loadBalancer.localityLbSetting")]


# -- §2.4 connection pool ----------------------------------------------------------------------
def test_connection_pool_mapping():
    found = cluster(make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 0
        connectTimeout: 250ms
        maxConnectionDuration: 1h
        idleTimeout: 5m
        tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}
      http: {http1MaxPendingRequests: -1, http2MaxRequests: 7, maxRetries: 9}""")))
    assert found["connect_timeout"] == duration("250ms")
    assert found["circuit_breakers"] == {"thresholds": [
        {"max_connections": MAX, "max_pending_requests": MAX, "max_requests": 7, "max_retries": 9}
    ]}
    assert found["typed_extension_protocol_options"][HPO] == {
        "@type": HPO_TYPE,
        "common_http_protocol_options": {"idle_timeout": "300s", "max_connection_duration": "3600s"},
        "explicit_http_config": {"http_protocol_options": {}},
    }
    assert found["upstream_connection_options"] == {
        "tcp_keepalive": {"keepalive_probes": 3, "keepalive_time": 7200, "keepalive_interval": 75}
    }


def test_bad_durations_are_reported_and_connect_timeout_falls_back_to_the_mesh_default():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    connectionPool: {tcp: {connectTimeout: 0s}, http: {idleTimeout: soon}}"""))
    found = cluster(build)
    assert found["connect_timeout"] == "10s"
    assert "typed_extension_protocol_options" not in found
    assert losses(build) == [("MSH400", "spec.trafficPolicy.connectionPool.tcp.connectTimeout"),
                             ("MSH400", "spec.trafficPolicy.connectionPool.http.idleTimeout")]


def test_http_idle_timeout_wins_over_tcp_and_empty_keepalive_turns_it_on():
    found = cluster(make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    connectionPool: {tcp: {idleTimeout: 5m, tcpKeepalive: {}}, http: {idleTimeout: 30s}}""")))
    assert found["typed_extension_protocol_options"][HPO]["common_http_protocol_options"] == {"idle_timeout": "30s"}
    assert found["upstream_connection_options"] == {"tcp_keepalive": {}}


def test_protocols_h2_upgrade_and_client_protocol():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    connectionPool: {http: {maxConcurrentStreams: 50}}
    portLevelSettings:
    - port: {number: 9080}
      connectionPool: {http: {h2UpgradePolicy: UPGRADE}}
    - port: {number: 5432}
      connectionPool: {http: {useClientProtocol: true, h2UpgradePolicy: UPGRADE}}"""))

    def upstream(port: int) -> Json:
        options = cluster(build, port).get("typed_extension_protocol_options", {}).get(HPO, {})
        return {k: v for k, v in options.items() if k in ("explicit_http_config", "use_downstream_protocol_config")}

    assert upstream(9080) == {"explicit_http_config": {"http2_protocol_options": {}}}  # UPGRADE
    assert upstream(9090) == {"explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": 50}}}
    assert upstream(7000) == {"use_downstream_protocol_config": {"http_protocol_options": {},
                                                                 "http2_protocol_options": {}}}  # sniffed
    assert upstream(5432) == {"use_downstream_protocol_config": {"http_protocol_options": {},
                                                                 "http2_protocol_options": {}}}


def test_plain_ports_without_options_get_no_protocol_options():
    build = make(SERVICE)
    assert "typed_extension_protocol_options" not in cluster(build, 9080)
    assert "typed_extension_protocol_options" not in cluster(build, 5432)
    gateway = make(SERVICE, proxy="gateway")
    assert "typed_extension_protocol_options" not in cluster(gateway, 7000)  # only sidecars sniff


# -- §2.5 outlier detection --------------------------------------------------------------------
def test_outlier_detection_mapping():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 0
      consecutiveGatewayErrors: 3
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 2
      minHealthPercent: 40
      consecutiveErrors: 7
      maxEjectionPercent: 150"""))
    found = cluster(build)
    assert found["outlier_detection"] == {
        "consecutive_5xx": 0, "enforcing_consecutive_5xx": 0,
        "consecutive_gateway_failure": 3, "enforcing_consecutive_gateway_failure": 100,
        "enforcing_success_rate": 0,
        "split_external_local_origin_errors": True,
        "consecutive_local_origin_failure": 2, "enforcing_consecutive_local_origin_failure": 100,
        "enforcing_local_origin_success_rate": 0,
    }
    assert found["common_lb_config"] == {"healthy_panic_threshold": {"value": 40}}
    assert losses(build) == [
        ("MSH400", "spec.trafficPolicy.outlierDetection.maxEjectionPercent"),
        ("MSH400", "spec.trafficPolicy.outlierDetection.consecutiveErrors"),
    ]
    assert "use consecutive5xxErrors" in messages(build)


def test_gateway_errors_alone_leave_envoys_5xx_ejection_on():
    """§6.10: no consecutive_5xx key, so Envoy's default (5, enforced) stays active."""
    found = cluster(make(SERVICE + dr("""  host: reviews
  trafficPolicy: {outlierDetection: {consecutiveGatewayErrors: 2}}""")))
    assert found["outlier_detection"] == {
        "consecutive_gateway_failure": 2, "enforcing_consecutive_gateway_failure": 100, "enforcing_success_rate": 0,
    }


def test_no_outlier_detection_means_no_panic_threshold():
    assert "common_lb_config" not in cluster(make(SERVICE + WORKED_DR.replace("outlierDetection", "x-unused")))


# -- §2.2 which policy applies -----------------------------------------------------------------
MERGE_DR = dr("""  host: reviews
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 10}}
    outlierDetection: {consecutive5xxErrors: 3}
    loadBalancer: {simple: RANDOM}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {simple: ROUND_ROBIN}
  subsets:
  - name: pool
    labels: {version: v1}
    trafficPolicy: {connectionPool: {http: {maxRetries: 4}}}
  - name: ported
    labels: {version: v1}
    trafficPolicy:
      connectionPool: {http: {maxRetries: 4}}
      portLevelSettings:
      - port: {number: 9080}
        outlierDetection: {consecutive5xxErrors: 9}""")


def test_port_level_settings_replace_the_whole_policy():
    build = make(SERVICE + MERGE_DR)
    top, ported = cluster(build, 9080), cluster(build, 9090)
    assert (top["lb_policy"], top["circuit_breakers"]["thresholds"][0]["max_connections"]) == ("RANDOM", 10)
    assert "outlier_detection" in top
    assert ported["lb_policy"] == "ROUND_ROBIN"
    assert ported["circuit_breakers"] == {"thresholds": [UNLIMITED]}  # not inherited
    assert "outlier_detection" not in ported


def test_subset_policy_merges_field_by_field():
    build = make(SERVICE + MERGE_DR)
    found = cluster(build, 9080, "pool")
    # the subset's connectionPool replaces the parent's whole pool; the rest is inherited
    assert found["circuit_breakers"] == {"thresholds": [dict(UNLIMITED, max_retries=4)]}
    assert found["lb_policy"] == "RANDOM" and found["outlier_detection"]["consecutive_5xx"] == 3
    # on a port with a top-level port entry, the subset merges over that entry
    assert cluster(build, 9090, "pool")["lb_policy"] == "ROUND_ROBIN"


def test_subset_port_level_entry_sets_all_four_fields():
    found = cluster(make(SERVICE + MERGE_DR), 9080, "ported")
    assert found["outlier_detection"]["consecutive_5xx"] == 9
    assert found["circuit_breakers"] == {"thresholds": [UNLIMITED]}
    assert found["lb_policy"] == "LEAST_REQUEST"


# -- §2.6 TLS ------------------------------------------------------------------------------------
MESHED = SERVICE + pod("r1", "10.0.0.1", "app: reviews, version: v1", sidecar=True, account="bookinfo-reviews") + \
    pod("r2", "10.0.0.2", "app: reviews, version: v2")


def tls_dr(tls: str, subsets: str = "") -> str:
    return dr(f"  host: reviews\n  trafficPolicy:\n    tls: {tls}{subsets}")


def sds(name: str) -> Json:
    return {"name": name, "sds_config": SDS_CONFIG}


def test_auto_mtls_with_a_meshed_endpoint_exact():
    build = make(MESHED + dr("  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]"))
    found = cluster(build, 9080, "v1")
    assert found["transport_socket_matches"] == [
        {"name": "tlsMode-istio", "match": {"tlsMode": "istio"}, "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": TLS_TYPE,
                "sni": f"outbound_.9080_.v1_.{FQDN}",
                "common_tls_context": {
                    "alpn_protocols": ["istio-peer-exchange", "istio"],
                    "tls_params": TLS_PARAMS,
                    "tls_certificate_sds_secret_configs": [sds("default")],
                    "combined_validation_context": {
                        "default_validation_context": {"match_typed_subject_alt_names": [
                            {"san_type": "URI", "matcher": {"exact": "spiffe://cluster.local/ns/default/sa/bookinfo-reviews"}},
                            {"san_type": "URI", "matcher": {"exact": "spiffe://cluster.local/ns/default/sa/default"}},
                        ]},
                        "validation_context_sds_secret_config": sds("ROOTCA"),
                    },
                },
            },
        }},
        {"name": "tlsMode-disabled", "match": {}, "transport_socket": {
            "name": "envoy.transport_sockets.raw_buffer",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"},
        }},
    ]
    assert found["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["metadata"] == TLS_ISTIO
    assert "sds-grpc" in build.clusters


def test_auto_mtls_only_when_some_endpoint_is_meshed():
    text = MESHED + dr("  host: reviews\n  subsets: [{name: v2, labels: {version: v2}}]")
    build = make(text)
    assert "transport_socket_matches" in cluster(build, 9080)
    assert "transport_socket_matches" not in cluster(build, 9080, "v2")


@pytest.mark.parametrize("extra, mesh_config", [
    ("", MeshConfig(enable_auto_mtls=False)),
    ("""
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec: {mtls: {mode: DISABLE}}""", None),
    ("""
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: DISABLE}}""", None),
])
def test_auto_mtls_off(extra: str, mesh_config: MeshConfig | None):
    found = cluster(make(MESHED + extra, mesh_config=mesh_config))
    assert "transport_socket_matches" not in found and "transport_socket" not in found


def test_tls_disable_turns_auto_mtls_off():
    found = cluster(make(MESHED + tls_dr("{mode: DISABLE}")))
    assert "transport_socket_matches" not in found and "transport_socket" not in found


def test_explicit_istio_mutual_uses_a_transport_socket_with_the_rules_sni_and_sans():
    build = make(MESHED + tls_dr("{mode: ISTIO_MUTUAL, sni: my.sni, subjectAltNames: [spiffe://td/ns/a/sa/b]}"))
    found = cluster(build, 9090)
    context = found["transport_socket"]["typed_config"]
    assert "transport_socket_matches" not in found
    assert context["sni"] == "my.sni"
    assert context["common_tls_context"]["alpn_protocols"] == ["istio-peer-exchange", "istio", "h2"]  # grpc port
    assert context["common_tls_context"]["combined_validation_context"]["default_validation_context"] == {
        "match_typed_subject_alt_names": [{"san_type": "URI", "matcher": {"exact": "spiffe://td/ns/a/sa/b"}}]
    }


def test_simple_tls_exact():
    build = make(SERVICE + tls_dr("{mode: SIMPLE, sni: reviews.example.com, caCertificates: /etc/ca.pem, "
                                  "subjectAltNames: [reviews.example.com]}"))
    found = cluster(build)
    assert found["transport_socket"] == {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": TLS_TYPE,
        "sni": "reviews.example.com",
        "common_tls_context": {
            "tls_params": TLS_PARAMS,
            "combined_validation_context": {
                "default_validation_context": {"match_typed_subject_alt_names": [
                    {"san_type": "DNS", "matcher": {"exact": "reviews.example.com"}}
                ]},
                "validation_context_sds_secret_config": sds("file-root:/etc/ca.pem"),
            },
        },
    }}
    assert "typed_extension_protocol_options" not in found  # sni given: no auto_sni


def test_simple_tls_without_sni_uses_auto_sni_and_system_roots():
    found = cluster(make(SERVICE + tls_dr("{mode: SIMPLE}")))
    options = found["typed_extension_protocol_options"][HPO]
    assert options["upstream_http_protocol_options"] == {"auto_sni": True, "auto_san_validation": True}
    assert options["explicit_http_config"] == {"http_protocol_options": {}}
    context = found["transport_socket"]["typed_config"]
    assert "sni" not in context
    assert context["common_tls_context"]["combined_validation_context"]["validation_context_sds_secret_config"] == \
        sds("file-root:system")


def test_simple_insecure_skip_verify_and_h2_alpn():
    found = cluster(make(SERVICE + tls_dr("{mode: SIMPLE, insecureSkipVerify: true}")), 9090)
    common = found["transport_socket"]["typed_config"]["common_tls_context"]
    assert common == {"tls_params": TLS_PARAMS, "alpn_protocols": ["h2"], "validation_context": {}}
    assert found["typed_extension_protocol_options"][HPO]["upstream_http_protocol_options"] == {"auto_sni": True}


def test_mutual_tls_with_files():
    found = cluster(make(SERVICE + tls_dr("{mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, "
                                          "caCertificates: /ca.pem, sni: x}")))
    common = found["transport_socket"]["typed_config"]["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("file-cert:/c.pem~/k.pem")]
    assert common["combined_validation_context"]["validation_context_sds_secret_config"] == sds("file-root:/ca.pem")


def test_mutual_tls_without_certificates_is_not_applied():
    build = make(MESHED + tls_dr("{mode: MUTUAL}"))
    found = cluster(build)
    assert "transport_socket" not in found and "transport_socket_matches" not in found
    assert "typed_extension_protocol_options" not in found
    assert losses(build) == [("MSH400", "spec.trafficPolicy.tls.mode")]


def test_credential_name_on_a_sidecar_gives_no_tls():
    build = make(SERVICE + tls_dr("{mode: SIMPLE, credentialName: reviews-cert}"))
    found = cluster(build)
    assert "transport_socket" not in found and "typed_extension_protocol_options" not in found
    assert losses(build) == [("MSH400", "spec.trafficPolicy.tls.credentialName")]


def test_credential_name_on_a_gateway_uses_kubernetes_secrets():
    build = make(SERVICE + tls_dr("{mode: MUTUAL, credentialName: reviews-cert, sni: r}"),
                 proxy="gateway", target=("ingress", "default"))
    common = cluster(build)["transport_socket"]["typed_config"]["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("kubernetes://reviews-cert")]
    assert common["combined_validation_context"]["validation_context_sds_secret_config"] == \
        sds("kubernetes://reviews-cert-cacert")
    assert losses(build) == [("MSH401", "spec.trafficPolicy.tls.credentialName")]


def test_sds_cluster_is_registered_once_for_callers_with_their_own_secrets():
    build = make(SERVICE)
    assert clusters.sds_cluster(build) == "sds-grpc" == clusters.sds_cluster(build)
    pipe = build.clusters["sds-grpc"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert pipe == {"pipe": {"path": "./var/run/secrets/workload-spiffe-uds/socket"}}


def test_upstream_transport_directly():
    build = make(MESHED)
    assert upstream_transport(build, FQDN, 9080, None, None, endpoints_meshed=False) == {}
    assert list(upstream_transport(build, FQDN, 9080, None, None, endpoints_meshed=True)) == \
        ["transport_socket_matches"]


# -- endpoints and discovery ---------------------------------------------------------------------
def test_endpoints_known_make_a_static_cluster_and_subsets_filter_them():
    text = MESHED + dr("  host: reviews\n  subsets: [{name: v2, labels: {version: v2}}]")
    build = make(text)

    def ips(found: Json) -> list[str]:
        return [e["endpoint"]["address"]["socket_address"]["address"]
                for group in found["load_assignment"]["endpoints"] for e in group["lb_endpoints"]]

    assert cluster(build)["type"] == "STATIC" and ips(cluster(build)) == ["10.0.0.1", "10.0.0.2"]
    assert ips(cluster(build, subset="v2")) == ["10.0.0.2"]


def test_subset_without_known_endpoints_is_reported():
    build = make(SERVICE + dr("  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]"))
    assert cluster(build, subset="v1")["type"] == "STRICT_DNS"
    clusters.report_dns_subsets(build)
    assert losses(build) == [("MSH401", "spec.subsets")]  # one note for all such Services


def test_subset_leaves_out_slice_endpoints_of_unknown_pods_and_says_so():
    text = SERVICE + dr("  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]") + """
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-x, namespace: default, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- {addresses: [10.0.3.1], targetRef: {kind: Pod, name: r1}}
- {addresses: [10.0.3.2], targetRef: {kind: Pod, name: elsewhere}}
""" + pod("r1", "10.9.9.1", "app: reviews, version: v1")
    build = make(text)
    groups = cluster(build, subset="v1")["load_assignment"]["endpoints"]
    assert [e["endpoint"]["address"]["socket_address"] for g in groups for e in g["lb_endpoints"]] == [
        {"address": "10.0.3.1", "port_value": 8080}
    ]
    assert losses(build) == [("MSH401", "spec.subsets[0].labels")]


def test_dns_cluster_is_meshed_when_the_services_workloads_are():
    deployment = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: default}
spec:
  template:
    metadata: {labels: {app: reviews}, annotations: {sidecar.istio.io/inject: "true"}}
    spec: {containers: [{name: app, image: app}]}
"""
    found = cluster(make(SERVICE + deployment))
    assert found["type"] == "STRICT_DNS"
    assert found["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["metadata"] == TLS_ISTIO
    assert "transport_socket_matches" in found


def test_headless_and_external_name_services():
    text = """
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {clusterIP: None, selector: {app: db}, ports: [{name: tcp, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: search, namespace: default}
spec: {type: ExternalName, externalName: search.example.com, ports: [{name: https, port: 443}]}
""" + pod("db-0", "10.0.0.7", "app: db", sidecar=True)
    build = make(text)
    headless = cluster(build, 5432, fqdn="db.default.svc.cluster.local")
    assert (headless["type"], headless["lb_policy"]) == ("ORIGINAL_DST", "CLUSTER_PROVIDED")
    assert "load_assignment" not in headless and "transport_socket_matches" not in headless
    external = cluster(build, 443, fqdn="search.default.svc.cluster.local")
    assert external["type"] == "STRICT_DNS" and "transport_socket_matches" not in external
    assert external["load_assignment"]["endpoints"][0]["lb_endpoints"][0] == {
        "endpoint": {"address": {"socket_address": {"address": "search.example.com", "port_value": 443}}}
    }
    gateway = make(text, proxy="gateway")
    assert cluster(gateway, 5432, fqdn="db.default.svc.cluster.local")["type"] == "STATIC"


# -- ServiceEntry resolutions ---------------------------------------------------------------------
def entry(name: str, hosts: str, resolution: str, extra: str = "") -> str:
    return f"""
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: {name}, namespace: default}}
spec:
  hosts: [{hosts}]
  ports: [{{number: 443, name: https, protocol: HTTPS, targetPort: 8443}}, {{number: 80, name: http, protocol: HTTP}}]
  resolution: {resolution}{extra}
"""


def test_serviceentry_dns_exact():
    build = make(entry("api", "api.example.com", "DNS"))
    name = "outbound|443||api.example.com"
    assert cluster(build, 443, fqdn="api.example.com") == {
        "name": name, "alt_stat_name": f"{name};", "type": "STRICT_DNS", "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "10s", "lb_policy": "LEAST_REQUEST",
        "circuit_breakers": {"thresholds": [UNLIMITED]},
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"socket_address": {"address": "api.example.com", "port_value": 8443}}}}
        ]}]},
    }
    assert losses(build) == []


def test_serviceentry_resolutions():
    text = entry("rr", "rr.example.com", "DNS_ROUND_ROBIN") + entry("none", "none.example.com", "NONE") + \
        entry("static", "static.example.com", "STATIC", "\n  endpoints: [{address: 10.1.1.1}]") + \
        entry("wild", '"*.wild.example.com"', "DNS") + \
        entry("eps", "eps.example.com", "DNS", "\n  endpoints: [{address: a.example.com}]")
    build = make(text)
    assert cluster(build, 80, fqdn="rr.example.com")["type"] == "LOGICAL_DNS"
    for host in ("none.example.com", "static.example.com", "*.wild.example.com"):
        found = cluster(build, 80, fqdn=host)
        assert (found["type"], found["lb_policy"]) == ("ORIGINAL_DST", "CLUSTER_PROVIDED")
        assert "load_assignment" not in found
    assert cluster(build, 80, fqdn="eps.example.com")["type"] == "STRICT_DNS"
    assert sorted(losses(build)) == [("MSH401", "spec.endpoints"), ("MSH401", "spec.endpoints"),
                                     ("MSH401", "spec.resolution")]


def test_mesh_external_serviceentry_gets_no_auto_mtls():
    build = make(entry("api", "api.example.com", "DNS", "\n  location: MESH_EXTERNAL"))
    assert upstream_transport(build, "api.example.com", 443, None, None, endpoints_meshed=True) == {}


# -- which clusters exist -----------------------------------------------------------------------
def test_outbound_cluster_is_none_when_nothing_resolves():
    build = make(SERVICE + dr("  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]"))
    assert clusters.outbound_cluster(build, "nope.default.svc.cluster.local", 80, None) is None
    assert clusters.outbound_cluster(build, FQDN, 1234, None) is None
    assert clusters.outbound_cluster(build, FQDN, 9080, "v9") is None
    assert clusters.outbound_cluster(build, FQDN, 9080, "v1") == f"outbound|9080|v1|{FQDN}"


def test_all_outbound_clusters_honours_export_to():
    text = SERVICE + dr("  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]") + """
---
apiVersion: v1
kind: Service
metadata: {name: secret, namespace: other, annotations: {networking.istio.io/exportTo: "."}}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: kube-system}
spec: {ports: [{name: dns, port: 53, protocol: UDP}]}
""" + entry("api", "api.example.com", "DNS")
    build = make(text)
    clusters.all_outbound_clusters(build)
    assert sorted(build.clusters) == sorted([
        f"outbound|{port}|{subset}|{FQDN}" for port in (9080, 9090, 7000, 5432) for subset in ("", "v1")
    ] + ["outbound|443||api.example.com", "outbound|80||api.example.com"])


# -- DestinationRule lookup -----------------------------------------------------------------------
def lb_of(build: Build, fqdn: str = FQDN, port: int = 9080) -> str:
    return str(cluster(build, port, fqdn=fqdn)["lb_policy"])


def rule(namespace: str, simple: str, *, host: str = FQDN, name: str = "r", extra: str = "") -> str:
    return dr(f"  host: \"{host}\"\n  trafficPolicy: {{loadBalancer: {{simple: {simple}}}}}{extra}",
              name=name, namespace=namespace)


def test_lookup_order_proxy_then_service_then_root_namespace():
    root, home, own = rule("istio-system", "RANDOM"), rule("default", "ROUND_ROBIN"), rule("shop", "LEAST_CONN")
    assert lb_of(make(SERVICE + root + home + own, "shop")) == "LEAST_REQUEST"  # the proxy's own
    assert lb_of(make(SERVICE + root + home, "shop")) == "ROUND_ROBIN"  # the service's namespace
    assert lb_of(make(SERVICE + root, "shop")) == "RANDOM"  # the root namespace
    assert clusters.destination_rule(make(SERVICE, "shop"), FQDN) is None


def test_export_to_hides_a_rule_from_other_namespaces():
    private = rule("default", "ROUND_ROBIN", extra='\n  exportTo: ["."]')
    assert lb_of(make(SERVICE + private, "shop")) == "LEAST_REQUEST"
    assert lb_of(make(SERVICE + private, "default")) == "ROUND_ROBIN"
    named = rule("default", "RANDOM", extra="\n  exportTo: [shop]")
    assert lb_of(make(SERVICE + named, "shop")) == "RANDOM"
    assert lb_of(make(SERVICE + named, "web")) == "LEAST_REQUEST"


def test_exact_host_beats_wildcards_and_the_longest_wildcard_wins():
    text = SERVICE + rule("default", "RANDOM", host="*.svc.cluster.local", name="a") + \
        rule("default", "ROUND_ROBIN", host="*.default.svc.cluster.local", name="b")
    assert lb_of(make(text)) == "ROUND_ROBIN"
    assert lb_of(make(text + rule("default", "LEAST_CONN", name="c"))) == "LEAST_REQUEST"


def test_several_rules_for_one_host_merge_as_istio_does():
    first = dr("  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]", name="a")
    second = rule("default", "ROUND_ROBIN", name="b", extra="\n  subsets: [{name: v1, labels: {version: x}}, "
                  "{name: v2, labels: {version: v2}}]")
    build = make(SERVICE + first + second)
    found = clusters.destination_rule(build, FQDN)
    assert found is not None and found.name == "a"
    assert [(s.name, s.labels) for s in found.subsets] == [("v1", {"version": "v1"}), ("v2", {"version": "v2"})]
    assert lb_of(build) == "ROUND_ROBIN"  # the first has no trafficPolicy: the later one's is used


def test_workload_selector_rules():
    selected = rule("default", "RANDOM", extra="\n  workloadSelector: {matchLabels: {app: productpage}}")
    text = SERVICE + rule("default", "ROUND_ROBIN", name="plain") + selected + \
        pod("productpage-1", "10.0.0.9", "app: productpage")
    outbound = make(text)
    assert lb_of(outbound) == "ROUND_ROBIN"
    assert losses(outbound) == [("MSH401", "spec.workloadSelector")]
    assert lb_of(make(text, target=("productpage-1", "default"))) == "RANDOM"
    other = make(text.replace("matchLabels: {app: productpage}", "matchLabels: {app: ratings}"),
                 target=("productpage-1", "default"))
    assert lb_of(other) == "ROUND_ROBIN" and losses(other) == []


# -- §1.13 consistent hash on routes --------------------------------------------------------------
@pytest.mark.parametrize(("key", "expected"), [
    ("httpHeaderName: x-user", {"header": {"header_name": "x-user"}}),
    ("httpCookie: {name: session, path: /, ttl: 1h}", {"cookie": {"name": "session", "path": "/", "ttl": "3600s"}}),
    ("httpCookie: {name: session}", {"cookie": {"name": "session"}}),
    ("useSourceIp: true", {"connection_properties": {"source_ip": True}}),
    ("httpQueryParameterName: user", {"query_parameter": {"name": "user"}}),
])
def test_hash_policy_keys(key: str, expected: Json):
    build = make(SERVICE + dr(f"  host: reviews\n  trafficPolicy: {{loadBalancer: {{consistentHash: {{{key}}}}}}}"))
    assert clusters.hash_policies(build, FQDN, 9080, None) == [expected]
    assert clusters.uses_consistent_hash(build, FQDN, 9080, None)


def test_hash_policy_precedence():
    build = make(SERVICE + dr("""  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: top}}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {consistentHash: {httpHeaderName: port}}
    - port: {number: 7000}
      connectionPool: {tcp: {maxConnections: 1}}
  subsets:
  - name: s
    trafficPolicy:
      loadBalancer: {consistentHash: {httpHeaderName: subset}}
      portLevelSettings:
      - port: {number: 9090}
        loadBalancer: {consistentHash: {httpHeaderName: subset-port}}
  - name: plain"""))

    def header(port: int, subset: str | None) -> str:
        return str(clusters.hash_policies(build, FQDN, port, subset)[0]["header"]["header_name"])

    assert header(9080, None) == "top"
    assert header(9090, None) == "port"
    assert header(7000, None) == "top"  # unlike the cluster merge, a port entry without one falls back
    assert header(9080, "s") == "subset"
    assert header(9090, "s") == "subset-port"
    assert header(9090, "plain") == "port"


def test_no_consistent_hash():
    build = make(SERVICE + WORKED_DR)
    assert clusters.hash_policies(build, FQDN, 9080, "v1") == []
    assert not clusters.uses_consistent_hash(build, FQDN, 9080, None)
    assert clusters.hash_policies(make(SERVICE), "nope.example.com", 80, None) == []


# -- a real Envoy accepts every kind of cluster -------------------------------------------------
def test_every_kind_of_cluster_passes_envoy_validate():
    text = MESHED + """
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {clusterIP: None, selector: {app: db}, ports: [{name: tcp, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: search, namespace: default}
spec: {type: ExternalName, externalName: search.example.com, ports: [{name: https, port: 443}]}
""" + entry("rr", "rr.example.com", "DNS_ROUND_ROBIN") + entry("none", "none.example.com", "NONE") + \
        entry("static", "static.example.com", "STATIC") + entry("api", "api.example.com", "DNS") + \
        dr("""  host: api.example.com
  trafficPolicy:
    tls: {mode: SIMPLE}
    portLevelSettings:
    - port: {number: 80}
      tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, sni: api}""",
           name="api") + \
        dr("""  host: rr.example.com
  trafficPolicy: {tls: {mode: SIMPLE, insecureSkipVerify: true}, loadBalancer: {simple: RANDOM}}""",
           name="rr") + \
        dr("""  host: reviews
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s, aggression: 2, minimumPercent: 20}}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 2s, maxConnectionDuration: 1h, tcpKeepalive: {probes: 3, time: 60s}}
      http: {http1MaxPendingRequests: 50, maxRequestsPerConnection: 10, idleTimeout: 60s, maxConcurrentStreams: 8}
    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 2, interval: 10s, baseEjectionTime: 30s,
                       maxEjectionPercent: 50, minHealthPercent: 30, splitExternalLocalOriginErrors: true,
                       consecutiveLocalOriginFailures: 4}
    portLevelSettings:
    - port: {number: 5432}
      tls: {mode: ISTIO_MUTUAL}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {maglev: {tableSize: 65537}}}}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: u}}}}
  - {name: lr, trafficPolicy: {loadBalancer: {warmup: {duration: 1m}}, connectionPool: {http: {useClientProtocol: true}}}}
  - {name: up, trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}}
  - {name: pass, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}""")
    build = make(text)
    clusters.all_outbound_clusters(build)
    clusters.builtin_clusters(build)
    gateway = make(SERVICE + tls_dr("{mode: MUTUAL, credentialName: reviews-cert}"), proxy="gateway")
    gateway_cluster = cluster(gateway)
    gateway_cluster.update(name="gateway-credential", alt_stat_name="gateway-credential;")
    gateway_cluster["load_assignment"]["cluster_name"] = "gateway-credential"
    found = build.sorted_clusters() + [gateway_cluster]

    kinds = {c["type"] for c in found} | {c["lb_policy"] for c in found if "lb_policy" in c}
    assert kinds >= {"STATIC", "STRICT_DNS", "LOGICAL_DNS", "ORIGINAL_DST", "LEAST_REQUEST", "ROUND_ROBIN",
                     "RING_HASH", "MAGLEV", "CLUSTER_PROVIDED"}
    sockets = [c for c in found if "transport_socket" in c or "transport_socket_matches" in c]
    assert len(sockets) >= 4 and "sds-grpc" in build.clusters

    # SDS secrets need a node id and cluster
    node = {"id": "sidecar~10.0.0.9~productpage.default~default.svc.cluster.local", "cluster": "productpage.default"}
    result = validate({"node": node, "static_resources": {"clusters": found}})
    assert result.ok, result.output
    assert not result.mentions("deprecated"), result.output


def test_services_without_endpoints_are_named_once_for_the_whole_translation():
    from meshctl.emit.envoy import EnvoyOptions, translate
    from meshctl.load.reader import read_text
    from meshctl.lower import lower

    text = "\n---\n".join(
        f"""apiVersion: v1
kind: Service
metadata: {{name: s{i}, namespace: default}}
spec: {{selector: {{app: s{i}}}, ports: [{{name: http, port: 80}}]}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: s{i}, namespace: default}}
spec: {{host: s{i}, subsets: [{{name: v1, labels: {{version: v1}}}}]}}""" for i in range(3))
    out = translate(lower(read_text(text, "mesh.yaml").docs), EnvoyOptions(namespace="default"))
    notes = [f for f in out.findings if "no endpoints" in f.message]
    assert len(notes) == 1
    assert "Service s0.default and 2 more" in notes[0].message
