"""Gateways -> Envoy listeners, row by row of envoy-translation.md §3 (and §0, §1 for routes).

Istio Gateways with their bound VirtualServices, and Gateway API Gateways with HTTPRoutes
(Istio compiles them the same way). Expected values are written from the reference, not
produced by the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshctl.emit.envoy import EnvoyOptions, EnvoyOutput, translate
from meshctl.errors import UsageError
from meshctl.load.reader import read_text
from meshctl.lower import lower
from tests.conftest import CORPUS, requires_corpus
from tests.envoy.harness import validate

Json = dict[str, Any]

SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{name: tcp, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: vault, namespace: shop}
spec:
  selector: {app: vault}
  ports: [{name: https, port: 8200}]
"""

# the gateway's own Service: the proxy binds the container ports behind these
INGRESS_SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
"""

WEB = "outbound|9080||web.shop.svc.cluster.local"
API = "outbound|9080||api.shop.svc.cluster.local"
DB = "outbound|5432||db.shop.svc.cluster.local"
VAULT = "outbound|8200||vault.shop.svc.cluster.local"
HCM_NAME = "envoy.filters.network.http_connection_manager"


# -- helpers ---------------------------------------------------------------------------------
def compile_gateway(text: str, name: str = "gw", namespace: str = "shop", **options: Any) -> EnvoyOutput:
    docs = read_text(SERVICES + "---\n" + text, "mesh.yaml").docs
    return translate(lower(docs), EnvoyOptions(proxy="gateway", target=(name, namespace), **options))


def gateway(servers: str, name: str = "gw", namespace: str = "shop") -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
{servers}"""


def http_server(hosts: str = '["*"]', port: int = 80, extra: str = "") -> str:
    return f"""  - port: {{number: {port}, name: http, protocol: HTTP}}
    hosts: {hosts}
{extra}"""


def vs(name: str, hosts: str, gateways: str = "[gw]", http: str | None = None, namespace: str = "shop") -> str:
    body = http if http is not None else """  - route:
    - destination: {host: web}
"""
    return f"""
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  hosts: {hosts}
  gateways: {gateways}
  http:
{body}"""


def listeners(out: EnvoyOutput) -> dict[str, Json]:
    return {listener["name"]: listener for listener in out.bootstrap["static_resources"]["listeners"]}


def hcm(chain: Json) -> Json:
    flt = chain["filters"][0]
    assert flt["name"] == HCM_NAME
    return flt["typed_config"]  # type: ignore[no-any-return]


def route_configs(out: EnvoyOutput) -> dict[str, Json]:
    found = {}
    for listener in out.bootstrap["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            config = chain["filters"][0]["typed_config"].get("route_config")
            if config is not None:
                found[config["name"]] = config
    return found


def vhosts(out: EnvoyOutput, config: str = "http.80") -> dict[str, Json]:
    return {v["name"]: v for v in route_configs(out)[config]["virtual_hosts"]}


def clusters_of(vhost: Json) -> list[str]:
    return [r["route"]["cluster"] for r in vhost["routes"]]


def losses(out: EnvoyOutput) -> list[tuple[str, str]]:
    """(code, field path) of every loss."""
    return [(f.code, f.location.path if f.location else "") for f in out.findings]


def sds(name: str) -> Json:
    return {"name": name, "sds_config": {
        "api_config_source": {
            "api_type": "GRPC", "transport_api_version": "V3", "set_node_on_first_message_only": True,
            "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}],
        },
        "resource_api_version": "V3",
        "initial_fetch_timeout": "0s",
    }}


def tls_context(chain: Json) -> Json:
    socket = chain["transport_socket"]
    assert socket["name"] == "envoy.transport_sockets.tls"
    context = socket["typed_config"]
    assert context["@type"] == "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
    return context  # type: ignore[no-any-return]


def tcp_proxy(chain: Json) -> Json:
    flt = chain["filters"][0]
    assert flt["name"] == "envoy.filters.network.tcp_proxy"
    assert flt["typed_config"]["@type"] == "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
    return flt["typed_config"]  # type: ignore[no-any-return]


TLS_INSPECTOR = [{"name": "envoy.filters.listener.tls_inspector", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}}]


# -- listeners and ports ---------------------------------------------------------------------
def test_the_listener_binds_the_target_port_behind_the_gateway_service() -> None:
    out = compile_gateway(INGRESS_SERVICE + "---\n" + gateway(http_server('["shop.example.com"]'))
                          + vs("front", '["shop.example.com"]'))
    assert list(listeners(out)) == ["0.0.0.0_8080"]
    listener = listeners(out)["0.0.0.0_8080"]
    assert listener["address"] == {"socket_address": {"address": "0.0.0.0", "port_value": 8080}}
    assert "listener_filters" not in listener
    # the route configuration is named after the bound port, the virtual host after the server port
    assert list(route_configs(out)) == ["http.8080"]
    assert list(vhosts(out, "http.8080")) == ["shop.example.com:80"]
    assert hcm(listener["filter_chains"][0])["stat_prefix"] == "outbound_0.0.0.0_8080"


