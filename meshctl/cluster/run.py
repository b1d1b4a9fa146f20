"""The analyze pipeline on live objects, then the live checks: LiveState -> RunResult.

The same stages as ``pipeline.run_analyze`` (validate every document of a kind meshctl
checks, lower into one MeshModel, run every enabled analysis rule, apply the run's
policy with ``pipeline.finish``), on SourceDocs made from live objects instead of files,
plus the live checks (``meshctl/rules/live``) and one finding per partial view.

A kind that could not be read completely makes every rule that reads it blind: its
findings could be artefacts of the gap (a Gateway's Secret "missing" because Secrets were
forbidden), so those rules are not run and the partial-view finding names them.
"""

from __future__ import annotations

import yaml

from meshctl.cluster.state import LiveState, Skip
from meshctl.diagnostics import Finding
from meshctl.options import Options
from meshctl.pipeline import (
    RunResult,
    collector_paused,
    count_document,
    findings_collector,
    finish,
    rule_enabled,
    rule_has_inputs,
)
from meshctl.rules.live import msh518_cluster_resource_not_readable as not_readable
from meshctl.rules.live import msh519_mesh_api_not_served as not_served
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker

# Where each kind lands in the mesh model (MeshModel attribute names, as Rule.reads says).
# Pods are left out: the controllers' pod templates stand for the workloads when pods cannot
# be read, and the rules that judge running pods are named in POD_RULES and the live needs.
COLLECTIONS: dict[str, str] = {
    "/Namespace": "namespaces", "/Service": "services",
    "/ServiceAccount": "service_accounts", "/Secret": "secrets", "/Endpoints": "endpoints",
    "discovery.k8s.io/EndpointSlice": "endpoints",
    "apps/Deployment": "workloads", "apps/StatefulSet": "workloads", "apps/DaemonSet": "workloads",
    "batch/Job": "workloads", "batch/CronJob": "workloads",
    "networking.istio.io/VirtualService": "routes", "networking.istio.io/DestinationRule": "destination_policies",
    "networking.istio.io/Gateway": "gateways", "networking.istio.io/ServiceEntry": "service_entries",
    "networking.istio.io/WorkloadEntry": "workloads", "networking.istio.io/Sidecar": "sidecars",
    "networking.istio.io/EnvoyFilter": "envoy_filters",
    "security.istio.io/PeerAuthentication": "peer_authentications",
    "security.istio.io/AuthorizationPolicy": "authorization_policies",
    "security.istio.io/RequestAuthentication": "request_authentications",
    "telemetry.istio.io/Telemetry": "telemetries",
    "extensions.istio.io/WasmPlugin": "workload_policies", "extensions.istio.io/TrafficExtension": "workload_policies",
    "gateway.networking.k8s.io/Gateway": "gateways", "gateway.networking.k8s.io/GatewayClass": "gateway_classes",
    "gateway.networking.k8s.io/HTTPRoute": "routes", "gateway.networking.k8s.io/GRPCRoute": "routes",
    "gateway.networking.k8s.io/TCPRoute": "routes", "gateway.networking.k8s.io/TLSRoute": "routes",
    "gateway.networking.k8s.io/UDPRoute": "routes", "gateway.networking.k8s.io/ReferenceGrant": "reference_grants",
    "policy.linkerd.io/Server": "linkerd_servers", "policy.linkerd.io/AuthorizationPolicy": "linkerd_authorizations",
    "policy.linkerd.io/ServerAuthorization": "server_authorizations",
    "policy.linkerd.io/MeshTLSAuthentication": "mesh_tls_authentications",
    "policy.linkerd.io/NetworkAuthentication": "network_authentications",
    "policy.linkerd.io/HTTPRoute": "routes", "linkerd.io/ServiceProfile": "service_profiles",
    "split.smi-spec.io/TrafficSplit": "traffic_splits", "networking.k8s.io/Ingress": "routes",
    "networking.k8s.io/IngressClass": "gateway_classes", "workload.linkerd.io/ExternalWorkload": "workloads",
}
POD_RULES = ("MSH175",)  # pod-missing-proxy: analyze's one rule that judges Pod objects only
# Kinds read for the live checks only: not validated, not lowered (ConfigMaps are read one
# by one for the mesh config, and the catalog would check them as inputs).
CONTEXT_ONLY = frozenset({"/ConfigMap"})
FAMILY_NAMES = {"istio": "Istio", "linkerd": "Linkerd", "gateway-api": "the Gateway API"}
REPORTED_FAMILIES = frozenset(FAMILY_NAMES)
MAX_LISTED = 8


def run_diagnose(options: Options, state: LiveState, catalog: Catalog | None = None) -> RunResult:
    from meshctl.lower import lower
    from meshctl.rules.live._live import LiveAnalysis, live_rules
    from meshctl.rules.registry import analysis_rules

    catalog = catalog or Catalog.default()
    with collector_paused():
        result = RunResult(files=len(state.docs))
        checker = DocumentChecker(catalog, strict_kinds=False, gateway_api_channel=options.gateway_api_channel)
        for doc in state.docs:
            if doc.kind_key in CONTEXT_ONLY or catalog.lookup(doc.api_version, doc.kind).entry is None:
                continue
            checked = checker.check(doc)
            count_document(result, doc, checked.status)
            result.findings.extend(checked.findings)
            result.docs.append(doc)
        result.texts = dict(state.texts)
        mesh = lower(result.checked, mesh_config(state))
        gaps = [s for s in state.skipped if s.cause in ("forbidden", "failed")]
        closed = options.closed_world or (state.all_namespaces and not gaps)
        analysis = LiveAnalysis(mesh, closed_world=closed, live=state)
        result.analysis = analysis
        blind = blind_rules(state)
        collect = findings_collector(result)
        for rule in analysis_rules():
            if rule.code in blind or not rule_enabled(rule, options) or not rule_has_inputs(rule, mesh):
                continue
            assert rule.analyze_fn is not None
            collect(rule.analyze_fn(analysis))
        for registered in live_rules():
            if registered.rule.code in blind or not rule_enabled(registered.rule, options):
                continue
            collect(registered.fn(analysis))
        result.findings.extend(partial_view_findings(state, blind))
        finish(result, options)
    return result


