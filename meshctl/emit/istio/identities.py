"""Linkerd clients (identities, ServiceAccounts, networks) -> Istio AuthorizationPolicy sources.

A Linkerd identity is ``<sa>.<ns>.serviceaccount.identity.<linkerd-ns>.<trust-domain>``;
Istio's principal for the same workload is ``<trust-domain>/ns/<ns>/sa/<sa>`` (the Istio
mesh's trust domain)::

    web.shop.serviceaccount.identity.linkerd.cluster.local  -> principals: [cluster.local/ns/shop/sa/web]
    *.shop.serviceaccount.identity.linkerd.cluster.local    -> namespaces: [shop]
    *                                                       -> principals: ["*"] (any meshed client)
    spiffe://cluster.local/ns/shop/sa/web                    -> principals: [cluster.local/ns/shop/sa/web]
    networks [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]    -> ipBlocks: [10.0.0.0/8], notIpBlocks: [10.1.0.0/16]

A source is a list of alternatives (Istio ``from`` entries, ORed); ``None`` is anyone,
``[]`` nobody. Linkerd ANDs the authentications of one policy: the alternatives are
combined field by field (an identity and a network in one ``source``).
"""

from __future__ import annotations

import re
from itertools import product

from meshctl.emit.istio.build import Build
from meshctl.emit.manifests import Json
from meshctl.model.origin import Origin

Sources = list[Json] | None  # None: any client; []: no client
ALL_NETWORKS = frozenset({"0.0.0.0/0", "::/0"})
_IDENTITY = re.compile(r"^([^.]+)\.([^.]+)\.serviceaccount\.identity\.([^.]+)\.(.+)$")
_SPIFFE = re.compile(r"^spiffe://([^/]+)/ns/([^/]+)/sa/([^/]+)$")
_TRUST_DOMAIN_WILDCARD = re.compile(r"^\*\.(?:serviceaccount\.)?identity\.[^.]+\.(.+)$")  # every identity


def principal(build: Build, namespace: str, account: str) -> str:
    return f"{build.mesh.mesh_config.trust_domain}/ns/{namespace}/sa/{account}"


def identity_source(build: Build, identity: str, origin: Origin) -> Json | None:
    """One Linkerd identity as an Istio source, or None (reported) when Istio cannot say it."""
    if identity == "*":
        return {"principals": ["*"]}
    found = _IDENTITY.match(identity)
    if found:
        account, namespace, _, trust_domain = found.groups()
        _check_domain(build, trust_domain, origin)
        if account == "*":
            return {"namespaces": [namespace]}
        if "*" not in account and "*" not in namespace:
            return {"principals": [principal(build, namespace, account)]}
    spiffe = _SPIFFE.match(identity)
    if spiffe:
        return {"principals": ["/".join((spiffe.group(1), "ns", spiffe.group(2), "sa", spiffe.group(3)))]}
    wildcard = _TRUST_DOMAIN_WILDCARD.match(identity)
    if wildcard and "*" not in wildcard.group(1):
        _check_domain(build, wildcard.group(1), origin)
        return {"principals": [f"{build.mesh.mesh_config.trust_domain}/*"]}
    build.losses.dropped(origin, f"identity {identity!r} has no Istio principal form; those clients are no longer "
                         "authorized")
    return None


def _check_domain(build: Build, trust_domain: str, origin: Origin) -> None:
    istio = build.mesh.mesh_config.trust_domain
    if trust_domain != istio:
        build.losses.approximated(origin, f"Linkerd trust domain {trust_domain!r} is written as Istio's "
                                  f"{istio!r} (workloads get Istio identities after the migration)")


def merge_identities(items: list[Json]) -> list[Json]:
    """Alternatives of one kind folded together: every principal in one source, every
    namespace in another (Istio ANDs fields inside a source, ORs values inside a field)."""
    principals = [p for item in items for p in item.get("principals", [])]
    namespaces = [n for item in items for n in item.get("namespaces", [])]
    out = []
    if principals:
        out.append({"principals": list(dict.fromkeys(principals))})
    if namespaces:
        out.append({"namespaces": list(dict.fromkeys(namespaces))})
    return out


def network_sources(networks: tuple[str, ...], excepts: tuple[tuple[str, ...], ...]) -> Sources:
    """Networks (ORed, each minus its exceptions) as sources; None when they are every address."""
    cidrs = [n for n in networks if n]
    holes = [tuple(e) for e in excepts] + [() for _ in range(len(cidrs) - len(excepts))]
    if not any(holes):
        if ALL_NETWORKS <= set(cidrs) or not cidrs:
            return None
        return [{"ipBlocks": cidrs}]
    out: list[Json] = []
    for cidr, hole in zip(cidrs, holes):
        source: Json = {"ipBlocks": [cidr]}
        if hole:
            source["notIpBlocks"] = list(hole)
        out.append(source)
    return out


def both(first: Sources, second: Sources) -> Sources:
    """Sources that must both hold (Linkerd's requiredAuthenticationRefs)."""
    if first is None:
        return second
    if second is None:
        return first
    out = []
    for a, b in product(first, second):
        merged = dict(a)
        for key, values in b.items():
            if key in merged:
                common = [v for v in merged[key] if v in values]
                if not common:
                    break
                merged[key] = common
            else:
                merged[key] = values
        else:
            out.append(merged)
    return out


def from_field(sources: Sources) -> list[Json] | None:
    """``rules[].from``, or None for a rule without one (any client)."""
    if sources is None:
        return None
    return [{"source": s} for s in sources]