def test_without_a_gateway_service_the_server_port_is_bound() -> None:
    out = compile_gateway(gateway(http_server('["shop.example.com"]')) + vs("front", '["shop.example.com"]'))
    assert list(listeners(out)) == ["0.0.0.0_80"]
    assert list(route_configs(out)) == ["http.80"]


def test_the_installed_gateway_service_selects_more_labels_than_the_gateway() -> None:
    service = INGRESS_SERVICE.replace("selector: {istio: ingressgateway}",
                                      "selector: {app: istio-ingressgateway, istio: ingressgateway}")
    out = compile_gateway(service + "---\n" + gateway(http_server()))
    assert list(listeners(out)) == ["0.0.0.0_8080"]


def test_a_service_that_selects_other_pods_does_not_move_the_port() -> None:
    other = INGRESS_SERVICE.replace("istio: ingressgateway", "istio: eastwestgateway")
    out = compile_gateway(other + "---\n" + gateway(http_server()))
    assert list(listeners(out)) == ["0.0.0.0_80"]


def test_a_named_target_port_is_the_gateway_pods_container_port() -> None:
    pod = """
apiVersion: v1
kind: Pod
metadata:
  name: ingress-abc
  namespace: istio-system
  labels: {istio: ingressgateway, app: istio-ingressgateway}
spec:
  containers:
  - name: istio-proxy
    image: istio/proxyv2
    ports: [{containerPort: 8081, name: http-web}]
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {app: istio-ingressgateway, istio: ingressgateway}
  ports: [{name: http2, port: 80, targetPort: http-web}]
"""
    out = compile_gateway(pod + "---\n" + gateway(http_server()))
    assert list(listeners(out)) == ["0.0.0.0_8081"]
    assert list(route_configs(out)) == ["http.8081"]


def test_listen_address_option_moves_every_listener() -> None:
    out = compile_gateway(gateway(http_server()), listen_address="127.0.0.1")
    assert list(listeners(out)) == ["127.0.0.1_80"]


def test_http_servers_on_one_port_share_one_route_configuration() -> None:
    servers = http_server('["a.example.com"]') + http_server('["b.example.com"]')
    out = compile_gateway(gateway(servers) + vs("a", '["a.example.com"]') + vs("b", '["b.example.com"]'))
    (listener,) = listeners(out).values()
    assert len(listener["filter_chains"]) == 1
    assert list(vhosts(out)) == ["a.example.com:80", "b.example.com:80"]


def test_hcm_carries_the_gateway_defaults() -> None:
    out = compile_gateway(gateway(http_server()) + vs("front", '["*"]'))
    (listener,) = listeners(out).values()
    assert listener["traffic_direction"] == "OUTBOUND"
    manager = hcm(listener["filter_chains"][0])
    assert manager["@type"] == \
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    assert manager["use_remote_address"] is True
    assert manager["forward_client_cert_details"] == "SANITIZE_SET"
    assert manager["set_current_client_cert_details"] == {"subject": True, "cert": True, "dns": True, "uri": True}
    assert "xff_num_trusted_hops" not in manager  # gatewayTopology default: 0
    assert [f["name"] for f in manager["http_filters"]][-1] == "envoy.filters.http.router"
    config = manager["route_config"]
    assert config["validate_clusters"] is False
    assert config["ignore_port_in_host_matching"] is True
    assert config["max_direct_response_body_size_bytes"] == 1048576


# -- virtual hosts -----------------------------------------------------------------------------
def test_virtual_hosts_are_the_intersection_of_server_and_route_hosts() -> None:
    out = compile_gateway(
        gateway(http_server('["*.example.com", "exact.org"]'))
        + vs("many", '["shop.example.com", "other.org", "*.exact.org"]')  # the VS wildcard covers no server host
        + vs("wide", '["*.example.com"]')
        + vs("narrow", '["exact.org"]')
    )
    found = vhosts(out)
    assert sorted(found) == ["*.example.com:80", "exact.org:80", "shop.example.com:80"]
    assert found["shop.example.com:80"]["domains"] == ["shop.example.com"]
    assert found["*.example.com:80"]["domains"] == ["*.example.com"]
    assert found["exact.org:80"]["domains"] == ["exact.org"]


def test_a_route_wildcard_is_narrowed_to_the_server_host() -> None:
    out = compile_gateway(gateway(http_server('["shop.example.com"]')) + vs("wide", '["*.example.com"]'))
    assert list(vhosts(out)) == ["shop.example.com:80"]
    assert vhosts(out)["shop.example.com:80"]["domains"] == ["shop.example.com"]


