"""What shapes a real proxy but is not emitted is named, for the proxies it would select."""

from __future__ import annotations

from meshctl.emit.envoy import EnvoyOptions, translate
from meshctl.load.reader import read_text
from meshctl.lower import lower

BASE = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: cart-1, namespace: shop, labels: {app: cart}}
spec: {containers: [{name: cart, image: cart:1, ports: [{containerPort: 8080}]}]}
status: {podIP: 10.0.0.5}
"""

ENVOY_FILTER = """
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: add-lua, namespace: {ns}}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_OUTBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
  - applyTo: CLUSTER
    patch: {operation: MERGE, value: {connect_timeout: 1s}}
"""


def _findings(extra: str, options: EnvoyOptions) -> list:
    docs = read_text(BASE + "---\n" + extra, "mesh.yaml").docs
    return translate(lower(docs), options).findings


def test_envoy_filter_patches_in_the_proxy_namespace_are_each_reported() -> None:
    findings = _findings(ENVOY_FILTER.replace("{ns}", "shop"), EnvoyOptions(namespace="shop"))
    msh402 = [f for f in findings if f.code == "MSH402"]
    assert [f.location.path for f in msh402] == ["spec.configPatches[0]", "spec.configPatches[1]"]
    assert "HTTP_FILTER INSERT_BEFORE patch is not applied" in msh402[0].message


def test_envoy_filters_of_the_root_namespace_apply_everywhere_but_others_do_not() -> None:
    assert [f.code for f in _findings(ENVOY_FILTER.replace("{ns}", "istio-system"), EnvoyOptions(namespace="shop"))] == [
        "MSH402", "MSH402",
    ]
    assert _findings(ENVOY_FILTER.replace("{ns}", "billing"), EnvoyOptions(namespace="shop")) == []


def test_telemetry_sidecar_and_request_authentication() -> None:
    extra = """
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: logs, namespace: shop}
spec:
  accessLogging: [{providers: [{name: envoy}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: scoped, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  jwtRules: [{issuer: "https://issuer.example"}]
"""
    outbound = {(f.code, f.resource.kind) for f in _findings(extra, EnvoyOptions(namespace="shop"))}
    assert outbound == {("MSH400", "Telemetry"), ("MSH401", "Sidecar")}
    inbound = {(f.code, f.resource.kind) for f in _findings(extra, EnvoyOptions(proxy="inbound", target=("cart-1", "shop")))}
    assert ("MSH400", "RequestAuthentication") in inbound
    assert ("MSH401", "Sidecar") not in inbound
