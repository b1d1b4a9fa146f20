"""Injection, proxy settings, opaque ports and failure accrual (mesh-translation.md §3.3)."""

from __future__ import annotations

from pathlib import Path

from tests.emit.istio.helpers import check_clean, find, has_loss, kinds, kubernetes_docs, line_of, run, spec

NAMESPACE = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {{team: a}}
  annotations:
    linkerd.io/inject: {inject}
"""


def deployment(name: str = "web", annotations: str = "", ports: str = "[{name: http, containerPort: 8080}]") -> str:
    meta = f"\n      annotations:\n{annotations}" if annotations else "\n"
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}{meta}    spec:
      containers:
      - name: {name}
        image: example/{name}:1
        ports: {ports}
"""


def test_namespace_injection_becomes_the_istio_injection_label(tmp_path: Path) -> None:
    text = NAMESPACE.format(inject="enabled") + deployment()
    out = run(text)
    namespace = find(out, "Namespace", "shop")
    assert namespace["metadata"]["labels"] == {"istio-injection": "enabled", "team": "a"}
    assert namespace["metadata"]["annotations"] == {"linkerd.io/inject": "enabled",
                                                    "meshctl.io/translated-from": "Namespace/shop/shop"}
    assert "spec" not in namespace
    check_clean(tmp_path, out, kubernetes_docs(text))
    assert find(run(NAMESPACE.format(inject="disabled")), "Namespace", "shop")["metadata"]["labels"][
        "istio-injection"] == "disabled"


def test_ingress_mode_is_injection_and_a_note() -> None:
    text = NAMESPACE.format(inject="ingress")
    out = run(text)
    assert find(out, "Namespace", "shop")["metadata"]["labels"]["istio-injection"] == "enabled"
    assert has_loss(out, "MSH401", line_of(text, "linkerd.io/inject"), "ingress mode")


def test_a_revision_label_keeps_the_namespace_as_it_is() -> None:
    text = NAMESPACE.format(inject="enabled").replace("labels: {team: a}", "labels: {istio.io/rev: canary}")
    out = run(text)
    assert kinds(out) == []
    assert has_loss(out, "MSH401", line_of(text, "linkerd.io/inject"), "istio.io/rev")


def test_pod_injection_is_reported_with_the_label_to_set() -> None:
    text = NAMESPACE.format(inject="disabled") + deployment(annotations="        linkerd.io/inject: enabled\n")
    out = run(text)
    assert has_loss(out, "MSH400", line_of(text, "linkerd.io/inject", 2),
                    'set the pod-template label sidecar.istio.io/inject: "true" on Deployment shop/web')
    opt_out = NAMESPACE.format(inject="enabled") + deployment(annotations="        linkerd.io/inject: disabled\n")
    assert has_loss(run(opt_out), "MSH400", line_of(opt_out, "linkerd.io/inject", 2),
                    'sidecar.istio.io/inject: "false"')
    redundant = NAMESPACE.format(inject="enabled") + deployment(annotations="        linkerd.io/inject: enabled\n")
    assert not has_loss(run(redundant), "MSH400", None, "sidecar.istio.io/inject")


def test_proxy_settings_name_their_istio_annotation() -> None:
    text = NAMESPACE.format(inject="enabled") + deployment(annotations=(
        '        config.linkerd.io/skip-inbound-ports: "4222"\n        config.linkerd.io/proxy-cpu-request: 100m\n'
        '        config.linkerd.io/proxy-log-level: debug\n'))
    out = run(text)
    assert has_loss(out, "MSH400", line_of(text, "skip-inbound-ports"),
                    "set the pod annotation traffic.sidecar.istio.io/excludeInboundPorts: '4222'")
    assert has_loss(out, "MSH400", line_of(text, "proxy-cpu-request"), "sidecar.istio.io/proxyCPU: '100m'")
    assert has_loss(out, "MSH400", line_of(text, "proxy-log-level"), "no Istio equivalent")


def test_an_injected_manifest_is_reported() -> None:
    text = NAMESPACE.format(inject="enabled") + deployment().replace(
        "      - name: web\n", "      - name: linkerd-proxy\n        image: cr.l5d.io/linkerd/proxy:edge\n"
        "      - name: web\n")
    assert has_loss(run(text), "MSH400", line_of(text, "kind: Deployment") - 1, "already contains the linkerd-proxy")


SERVICE = """---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: shop
  labels: {{app: {name}}}
  annotations:
{annotations}spec:
  selector: {{app: {name}}}
  ports:
  - {{name: main, port: 80, targetPort: {target}}}
  - {{name: other, port: 81, targetPort: 8081{app_protocol}}}
"""


def service(name: str = "web", annotations: str = "    owner: a\n", target: str = "8080",
            app_protocol: str = "") -> str:
    return SERVICE.format(name=name, annotations=annotations, target=target, app_protocol=app_protocol)


def ports(out: object, name: str = "web") -> list[dict]:
    return find(out, "Service", name)["spec"]["ports"]  # type: ignore[arg-type]


