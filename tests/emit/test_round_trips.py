"""Round trips Istio -> Gateway API -> Istio and Istio -> Linkerd -> Istio keep the routing.

A hypothesis strategy writes a VirtualService for ``reviews.shop`` (1-4 rules, 0-3
matches each: uri exact/prefix/regex, headers exact/prefix/regex, method; 1-3 weighted
destinations to Services and DestinationRule subsets; timeouts; retries) next to the
Services, Deployments (one per version) and the DestinationRule it needs. It is
translated, rendered to YAML, read back with the original Services and Deployments,
translated back to Istio, rendered and read again. Both ends are lowered into the model
and compared by meaning (tests/emit/equivalence.py): for every sample request derived
from the matches, the first matching rule's outcome — destinations as the sets of pods
they reach with their shares, the timeout, retry attempts and per-try timeout — must be
the same. Order is not compared (Gateway API precedence reorders rules); what each
request gets is.

The property: *if the outcome of any sample request differs, a loss (MSH400/MSH401) that
the comparison does not ignore was reported* by one of the two translations. On the
exact subset (no such loss) the routing is therefore equal. Ignored notes (``IGNORED``)
are those about things compared by meaning or not compared at all:

- subsets written as generated per-version Services (destinations are compared by pods);
- a rule name not emitted; a rule Istio never reaches left out (requests are compared);
- a header prefix written as the equivalent regular expression (requests are compared);
- the retry *conditions* (retryOn / codes): only attempts and perTryTimeout are compared;
- Istio's default retries vs Linkerd's none on the way *to* Linkerd (the way back reports
  "Istio retries failed connections twice by default" whenever Linkerd did not retry, and
  that note is not ignored), and that Linkerd (not Istio) ignores ``rules[].retry``;
- rules split into several HTTPRoutes (Linkerd route order): requests are compared.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from meshctl.diagnostics import Finding
from meshctl.emit import gateway_api, istio, linkerd
from meshctl.emit.manifests import Manifests, render
from meshctl.emit.mesh_options import MeshOptions
from meshctl.emit.yaml_out import dump
from tests.emit.equivalence import (
    REGEX_SAMPLES,
    combine,
    docs,
    kubernetes,
    model,
    model_outcome,
    sample_requests,
)

HOST = "reviews.shop.svc.cluster.local"
PORT = 9080

BASE = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: shop}
spec:
  selector: {app: details}
  ports: [{name: http, port: 9080, targetPort: 9080}]
""" + "".join(f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {app}-{v}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {app}, version: {v}}}}}
  template:
    metadata: {{labels: {{app: {app}, version: {v}}}}}
    spec: {{containers: [{{name: main, image: example/{app}:{v}, ports: [{{containerPort: 9080}}]}}]}}
