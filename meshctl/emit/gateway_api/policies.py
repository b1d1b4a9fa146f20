"""DestinationRule traffic policies -> BackendTLSPolicy where one fits, losses elsewhere.

Gateway API routes do not say how a backend is reached. Of a DestinationRule's traffic
policy only TLS origination has a resource of its own:

| DestinationRule                              | Gateway API                                        |
|----------------------------------------------|----------------------------------------------------|
| ``tls.mode: SIMPLE``                         | BackendTLSPolicy (standard channel, v1): ``hostname`` from ``sni`` or the Service name, CA from ``credentialName`` (as a ConfigMap reference) or the system roots, ``subjectAltNames`` |
| ``tls.mode: ISTIO_MUTUAL``                   | nothing: both meshes use mutual TLS on their own   |
| ``tls.mode`` MUTUAL / DISABLE, ``insecureSkipVerify``, CA files | none (reported)                  |
| ``loadBalancer``, ``connectionPool``, ``outlierDetection``, ``tunnel``, ``proxyProtocol``, ``retryBudget`` | none (reported once per field) |
| ``portLevelSettings``                        | the same, per port (BackendTLSPolicy ``sectionName`` = the port's name) |
| ``subsets[].trafficPolicy``                  | the same, on the per-version Service               |

Subsets themselves become per-version Services (``backends``) when a route uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.gateway_api.context import API, Build, source_of
from meshctl.emit.gateway_api.values import is_hostname, is_precise_hostname
from meshctl.emit.manifests import Json
from meshctl.model.objects import DestinationPolicy, Service, TLSSettings, TrafficPolicy
from meshctl.model.origin import Origin

MAX_SANS = 5


def translate_policies(build: Build) -> None:
    chosen = [p for p in build.mesh.destination_policies if build.wanted(p.origin)]
    for rule in sorted(chosen, key=lambda p: (p.namespace, p.name)):
        build.counts["DestinationRule"] += 1
        service = build.service_of(rule.fqdn)
        target = Target(service.name, service) if service is not None else None
        if rule.traffic_policy is not None:
            _policy(build, rule, rule.traffic_policy, target, None, "")
        for subset in rule.subsets:
            if subset.traffic_policy is None:
                continue
            generated = build.subset_services.get((rule.fqdn, subset.name))
            missing = None
            if generated is None:
                missing = (f"subset {subset.name!r} is used by no translated route, so there is no per-version "
                           "Service to attach it to")
            _policy(build, rule, subset.traffic_policy,
                    Target(generated, service) if generated and service is not None else None, None,
                    f"subset {subset.name}: ", missing=missing)


@dataclass(frozen=True)
class Target:
    """The Service a policy attaches to (a per-version one has the ports of ``service``)."""

    name: str
    service: Service

    @property
    def namespace(self) -> str:
        return self.service.namespace

    def fqdn(self, domain: str) -> str:
        return f"{self.name}.{self.namespace}.svc.{domain}"


def _policy(
    build: Build, rule: DestinationPolicy, policy: TrafficPolicy, target: Target | None, port: int | None,
    context: str, *, missing: str | None = None,
) -> None:
    if policy.lb is not None or policy.load_balancer is not None:
        where = policy.lb.origin if policy.lb is not None else policy.origin.at("loadBalancer")
        build.losses.dropped(where, f"{context}loadBalancer {_lb(policy)}: Gateway API has no load-balancing "
                                    "setting; each implementation balances its own way")
    if policy.connection_pool is not None:
        build.losses.dropped(policy.connection_pool.origin, f"{context}connectionPool: Gateway API has no "
                                                            "connection limits or circuit breaking; left out")
    if policy.outlier_detection is not None:
        build.losses.dropped(policy.outlier_detection.origin, f"{context}outlierDetection: Gateway API has no "
                                                              "outlier detection; left out (Linkerd's failure "
                                                              "accrual: --to linkerd)")
    for name, origin in policy.unmodelled:
        build.losses.dropped(origin, f"{context}{name}: no Gateway API equivalent; left out")
    if policy.tls is not None:
        _tls(build, rule, policy.tls, target, port, context, missing)
    for number, nested in policy.port_level:
        _policy(build, rule, nested, target, number, f"{context}port {number}: ", missing=missing)


def _lb(policy: TrafficPolicy) -> str:
    lb = policy.lb
    if lb is None:
        return policy.load_balancer or ""
    if lb.hash_key is not None:
        key = lb.hash_key
        return f"consistentHash on {key.kind}{' ' + key.name if key.name else ''}"
    parts = [lb.simple] if lb.simple else []
    if lb.locality:
        parts.append("localityLbSetting")
    if lb.warmup is not None:
        parts.append("warmup")
    return ", ".join(p for p in parts if p) or "settings"


def _tls(
    build: Build, rule: DestinationPolicy, tls: TLSSettings, target: Target | None, port: int | None,
    context: str, missing: str | None,
) -> None:
    where = tls.origin
    if tls.mode == "ISTIO_MUTUAL":
        if tls.sni or tls.subject_alt_names:
            build.losses.dropped(where, f"{context}tls ISTIO_MUTUAL: both meshes use mutual TLS on their own, but "
                                        "its sni/subjectAltNames cannot be set; left out")
        return
    if tls.mode == "DISABLE":
        build.losses.dropped(where.at("mode"), f"{context}tls DISABLE: Gateway API cannot turn off mutual TLS "
                                               "for a destination; left out")
        return
    if tls.mode != "SIMPLE":
        build.losses.dropped(where.at("mode"), f"{context}tls {tls.mode}: BackendTLSPolicy checks the backend's "
                                               "certificate but presents none of its own; TLS origination is "
                                               "left out")
        return
    reason = _unsupported(tls, target, port, missing)
    if reason is not None:
        build.losses.dropped(where, f"{context}tls SIMPLE: {reason}; TLS origination is left out")
        return
    assert target is not None
    _backend_tls_policy(build, rule, tls, target, port, context, where)


def _unsupported(tls: TLSSettings, target: Target | None, port: int | None, missing: str | None) -> str | None:
    if missing is not None:
        return missing
    if target is None:
        return "the host is not a Service of the inputs, which a BackendTLSPolicy must target"
    if tls.insecure_skip_verify:
        return "insecureSkipVerify: a BackendTLSPolicy always verifies the backend's certificate"
    if tls.ca_certificates and not tls.credential_name:
        return f"caCertificates {tls.ca_certificates} is a file in the proxy; BackendTLSPolicy reads a ConfigMap"
    if tls.client_certificate or tls.private_key:
        return "client certificates: BackendTLSPolicy presents none"
    if port is not None:
        found = target.service.port(port)
        if found is None or not found.name:
            return f"port {port} of Service {target.name} has no name, which BackendTLSPolicy's sectionName needs"
    return None


def _backend_tls_policy(
    build: Build, rule: DestinationPolicy, tls: TLSSettings, target: Target, port: int | None,
    context: str, where: Origin,
) -> None:
    ref: Json = {"group": "", "kind": "Service", "name": target.name}
    suffix = ""
    if port is not None:
        section = target.service.port(port)
        assert section is not None and section.name
        ref["sectionName"] = section.name
        suffix = f"-{section.name}"
    fqdn = target.fqdn(build.domain)
    hostname = (tls.sni or fqdn).lower()
    if not is_precise_hostname(hostname):
        hostname = fqdn
    validation: Json = {}
    notes = []
    if tls.credential_name:
        validation["caCertificateRefs"] = [{"group": "", "kind": "ConfigMap", "name": tls.credential_name}]
        notes.append(f"CA certificates from ConfigMap {tls.credential_name}, which you create from Secret "
                     f"{tls.credential_name}'s ca.crt (Istio read the Secret)")
    else:
        validation["wellKnownCACertificates"] = "System"
        notes.append("CA certificates: the system roots")
    validation["hostname"] = hostname
    if tls.sni is None:
        notes.append(f"SNI and certificate hostname {hostname} (Istio sent the request's host)")
    sans = []
    for san in tls.subject_alt_names:
        if "://" in san:
            sans.append({"type": "URI", "uri": san})
        elif is_hostname(san.lower()):
            sans.append({"type": "Hostname", "hostname": san.lower()})
    if sans:
        validation["subjectAltNames"] = sans[:MAX_SANS]
    if len(sans) < len(tls.subject_alt_names) or len(sans) > MAX_SANS:
        notes.append(f"subjectAltNames kept: {len(sans[:MAX_SANS])} of {len(tls.subject_alt_names)}")
    name = build.unique("BackendTLSPolicy", target.namespace, f"{target.name}{suffix}")
    if rule.namespace != target.namespace:
        notes.append(f"the policy lives in {target.namespace} and applies to every client")
    notes.append("Linkerd does not originate TLS and ignores it")
    build.losses.approximated(where, f"{context}tls SIMPLE -> BackendTLSPolicy {target.namespace}/{name}: "
                                     + "; ".join(notes))
    build.emit(API, "BackendTLSPolicy", name, target.namespace,
               {"targetRefs": [ref], "validation": validation}, [source_of(rule.origin)])