def test_opaque_ports_annotation_on_the_service(tmp_path: Path) -> None:
    text = NAMESPACE.format(inject="enabled") + deployment() + service(
        annotations='    owner: a\n    config.linkerd.io/opaque-ports: "80"\n')
    out = run(text)
    copy = find(out, "Service", "web")
    assert copy["spec"] == {"selector": {"app": "web"}, "ports": [
        {"name": "main", "port": 80, "targetPort": 8080, "appProtocol": "tcp"},
        {"name": "other", "port": 81, "targetPort": 8081}]}
    assert copy["metadata"]["labels"] == {"app": "web"}
    assert copy["metadata"]["annotations"]["owner"] == "a"
    assert has_loss(out, "MSH401", line_of(text, "opaque-ports"), "port 80 of Service shop/web gets appProtocol tcp")
    assert has_loss(out, "MSH401", line_of(text, "kind: Service") - 1, "emitted again")
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_opaque_ports_on_the_pods_and_linkerd_app_protocols() -> None:
    text = NAMESPACE.format(inject="enabled") + deployment(
        annotations='        config.linkerd.io/opaque-ports: "8081"\n',
        ports="[{name: http, containerPort: 8080}, {name: db, containerPort: 8081}]") + service(
        app_protocol=", appProtocol: linkerd.io/opaque")
    assert [p.get("appProtocol") for p in ports(run(text))] == [None, "tcp"]
    namespace = NAMESPACE.format(inject="enabled") + "    config.linkerd.io/opaque-ports: mysql\n"
    named = namespace + deployment(ports="[{name: http, containerPort: 8080}, {name: mysql, containerPort: 3306}]") \
        + service(target="mysql")
    assert [p.get("appProtocol") for p in ports(run(named))] == ["tcp", None]


def test_services_without_opaque_ports_are_not_emitted() -> None:
    assert kinds(run(deployment() + service())) == []


ACCRUAL = ('    balancer.linkerd.io/failure-accrual: consecutive\n'
           '    balancer.linkerd.io/failure-accrual-consecutive-max-failures: "5"\n'
           '    balancer.linkerd.io/failure-accrual-consecutive-min-penalty: 2s\n'
           '    balancer.linkerd.io/failure-accrual-consecutive-max-penalty: 1m\n')


def test_failure_accrual_is_outlier_detection(tmp_path: Path) -> None:
    text = deployment() + service(annotations=ACCRUAL)
    out = run(text)
    assert spec(out, "DestinationRule", "web") == {"host": "web.shop.svc.cluster.local", "trafficPolicy": {
        "outlierDetection": {"consecutive5xxErrors": 5, "baseEjectionTime": "2s", "maxEjectionPercent": 100}}}
    assert has_loss(out, "MSH401", line_of(text, "failure-accrual: consecutive"), "exponential back-off")
    assert has_loss(out, "MSH400", line_of(text, "max-penalty"), "linearly")
    check_clean(tmp_path, out, kubernetes_docs(text))


def test_failure_accrual_defaults_and_the_unified_mode() -> None:
    text = deployment() + service(annotations='    balancer.linkerd.io/failure-accrual: unified\n'
                                              '    balancer.alpha.linkerd.io/failure-accrual-success-rate-threshold: '
                                              '"0.9"\n')
    out = run(text)
    assert spec(out, "DestinationRule", "web")["trafficPolicy"]["outlierDetection"] == {
        "consecutive5xxErrors": 7, "baseEjectionTime": "1s", "maxEjectionPercent": 100}
    assert has_loss(out, "MSH400", line_of(text, "success-rate-threshold"), "no success-rate ejection")


def test_accrual_settings_without_the_mode_do_nothing() -> None:
    text = deployment() + service(annotations='    balancer.linkerd.io/failure-accrual-consecutive-max-failures: "3"\n')
    out = run(text)
    assert kinds(out) == []
    assert has_loss(out, "MSH400", line_of(text, "max-failures"), "is not set")


def test_a_version_service_passes_its_accrual_to_its_subset() -> None:
    text = deployment("reviews") + service("reviews", target="9080") + service(
        "reviews-v2", annotations=ACCRUAL, target="9080").replace(
        "selector: {app: reviews-v2}", "selector: {app: reviews, version: v2}") + """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 80}]
  rules: [{backendRefs: [{name: reviews-v2, port: 80}]}]
"""
    out = run(text)
    outlier = {"consecutive5xxErrors": 5, "baseEjectionTime": "2s", "maxEjectionPercent": 100}
    assert spec(out, "DestinationRule", "reviews")["subsets"] == [
        {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"outlierDetection": outlier}}]
    assert spec(out, "DestinationRule", "reviews-v2")["trafficPolicy"] == {"outlierDetection": outlier}


def test_h2c_and_opaque_or_tls_servers_set_the_service_protocol() -> None:
    h2c = deployment() + service(app_protocol=", appProtocol: kubernetes.io/h2c")
    assert [p.get("appProtocol") for p in ports(run(h2c))] == [None, "http2"]
    server = """---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-main, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  port: http
  proxyProtocol: TLS
  accessPolicy: all-unauthenticated
"""
    text = deployment() + service() + server
    out = run(text)
    assert [p.get("appProtocol") for p in ports(out)] == ["tls", None]
    assert has_loss(out, "MSH401", line_of(text, "proxyProtocol: TLS"), "appProtocol tls")
