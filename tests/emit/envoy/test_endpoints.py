"""Endpoints behind a Service port: Pods, EndpointSlices/Endpoints, named ports, readiness,
subsets, the tlsMode metadata auto mTLS reads, and what a host name resolves to."""

from __future__ import annotations

from meshctl.emit.envoy.endpoints import (
    UpstreamEndpoint,
    destination,
    in_subset,
    lb_endpoints,
    load_assignment,
    service_endpoints,
)
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Protocol, Service

TLS_ISTIO = {"filter_metadata": {"envoy.transport_socket_match": {"tlsMode": "istio"}}}

SERVICE = """
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: %s}]
"""


def model(text: str) -> MeshModel:
    return lower(read_text(text, "test.yaml").docs)


def pod(name: str, ip: str | None, *, labels: str = "app: reviews", ready: str | None = "True",
        sidecar: bool = False, ports: str = "[{name: http, containerPort: 9080}]") -> str:
    proxy = "\n  - {name: istio-proxy, image: proxyv2}" if sidecar else ""
    status = []
    if ip:
        status.append(f"podIP: {ip}")
    if ready is not None:
        status.append(f'conditions: [{{type: Ready, status: "{ready}"}}]')
    return f"""
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {{{labels}}}}}
spec:
  containers:
  - {{name: app, image: app, ports: {ports}}}{proxy}
status: {{{", ".join(status)}}}
"""


def reviews(mesh: MeshModel) -> Service:
    return mesh.services_for("reviews.default.svc.cluster.local")[0]


def endpoints_of(text: str, subset: dict[str, str] | None = None) -> list[dict[str, object]] | None:
    mesh = model(text)
    service = reviews(mesh)
    return lb_endpoints(mesh, service, service.ports[0], subset)


def addresses(found: list[dict[str, object]] | None) -> list[tuple[str, int]]:
    assert found is not None
    out = []
    for e in found:
        socket = e["endpoint"]["address"]["socket_address"]  # type: ignore[index]
        out.append((socket["address"], socket["port_value"]))
    return out


# -- from Pods ----------------------------------------------------------------------------------
def test_pods_selected_by_the_service_sorted_numerically():
    text = SERVICE % 9080 + pod("r-b", "10.0.0.10") + pod("r-a", "10.0.0.9") + \
        pod("other", "10.0.0.1", labels="app: ratings")
    assert addresses(endpoints_of(text)) == [("10.0.0.9", 9080), ("10.0.0.10", 9080)]


def test_exact_lb_endpoint_of_a_pod_with_and_without_a_sidecar():
    text = SERVICE % 9080 + pod("r-a", "10.0.0.1", sidecar=True) + pod("r-b", "10.0.0.2")
    assert endpoints_of(text) == [
        {"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 9080}}},
         "metadata": TLS_ISTIO},
        {"endpoint": {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 9080}}}},
    ]


def test_not_ready_pods_are_left_out_but_an_unknown_condition_is_kept():
    text = SERVICE % 9080 + pod("r-a", "10.0.0.1", ready="False") + pod("r-b", "10.0.0.2", ready=None)
    assert addresses(endpoints_of(text)) == [("10.0.0.2", 9080)]


def test_named_target_port_resolves_per_pod_and_pods_without_the_name_are_left_out():
    text = SERVICE % "http" + pod("r-a", "10.0.0.1", ports="[{name: http, containerPort: 8080}]") + \
        pod("r-b", "10.0.0.2", ports="[{name: web, containerPort: 8081}]")
    assert addresses(endpoints_of(text)) == [("10.0.0.1", 8080)]


def test_numeric_target_port_and_default_to_the_service_port():
    assert addresses(endpoints_of(SERVICE % 8443 + pod("r-a", "10.0.0.1"))) == [("10.0.0.1", 8443)]
    text = SERVICE.replace(", targetPort: %s", "") + pod("r-a", "10.0.0.1")
    assert addresses(endpoints_of(text)) == [("10.0.0.1", 9080)]


def test_nothing_known_is_none_and_known_but_empty_is_a_list():
    deployment = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: default}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: app}]}
"""
    assert endpoints_of(SERVICE % 9080 + deployment) is None
    assert endpoints_of(SERVICE % 9080 + pod("r-a", None)) is None  # no podIP: not running
    assert endpoints_of(SERVICE % 9080 + pod("r-a", "10.0.0.1", ready="False")) == []


# -- from EndpointSlices / Endpoints ------------------------------------------------------------
SLICE = """
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-abc, namespace: default, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 9080}, {name: metrics, port: 15090}]
endpoints:
- addresses: [10.0.1.1]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: reviews-v1}
- addresses: [10.0.1.2]
  conditions: {ready: false}
  targetRef: {kind: Pod, name: reviews-v2}
- addresses: [10.0.1.3]
  targetRef: {kind: Pod, name: reviews-gone}
