"""The Envoy back end judges the Ingress -> Istio translation by meaning.

An Ingress of Istio's class is served today by Istio's ingress controller, which the
Envoy back end compiles directly (``translate --to envoy --proxy gateway <ingress>.<ns>``,
docs/ingress.md "Envoy: an Ingress of Istio's class"). After ``translate --to istio`` the
same ingress gateway serves the Istio Gateway and VirtualServices the translation wrote
(lowered again with the Services and Deployments, compiled with ``--proxy gateway
<gateway>.<ns>``). For sample requests - every host of the Ingresses and one nobody
serves, port 80 and 443 (SNI = the host), paths derived from the Ingress paths
(tests/emit/equivalence.py ``sample_requests``) plus a few near misses, with and without
headers - both route tables must give the same outcome: the same pods in the same
shares, the same redirect, the same 404 (no virtual host / no route) or the same refused
TLS handshake (no filter chain for the SNI).

Where they do not agree, the translation must have said so: a MSH400/MSH401 finding at a
field responsible for the request (an Ingress path that matches it under any reading,
the ``defaultBackend``, the ``tls`` entry of its host). Where the behaviour differs by
design, the test names the finding.

The second path, Ingress -> Gateway API -> Istio (the ``--to gateway-api`` output lowered
and translated ``--to istio``), must agree with Ingress -> Istio for the same requests.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest

from meshctl.diagnostics import Finding
from meshctl.emit import envoy, gateway_api, istio
from meshctl.emit.envoy.options import EnvoyOptions
from meshctl.emit.manifests import Json
from meshctl.emit.mesh_options import MeshOptions
from meshctl.model.mesh import MeshModel
from tests.emit.equivalence import (
    Request,
    combine,
    docs,
    envoy_outcome,
    kubernetes,
    model,
    sample_requests,
)

NS = "shop"
# the ingress gateway Service maps the server ports to the container ports Envoy binds
LISTENERS = {80: "0.0.0.0_8080", 443: "0.0.0.0_8443"}
LOSSES = ("MSH400", "MSH401")

BASE = """\
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: istio}
spec: {controller: istio.io/ingress-controller}
""" + "".join(f"""---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: {port}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: app, image: example/{name}:1}}]}}
""" for name, port in (("web", 9080), ("api", 8080), ("admin", 7070)))


def ingress(name: str, body: str, *, meta: str = "", class_line: str = "  ingressClassName: istio\n") -> str:
    return f"---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {NS}\n" \
           f"{meta}spec:\n{class_line}{body}"


def paths(host: str | None, *entries: tuple[str | None, str, str]) -> str:
    """One rule: ``entries`` are (path, pathType, service); the port is the Service's."""
    ports = {"web": 9080, "api": 8080, "admin": 7070}
    head = f"  - host: '{host}'\n    http:\n" if host else "  - http:\n"
    lines = [head + "      paths:\n"]
    for path, kind, service in entries:
        written = f"path: '{path}', " if path is not None else ""
        lines.append(f"      - {{{written}pathType: {kind}, backend: {{service: {{name: {service}, "
                     f"port: {{number: {ports[service]}}}}}}}}}\n")
    return "".join(lines)


def rules(*rule_texts: str) -> str:
    return "  rules:\n" + "".join(rule_texts)


