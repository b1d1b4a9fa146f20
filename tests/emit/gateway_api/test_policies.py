"""DestinationRule traffic policies: BackendTLSPolicy for TLS origination, losses for the rest."""

from __future__ import annotations

from tests.emit.gateway_api.harness import (
    find,
    has_loss,
    messages,
    resources,
    spec,
    translated,
    validated,
)

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: auth, namespace: sec}
spec:
  selector: {app: auth}
  ports: [{name: https, port: 443}, {name: https-alt, port: 8443}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: auth, namespace: sec}
spec:
  host: auth
"""


def test_simple_tls_with_system_roots() -> None:
    out = translated(SERVICE + "  trafficPolicy:\n    tls: {mode: SIMPLE}\n")
    policy = find(out, "BackendTLSPolicy", "auth")
    assert policy["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert policy["metadata"]["annotations"] == {"meshctl.io/translated-from": "DestinationRule/sec/auth"}
    assert policy["spec"] == {
        "targetRefs": [{"group": "", "kind": "Service", "name": "auth"}],
        "validation": {"wellKnownCACertificates": "System", "hostname": "auth.sec.svc.cluster.local"},
    }
    assert has_loss(out, "MSH401", "BackendTLSPolicy sec/auth", "system roots", "Istio sent the request's host")
    assert validated(out) == []


def test_simple_tls_with_a_credential_sni_and_sans() -> None:
    out = translated(SERVICE + """  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: auth-ca, sni: auth.example.com,
          subjectAltNames: [auth.example.com, "spiffe://td/ns/sec/sa/auth"]}
""")
    assert spec(out, "BackendTLSPolicy", "auth")["validation"] == {
        "caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": "auth-ca"}],
        "hostname": "auth.example.com",
        "subjectAltNames": [{"type": "Hostname", "hostname": "auth.example.com"},
                            {"type": "URI", "uri": "spiffe://td/ns/sec/sa/auth"}],
    }
    assert has_loss(out, "MSH401", "ConfigMap auth-ca, which you create from Secret auth-ca")
    assert validated(out) == []


def test_port_level_tls_targets_the_named_port() -> None:
    out = translated(SERVICE + """  trafficPolicy:
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: SIMPLE}
""")
    assert spec(out, "BackendTLSPolicy", "auth-https")["targetRefs"] == [
        {"group": "", "kind": "Service", "name": "auth", "sectionName": "https"}]
    assert validated(out) == []


def test_port_level_tls_of_an_unnamed_port_is_reported() -> None:
    out = translated(SERVICE.replace("{name: https, port: 443}, {name: https-alt, port: 8443}", "{port: 443}") + """\
  trafficPolicy:
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: SIMPLE}
""")
    assert has_loss(out, "MSH400", "port 443: tls SIMPLE", "has no name")
    assert resources(out, "BackendTLSPolicy") == []


def test_subset_tls_targets_the_per_version_service() -> None:
    text = SERVICE + """  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy: {tls: {mode: SIMPLE}}
  - name: v3
    labels: {version: v3}
    trafficPolicy: {tls: {mode: SIMPLE}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: auth, namespace: sec}
spec:
  hosts: [auth]
  http:
  - route: [{destination: {host: auth, subset: v2, port: {number: 443}}}]
"""
    out = translated(text)
    assert spec(out, "BackendTLSPolicy", "auth-v2") == {
        "targetRefs": [{"group": "", "kind": "Service", "name": "auth-v2"}],
        "validation": {"wellKnownCACertificates": "System", "hostname": "auth-v2.sec.svc.cluster.local"},
    }
    assert has_loss(out, "MSH400", "subset v3: tls SIMPLE", "used by no translated route")
    assert validated(out) == []


def test_istio_mutual_needs_nothing() -> None:
    out = translated(SERVICE + "  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n")
    assert out.resources == [] and out.findings == []


def test_what_has_no_equivalent_is_reported_once_per_field() -> None:
    out = translated(SERVICE + """  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
    connectionPool: {http: {http1MaxPendingRequests: 10}}
    outlierDetection: {consecutive5xxErrors: 2}
    tunnel: {protocol: CONNECT, targetHost: x, targetPort: 1}
    tls: {mode: MUTUAL, clientCertificate: /a, privateKey: /b}
""")
    assert sorted(m.split(":")[0] for m in messages(out, "MSH400")) == [
        "connectionPool", "loadBalancer consistentHash on header x-user", "outlierDetection", "tls MUTUAL", "tunnel"]
    assert resources(out, "BackendTLSPolicy") == []