""" for app, v in [("reviews", "v1"), ("reviews", "v2"), ("reviews", "v3"), ("ratings", "v1"), ("details", "v1")]) + """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"""

IGNORED = [re.compile(p) for p in (
    r"generated Service .* for subset",
    r"rule name '.*' is not emitted",
    r"is never reached in Istio",
    r"Gateway API has no prefix match, so it is the regular expression",
    r"retryOn .* is written as codes",
    r"retryOn .*: Linkerd retries on the response status only",
    r"Envoy's retryOn .* also retries",
    r"retry condition '.*' has no Linkerd equivalent",
    r"rules\[\]\.retry .* are applied by Istio; Linkerd reads retries only",
    r"no retries: Istio retries this route by default",
    r"rules differ in retries or timeout: .* split into several HTTPRoutes",
)]


def relevant(findings: list[Finding]) -> list[str]:
    """The losses the comparison does not ignore."""
    return [f"{f.code} {f.location.line if f.location else 0}: {f.message}" for f in findings
            if f.code in ("MSH400", "MSH401") and not any(p.search(f.message) for p in IGNORED)]


# -- the strategy ---------------------------------------------------------------------------------
PATH_REGEXES = [r for r in REGEX_SAMPLES if r.startswith("/")]
HEADER_REGEXES = [r for r in REGEX_SAMPLES if not r.startswith("/")]
DESTINATIONS = [("reviews", "v1"), ("reviews", "v2"), ("reviews", "v3"), ("reviews", None), ("ratings", None),
                ("details", None)]


@st.composite
def string_match(draw: st.DrawFn, kind: str) -> dict[str, str]:
    if kind == "uri":
        return draw(st.one_of(
            st.sampled_from(["/", "/api", "/api/v1", "/login"]).map(lambda v: {"exact": v}),
            st.sampled_from(["/", "/", "/api", "/api/", "/static"]).map(lambda v: {"prefix": v}),
            st.sampled_from(PATH_REGEXES).map(lambda v: {"regex": v}),
        ))
    return draw(st.one_of(
        st.sampled_from(["jason", "x1", "ab"]).map(lambda v: {"exact": v}),
        st.sampled_from(["ab", "x"]).map(lambda v: {"prefix": v}),
        st.sampled_from(HEADER_REGEXES).map(lambda v: {"regex": v}),
    ))


@st.composite
def request_match(draw: st.DrawFn) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if draw(st.booleans()):
        match["uri"] = draw(string_match("uri"))
    names = draw(st.lists(st.sampled_from(["end-user", "x-canary"]), max_size=2, unique=True))
    if names:
        match["headers"] = {n: draw(string_match("header")) for n in names}
    if draw(st.integers(0, 3)) == 0:
        match["method"] = {"exact": draw(st.sampled_from(["GET", "POST"]))}
    return match or {"uri": {"prefix": "/api"}}


@st.composite
def rule(draw: st.DrawFn, retries: bool | str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    matches = draw(st.lists(request_match(), min_size=0, max_size=3))
    if matches:
        out["match"] = matches
    targets = draw(st.lists(st.sampled_from(DESTINATIONS), min_size=1, max_size=3, unique=True))
    route = []
    weights = [100] if len(targets) == 1 else draw(
        st.lists(st.integers(1, 10), min_size=len(targets), max_size=len(targets)))
    total = sum(weights)
    scaled = [w * 100 // total for w in weights]
    scaled[0] += 100 - sum(scaled)
    for (host, subset), weight in zip(targets, scaled):
        dest: dict[str, Any] = {"host": host}
        if subset:
            dest["subset"] = subset
        entry: dict[str, Any] = {"destination": dest}
        if len(targets) > 1:
            entry["weight"] = weight
        route.append(entry)
    out["route"] = route
    if draw(st.booleans()):
        out["timeout"] = draw(st.sampled_from(["1s", "2.5s", "500ms", "10s"]))
    if retries == "always" or retries and draw(st.integers(0, 2)):
        retry: dict[str, Any] = {"attempts": draw(st.integers(0 if retries != "always" else 1, 4))}
        if draw(st.booleans()):
            retry["perTryTimeout"] = draw(st.sampled_from(["1s", "200ms"]))
        if draw(st.booleans()):
            retry["retryOn"] = draw(st.sampled_from(["5xx", "gateway-error", "5xx,reset", "connect-failure"]))
        out["retries"] = retry
    return out


@st.composite
def virtual_service(draw: st.DrawFn, retries: bool | str = True) -> str:
    rules = draw(st.lists(rule(retries), min_size=1, max_size=4))
    host = draw(st.sampled_from(["reviews", HOST]))
    vs = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
          "metadata": {"name": "reviews", "namespace": "shop"}, "spec": {"hosts": [host], "http": rules}}
    return BASE + "---\n" + dump(vs)


# -- the round trip ---------------------------------------------------------------------------------
def round_trip(text: str, forward: Any, forward_options: MeshOptions, back_source: str
               ) -> tuple[Manifests, Manifests, str]:
    original = docs(text)
    there = forward.translate(model(text), forward_options)
    middle = combine(kubernetes(original), there.resources)
    back = istio.translate(model(middle), MeshOptions(source=back_source))
    final = combine(kubernetes(docs(middle)), back.resources)
    return there, back, final


def differences(text: str, final: str, compare_retries: bool = True) -> list[str]:
    before, after = model(text), model(final)
    out = []
    for request in sample_requests(before):
        a, b = model_outcome(before, HOST, PORT, request), model_outcome(after, HOST, PORT, request)
        if not compare_retries:
            a, b = a[:3], b[:3]
        if a != b:
            out.append(f"{request}: {a} != {b}")
    return out


def check(text: str, forward: Any, options: MeshOptions, back_source: str, compare_retries: bool = True) -> None:
    there, back, final = round_trip(text, forward, options, back_source)
    losses = relevant(there.findings) + relevant(back.findings)
    diff = differences(text, final, compare_retries)
    event("exact subset" if not losses else "lossy")
    if diff:
        assert losses, ("routing changed in the round trip without a loss being reported:\n"
                        + "\n".join(diff[:8]) + "\n--- input\n" + text.split("DestinationRule", 1)[1]
                        + "\n--- final\n" + final)


# Known bug (reported; see test_gateway_api_retry_is_read_back): meshctl.lower.gateway_api.route_rules
# lowers every HTTPRoute rule with retry=None, so an experimental-channel rules[].retry
# (and timeouts.backendRequest) never reaches the Istio back end. Set to True once fixed.
GATEWAY_API_RETRY_READ = True

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(virtual_service())
def test_istio_gateway_api_istio_standard(text: str) -> None:
    check(text, gateway_api, MeshOptions(source="istio", gateway_api_channel="standard"), "gateway-api")


@SETTINGS
@given(virtual_service())
def test_istio_gateway_api_istio_experimental(text: str) -> None:
    check(text, gateway_api, MeshOptions(source="istio", gateway_api_channel="experimental"), "gateway-api",
          compare_retries=GATEWAY_API_RETRY_READ)


@SETTINGS
@given(st.one_of(virtual_service(), virtual_service(retries="always")))
def test_istio_linkerd_istio(text: str) -> None:
    """Half the examples retry in every rule (explicitly, at least once), so that many
    fall in the exact subset (Linkerd never retries by default, Istio does)."""
    check(text, linkerd, MeshOptions(source="istio", linkerd_version="2.20"), "linkerd")


# -- the exact subset is reached (not only lossy examples) ------------------------------------------------
EXACT = BASE + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers: {end-user: {exact: jason}}
      uri: {exact: /api}
    - headers: {x-canary: {regex: "x[0-9]"}}
      uri: {exact: /api}
    route:
    - destination: {host: reviews, subset: v2}
      weight: 30
    - destination: {host: ratings}
      weight: 70
    timeout: 2.5s
  - match:
    - uri: {exact: /items}
      method: {exact: POST}
    route:
    - destination: {host: reviews, subset: v3}
  - route:
    - destination: {host: reviews, subset: v1}
"""
# Linkerd retries only what the annotations say: every rule retries explicitly
EXACT_LINKERD = EXACT.replace("    timeout: 2.5s\n", "    timeout: 2.5s\n    retries: {attempts: 2, perTryTimeout: 1s, retryOn: 5xx}\n"
                              ).replace("subset: v3}\n", "subset: v3}\n    retries: {attempts: 1, retryOn: 5xx}\n"
                              ).replace("subset: v1}\n", "subset: v1}\n    retries: {attempts: 3, retryOn: gateway-error}\n")