CASES: dict[str, tuple[str, str]] = {  # name -> (the Ingress compiled directly, the Ingresses)
    "exact-and-prefix": ("front", ingress("front", rules(paths(
        "shop.example.com",
        ("/login", "Exact", "api"),
        ("/api", "Prefix", "api"),
        ("/static/", "Prefix", "web"),
        ("/api/v2/users", "Prefix", "admin"),
        ("/docs", "Exact", "admin"),
        ("/docs", "Prefix", "web"),
    )))),
    "root-path": ("front", ingress("front", rules(paths(
        "shop.example.com",
        ("/", "Prefix", "web"),
        ("/", "Exact", "api"),
        ("/health", "Exact", "admin"),
    )))),
    "several-hosts": ("front", ingress("front", rules(
        paths("shop.example.com", ("/", "Prefix", "web"), ("/api", "Prefix", "api")),
        paths("api.example.com", ("/", "Prefix", "api")),
        paths("*.example.org", ("/", "Prefix", "admin")),
        paths(None, ("/healthz", "Exact", "web")),
    ))),
    "tls-hosts": ("front", ingress("front", """\
  tls:
  - hosts: [shop.example.com, secure.example.com]
    secretName: shop-cert
  - hosts: ['*.example.org']
    secretName: org-cert
""" + rules(
        paths("shop.example.com", ("/", "Prefix", "web"), ("/api", "Prefix", "api")),
        paths("secure.example.com", ("/admin", "Prefix", "admin")),
        paths("plain.example.com", ("/", "Prefix", "web")),
        paths("*.example.org", ("/", "Prefix", "admin")),
        paths(None, ("/healthz", "Exact", "api")),
    ))),
    "tls-without-hosts": ("front", ingress("front", """\
  tls:
  - secretName: wildcard-cert
""" + rules(
        paths("shop.example.com", ("/", "Prefix", "web")),
        paths("api.example.com", ("/api", "Prefix", "api")),
    ))),
    "default-backend": ("front", ingress("front", """\
  defaultBackend: {service: {name: admin, port: {number: 7070}}}
""" + rules(paths("shop.example.com", ("/api", "Prefix", "api"))))),
    "two-ingresses-one-host": ("front", ingress("front", """\
  tls:
  - hosts: [shop.example.com]
    secretName: shop-cert
""" + rules(paths("shop.example.com", ("/", "Prefix", "web")))) + ingress("front-api", rules(paths(
        "shop.example.com", ("/api", "Prefix", "api"), ("/v2", "Exact", "admin"))))),
    "exact-beside-slashed-prefix": ("front", ingress("front", rules(paths(
        "shop.example.com", ("/docs/", "Prefix", "web"), ("/docs", "Exact", "admin"), ("/", "Prefix", "api"))))),
    "slashed-and-bare-prefix": ("front", ingress("front", rules(paths(
        "shop.example.com", ("/a", "Prefix", "web"), ("/a/", "Prefix", "api"), ("/b/", "Prefix", "web"),
        ("/b", "Prefix", "admin"))))),
    "exact-beside-slashed-prefix-across-ingresses": ("front", ingress("front", rules(paths(
        "shop.example.com", ("/docs", "Exact", "admin"), ("/", "Prefix", "api"))))
        + ingress("more", rules(paths("shop.example.com", ("/docs/", "Prefix", "web"))))),
    "implementation-specific-exact-beside-slashed-prefix": ("front", ingress("front", rules(paths(
        "shop.example.com", ("/docs/", "Prefix", "web"), ("/docs", "ImplementationSpecific", "admin"))))),
    "two-ingresses-one-path": ("front", ingress("front", rules(paths("shop.example.com", ("/api", "Prefix", "web"))))
                               + ingress("api", rules(paths("shop.example.com", ("/api", "Prefix", "api"),
                                                            ("/", "Prefix", "admin"))))),
    "implementation-specific": ("front", ingress("front", rules(paths(
        "shop.example.com",
        ("/glob/*", "ImplementationSpecific", "api"),
        ("/regexish.*", "ImplementationSpecific", "admin"),
        ("/literal", "ImplementationSpecific", "admin"),
        (None, "ImplementationSpecific", "web"),
    )))),
    "annotation-class": ("front", ingress(
        "front", rules(paths(None, ("/", "Prefix", "web"), ("/api", "Prefix", "api"))),
        meta="  annotations:\n    kubernetes.io/ingress.class: istio\n"
             "    nginx.ingress.kubernetes.io/canary-by-header: canary\n",
        class_line="")),
}


# -- the route table a request meets on the gateway ----------------------------------------------------
@dataclass(frozen=True)
class Probe:
    host: str
    port: int  # 80 (plain HTTP) or 443 (TLS, SNI = host)
    request: Request


def _listener(bootstrap: Json, port: int) -> Json | None:
    found = [li for li in bootstrap["static_resources"]["listeners"] if li["name"] == LISTENERS[port]]
    return found[0] if found else None


def _names(chain: Json) -> list[str]:
    return [str(n).lower() for n in chain.get("filter_chain_match", {}).get("server_names", [])]


def _chain(listener: Json, host: str, tls: bool) -> Json | None:
    """Envoy's filter chain choice by SNI: exact name, longest ``*.`` suffix, then chains without names."""
    chains = listener.get("filter_chains", [])
    if not tls:
        assert all(not _names(c) for c in chains), "a plain HTTP listener does not select by SNI"
        return chains[0] if chains else None
    exact = [c for c in chains if host in _names(c)]
    if exact:
        return exact[0]
    wild = sorted(((len(n), i) for i, c in enumerate(chains) for n in _names(c)
                   if n.startswith("*.") and host.endswith(n[1:])), reverse=True)
    if wild:
        return chains[wild[0][1]]
    plain = [c for c in chains if not _names(c)]
    return plain[0] if plain else None


