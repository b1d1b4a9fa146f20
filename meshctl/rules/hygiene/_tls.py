"""Client TLS settings that do not pin what verifies the server (MSH172, MSH173).

Every traffic policy of a DestinationRule, with where it sits::

    spec.trafficPolicy                               -> ("", policy)
    spec.trafficPolicy.portLevelSettings[0]          -> ("port 443", policy)        (port level)
    spec.subsets[1].trafficPolicy                    -> ("subset 'v2'", policy)
    spec.subsets[1].trafficPolicy.portLevelSettings  -> ("subset 'v2', port 443", policy)  (port level)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.model.objects import DestinationPolicy, TLSSettings, TrafficPolicy

ORIGINATING_MODES = frozenset({"SIMPLE", "MUTUAL"})


def unverified(tls: TLSSettings | None) -> bool:
    """The sidecar originates TLS without a CA of the user's choosing, and not on purpose."""
    return (
        tls is not None
        and tls.mode in ORIGINATING_MODES
        and not tls.has_ca
        and not tls.credential_name
        and not tls.insecure_skip_verify
    )


def policies(rule: DestinationPolicy, *, port_level: bool) -> Iterator[tuple[str, TrafficPolicy]]:
    """The host- and subset-level traffic policies (or their port-level settings), labelled."""
    scopes: list[tuple[str, TrafficPolicy | None]] = [("", rule.traffic_policy)]
    scopes += [(f"subset {s.name!r}", s.traffic_policy) for s in rule.subsets]
    for scope, policy in scopes:
        if policy is None:
            continue
        if not port_level:
            yield scope, policy
            continue
        for number, nested in policy.port_level:
            yield (f"{scope}, port {number}" if scope else f"port {number}"), nested


def message(rule: DestinationPolicy, scope: str, tls: TLSSettings) -> str:
    where = f" ({scope})" if scope else ""
    return (
        f"TLS mode {tls.mode} to {rule.host!r}{where} sets no caCertificates or credentialName, so the "
        "server certificate is not checked against a CA you chose: recent proxies fall back to the system "
        "CA bundle (VERIFY_CERTIFICATE_AT_CLIENT), older ones accept any certificate; set caCertificates "
        "or credentialName, or insecureSkipVerify: true if that is intended"
    )
