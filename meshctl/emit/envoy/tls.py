"""DestinationRule ``tls`` and auto mTLS -> the transport socket of an upstream cluster.

What istiod does (``cluster_tls.go``), per cluster:

* ``DISABLE``: plaintext, and no auto mTLS either.
* ``SIMPLE``: TLS origination. Trust comes from SDS ``file-root:<caCertificates>`` (or the
  system roots, ``file-root:system``), SANs from ``subjectAltNames``; ``insecureSkipVerify``
  verifies nothing. Without ``sni`` Envoy takes the SNI (and, without SANs, the SAN to check)
  from the request's host: ``auto_sni`` / ``auto_san_validation``.
* ``MUTUAL``: SIMPLE plus the client certificate ``file-cert:<cert>~<key>``; with
  ``credentialName`` both come from SDS ``kubernetes://<name>`` (CA ``<name>-cacert``).
* ``ISTIO_MUTUAL``: the workload certificate (SDS ``default``) and mesh root (``ROOTCA``),
  the SNI ``outbound_.PORT_.SUBSET_.FQDN``, ALPN ``istio-peer-exchange, istio``, and the
  service's SPIFFE identities as the SANs to accept.
* No ``tls`` at all: auto mTLS (mesh ``enableAutoMtls``, on by default) for a destination
  inside the mesh whose namespace does not DISABLE mTLS. The same Istio context goes into
  ``transport_socket_matches``: endpoints labelled ``tlsMode: istio`` get it, the others
  plaintext.

Every secret comes from the node agent over the ``sds-grpc`` Unix socket; asking for one
registers that cluster (see ``sds_secret``), so a bootstrap never names a missing cluster.

>>> san_matchers(["spiffe://cluster.local/ns/default/sa/reviews", "api.example.com"])
... # doctest: +NORMALIZE_WHITESPACE
[{'san_type': 'URI', 'matcher': {'exact': 'spiffe://cluster.local/ns/default/sa/reviews'}},
 {'san_type': 'DNS', 'matcher': {'exact': 'api.example.com'}}]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from meshctl.emit.envoy import names
from meshctl.emit.envoy.build import Build, Json
from meshctl.emit.envoy.endpoints import ISTIO_TLS_MODE, destination
from meshctl.emit.envoy.values import HTTP_PROTOCOL_OPTIONS, RAW_BUFFER, UPSTREAM_TLS, typed
from meshctl.model.objects import DestinationPolicy, TLSSettings
from meshctl.security.mtls import DISABLE, view_of

TLS_SOCKET = "envoy.transport_sockets.tls"
RAW_BUFFER_SOCKET = "envoy.transport_sockets.raw_buffer"
SDS_SOCKET_PATH = "./var/run/secrets/workload-spiffe-uds/socket"
ISTIO_ALPN = ("istio-peer-exchange", "istio")
ORIGINATING = ("SIMPLE", "MUTUAL")


def upstream_transport(
    build: Build, fqdn: str, port: int, subset: str | None, policy_tls: TLSSettings | None,
    endpoints_meshed: bool, *, h2: bool = False,
) -> Json:
    """The fields to merge into the cluster: ``transport_socket``, ``transport_socket_matches``
    or nothing (plaintext). ``h2``: the cluster speaks HTTP/2 upstream (ALPN offers ``h2``).

    Auto mTLS is emitted only when ``endpoints_meshed`` (some endpoint of the cluster carries
    ``tlsMode: istio``): Istio adds the matches to every cluster because EDS may bring meshed
    endpoints later, but a static cluster's endpoints are fixed, and without a meshed one the
    matches would always pick plaintext while still depending on the SDS socket.

    Callers first ask ``credential_ignored``: when it is true Istio applies no TLS at all
    (not even auto mTLS), so this is not called.
    """
    if policy_tls is None:
        if endpoints_meshed and auto_mtls(build, fqdn):
            context = _istio_context(build, fqdn, port, subset, None, h2)
            return {"transport_socket_matches": [
                {"name": "tlsMode-istio", "match": dict(ISTIO_TLS_MODE), "transport_socket": _tls_socket(context)},
                {"name": "tlsMode-disabled", "match": {}, "transport_socket": _raw_buffer()},
            ]}
        return {}
    mode = policy_tls.mode.upper()
    if mode == "ISTIO_MUTUAL":
        return {"transport_socket": _tls_socket(_istio_context(build, fqdn, port, subset, policy_tls, h2))}
    if mode == "MUTUAL" and not _has_client_certificate(policy_tls):
        build.losses.dropped(
            policy_tls.origin.at("mode"),
            "MUTUAL needs clientCertificate and privateKey (or credentialName); without them "
            "Istio applies no TLS, so this cluster sends plaintext",
        )
        return {}
    if mode in ORIGINATING:
        return {"transport_socket": _tls_socket(_origination_context(build, policy_tls, h2))}
    return {}


def auto_mtls(build: Build, fqdn: str) -> bool:
    """Whether Istio sends auto mTLS to ``fqdn``: enabled in the mesh, the destination inside
    the mesh, and its namespace's (else the mesh's) PeerAuthentication not DISABLE (Istio's
    best-effort guess of the service's mode ignores workload-level policies)."""
    if not build.mesh.mesh_config.enable_auto_mtls:
        return False
    found = destination(build.mesh, build.proxy_namespace, fqdn)
    if found is None or found.mesh_external:
        return False
    return view_of(build.mesh).peer_decision(found.namespace, {}, None).mode != DISABLE


def auto_sni_options(policy_tls: TLSSettings | None) -> Json:
    """``upstream_http_protocol_options`` Istio adds for TLS origination without an ``sni``:
    ``auto_sni``, plus ``auto_san_validation`` when no SANs are given and it verifies."""
    if policy_tls is None or policy_tls.mode.upper() not in ORIGINATING or policy_tls.sni \
            or not _has_client_certificate(policy_tls):
        return {}
    out: Json = {"auto_sni": True}
    if not policy_tls.subject_alt_names and not policy_tls.insecure_skip_verify:
        out["auto_san_validation"] = True
    return out


def credential_ignored(build: Build, policy_tls: TLSSettings | None, rule: DestinationPolicy | None) -> bool:
    """Istio gives a sidecar no TLS context at all for SIMPLE/MUTUAL with a ``credentialName``
    in a DestinationRule without ``workloadSelector`` (so that every sidecar in scope does not
    wait for a secret it may not read). Reported as dropped, since the TLS is left out."""
    if build.options.proxy != "sidecar" or policy_tls is None or not policy_tls.credential_name:
        return False
    if policy_tls.mode.upper() not in ORIGINATING or (rule is not None and rule.workload_selector is not None):
        return False
    build.losses.dropped(
        policy_tls.origin.at("credentialName"),
        "Istio applies no TLS on a sidecar for a credentialName in a DestinationRule without "
        "workloadSelector, so this cluster sends plaintext",
    )
    return True


def service_identities(build: Build, fqdn: str) -> list[str]:
    """The SPIFFE identities of the workloads behind a Service (sorted; empty for others)."""
    found = destination(build.mesh, build.proxy_namespace, fqdn)
    if found is None or found.service is None:
        return []
    domain = build.mesh.mesh_config.trust_domain
    accounts = {(w.namespace, w.service_account) for w in build.mesh.workloads_of(found.service)}
    return sorted(f"spiffe://{domain}/ns/{ns}/sa/{sa}" for ns, sa in accounts)


def san_matchers(names_: Iterable[str]) -> list[Json]:
    """``match_typed_subject_alt_names`` entries: exact matches, typed by the form of the name
    (URI for ``spiffe://``-like names, IP, e-mail, else DNS, which also honours wildcard certs)."""
    return [{"san_type": _san_type(name), "matcher": {"exact": name}} for name in names_]


def sds_secret(build: Build, name: str) -> Json:
    """An ``SdsSecretConfig`` for secret ``name`` from the node agent; registers ``sds-grpc``."""
    build.add_cluster(names.SDS_CLUSTER, sds_cluster)
    return {"name": name, "sds_config": {
        "api_config_source": {
            "api_type": "GRPC", "transport_api_version": "V3", "set_node_on_first_message_only": True,
            "grpc_services": [{"envoy_grpc": {"cluster_name": names.SDS_CLUSTER}}],
        },
        "resource_api_version": "V3",
        "initial_fetch_timeout": "0s",
    }}


def sds_cluster() -> Json:
    """The ``sds-grpc`` cluster: HTTP/2 over the node agent's Unix socket, as in Istio's bootstrap."""
    return {
        "name": names.SDS_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            HTTP_PROTOCOL_OPTIONS: typed(
                HTTP_PROTOCOL_OPTIONS, explicit_http_config={"http2_protocol_options": {}}
            )
        },
        "load_assignment": {"cluster_name": names.SDS_CLUSTER, "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": {"pipe": {"path": SDS_SOCKET_PATH}}}}]}
        ]},
    }


