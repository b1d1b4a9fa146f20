"""Which DestinationRules apply to a host, for clients in a namespace (Istio's lookup path).

Istio does not merge every DestinationRule that names a host. For a client proxy in
namespace ``C`` and a host defined in namespace ``S`` it looks, in order, at:

1. the rules in ``C`` exported to ``C`` (when ``C`` is the root namespace, only the rules
   it keeps to itself: a gateway there is not hidden from ``S``'s rules by a mesh-wide one);
2. the rules in ``S`` exported to ``C``;
3. the rules in the root namespace (``istio-system``) exported to ``C``;

and at each step takes the most specific host that covers the destination (the exact
name, else the longest wildcard). The first step with a match wins; the rules found
there (several rules for the same host in one namespace are merged) are the ones
applied. A rule in a fourth namespace never applies to ``C``, whatever its exportTo::

    index = RuleIndex(mesh)
    index.applied("frontend", "reviews.bookinfo.svc.cluster.local", ("bookinfo",))
    -> Applied(client="frontend", rules=(<DestinationRule reviews.bookinfo>,))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import DestinationPolicy


@dataclass(frozen=True)
class Applied:
    """The DestinationRules Istio applies to a host for one client namespace."""

    client: str
    rules: tuple[DestinationPolicy, ...]

    @property
    def subsets(self) -> tuple[str, ...]:
        return tuple(sorted({s.name for r in self.rules for s in r.subsets if s.name}))

    def defines(self, subset: str) -> bool:
        return any(s.name == subset for r in self.rules for s in r.subsets)


class RuleIndex:
    """DestinationRules by (namespace, host), with Istio's choice of the one that applies."""

    def __init__(self, mesh: MeshModel) -> None:
        self.root = mesh.mesh_config.root_namespace
        self._exact: dict[tuple[str, str], list[DestinationPolicy]] = defaultdict(list)
        self._wildcard: dict[str, dict[str, list[DestinationPolicy]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._by_fqdn: dict[str, list[DestinationPolicy]] = defaultdict(list)
        self._all_wildcards: list[DestinationPolicy] = []
        for policy in mesh.destination_policies:
            if not policy.fqdn:
                continue
            if "*" in policy.fqdn:
                self._wildcard[policy.namespace][policy.fqdn].append(policy)
                self._all_wildcards.append(policy)
            else:
                self._exact[(policy.namespace, policy.fqdn)].append(policy)
                self._by_fqdn[policy.fqdn].append(policy)

    def applied(self, client: str, fqdn: str, host_namespaces: Iterable[str]) -> Applied | None:
        """The rules applied to ``fqdn`` from ``client``; None when no rule applies."""
        steps = [(client, client == self.root)]
        steps += [(ns, False) for ns in sorted(host_namespaces) if ns != client]
        steps.append((self.root, False))
        for namespace, private_only in steps:
            rules = self._in_namespace(namespace, client, fqdn, private_only)
            if rules:
                return Applied(client, tuple(rules))
        return None

    def naming(self, fqdn: str) -> list[DestinationPolicy]:
        """Every rule, in any namespace, whose host covers ``fqdn``."""
        found = list(self._by_fqdn.get(fqdn, []))
        found += [p for p in self._all_wildcards if hosts.matches(p.fqdn, fqdn)]
        return found

    def _in_namespace(
        self, namespace: str, client: str, fqdn: str, private_only: bool
    ) -> list[DestinationPolicy]:
        """The most specific rules of ``namespace`` for ``fqdn`` that ``client`` sees."""

        def seen(policy: DestinationPolicy) -> bool:
            if private_only and (not policy.export_to or "*" in policy.export_to):
                return False
            return hosts.visible(policy.export_to, policy.namespace, client)

        exact = [p for p in self._exact.get((namespace, fqdn), []) if seen(p)]
        if exact:
            return exact
        patterns = sorted(self._wildcard.get(namespace, {}).items(), key=lambda kv: -len(kv[0]))
        for pattern, policies in patterns:
            best = [p for p in policies if seen(p)] if hosts.matches(pattern, fqdn) else []
            if best:
                return best
        return []