def mesh_config(state: LiveState) -> object:
    """Istio's MeshConfig from the ``istio`` ConfigMap beside the default istiod, if read."""
    from meshctl.lower.mesh_config import mesh_config as parse
    from meshctl.model.objects import MeshConfig

    maps = [d for d in state.objects("/ConfigMap") if d.name == "istio"]
    if not maps:
        return MeshConfig()
    doc = maps[0]
    try:
        data = yaml.safe_load(str((doc.data.get("data") or {}).get("mesh") or "")) or {}
    except yaml.YAMLError:
        return MeshConfig()
    if not isinstance(data, dict):
        return MeshConfig()
    data.setdefault("rootNamespace", doc.namespace)  # istiod's namespace, as istiod defaults it
    return parse(data, doc.file)


def blind_rules(state: LiveState) -> dict[str, list[Skip]]:
    """Rule code -> the gaps that make it blind (kinds it reads that were not read fully)."""
    from meshctl.rules.live._live import live_rules
    from meshctl.rules.registry import analysis_rules

    out: dict[str, list[Skip]] = {}
    for skip in state.skipped:
        if skip.cause not in ("forbidden", "failed"):
            continue
        collection = COLLECTIONS.get(skip.kind_key)
        for rule in analysis_rules():
            if (collection is not None and collection in rule.reads) or (skip.kind_key == "/Pod" and rule.code in POD_RULES):
                out.setdefault(rule.code, []).append(skip)
        for registered in live_rules():
            if skip.kind_key in registered.needs or (skip.kind_key == "apps/Deployment" and "control-plane" in registered.needs):
                out.setdefault(registered.rule.code, []).append(skip)
    return out


def partial_view_findings(state: LiveState, blind: dict[str, list[Skip]]) -> list[Finding]:
    """One finding per (where, why): what could not be read and the checks skipped for it."""
    from meshctl.rules.registry import by_code

    findings: list[Finding] = []
    spots: dict[tuple[str, str, str], list[str | None]] = {}
    for skip in state.skipped:
        if skip.cause in ("forbidden", "failed"):
            spots.setdefault((skip.what, skip.kind_key, skip.reason), []).append(skip.namespace)
        elif skip.cause == "missing-namespace":
            findings.append(not_readable.RULE.finding(
                f"namespace {skip.namespace!r} does not exist in the cluster: nothing was read from it"
            ))
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (what, kind_key, reason), namespaces in spots.items():
        if None in namespaces:
            where = "across all namespaces"
        elif len(namespaces) == 1:
            where = f"in namespace {namespaces[0]}"
        else:
            where = f"in namespaces {', '.join(sorted(str(n) for n in namespaces))}"
        grouped.setdefault((where, reason), []).append((what, kind_key))
    for (where, reason), kinds in grouped.items():
        kind_keys = {k for _, k in kinds}
        codes = sorted(code for code, skips in blind.items() if any(s.kind_key in kind_keys for s in skips))
        named = [f"{c} {r.name}" if (r := by_code(c)) is not None else c for c in codes]
        skipped = _some(named) if named else "none (no check depends on them alone)"
        whats = _some(sorted({w for w, _ in kinds}))
        findings.append(not_readable.RULE.finding(
            f"cannot list {whats} {where}: {reason}; checks that need them were skipped: {skipped}"
        ))
    return findings + _not_served(state)


def _not_served(state: LiveState) -> list[Finding]:
    catalog = Catalog.default()
    families = catalog.families()
    by_family: dict[str, list[Skip]] = {}
    for skip in state.skipped:
        if skip.cause == "not-served":
            group = skip.kind_key.split("/", 1)[0]
            by_family.setdefault(families.get(group, "core"), []).append(skip)
    out = []
    for family, skips in sorted(by_family.items()):
        if family not in REPORTED_FAMILIES:
            continue  # built-in kinds an older or newer Kubernetes lacks, retired SMI: nothing to say
        family_groups = sorted({g for g, f in families.items() if f == family})
        name = FAMILY_NAMES.get(family, family)
        if all(not state.served.get(g) for g in family_groups):
            out.append(not_served.RULE.finding(
                f"{name} is not installed in this cluster ({', '.join(family_groups)} not served): "
                "its resources were not read and its checks had nothing to check"
            ))
            continue
        kinds = sorted(s.kind_key.replace("/", " ", 1).strip() for s in skips)
        out.append(not_served.RULE.finding(
            f"not served by this cluster (their CRDs are not installed), so not read: {_some(kinds)}"
            + f" ({name})"
        ))
    return out


def _some(items: list[str]) -> str:
    more = len(items) - MAX_LISTED
    return ", ".join(items[:MAX_LISTED]) + (f", ... ({more} more)" if more > 0 else "")
