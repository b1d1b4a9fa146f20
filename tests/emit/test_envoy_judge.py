"""The Envoy back end judges routing equivalence of the translations.

For each hand-written Istio mesh (mesh-translation.md §5.1 canary with retries and
timeout, §5.2 header routing, plus redirects, header modifiers, exact/prefix paths) the
Envoy back end compiles a client sidecar in ``shop`` three times:

- from the original Istio objects;
- from the Gateway API translation (experimental channel), read as Istio reads
  Service-parented HTTPRoutes (GAMMA) - the Envoy back end compiles them directly;
- from Istio -> Linkerd -> Istio.

The route tables of ``reviews.shop.svc.cluster.local:9080`` are compared for sample requests
derived from the matches (tests/emit/equivalence.py ``envoy_outcome``: the first Envoy
route that matches - prefix / path / safe_regex / path_separated_prefix, headers,
query parameters - and its action: weighted clusters resolved to the pods they reach,
timeout, retry num_retries and per-try timeout, redirect, header additions/removals,
rewrites). Retry *conditions* (retry_on) are not compared.

They must agree, or the translation must have reported the difference as a loss (a
MSH400/MSH401 the comparison does not ignore, see test_round_trips.IGNORED); where a loss
is known by design (Istio's default retries vs Linkerd's none, ``reset`` retries) the
test asserts that finding.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from meshctl.diagnostics import Finding
from meshctl.emit import envoy, gateway_api, istio, linkerd
from meshctl.emit.envoy.options import EnvoyOptions
from meshctl.emit.mesh_options import MeshOptions
from meshctl.model.mesh import MeshModel
from tests.emit.equivalence import combine, docs, envoy_outcome, envoy_routes, kubernetes, model, sample_requests
from tests.emit.test_round_trips import BASE, HOST, PORT, relevant

VS = """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http:
"""

CASES: dict[str, str] = {
    # §5.1 80/20 canary with retries and timeout
    "canary": VS + """\
  - name: canary
    route:
    - destination: {host: reviews.shop.svc.cluster.local, subset: v1, port: {number: 9080}}
      weight: 80
    - destination: {host: reviews.shop.svc.cluster.local, subset: v2, port: {number: 9080}}
      weight: 20
    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,reset"}
""",
    # §5.2 header routing to v2, default v1
    "header-routing": VS.replace("[reviews.shop.svc.cluster.local]", "[reviews]") + """\
  - name: jason-to-v2
    match:
    - headers: {end-user: {exact: jason}}
    route:
    - destination: {host: reviews, subset: v2}
  - name: default
    route:
    - destination: {host: reviews, subset: v1}
""",
    "redirect": VS + """\
  - match:
    - uri: {exact: /old}
    redirect: {uri: /new, redirectCode: 302}
  - match:
    - uri: {exact: /moved}
    redirect: {authority: ratings.shop.svc.cluster.local, redirectCode: 301}
  - route:
    - destination: {host: reviews, subset: v1}
""",
    "header-modifiers": VS + """\
  - match:
    - uri: {exact: /api}
    headers:
      request:
        set: {x-env: prod}
        add: {x-trace: "on"}
        remove: [x-debug]
      response:
        set: {x-served-by: reviews}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
""",
    "exact-and-prefix-paths": VS + """\
  - match:
    - uri: {exact: /api/v1/login}
    route:
    - destination: {host: ratings}
  - match:
    - uri: {prefix: /static/}
    - uri: {prefix: /}
      method: {exact: POST}
    route:
    - destination: {host: details}
      weight: 40
    - destination: {host: reviews, subset: v3}
      weight: 60
    timeout: 500ms
  - match:
    - uri: {prefix: /api}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
""",
    "regex-and-query": VS + """\
  - match:
    - uri: {regex: "/items/[0-9]+"}
      queryParams: {debug: {exact: "1"}}
    - headers: {x-canary: {prefix: ab}}
    route:
    - destination: {host: reviews, subset: v3}
  - route:
    - destination: {host: reviews, subset: v1}
""",
}


def compile_routes(mesh: MeshModel) -> list[dict[str, Any]]:
    return envoy_routes(envoy.translate(mesh, EnvoyOptions(namespace="shop")).bootstrap, HOST, PORT)


def via_gateway_api(text: str) -> tuple[MeshModel, list[Finding]]:
    out = gateway_api.translate(model(text), MeshOptions(source="istio", gateway_api_channel="experimental"))
    return model(combine(kubernetes(docs(text)), out.resources)), list(out.findings)


def via_linkerd(text: str) -> tuple[MeshModel, list[Finding]]:
    there = linkerd.translate(model(text), MeshOptions(source="istio"))
    middle = combine(kubernetes(docs(text)), there.resources)
    back = istio.translate(model(middle), MeshOptions(source="linkerd"))
    return model(combine(kubernetes(docs(middle)), back.resources)), [*there.findings, *back.findings]


def judge(text: str, path: Any) -> tuple[list[str], list[Finding]]:
    original = model(text)
    before = compile_routes(original)
    translated, findings = path(text)
    after = compile_routes(translated)
    diff = []
    for request in sample_requests(original):
        a, b = envoy_outcome(original, before, request), envoy_outcome(translated, after, request)
        if a != b:
            diff.append(f"{request}: {a} != {b}")
    return diff, findings


PATHS = {"gateway-api": via_gateway_api, "linkerd": via_linkerd}

@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_envoy_route_tables_agree_or_the_loss_is_reported(case: str, path: str) -> None:
    text = BASE + CASES[case]
    diff, findings = judge(text, PATHS[path])
    if diff:
        assert relevant(findings), "Envoy routes differ and no loss was reported:\n" + "\n".join(diff[:10])


def has(findings: list[Finding], code: str, pattern: str) -> bool:
    return any(f.code == code and re.search(pattern, f.message) for f in findings)


def test_canary_linkerd_reports_what_envoy_would_do_differently() -> None:
    """§5.1: 'reset' has no Linkerd equivalent, and Linkerd's 5xx is status-only."""
    _, findings = via_linkerd(BASE + CASES["canary"])
    assert has(findings, "MSH400", r"reset") or has(findings, "MSH401", r"reset")
    assert has(findings, "MSH401", r"retryOn 5xx")


def test_header_routing_linkerd_default_retries_differ_by_design() -> None:
    """§5.2 has no retries: Istio's Envoy retries twice, Linkerd never; both directions say so."""
    _, findings = via_linkerd(BASE + CASES["header-routing"])
    assert has(findings, "MSH401", r"no retries: Istio retries this route by default")
    assert has(findings, "MSH401", r"Istio retries failed connections twice by default")


@pytest.mark.parametrize("case", ["header-routing", "header-modifiers", "redirect"])
def test_gateway_api_route_table_is_identical_in_effect(case: str) -> None:
    """Cases the mapping calls exact for Gateway API: no loss may explain a difference."""
    diff, findings = judge(BASE + CASES[case], via_gateway_api)
    assert diff == []


def test_canary_gateway_api_keeps_retries_in_envoy() -> None:
    diff, _ = judge(BASE + CASES["canary"], via_gateway_api)
    assert diff == []


def test_regex_rule_order_through_linkerd_is_kept_or_reported() -> None:
    diff, findings = judge(BASE + CASES["regex-and-query"], via_linkerd)
    assert diff == [] or has(findings, "MSH401", r"(?i)order|regular ?expression|regex")