def test_a_short_route_host_is_the_service_fqdn_of_its_namespace() -> None:
    out = compile_gateway(gateway(http_server()) + vs("web", '["web"]'))
    found = vhosts(out)
    assert list(found) == ["web.shop.svc.cluster.local:80"]
    assert found["web.shop.svc.cluster.local:80"]["domains"] == ["web.shop.svc.cluster.local"]


def test_a_catch_all_server_serves_a_catch_all_route() -> None:
    out = compile_gateway(gateway(http_server('["*"]')) + vs("front", '["*"]'))
    found = vhosts(out)
    assert list(found) == ["*:80"]
    assert found["*:80"]["domains"] == ["*"]


def test_server_host_namespaces_restrict_which_virtual_services_bind() -> None:
    hosts = '["shop/a.example.com", "other/b.example.com", "./c.example.com", "*/d.example.com"]'
    routes = vs("mine", '["a.example.com", "b.example.com", "c.example.com", "d.example.com"]')
    routes += vs("theirs", '["b.example.com", "c.example.com"]', gateways="[shop/gw]", namespace="other")
    out = compile_gateway(gateway(http_server(hosts)) + routes)
    found = vhosts(out)
    assert sorted(found) == ["a.example.com:80", "b.example.com:80", "c.example.com:80", "d.example.com:80"]
    # b.example.com belongs to namespace other (whose `web` is no Service: §1.1 names the cluster after the
    # listener port), c.example.com (./) to the gateway's namespace shop
    assert clusters_of(found["b.example.com:80"]) == ["outbound|80||web.other.svc.cluster.local"]
    assert clusters_of(found["c.example.com:80"]) == [WEB]


def test_the_forms_of_virtual_service_gateways() -> None:
    routes = (
        vs("by-name", '["a.example.com"]', gateways="[gw]")
        + vs("by-namespace", '["b.example.com"]', gateways="[shop/gw]", namespace="other")
        + vs("legacy", '["c.example.com"]', gateways="[gw.shop]", namespace="other")
        + vs("same-name-elsewhere", '["d.example.com"]', gateways="[gw]", namespace="other")
        + vs("other-gateway", '["e.example.com"]', gateways="[shop/public]")
    )
    out = compile_gateway(gateway(http_server('["*.example.com"]')) + routes)
    assert sorted(vhosts(out)) == ["a.example.com:80", "b.example.com:80", "c.example.com:80"]


def test_virtual_services_bound_only_to_the_mesh_never_appear() -> None:
    routes = (
        vs("sidecar-only", '["a.example.com"]', gateways="[]")
        + vs("explicit-mesh", '["b.example.com"]', gateways="[mesh]")
        + vs("both", '["c.example.com"]', gateways="[mesh, gw]")
    )
    without = routes.replace("  gateways: []\n", "")
    out = compile_gateway(gateway(http_server('["*.example.com"]')) + without)
    assert list(vhosts(out)) == ["c.example.com:80"]


def test_an_unexported_virtual_service_of_another_namespace_is_not_bound() -> None:
    hidden = vs("hidden", '["a.example.com"]', gateways="[shop/gw]", namespace="other").replace(
        "  gateways:", "  exportTo: [.]\n  gateways:")
    out = compile_gateway(gateway(http_server('["*.example.com"]')) + hidden)
    assert list(vhosts(out)) == ["blackhole:80"]


def test_several_virtual_services_on_one_host_merge_with_catch_alls_last() -> None:
    first = vs("first", '["shop.example.com"]', http="""  - name: everything
    route: [{destination: {host: web}}]
""")
    second = vs("second", '["shop.example.com"]', http="""  - name: api
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api}}]
  - name: login
    match: [{uri: {exact: /login}}]
    route: [{destination: {host: api}}]
""")
    out = compile_gateway(gateway(http_server('["shop.example.com"]')) + first + second)
    routes = vhosts(out)["shop.example.com:80"]["routes"]
    assert [r["name"] for r in routes] == ["api", "login", "everything"]
    assert [r["match"] for r in routes] == [
        {"prefix": "/api", "case_sensitive": True}, {"path": "/login", "case_sensitive": True}, {"prefix": "/"}]
    assert clusters_of(vhosts(out)["shop.example.com:80"]) == [API, API, WEB]