"""


def test_endpoint_slice_port_by_name_ready_only_and_labels_from_the_target_pod():
    text = SERVICE % "http" + SLICE + pod("reviews-v1", "10.9.9.9", labels="app: reviews, version: v1",
                                           sidecar=True)
    mesh = model(text)
    found = service_endpoints(mesh, reviews(mesh), reviews(mesh).ports[0])
    # the slice wins over the Pods: its addresses, not the pod's own podIP; the endpoint of a
    # pod not among the inputs is meshed as the Service's known workloads are (all meshed here)
    assert found == [
        UpstreamEndpoint("10.0.1.1", 9080, True, {"app": "reviews", "version": "v1"}),
        UpstreamEndpoint("10.0.1.3", 9080, True, None),
    ]


def test_subset_filtering_needs_known_labels():
    text = SERVICE % "http" + SLICE + pod("reviews-v1", None, labels="app: reviews, version: v1")
    assert addresses(endpoints_of(text, {"version": "v1"})) == [("10.0.1.1", 9080)]
    assert addresses(endpoints_of(text, {"version": "v2"})) == []
    assert addresses(endpoints_of(text, {})) == [("10.0.1.1", 9080), ("10.0.1.3", 9080)]


def test_pod_subset_filtering():
    text = SERVICE % 9080 + pod("r-1", "10.0.0.1", labels="app: reviews, version: v1") + \
        pod("r-2", "10.0.0.2", labels="app: reviews, version: v2")
    assert addresses(endpoints_of(text, {"version": "v2"})) == [("10.0.0.2", 9080)]


def test_unknown_slice_pod_is_meshed_when_the_services_workloads_are():
    text = """
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: default}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: app}]}
""" + SERVICE % "http" + SLICE
    found = endpoints_of(text)
    assert found is not None and all(e.get("metadata") == TLS_ISTIO for e in found)


def test_endpoints_object_and_slice_for_the_same_addresses_are_deduplicated():
    legacy = """
---
apiVersion: v1
kind: Endpoints
metadata: {name: reviews, namespace: default}
subsets:
- addresses: [{ip: 10.0.1.1, targetRef: {kind: Pod, name: reviews-v1}}, {ip: 10.0.1.4}]
  notReadyAddresses: [{ip: 10.0.1.5}]
  ports: [{name: http, port: 9080}]
"""
    text = SERVICE % "http" + SLICE + legacy
    assert addresses(endpoints_of(text)) == [("10.0.1.1", 9080), ("10.0.1.3", 9080), ("10.0.1.4", 9080)]


def test_unnamed_single_port_matches_the_unnamed_slice_port():
    text = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-x, namespace: default, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{port: 8080}]
endpoints: [{addresses: [10.0.2.1]}]
"""
    assert addresses(endpoints_of(text)) == [("10.0.2.1", 8080)]


# -- grouping and subsets -----------------------------------------------------------------------
def test_load_assignment_groups_by_locality_without_locality_first():
    east = {"topology.kubernetes.io/region": "us-east1", "topology.kubernetes.io/zone": "us-east1-b"}
    found = load_assignment("c", [
        UpstreamEndpoint("10.0.0.2", 80, False, east),
        UpstreamEndpoint("10.0.0.1", 80, False, {}),
        UpstreamEndpoint("10.0.0.3", 80, False, east),
    ])
    socket = {"socket_address": {"address": "10.0.0.2", "port_value": 80}}
    assert found["cluster_name"] == "c"
    assert [g.get("locality") for g in found["endpoints"]] == [None, {"region": "us-east1", "zone": "us-east1-b"}]
    assert found["endpoints"][1]["lb_endpoints"][0] == {"endpoint": {"address": socket}}
    assert len(found["endpoints"][1]["lb_endpoints"]) == 2


def test_in_subset_without_labels_keeps_everything():
    unknown = UpstreamEndpoint("10.0.0.1", 80, False, None)
    assert in_subset([unknown], None) == [unknown]
    assert in_subset([unknown], {"version": "v1"}) == []


# -- destinations -------------------------------------------------------------------------------
ENTRIES = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api-other, namespace: other}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api-own, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 8443, name: grpc, protocol: GRPC}]
  resolution: DNS
  location: MESH_INTERNAL
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: hidden, namespace: other}
spec:
  hosts: [hidden.example.com]
  exportTo: ["."]
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: kube-system}
spec:
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
"""


def test_serviceentry_in_the_viewers_namespace_wins_and_export_to_hides():
    mesh = model(ENTRIES)
    own = destination(mesh, "default", "api.example.com")
    assert own is not None and own.entry is not None and own.entry.name == "api-own"
    assert not own.mesh_external and own.protocol(8443) is Protocol.GRPC
    other = destination(mesh, "shop", "api.example.com")
    assert other is not None and other.entry is not None and other.entry.name == "api-other"
    assert other.mesh_external and other.ports() == [443]
    assert destination(mesh, "default", "hidden.example.com") is None
    assert destination(mesh, "other", "hidden.example.com") is not None
    assert destination(mesh, "default", "nothing.example.com") is None


def test_udp_service_ports_get_no_cluster_port():
    found = destination(model(ENTRIES), "default", "dns.kube-system.svc.cluster.local")
    assert found is not None and found.ports() == [53] and found.protocol(53) is Protocol.TCP