# -- contexts ---------------------------------------------------------------------------------
def _tls_params() -> Json:
    return {"tls_minimum_protocol_version": "TLSv1_2", "tls_maximum_protocol_version": "TLSv1_3"}


def _istio_context(
    build: Build, fqdn: str, port: int, subset: str | None, settings: TLSSettings | None, h2: bool
) -> Json:
    """Istio mTLS: SNI and SANs from the DestinationRule when it sets them, else Istio's own."""
    sni = settings.sni if settings is not None and settings.sni else names.sni_name(port, subset, fqdn)
    sans = list(settings.subject_alt_names) if settings is not None and settings.subject_alt_names \
        else service_identities(build, fqdn)
    common: Json = {
        "alpn_protocols": [*ISTIO_ALPN, "h2"] if h2 else list(ISTIO_ALPN),
        "tls_params": _tls_params(),
        "tls_certificate_sds_secret_configs": [sds_secret(build, "default")],
        "combined_validation_context": {
            "default_validation_context": _validation(sans),
            "validation_context_sds_secret_config": sds_secret(build, "ROOTCA"),
        },
    }
    return typed(UPSTREAM_TLS, sni=sni, common_tls_context=common)


def _origination_context(build: Build, settings: TLSSettings, h2: bool) -> Json:
    """SIMPLE / MUTUAL: the application's TLS, with the DestinationRule's certificates."""
    common: Json = {"tls_params": _tls_params()}
    if h2:
        common["alpn_protocols"] = ["h2"]
    credential = settings.credential_name
    if credential:
        build.losses.approximated(
            settings.origin.at("credentialName"),
            "istiod serves credentialName secrets over ADS, which a static bootstrap lacks; "
            f"it asks the node agent's SDS socket for kubernetes://{credential} instead",
        )
    if settings.mode.upper() == "MUTUAL":
        cert = f"kubernetes://{credential}" if credential \
            else f"file-cert:{settings.client_certificate}~{settings.private_key}"
        common["tls_certificate_sds_secret_configs"] = [sds_secret(build, cert)]
    if settings.insecure_skip_verify and not credential:
        common["validation_context"] = {}
    else:
        root = f"kubernetes://{credential}-cacert" if credential \
            else f"file-root:{settings.ca_certificates or 'system'}"
        common["combined_validation_context"] = {
            "default_validation_context": _validation(settings.subject_alt_names),
            "validation_context_sds_secret_config": sds_secret(build, root),
        }
    fields: Json = {"sni": settings.sni} if settings.sni else {}
    return typed(UPSTREAM_TLS, **fields, common_tls_context=common)


def _has_client_certificate(settings: TLSSettings) -> bool:
    """MUTUAL needs a credentialName or both files (SIMPLE needs neither)."""
    return settings.mode.upper() != "MUTUAL" or bool(settings.credential_name) \
        or bool(settings.client_certificate and settings.private_key)


def _validation(sans: Iterable[str]) -> Json:
    matchers = san_matchers(sans)
    return {"match_typed_subject_alt_names": matchers} if matchers else {}


def _tls_socket(context: Json) -> Json:
    return {"name": TLS_SOCKET, "typed_config": context}


def _raw_buffer() -> Json:
    return {"name": RAW_BUFFER_SOCKET, "typed_config": typed(RAW_BUFFER)}


def _san_type(name: str) -> str:
    if "://" in name:
        return "URI"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return "EMAIL" if "@" in name else "DNS"
    return "IP_ADDRESS"
