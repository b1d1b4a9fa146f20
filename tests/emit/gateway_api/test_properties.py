"""Whatever the input, the back-end reports losses, never crashes, and emits valid Gateway API.

Line-level mutations of this directory's meshes and of bookinfo's networking samples are
lowered without validation (the back-end must cope with what the schema would reject)
and translated for both channels; the output must pass ``meshctl validate``.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS
from tests.emit.gateway_api.harness import translated, validated

SOURCES = sorted((Path(__file__).parent / "meshes").glob("*/input.yaml"))
if CORPUS.is_dir():
    SOURCES += sorted((CORPUS / "istio" / "samples" / "bookinfo" / "networking").glob("*.yaml"))
WORDS = ["", "*", "/", "a b", "UPPER", "x" * 300, "é", "0", "-1", "99999", "a:b", "%41", "//", "..", "(", "*.x",
         "1.2.3.4", "mesh", "v1", "GET", "shop/", "a.b.c", "%H%", "true"]
TOKEN = re.compile(r"[\w./*%-]+")
VALUES = ["[]", "{}", "1", "0", "true", "null", "'x'", "'*'", "'/'", "[1, {a: b}]", "{exact: ''}", "{prefix: x}",
          "{regex: '('}", "-5", "1.5", "'a b'", "{number: 0}", "'HTTP'"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SOURCES)).read_text().splitlines()
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "retype", "retype", "indent", "word", "word", "word"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = "  " + lines[i]
        elif action == "word":
            tokens = list(TOKEN.finditer(lines[i]))
            if tokens:
                token = draw(st.sampled_from(tokens))
                word = draw(st.sampled_from(WORDS))
                lines[i] = lines[i][: token.start()] + f"'{word}'" + lines[i][token.end():]
        elif ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(VALUES))}"
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(["standard", "experimental"]))
def test_any_input_translates_into_valid_gateway_api(text: str, channel: str) -> None:
    out = translated(text, channel)
    assert all(f.location is not None for f in out.findings)
    assert validated(out, channel) == []


SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}, {name: grpc, port: 9090}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.example.com"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["a.example.com"]
    tls: {mode: SIMPLE, credentialName: cert}
---
"""
CONDITIONS = [
    "uri: {exact: /a}", "uri: {prefix: /a}", "uri: {prefix: /a/b}", "uri: {regex: '/a/.*'}", "uri: {prefix: /}",
    "uri: {exact: /A}, ignoreUriCase: true", "headers: {x-a: {exact: '1'}}", "headers: {x-a: {regex: '[0-9]'}}",
    "headers: {x-b: {prefix: z}}", "queryParams: {q: {exact: '1'}}", "method: {exact: GET}",
    "method: {regex: 'P.*'}", "port: 9090", "port: 443", "authority: {exact: a.example.com}",
    "sourceNamespace: batch", "sourceLabels: {app: x}", "gateways: [mesh]", "gateways: [gw]",
    "withoutHeaders: {x-c: {}}", "scheme: {exact: https}",
]
ACTIONS = [
    "route: [{destination: {host: cart, subset: v1}}]",
    "route: [{destination: {host: cart, subset: v2}, weight: 30}, {destination: {host: cart}, weight: 70}]",
    "route: [{destination: {host: cart, port: {number: 8080}}}]",
    "redirect: {uri: /r, redirectCode: 302}",
    "directResponse: {status: 404}",
    "route: [{destination: {host: cart}}]\n    rewrite: {uri: /x/}",
    "route: [{destination: {host: cart}}]\n    timeout: 2s\n    retries: {attempts: 2, perTryTimeout: 3s}",
    "route: [{destination: {host: cart}}]\n    mirror: {host: cart, subset: v2}\n    mirrorPercentage: {value: 0.5}",
    "route: [{destination: {host: cart}}]\n    headers: {request: {set: {x-h: v}}}",
    "route: [{destination: {host: cart}}]\n    corsPolicy: {allowOrigins: [{exact: '*'}]}",
]


@st.composite
def virtual_service(draw: st.DrawFn) -> str:
    rules = []
    for _ in range(draw(st.integers(1, 6))):
        matches = draw(st.lists(st.lists(st.sampled_from(CONDITIONS), max_size=3, unique=True), max_size=3))
        lines = "  - "
        if matches:
            lines += "match: [" + ", ".join("{" + ", ".join(m) + "}" for m in matches) + "]\n    "
        rules.append(lines + draw(st.sampled_from(ACTIONS)) + "\n")
    gateways = draw(st.sampled_from(["", "  gateways: [gw]\n", "  gateways: [mesh, gw]\n"]))
    hosts = draw(st.sampled_from(["[cart]", "['*.example.com']", "[cart, a.example.com]"]))
    return SERVICES + f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: cart, namespace: shop}}
spec:
  hosts: {hosts}
{gateways}  http:
""" + "".join(rules)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(virtual_service(), st.sampled_from(["standard", "experimental"]))
def test_any_combination_of_rules_translates_into_valid_gateway_api(text: str, channel: str) -> None:
    out = translated(text, channel)
    assert validated(out, channel) == []