def _virtual_host(config: Json, host: str) -> Json | None:
    """Envoy's virtual host choice: exact domain, longest suffix wildcard, longest prefix wildcard, ``*``."""
    hosts = config.get("virtual_hosts", [])

    def domains(v: Json) -> list[str]:
        return [str(d).lower() for d in v.get("domains", [])]

    for v in hosts:
        if host in domains(v):
            return v
    best: tuple[int, int] | None = None
    for kind in ("suffix", "prefix"):
        for i, v in enumerate(hosts):
            for d in domains(v):
                if d == "*" or "*" not in d:
                    continue
                hit = (kind == "suffix" and d.startswith("*") and host.endswith(d[1:]) and len(host) > len(d) - 1) or (
                    kind == "prefix" and d.endswith("*") and host.startswith(d[:-1]) and len(host) > len(d) - 1)
                if hit and (best is None or len(d) > best[0]):
                    best = (len(d), i)
        if best is not None:
            return hosts[best[1]]
    return next((v for v in hosts if "*" in domains(v)), None)


def gateway_outcome(mesh: MeshModel, bootstrap: Json, probe: Probe) -> tuple[Any, ...]:
    listener = _listener(bootstrap, probe.port)
    if listener is None:
        return ("refused",)
    host = probe.host.lower()
    chain = _chain(listener, host, probe.port == 443)
    if chain is None:
        return ("no-tls",)
    config = chain["filters"][0]["typed_config"]["route_config"]
    vhost = _virtual_host(config, host)
    if vhost is None:
        return ("none",)
    return envoy_outcome(mesh, vhost.get("routes", []), probe.request)


# -- the three ways to the ingress gateway ------------------------------------------------------------
@dataclass
class Compiled:
    mesh: MeshModel
    bootstrap: Json
    findings: list[Finding]  # the translation's (the direct compile's for "direct")
    resources: list[Json]


def direct(text: str, name: str) -> Compiled:
    mesh = model(text)
    out = envoy.translate(mesh, EnvoyOptions(proxy="gateway", target=(name, NS)))
    return Compiled(mesh, out.bootstrap, list(out.findings), [])


def _compile_istio(text: str, resources: list[Json], findings: list[Finding]) -> Compiled:
    gateways = [r for r in resources if r["kind"] == "Gateway"]
    assert len(gateways) == 1, [r["metadata"]["name"] for r in gateways]
    meta = gateways[0]["metadata"]
    mesh = model(combine(kubernetes(docs(text)), resources))
    out = envoy.translate(mesh, EnvoyOptions(proxy="gateway", target=(meta["name"], meta["namespace"])))
    return Compiled(mesh, out.bootstrap, findings, resources)


def via_istio(text: str) -> Compiled:
    out = istio.translate(model(text), MeshOptions(source="ingress"))
    return _compile_istio(text, list(out.resources), list(out.findings))


def via_gateway_api(text: str) -> Compiled:
    there = gateway_api.translate(model(text), MeshOptions(source="ingress"))
    middle = combine(kubernetes(docs(text)), there.resources)
    back = istio.translate(model(middle), MeshOptions(source="gateway-api"))
    return _compile_istio(text, list(back.resources), [*there.findings, *back.findings])


# -- sample requests --------------------------------------------------------------------------------
NEAR_MISSES = ("/", "/other", "/apix", "/api/", "/API", "/static", "/staticx", "/docs/", "/docsx", "/glob",
               "/globx", "/glob/a/b", "/regexish", "/regexishx", "/regexish/a", "/literal/x", "/v2/x", "/admin/x",
               "/healthz/")
HEADERS: tuple[tuple[tuple[str, str], ...], ...] = ((), (("canary", "always"),), (("x-debug", "1"),))


