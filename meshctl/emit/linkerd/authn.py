"""Istio ``from.source`` (and identity ``when`` conditions) -> Linkerd authentications.

Before::

    source: {principals: [cluster.local/ns/shop/sa/frontend], ipBlocks: [10.0.0.0/8]}

After: ``Auth(atoms={("sa", "shop", "frontend")}, networks=(("10.0.0.0/8", ()),))``, which
becomes one MeshTLSAuthentication (``identityRefs: [{kind: ServiceAccount, name:
frontend, namespace: shop}]``) and one NetworkAuthentication, both required by the
AuthorizationPolicy (Linkerd ANDs ``requiredAuthenticationRefs``, as Istio ANDs the
fields of one source).

An identity is an *atom*: ``("any",)`` any meshed client, ``("ns", ns)`` every service
account of a namespace, ``("sa", ns, name)`` one service account. Fields of one source
intersect atom by atom. What Linkerd cannot require (negations, JWT request principals,
``remoteIpBlocks``, principal patterns other than ``*``, ``<td>/ns/<ns>/sa/*`` and exact
ones) makes the source unusable: it is dropped, so the translation admits fewer callers
than Istio did, never more (fail closed).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from meshctl.emit.losses import Losses
from meshctl.model.objects import Condition, Source
from meshctl.model.origin import Origin
from meshctl.security.authz import linkerd_identity_of

Atom = tuple[str, ...]
ANY: Atom = ("any",)
ALL_NETWORKS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Auth:
    """Who a translated source admits: ``atoms`` None means no identity is required."""

    atoms: frozenset[Atom] | None
    networks: tuple[tuple[str, tuple[str, ...]], ...]  # (cidr, except) ; () means any network

    def requiring_identity(self) -> Auth:
        return self if self.atoms is not None else Auth(frozenset({ANY}), self.networks)

    @property
    def label(self) -> str:
        parts = []
        if self.atoms is not None:
            parts.append("-".join(_atom_label(a) for a in sorted(self.atoms)))
        if self.networks:
            parts.append("networks")
        return "-".join(parts)[:40].strip("-") or "any"


def _atom_label(atom: Atom) -> str:
    if atom == ANY:
        return "meshed"
    if atom[0] == "ns":
        return f"ns-{atom[1]}"
    return atom[2]


def identity_spec(auth: Auth, trust_domain: str) -> dict[str, object]:
    """The MeshTLSAuthentication spec: ``identityRefs`` when every atom is a reference,
    otherwise identity strings (``*`` for any meshed client)."""
    atoms = sorted(auth.atoms or ())
    if ANY in atoms:
        return {"identities": ["*"]}
    refs = []
    for atom in atoms:
        if atom[0] == "ns":
            refs.append({"kind": "Namespace", "name": atom[1]})
        else:
            refs.append({"kind": "ServiceAccount", "name": atom[2], "namespace": atom[1]})
    return {"identityRefs": refs}


def linkerd_identities(auth: Auth, trust_domain: str) -> list[str]:
    out = []
    for atom in sorted(auth.atoms or ()):
        if atom == ANY:
            out.append("*")
        elif atom[0] == "ns":
            out.append("*." + linkerd_identity_of(atom[1], "x", trust_domain).split(".", 1)[1])
        else:
            out.append(linkerd_identity_of(atom[1], atom[2], trust_domain))
    return out


def _meet(a: Atom, b: Atom) -> Atom | None:
    if a == ANY:
        return b
    if b == ANY:
        return a
    if a[0] == "ns" and b[0] == "ns":
        return a if a == b else None
    if a[0] == "sa" and b[0] == "sa":
        return a if a == b else None
    sa, ns = (a, b) if a[0] == "sa" else (b, a)
    return sa if sa[1] == ns[1] else None


def _intersect(left: frozenset[Atom] | None, right: frozenset[Atom]) -> frozenset[Atom]:
    if left is None:
        return right
    return frozenset(m for a in left for b in right if (m := _meet(a, b)) is not None)


class Translator:
    """Translates sources for one trust domain, reporting at the Istio fields."""

    def __init__(self, losses: Losses, trust_domain: str) -> None:
        self.losses = losses
        self.trust_domain = trust_domain

    def source(self, src: Source, policy: str) -> Auth | None:
        where = src.origin
        for field_name, values in (
            ("notPrincipals", src.not_principals), ("notNamespaces", src.not_namespaces),
            ("notServiceAccounts", src.not_service_accounts), ("requestPrincipals", src.request_principals),
            ("notRequestPrincipals", src.not_request_principals), ("remoteIpBlocks", src.remote_ip_blocks),
            ("notRemoteIpBlocks", src.not_remote_ip_blocks),
        ):
            if values:
                why = ("Linkerd does not validate JWTs" if "equestPrincipals" in field_name
                       else "Linkerd cannot match the client address behind a proxy" if "emoteIp" in field_name
                       else "Linkerd authentications cannot exclude identities")
                self.losses.dropped(where.at(field_name), f"{field_name} ({policy}): {why}; this source was left out, so "
                                                          "the callers it admitted are now refused")
                return None
        atoms: frozenset[Atom] | None = None
        for field_name, values, parse in (
            ("principals", src.principals, self._principal), ("namespaces", src.namespaces, self._namespace),
            ("serviceAccounts", src.service_accounts, self._service_account),
        ):
            if not values:
                continue
            found = set()
            for value in values:
                atom = parse(value, where.at(field_name))
                if atom is None:
                    return None
                found.add(atom)
            atoms = _intersect(atoms, frozenset(found))
            if not atoms:
                self.losses.dropped(where, f"source of {policy}: its identity fields admit no common identity")
                return None
        networks = self._networks(src.ip_blocks, src.not_ip_blocks)
        return Auth(atoms, networks)

    def _principal(self, value: str, where: Origin) -> Atom | None:
        text = value.removeprefix("spiffe://")
        if text == "*":
            return ANY
        parts = text.split("/")
        if len(parts) == 5 and parts[1] == "ns" and parts[3] == "sa" and "*" not in parts[2]:
            domain, namespace, account = parts[0], parts[2], parts[4]
            if domain not in (self.trust_domain, "*") or (account != "*" and "*" in account):
                self._unexpressible(value, where)
                return None
            if domain == "*":
                self.losses.approximated(where, f"principal {value!r}: any trust domain; Linkerd identities carry "
                                                f"the cluster's ({self.trust_domain})")
            return ("ns", namespace) if account == "*" else ("sa", namespace, account)
        self._unexpressible(value, where)
        return None

    def _unexpressible(self, value: str, where: Origin) -> None:
        self.losses.dropped(where, f"principal {value!r} cannot be expressed as a Linkerd identity (only '*', "
                                   "'<td>/ns/<ns>/sa/<sa>' and '<td>/ns/<ns>/sa/*'); this source was left out, so the "
                                   "callers it admitted are now refused")

    def _namespace(self, value: str, where: Origin) -> Atom | None:
        if value == "*":
            return ANY
        if "*" in value:
            self.losses.dropped(where, f"namespace pattern {value!r} cannot be expressed in Linkerd; this source was "
                                       "left out, so the callers it admitted are now refused")
            return None
        return ("ns", value)

    def _service_account(self, value: str, where: Origin) -> Atom | None:
        namespace, _, account = value.partition("/")
        if not account or "*" in value:
            self.losses.dropped(where, f"serviceAccount {value!r} cannot be expressed in Linkerd; this source was left "
                                       "out, so the callers it admitted are now refused")
            return None
        return ("sa", namespace, account)

    def _networks(self, blocks: tuple[str, ...], excluded: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        cidrs = [_cidr(b) for b in blocks] or ([] if not excluded else list(ALL_NETWORKS))
        excepts = [_cidr(b) for b in excluded]
        out = []
        for cidr in cidrs:
            inside = tuple(e for e in excepts if _within(e, cidr))
            out.append((cidr, inside))
        return tuple(out)

    def conditions(self, conditions: tuple[Condition, ...], auth: Auth, policy: str) -> Auth | None:
        """Identity and address ``when`` conditions narrow the source; others are handled by
        the caller (ports, headers) or make the rule unusable (reported there)."""
        for cond in conditions:
            if cond.key in ("source.namespace", "source.principal") and cond.values and not cond.not_values:
                parse = self._namespace if cond.key == "source.namespace" else self._principal
                found = set()
                for value in cond.values:
                    atom = parse(value, cond.origin)
                    if atom is None:
                        return None
                    found.add(atom)
                atoms = _intersect(auth.atoms, frozenset(found))
                if not atoms:
                    return None
                auth = Auth(atoms, auth.networks)
            elif cond.key == "source.ip" and cond.values and not cond.not_values and not auth.networks:
                auth = Auth(auth.atoms, tuple((_cidr(v), ()) for v in cond.values))
        return auth


def _cidr(block: str) -> str:
    if "/" in block:
        return block
    return f"{block}/128" if ":" in block else f"{block}/32"


def _within(inner: str, outer: str) -> bool:
    try:
        a, b = ipaddress.ip_network(inner, strict=False), ipaddress.ip_network(outer, strict=False)
    except ValueError:
        return False
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]
