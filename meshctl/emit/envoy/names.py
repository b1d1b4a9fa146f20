"""The names Istio gives Envoy resources, so the output diffs against a real proxy.

>>> cluster_name(9080, "v1", "reviews.default.svc.cluster.local")
'outbound|9080|v1|reviews.default.svc.cluster.local'
>>> sni_name(9080, "", "reviews.default.svc.cluster.local")
'outbound_.9080_._.reviews.default.svc.cluster.local'
"""

from __future__ import annotations

PASSTHROUGH = "PassthroughCluster"
BLACKHOLE = "BlackHoleCluster"
SDS_CLUSTER = "sds-grpc"


def cluster_name(port: int, subset: str | None, fqdn: str, direction: str = "outbound") -> str:
    return f"{direction}|{port}|{subset or ''}|{fqdn}"


def inbound_cluster_name(port: int) -> str:
    return f"inbound|{port}||"


def sni_name(port: int, subset: str | None, fqdn: str) -> str:
    """The SNI Istio's clients send with ISTIO_MUTUAL (and AUTO_PASSTHROUGH gateways match)."""
    return f"outbound_.{port}_.{subset or ''}_.{fqdn}"


def listener_name(address: str, port: int) -> str:
    return f"{address}_{port}"


def vhost_name(host: str, port: int) -> str:
    return f"{host}:{port}"


def service_domains(fqdn: str, proxy_namespace: str, domain: str = "cluster.local") -> list[str]:
    """Virtual-host domains of a registry service for a sidecar in ``proxy_namespace``.

    The FQDN, its absolute form, then the Kubernetes short forms a client in that
    namespace can use; no ``:port`` forms (the route configuration ignores ports).
    """
    out = [fqdn, f"{fqdn}."]
    suffix = f".svc.{domain}"
    if fqdn.endswith(suffix):
        parts = fqdn[: -len(suffix)].split(".")
        if len(parts) == 2:
            name, namespace = parts
            if namespace == proxy_namespace:
                out += [name, f"{name}.{namespace}.svc", f"{name}.{namespace}"]
            else:
                out += [f"{name}.{namespace}", f"{name}.{namespace}.svc"]
    return out