def hosts_of(mesh: MeshModel) -> list[str]:
    """Every host an Ingress names (a wildcard as one host under it and its bare domain),
    and one nobody serves."""
    found = {"shop.example.com", "unknown.example.net"}
    for gateway in mesh.gateways:
        for listener in gateway.listeners:
            found.update(listener.hosts)
    for route in mesh.routes:
        found.update(route.hosts)
    out = set()
    for host in found - {"*"}:
        out.update((f"a{host[1:]}", host[2:]) if host.startswith("*.") else (host,))
    return sorted(out)


def probes(mesh: MeshModel) -> list[Probe]:
    plain = set(sample_requests(mesh)) | {Request(path) for path in NEAR_MISSES}
    requests = {replace(r, headers=r.headers + h) for r in plain for h in HEADERS}
    return [Probe(host, port, r) for host in hosts_of(mesh) for port in (80, 443)
            for r in sorted(requests, key=repr)]


def compare(a: Compiled, b: Compiled, sample: list[Probe]) -> list[tuple[Probe, tuple[Any, ...], tuple[Any, ...]]]:
    out = []
    for probe in sample:
        x, y = gateway_outcome(a.mesh, a.bootstrap, probe), gateway_outcome(b.mesh, b.bootstrap, probe)
        if x != y:
            out.append((probe, x, y))
    return out


# -- which fields are responsible for a request --------------------------------------------------------
def _stem(value: str) -> str:
    return value.removesuffix("*").removesuffix(".").rstrip("/")


def responsible(mesh: MeshModel, probe: Probe) -> set[tuple[str, str]]:
    """(Ingress name, field path) of what decides ``probe`` under any reading: the paths for
    its host (or every host) that match it as an exact path or a string prefix, the
    default backends, and on 443 the tls entries."""
    fields: set[tuple[str, str]] = set()
    path = probe.request.path.split("?")[0]
    for route in mesh.routes:
        if route.source_kind != "Ingress":
            continue
        name = route.origin.doc.name
        if route.origin.path[:2] == ("spec", "defaultBackend"):
            fields.add((name, "spec.defaultBackend"))
            continue
        host = route.hosts[0] if route.hosts else "*"
        if host != "*" and host != probe.host and not (host.startswith("*.") and probe.host.endswith(host[1:])):
            continue
        for rule in route.rules:
            match = rule.matches[0] if rule.matches else None
            value = match.path.value if match is not None and match.path is not None else "/"
            if path == value or path.startswith(_stem(value)):
                fields.add((name, _dotted(rule.origin.path)))
    if probe.port == 443:
        for gateway in mesh.gateways:
            for listener in gateway.listeners:
                if listener.protocol == "HTTPS" and listener.origin.path[:2] == ("spec", "tls"):
                    fields.add((gateway.name, _dotted(listener.origin.path)))
    return fields


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def losses_at(findings: list[Finding], fields: set[tuple[str, str]]) -> list[Finding]:
    """The loss findings located at (or inside) one of ``fields`` of an Ingress."""
    out = []
    for f in findings:
        if f.code not in LOSSES or f.location is None or f.resource is None or f.resource.kind != "Ingress":
            continue
        if any(f.resource.name == name and (f.location.path == field or f.location.path.startswith(field + "."))
               for name, field in fields):
            out.append(f)
    return out


def unexplained(case: str, path: Any) -> tuple[list[str], Compiled, Compiled]:
    target, text = CASES[case]
    text = BASE + text
    before, after = direct(text, target), path(text)
    left = []
    for probe, x, y in compare(before, after, probes(before.mesh)):
        if not losses_at(after.findings, responsible(before.mesh, probe)):
            left.append(f"{probe}: {x} != {y}")
    return left, before, after


# -- the judge -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_istio_translation_routes_like_istios_ingress_controller_or_says_why(case: str) -> None:
    left, before, _ = unexplained(case, via_istio)
    assert left == [], f"{len(left)} request(s) differ without a loss at the responsible field:\n" + "\n".join(left[:12])
    routed = [p for p in probes(before.mesh) if gateway_outcome(before.mesh, before.bootstrap, p)[0] == "route"]
    assert routed, "no sample request reaches a backend: the comparison would prove nothing"


@pytest.mark.parametrize("case", sorted(CASES))
def test_ingress_via_gateway_api_to_istio_agrees_with_ingress_to_istio(case: str) -> None:
    text = BASE + CASES[case][1]
    one, two = via_istio(text), via_gateway_api(text)
    diff = [f"{p}: {x} != {y}" for p, x, y in compare(one, two, probes(model(text)))]
    assert diff == [], "\n".join(diff[:12])