def test_routes_are_built_with_the_server_port_and_istio_defaults() -> None:
    http = """  - name: redirect-port
    match: [{uri: {exact: /here}}]
    redirect: {uri: /there, derivePort: FROM_REQUEST_PORT}
  - name: default
    route: [{destination: {host: web}}]
"""
    out = compile_gateway(INGRESS_SERVICE + "---\n" + gateway(http_server('["shop.example.com"]', port=443).replace(
        "name: http, protocol: HTTP", "name: alt, protocol: HTTP")) + vs("front", '["shop.example.com"]', http=http))
    (vhost,) = vhosts(out, "http.8443").values()
    assert vhost["name"] == "shop.example.com:443"
    redirect, default = vhost["routes"]
    assert redirect["redirect"] == {"path_redirect": "/there", "port_redirect": 443, "response_code": "MOVED_PERMANENTLY"}
    assert default["route"]["cluster"] == WEB
    assert default["route"]["timeout"] == "0s"
    assert default["route"]["retry_policy"]["num_retries"] == 2


def test_match_gateways_keep_a_route_for_the_listed_gateways_only() -> None:
    http = """  - name: elsewhere
    match: [{uri: {prefix: /x}, gateways: [shop/public]}]
    route: [{destination: {host: api}}]
  - name: here
    match: [{uri: {prefix: /y}, gateways: [gw]}]
    route: [{destination: {host: api}}]
  - name: rest
    route: [{destination: {host: web}}]
"""
    out = compile_gateway(gateway(http_server('["shop.example.com"]')) + vs("front", '["shop.example.com"]',
                                                                           gateways="[gw, public]", http=http))
    assert [r["name"] for r in vhosts(out)["shop.example.com:80"]["routes"]] == ["here", "rest"]


def test_without_routes_the_port_answers_404_from_a_blackhole_virtual_host() -> None:
    out = compile_gateway(INGRESS_SERVICE + "---\n" + gateway(http_server('["shop.example.com"]')))
    config = route_configs(out)["http.8080"]
    assert config["virtual_hosts"] == [{"name": "blackhole:80", "domains": ["*"], "routes": []}]


def test_a_virtual_service_without_http_routes_gives_no_virtual_host() -> None:
    tcp_only = """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  tcp:
  - route: [{destination: {host: db}}]
"""
    out = compile_gateway(gateway(http_server('["shop.example.com"]')) + tcp_only)
    assert list(vhosts(out)) == ["blackhole:80"]


def test_https_redirect_requires_tls_on_every_host_of_the_server() -> None:
    servers = http_server('["shop.example.com", "old.example.com"]', extra="    tls: {httpsRedirect: true}\n")
    servers += http_server('["plain.example.com"]')
    out = compile_gateway(gateway(servers) + vs("front", '["shop.example.com", "plain.example.com"]'))
    found = vhosts(out)
    assert found["shop.example.com:80"]["require_tls"] == "ALL"
    assert clusters_of(found["shop.example.com:80"]) == [WEB]
    # a redirected host without any route still gets its virtual host, which only redirects
    assert found["old.example.com:80"] == {"name": "old.example.com:80", "domains": ["old.example.com"],
                                           "routes": [], "require_tls": "ALL"}
    assert "require_tls" not in found["plain.example.com:80"]


# -- terminated TLS ---------------------------------------------------------------------------
def https_server(tls: str, hosts: str = '["secure.example.com"]', name: str = "https", port: int = 443) -> str:
    return f"""  - port: {{number: {port}, name: {name}, protocol: HTTPS}}
    hosts: {hosts}
    tls: {tls}
"""


def test_simple_tls_with_a_credential_name_reads_the_secret_over_sds() -> None:
    text = INGRESS_SERVICE + "---\n" + gateway(https_server("{mode: SIMPLE, credentialName: secure-cred}"))
    out = compile_gateway(text + vs("secure", '["secure.example.com"]'))
    listener = listeners(out)["0.0.0.0_8443"]
    assert listener["listener_filters"] == TLS_INSPECTOR
    (chain,) = listener["filter_chains"]
    assert chain["filter_chain_match"] == {"server_names": ["secure.example.com"]}
    context = tls_context(chain)
    assert context["require_client_certificate"] is False
    common = context["common_tls_context"]
    assert common["alpn_protocols"] == ["h2", "http/1.1"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("kubernetes://secure-cred")]
    assert "combined_validation_context" not in common
    # the HTTPS route configuration is named after the *server* port, the port name and the gateway
    assert list(route_configs(out)) == ["https.443.https.gw.shop"]
    assert list(vhosts(out, "https.443.https.gw.shop")) == ["secure.example.com:443"]
    names = [c["name"] for c in out.bootstrap["static_resources"]["clusters"]]
    assert "sds-grpc" in names