@pytest.mark.parametrize("text,forward,options,source", [
    (EXACT, gateway_api, MeshOptions(source="istio", gateway_api_channel="standard"), "gateway-api"),
    (EXACT, gateway_api, MeshOptions(source="istio", gateway_api_channel="experimental"), "gateway-api"),
    (EXACT_LINKERD, linkerd, MeshOptions(source="istio"), "linkerd"),
], ids=["gateway-api-standard", "gateway-api-experimental", "linkerd"])
def test_exact_example_round_trips_with_equal_routing(text: str, forward: Any, options: MeshOptions,
                                                      source: str) -> None:
    there, back, final = round_trip(text, forward, options, source)
    assert relevant(there.findings) + relevant(back.findings) == []
    assert differences(text, final) == []
    assert len(sample_requests(model(text))) > 10


# -- bugs found by the round trips -------------------------------------------------------------------
RETRY = BASE + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: gateway-error}
"""


def test_gateway_api_retry_is_read_back() -> None:
    there, back, final = round_trip(RETRY, gateway_api, MeshOptions(source="istio", gateway_api_channel="experimental"),
                                    "gateway-api")
    assert "retry" in render(there.resources, "x")  # the forward translation wrote rules[].retry
    assert differences(RETRY, final) == [] or relevant(back.findings)


REGEX_BEFORE_DEFAULT = BASE + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {regex: "/items/[0-9]+"}
    route:
    - destination: {host: reviews, subset: v3}
    retries: {attempts: 1, retryOn: 5xx}
  - route:
    - destination: {host: reviews, subset: v1}
    retries: {attempts: 1, retryOn: 5xx}
"""


def test_linkerd_round_trip_keeps_regex_rule_before_default() -> None:
    there, back, final = round_trip(REGEX_BEFORE_DEFAULT, linkerd, MeshOptions(source="istio"), "linkerd")
    assert differences(REGEX_BEFORE_DEFAULT, final) == [] or relevant(there.findings) + relevant(back.findings)