# -- what the judge found, named ------------------------------------------------------------------------
def outcome_of(compiled: Compiled, host: str, port: int, path: str) -> tuple[Any, ...]:
    return gateway_outcome(compiled.mesh, compiled.bootstrap, Probe(host, port, Request(path)))


def pods_of(outcome: tuple[Any, ...]) -> set[str] | str:
    if outcome[0] != "route":
        return str(outcome[0])
    ((pods, share),) = outcome[1]
    assert share == 1
    return set(pods)


def both(case: str) -> tuple[Compiled, Compiled]:
    target, text = CASES[case]
    return direct(BASE + text, target), via_istio(BASE + text)


def at(findings: list[Finding], code: str, field: str, pattern: str = "") -> bool:
    return any(f.code == code and f.location is not None and f.location.path == field and f.resource is not None
               and f.resource.kind == "Ingress" and re.search(pattern, f.message) for f in findings)


def test_the_paths_map_exactly_exact_prefix_with_and_without_slash_and_the_root() -> None:
    before, after = both("exact-and-prefix")
    expected = {"/login": {"api"}, "/login/x": "none", "/api": {"api"}, "/api/x": {"api"}, "/apix": "none",
                "/static": {"web"}, "/static/": {"web"}, "/static/a": {"web"}, "/staticx": "none",
                "/api/v2/users": {"admin"}, "/api/v2/users/1": {"admin"}, "/api/v2/usersx": {"api"},
                "/docs": {"admin"}, "/docs/x": {"web"}, "/": "none"}
    for compiled in (before, after):
        assert {p: pods_of(outcome_of(compiled, "shop.example.com", 80, p)) for p in expected} == expected
        assert pods_of(outcome_of(compiled, "unknown.example.net", 80, "/api")) == "none"
        assert pods_of(outcome_of(compiled, "shop.example.com", 443, "/api")) == "refused"  # no tls entry
    root_before, root_after = both("root-path")
    for compiled in (root_before, root_after):
        got = {p: pods_of(outcome_of(compiled, "shop.example.com", 80, p)) for p in ("/", "/x", "/health", "/health/x")}
        assert got == {"/": {"api"}, "/x": {"web"}, "/health": {"admin"}, "/health/x": {"web"}}
    assert [f.code for f in after.findings if f.code in LOSSES and "paths" in (f.location.path if f.location else "")] == []


def test_tls_hosts_and_wildcards_are_served_on_443_by_sni() -> None:
    before, after = both("tls-hosts")
    expected = {("shop.example.com", 443, "/api/x"): {"api"}, ("secure.example.com", 443, "/admin"): {"admin"},
                ("secure.example.com", 443, "/"): "none", ("a.example.org", 443, "/"): {"admin"},
                ("plain.example.com", 443, "/"): "no-tls", ("plain.example.com", 80, "/"): {"web"},
                ("shop.example.com", 80, "/"): {"web"}, ("example.org", 443, "/"): "no-tls",
                ("a.example.org", 80, "/x"): {"admin"}, ("shop.example.com", 443, "/healthz"): {"api"}}
    for compiled in (before, after):
        assert {k: pods_of(outcome_of(compiled, *k)) for k in expected} == expected
    open_before, open_after = both("tls-without-hosts")
    for compiled in (open_before, open_after):  # a tls entry without hosts: every SNI
        assert pods_of(outcome_of(compiled, "api.example.com", 443, "/api")) == {"api"}
        assert pods_of(outcome_of(compiled, "unknown.example.net", 443, "/api")) == "none"


def test_istio_ignores_the_default_backend_and_the_translation_keeps_that_and_says_so() -> None:
    before, after = both("default-backend")
    assert at(before.findings, "MSH400", "spec.defaultBackend")
    assert at(after.findings, "MSH400", "spec.defaultBackend", "ignores spec.defaultBackend")
    for compiled in (before, after):
        assert pods_of(outcome_of(compiled, "shop.example.com", 80, "/other")) == "none"
        assert pods_of(outcome_of(compiled, "unknown.example.net", 80, "/")) == "none"
        assert pods_of(outcome_of(compiled, "shop.example.com", 80, "/api/x")) == {"api"}