def test_simple_tls_from_mounted_files_uses_the_agents_file_secrets() -> None:
    tls = "{mode: SIMPLE, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key}"
    out = compile_gateway(gateway(https_server(tls)) + vs("secure", '["secure.example.com"]'))
    common = tls_context(listeners(out)["0.0.0.0_443"]["filter_chains"][0])["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("file-cert:/etc/certs/tls.crt~/etc/certs/tls.key")]


def test_mutual_tls_adds_the_ca_and_requires_a_client_certificate() -> None:
    servers = https_server("{mode: MUTUAL, credentialName: secure-cred}")
    servers += https_server("{mode: MUTUAL, serverCertificate: /c/tls.crt, privateKey: /c/tls.key, "
                            "caCertificates: /c/ca.crt}", hosts='["files.example.com"]', name="files")
    servers += https_server("{mode: OPTIONAL_MUTUAL, credentialName: opt-cred}", hosts='["opt.example.com"]',
                            name="optional")
    out = compile_gateway(gateway(servers) + vs("all", '["secure.example.com", "files.example.com", "opt.example.com"]'))
    chains = {c["filter_chain_match"]["server_names"][0]: tls_context(c)
              for c in listeners(out)["0.0.0.0_443"]["filter_chains"]}
    assert chains["secure.example.com"]["require_client_certificate"] is True
    assert chains["secure.example.com"]["common_tls_context"]["combined_validation_context"] == {
        "default_validation_context": {},
        "validation_context_sds_secret_config": sds("kubernetes://secure-cred-cacert"),
    }
    assert chains["files.example.com"]["require_client_certificate"] is True
    assert chains["files.example.com"]["common_tls_context"]["combined_validation_context"][
        "validation_context_sds_secret_config"] == sds("file-root:/c/ca.crt")
    assert chains["opt.example.com"]["require_client_certificate"] is False
    assert chains["opt.example.com"]["common_tls_context"]["combined_validation_context"][
        "validation_context_sds_secret_config"] == sds("kubernetes://opt-cred-cacert")
    assert sorted(route_configs(out)) == ["https.443.files.gw.shop", "https.443.https.gw.shop",
                                          "https.443.optional.gw.shop"]


def test_istio_mutual_uses_the_mesh_certificate() -> None:
    out = compile_gateway(gateway(https_server("{mode: ISTIO_MUTUAL}")) + vs("secure", '["secure.example.com"]'))
    context = tls_context(listeners(out)["0.0.0.0_443"]["filter_chains"][0])
    assert context["require_client_certificate"] is True
    common = context["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("default")]
    assert common["combined_validation_context"]["validation_context_sds_secret_config"] == sds("ROOTCA")


def test_a_terminating_server_without_a_certificate_is_left_out_and_reported() -> None:
    servers = http_server('["shop.example.com"]') + https_server("{mode: SIMPLE}")
    out = compile_gateway(gateway(servers) + vs("front", '["shop.example.com", "secure.example.com"]'))
    assert list(listeners(out)) == ["0.0.0.0_80"]
    assert losses(out) == [("MSH400", "spec.servers[1]")]


def test_https_and_http_servers_get_separate_listeners_and_configurations() -> None:
    servers = http_server('["shop.example.com"]', extra="    tls: {httpsRedirect: true}\n")
    servers += https_server("{mode: SIMPLE, credentialName: shop-cred}", hosts='["shop.example.com"]')
    out = compile_gateway(INGRESS_SERVICE + "---\n" + gateway(servers) + vs("front", '["shop.example.com"]'))
    assert list(listeners(out)) == ["0.0.0.0_8080", "0.0.0.0_8443"]
    assert vhosts(out, "http.8080")["shop.example.com:80"]["require_tls"] == "ALL"
    secure = vhosts(out, "https.443.https.gw.shop")["shop.example.com:443"]
    assert "require_tls" not in secure
    assert clusters_of(secure) == [WEB]


# -- passthrough and TCP ----------------------------------------------------------------------
PASSTHROUGH_VS = """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vault, namespace: shop}
spec:
  hosts: ["vault.example.com", "db.example.com"]
  gateways: [gw]
  tls:
  - match: [{sniHosts: ["vault.example.com"]}]
    route: [{destination: {host: vault}}]
  - match: [{sniHosts: ["db.example.com"], port: 443}, {sniHosts: ["never.example.com"], port: 9999}]
    route: [{destination: {host: db}}]
"""


def test_passthrough_sends_each_sni_host_to_its_destination() -> None:
    server = """  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}
"""
    out = compile_gateway(gateway(server) + PASSTHROUGH_VS)
    listener = listeners(out)["0.0.0.0_443"]
    assert listener["listener_filters"] == TLS_INSPECTOR
    chains = listener["filter_chains"]
    assert [c["filter_chain_match"] for c in chains] == [{"server_names": ["vault.example.com"]},
                                                         {"server_names": ["db.example.com"]}]
    assert [tcp_proxy(c)["cluster"] for c in chains] == [VAULT, DB]
    assert all("transport_socket" not in c for c in chains)  # nothing is terminated
    assert route_configs(out) == {}


def test_an_sni_host_claimed_by_an_earlier_match_gets_no_second_chain() -> None:
    server = """  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}
"""
    again = PASSTHROUGH_VS.replace("name: vault,", "name: vault-again,").replace("{host: vault}", "{host: api}")
    out = compile_gateway(gateway(server) + PASSTHROUGH_VS + again)
    chains = listeners(out)["0.0.0.0_443"]["filter_chains"]
    assert [tcp_proxy(c)["cluster"] for c in chains] == [VAULT, DB]
    assert validate(out.bootstrap).ok


def test_servers_taking_the_same_connections_keep_the_first() -> None:
    servers = http_server('["shop.example.com"]', port=9000) + """  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
"""
    tcp = """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - route: [{destination: {host: db}}]
"""
    out = compile_gateway(gateway(servers) + vs("front", '["shop.example.com"]') + tcp)
    (chain,) = listeners(out)["0.0.0.0_9000"]["filter_chains"]
    assert chain["filters"][0]["name"] == HCM_NAME
    assert losses(out) == [("MSH400", "spec.servers[1]")]


def test_auto_passthrough_is_reported_at_the_server() -> None:
    servers = http_server('["shop.example.com"]') + """  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: AUTO_PASSTHROUGH}
"""
    out = compile_gateway(gateway(servers) + vs("front", '["shop.example.com"]'))
    assert list(listeners(out)) == ["0.0.0.0_80"]
    assert losses(out) == [("MSH400", "spec.servers[1]")]
    assert "AUTO_PASSTHROUGH" in out.findings[0].message


def test_a_tcp_server_forwards_to_the_first_matching_tcp_route() -> None:
    server = """  - port: {number: 5432, name: tcp, protocol: TCP}
    hosts: ["*"]
"""
    routes = """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - match: [{port: 9999}]
    route: [{destination: {host: api}}]
  - match: [{port: 5432}]
    route:
    - {destination: {host: db}, weight: 75}
    - {destination: {host: web, port: {number: 9080}}, weight: 25}
  - route: [{destination: {host: api}}]
"""
    out = compile_gateway(gateway(server) + routes)
    (chain,) = listeners(out)["0.0.0.0_5432"]["filter_chains"]
    assert "filter_chain_match" not in chain
    assert tcp_proxy(chain)["weighted_clusters"] == {"clusters": [{"name": DB, "weight": 75},
                                                                  {"name": WEB, "weight": 25}]}
    assert out.findings == []


def test_a_terminated_tls_server_forwards_the_stream_to_tcp_routes() -> None:
    server = """  - port: {number: 5433, name: tls-db, protocol: TLS}
    hosts: ["db.example.com"]
    tls: {mode: SIMPLE, credentialName: db-cred}
"""
    routes = """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: ["db.example.com"]
  gateways: [gw]
  tcp:
  - route: [{destination: {host: db}}]
"""
    out = compile_gateway(gateway(server) + routes)
    (chain,) = listeners(out)["0.0.0.0_5433"]["filter_chains"]
    assert chain["filter_chain_match"] == {"server_names": ["db.example.com"]}
    assert tcp_proxy(chain)["cluster"] == DB
    common = tls_context(chain)["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("kubernetes://db-cred")]
    assert "alpn_protocols" not in common


# -- Gateway API --------------------------------------------------------------------------------
GATEWAY_API = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - name: web
    port: 80
    protocol: HTTP
    hostname: "*.example.com"
    allowedRoutes: {namespaces: {from: All}}
  - name: secure
    port: 443
    protocol: HTTPS
    hostname: secure.example.com
    tls:
      mode: Terminate
      certificateRefs: [{name: secure-cert}]
"""


def http_route(name: str, parents: str, rules: str, hostnames: str = "", namespace: str = "shop") -> str:
    names = f"  hostnames: {hostnames}\n" if hostnames else ""
    return f"""
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  parentRefs: {parents}
{names}  rules:
{rules}"""


TO_WEB = """  - backendRefs: [{name: web, port: 9080}]
"""


def test_gateway_api_listeners_bind_their_own_port() -> None:
    out = compile_gateway(INGRESS_SERVICE + "---\n" + GATEWAY_API
                          + http_route("front", "[{name: gw, sectionName: web}]", TO_WEB, '["shop.example.com"]'))
    assert list(listeners(out)) == ["0.0.0.0_80", "0.0.0.0_443"]  # not 8080/8443: no Service in front
    assert vhosts(out)["shop.example.com:80"]["domains"] == ["shop.example.com"]


def test_gateway_api_hostnames_intersect_the_listener_hostname() -> None:
    routes = (
        http_route("front", "[{name: gw, sectionName: web}]", TO_WEB, '["shop.example.com", "shop.other.org"]')
        + http_route("wide", "[{name: gw, sectionName: web}]", TO_WEB, '["*.sub.example.com"]')
        + http_route("any", "[{name: gw, sectionName: web}]", TO_WEB)
    )
    out = compile_gateway(GATEWAY_API + routes)
    assert sorted(vhosts(out)) == ["*.example.com:80", "*.sub.example.com:80", "shop.example.com:80"]


def test_gateway_api_section_name_and_port_bind_a_route_to_one_listener() -> None:
    routes = (
        http_route("web-only", "[{name: gw, sectionName: web}]", TO_WEB, '["secure.example.com"]')
        + http_route("secure-only", "[{name: gw, sectionName: secure}]", TO_WEB.replace("web", "api"))
        + http_route("by-port", "[{name: gw, port: 80}]", TO_WEB, '["port.example.com"]')
        + http_route("other-gateway", "[{name: public, sectionName: web}]", TO_WEB, '["other.example.com"]')
    )
    out = compile_gateway(GATEWAY_API + routes)
    assert sorted(vhosts(out)) == ["port.example.com:80", "secure.example.com:80"]
    name = "https.443.default.gw-istio-autogenerated-k8s-gateway-secure.shop"
    assert list(route_configs(out)) == ["http.80", name]
    secure = vhosts(out, name)
    assert list(secure) == ["secure.example.com:443"]
    assert clusters_of(secure["secure.example.com:443"]) == [API]
    chain = listeners(out)["0.0.0.0_443"]["filter_chains"][0]
    assert chain["filter_chain_match"] == {"server_names": ["secure.example.com"]}
    common = tls_context(chain)["common_tls_context"]
    assert common["tls_certificate_sds_secret_configs"] == [sds("kubernetes-gateway://shop/secure-cert")]


def test_gateway_api_allowed_routes_namespaces() -> None:
    routes = (
        http_route("same-ns-listener", "[{name: gw, namespace: shop, sectionName: secure}]", TO_WEB,
                   namespace="other")
        + http_route("all-ns-listener", "[{name: gw, namespace: shop, sectionName: web}]", TO_WEB,
                     '["other.example.com"]', namespace="other")
    )
    out = compile_gateway(GATEWAY_API + routes)
    assert list(vhosts(out)) == ["other.example.com:80"]
    assert list(vhosts(out, "https.443.default.gw-istio-autogenerated-k8s-gateway-secure.shop")) == ["blackhole:443"]


def test_gateway_api_precedence_exact_then_longest_prefix_then_method_headers_query() -> None:
    rules = """  - name: root
    matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 9080}]
  - name: api
    matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 9080}]
  - name: query
    matches: [{path: {type: PathPrefix, value: /api}, queryParams: [{name: debug, value: "1"}]}]
    backendRefs: [{name: api, port: 9080}]
  - name: header
    matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-canary, value: "1"}]}]
    backendRefs: [{name: api, port: 9080}]
  - name: method
    matches: [{path: {type: PathPrefix, value: /api}, method: POST}]
    backendRefs: [{name: api, port: 9080}]
  - name: longer
    matches: [{path: {type: PathPrefix, value: /api/v2}}]
    backendRefs: [{name: api, port: 9080}]
