"""Host names as Istio reads them: short names, FQDNs, wildcards and exportTo.

>>> fqdn("reviews", "bookinfo")
'reviews.bookinfo.svc.cluster.local'
>>> matches("*.example.com", "api.example.com")
True
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_DOMAIN = "cluster.local"


def fqdn(host: str, namespace: str, domain: str = DEFAULT_DOMAIN) -> str:
    """Istio's ResolveShortnameToFQDN: a name without dots is a Service in ``namespace``."""
    if not host or "*" in host or "." in host or "/" in host:
        return host
    return f"{host}.{namespace}.svc.{domain}"


def service_fqdn(name: str, namespace: str, domain: str = DEFAULT_DOMAIN) -> str:
    return f"{name}.{namespace}.svc.{domain}"


def split_service_fqdn(host: str, domain: str = DEFAULT_DOMAIN) -> tuple[str, str] | None:
    """``name.ns.svc.cluster.local`` -> (name, ns); anything else -> None."""
    suffix = f".svc.{domain}"
    if not host.endswith(suffix):
        return None
    parts = host[: -len(suffix)].split(".")
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


def matches(pattern: str, host: str) -> bool:
    """Does ``pattern`` (maybe a wildcard) cover the concrete or wildcard ``host``?"""
    if pattern == "*" or pattern == host:
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]  # ".example.com"
        if host.startswith("*."):
            return host[1:].endswith(suffix)
        return host.endswith(suffix) and len(host) > len(suffix)
    return False


def overlap(a: str, b: str) -> bool:
    """Can one request host match both ``a`` and ``b``?"""
    return matches(a, b) or matches(b, a)


def visible(export_to: Iterable[str], owner_namespace: str, viewer_namespace: str) -> bool:
    """Is an object exported to ``viewer_namespace``? Empty export_to means everywhere."""
    targets = tuple(export_to)
    if not targets:
        return True
    for target in targets:
        if target == "*":
            return True
        if target == "." and viewer_namespace == owner_namespace:
            return True
        if target == viewer_namespace:
            return True
    return False


def parse_export_annotation(value: str | None) -> tuple[str, ...]:
    """``networking.istio.io/exportTo: ".,istio-system"`` -> (".", "istio-system")."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def split_gateway_host(host: str, namespace: str) -> tuple[str, str]:
    """An Istio Gateway server host ``ns/host`` -> (namespace pattern, host)."""
    if "/" in host:
        ns, _, name = host.partition("/")
        return (namespace if ns == "." else ns), name
    return "*", host


def gateway_reference(value: str, namespace: str) -> tuple[str, str]:
    """Istio's resolveGatewayName: ``ns/name``, ``./name``, ``name``, legacy ``name.ns[.svc...]``."""
    if "/" in value:
        gw_ns, _, name = value.partition("/")
        return (namespace if gw_ns in (".", "") else gw_ns), name
    if "." in value:
        name, gw_ns = value.split(".")[:2]
        return gw_ns, name
    return namespace, value