def test_two_ingresses_for_one_host_are_merged_and_share_the_tls_host() -> None:
    before, after = both("two-ingresses-one-host")
    expected = {(port, path): pods for port in (80, 443) for path, pods in
                (("/", {"web"}), ("/api/x", {"api"}), ("/v2", {"admin"}), ("/v2/x", {"web"}))}
    for compiled in (before, after):
        assert {k: pods_of(outcome_of(compiled, "shop.example.com", *k)) for k in expected} == expected


def test_two_ingresses_claiming_one_path_differ_only_where_the_translation_says_so() -> None:
    left, before, after = unexplained("two-ingresses-one-path", via_istio)
    assert left == []
    differing = {p.request.path for p, _, _ in compare(before, after, probes(before.mesh))}
    assert differing and all(p == "/api" or p.startswith("/api/") for p in differing), differing
    assert at(after.findings, "MSH401", "spec.rules[0].http.paths[0]", r"same match as in Ingress/shop/api")


@pytest.mark.parametrize("case,field,first", [
    ("exact-beside-slashed-prefix", "spec.rules[0].http.paths[1]", "/docs/"),
    ("exact-beside-slashed-prefix-across-ingresses", "spec.rules[0].http.paths[0]", "/docs/"),
    ("implementation-specific-exact-beside-slashed-prefix", "spec.rules[0].http.paths[1]", "/docs/"),
    ("slashed-and-bare-prefix", "spec.rules[0].http.paths[0]", "/a/"),
])
def test_a_path_istio_orders_behind_a_longer_prefix_is_left_out_and_reported(case: str, field: str, first: str) -> None:
    """Istio sorts by written length: Prefix '/docs/' comes before, and takes, Exact '/docs'
    (Kubernetes precedence would pick the exact path). The translation keeps Istio's routing."""
    before, after = both(case)
    assert at(after.findings, "MSH400", field, f"'{first}' of Ingress/shop/\\w+ comes first")
    stem = first.rstrip("/")
    assert outcome_of(before, "shop.example.com", 80, stem) == outcome_of(after, "shop.example.com", 80, stem)
    assert pods_of(outcome_of(after, "shop.example.com", 80, stem)) == {"web" if stem == "/docs" else "api"}


def test_implementation_specific_paths_are_read_as_istio_reads_them_and_reported() -> None:
    before, after = both("implementation-specific")
    assert at(after.findings, "MSH401", "spec.rules[0].http.paths[0].path", r"'/glob/\*'")
    assert at(after.findings, "MSH401", "spec.rules[0].http.paths[1].path", r"'/regexish\.\*'")
    assert not at(after.findings, "MSH401", "spec.rules[0].http.paths[2].path")  # exact in Istio and here
    expected = {"/glob": {"api"}, "/glob/a/b": {"api"}, "/regexish/a": {"admin"}, "/literal": {"admin"},
                "/literal/x": {"web"}, "/anything": {"web"}}
    for compiled in (before, after):
        assert {p: pods_of(outcome_of(compiled, "shop.example.com", 80, p)) for p in expected} == expected


def test_the_class_annotation_is_istios_class_and_other_controllers_annotations_are_dropped_by_both() -> None:
    before, after = both("annotation-class")
    field = 'metadata.annotations["nginx.ingress.kubernetes.io/canary-by-header"]'
    assert at(before.findings, "MSH400", field) and at(after.findings, "MSH400", field)
    for compiled in (before, after):
        canary = gateway_outcome(compiled.mesh, compiled.bootstrap,
                                 Probe("any.example.com", 80, Request("/api", headers=(("canary", "always"),))))
        assert pods_of(canary) == {"api"}


def test_the_judge_sees_a_translation_that_routes_elsewhere() -> None:
    """The comparison is not vacuous: the Istio output with one destination changed differs,
    and no loss explains it."""
    target, text = CASES["exact-and-prefix"]
    text = BASE + text
    before, good = direct(text, target), via_istio(text)
    bad_resources = copy.deepcopy(good.resources)
    for resource in bad_resources:
        for rule in resource["spec"].get("http", []):
            for dest in rule.get("route", []):
                if dest["destination"]["host"].startswith("admin."):
                    dest["destination"] = {"host": "web.shop.svc.cluster.local", "port": {"number": 9080}}
    bad = _compile_istio(text, bad_resources, good.findings)
    diff = compare(before, bad, probes(before.mesh))
    assert {p.request.path for p, _, _ in diff} >= {"/docs", "/api/v2/users"}
    assert [p for p, _, _ in diff if not losses_at(bad.findings, responsible(before.mesh, p))]