"""
    exact = """  - name: exact
    matches: [{path: {type: Exact, value: /api/login}}]
    backendRefs: [{name: api, port: 9080}]
"""
    routes = (http_route("many", "[{name: gw}]", rules, '["shop.example.com"]')
              + http_route("other-route", "[{name: gw}]", exact, '["shop.example.com"]'))
    out = compile_gateway(GATEWAY_API + routes)
    found = vhosts(out)["shop.example.com:80"]["routes"]
    assert [r["name"] for r in found] == ["exact", "longer", "method", "header", "query", "api", "root"]


def test_gateway_api_redirect_defaults_to_302() -> None:
    rules = """  - matches: [{path: {type: PathPrefix, value: /}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https}
"""
    out = compile_gateway(GATEWAY_API + http_route("to-https", "[{name: gw, sectionName: web}]", rules,
                                                   '["shop.example.com"]'))
    (route,) = vhosts(out)["shop.example.com:80"]["routes"]
    assert route["redirect"] == {"scheme_redirect": "https", "response_code": "FOUND"}


def test_gateway_api_tls_passthrough_with_a_tls_route() -> None:
    text = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - {name: tls, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: vault, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [vault.example.com]
  rules:
  - backendRefs: [{name: vault, port: 8200}]
"""
    out = compile_gateway(text)
    (chain,) = listeners(out)["0.0.0.0_443"]["filter_chains"]
    assert chain["filter_chain_match"] == {"server_names": ["vault.example.com"]}
    assert tcp_proxy(chain)["cluster"] == VAULT


def test_gateway_api_path_prefix_is_segment_aware() -> None:
    """§1.3: Istio matches a Gateway API PathPrefix by whole segments (path_separated_prefix)."""
    rules = """  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 9080}]
"""
    out = compile_gateway(GATEWAY_API + http_route("api", "[{name: gw}]", rules, '["shop.example.com"]'))
    (route,) = vhosts(out)["shop.example.com:80"]["routes"]
    assert route["match"]["path_separated_prefix"] == "/api"


# -- errors ---------------------------------------------------------------------------------------
def test_a_gateway_not_in_the_inputs_is_a_usage_error_naming_the_known_ones() -> None:
    text = gateway(http_server()) + "\n---\n" + gateway(http_server(), name="public", namespace="edge")
    with pytest.raises(UsageError) as caught:
        compile_gateway(text, name="nope", namespace="shop")
    assert str(caught.value) == "gateway nope.shop is not in the inputs"
    assert caught.value.hint == "gateways in the inputs: gw.shop, public.edge"


def test_no_gateway_at_all_says_none() -> None:
    with pytest.raises(UsageError) as caught:
        compile_gateway("", name="nope", namespace="shop")
    assert caught.value.hint == "gateways in the inputs: none"


# -- the output is what a real Envoy accepts --------------------------------------------------------
MESHES = {
    "http-and-redirect": INGRESS_SERVICE + "---\n" + gateway(
        http_server('["shop.example.com", "old.example.com"]', extra="    tls: {httpsRedirect: true}\n")
        + http_server('["*"]')) + vs("front", '["shop.example.com", "*"]'),
    "tls-modes": gateway(
        https_server("{mode: SIMPLE, credentialName: a}", hosts='["a.example.com"]', name="a")
        + https_server("{mode: MUTUAL, serverCertificate: /c/tls.crt, privateKey: /c/tls.key, caCertificates: /c/ca.crt}",
                       hosts='["b.example.com"]', name="b")
        + https_server("{mode: ISTIO_MUTUAL}", hosts='["c.example.com"]', name="c")
        + https_server("{mode: SIMPLE, credentialName: d}", hosts='["*"]', name="d", port=8443))
    + vs("all", '["*.example.com"]'),
    "passthrough-and-tcp": gateway("""  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 5432, name: tcp, protocol: TCP}
    hosts: ["*"]
""") + PASSTHROUGH_VS + """
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - route:
    - {destination: {host: db}, weight: 50}
    - {destination: {host: web, port: {number: 9080}}, weight: 50}
""",
    "no-routes": gateway(http_server('["a.example.com"]') + http_server('["b.example.com"]', port=8080)),
    "gateway-api": GATEWAY_API + http_route("front", "[{name: gw}]", TO_WEB, '["shop.example.com"]')
    + http_route("secure", "[{name: gw, sectionName: secure}]", TO_WEB),
}


@pytest.mark.parametrize("name", sorted(MESHES))
def test_envoy_accepts_the_gateway(name: str) -> None:
    out = compile_gateway(MESHES[name])
    verdict = validate(out.bootstrap)
    assert verdict.ok, verdict.collapsed[-600:]


@requires_corpus()
@pytest.mark.parametrize("sample", ["networking/bookinfo-gateway.yaml", "gateway-api/bookinfo-gateway.yaml"])
def test_the_bookinfo_gateway(sample: str) -> None:
    """Spot checks of §3 on the real sample (the goldens compare the whole output)."""
    bookinfo = CORPUS / "istio" / "samples" / "bookinfo"
    text = (bookinfo / "platform" / "kube" / "bookinfo.yaml").read_text() + "\n---\n" + (bookinfo / sample).read_text()
    out = translate(lower(read_text(text, "bookinfo.yaml").docs),
                    EnvoyOptions(proxy="gateway", target=("bookinfo-gateway", "default")))
    port = 8080 if sample.startswith("networking") else 80  # no gateway Service in the inputs: the server port
    (listener,) = out.bootstrap["static_resources"]["listeners"]
    assert listener["name"] == f"0.0.0.0_{port}"
    config = hcm(listener["filter_chains"][0])["route_config"]
    assert config["name"] == f"http.{port}"
    (vhost,) = config["virtual_hosts"]
    assert (vhost["name"], vhost["domains"]) == (f"*:{port}", ["*"])
    prefix = "prefix" if sample.startswith("networking") else "path_separated_prefix"  # §1.3
    paths = sorted((key, value) for r in vhost["routes"] for key, value in r["match"].items() if key != "case_sensitive")
    assert paths == [("path", "/login"), ("path", "/logout"), ("path", "/productpage"),
                     (prefix, "/api/v1/products"), (prefix, "/static")]
    assert {r["route"]["cluster"] for r in vhost["routes"]} == {"outbound|9080||productpage.default.svc.cluster.local"}
    assert validate(out.bootstrap).ok
