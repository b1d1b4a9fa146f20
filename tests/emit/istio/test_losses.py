"""Every loss the Istio back-end reports: a fixture where it fires, one where it must not.

Each case is identified by a stable part of its message. A meta-test records which call
site of ``Losses.dropped``/``approximated`` each finding came from and checks that the
cases reach every call site in ``meshctl/emit/istio`` (so a new loss needs a case here).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from meshctl.emit import losses as losses_module
from meshctl.emit.losses import Losses
from meshctl.load.reader import read_text
from tests.emit.ingress import cases as ingress_cases
from tests.emit.istio.helpers import run

PACKAGE = Path(__file__).resolve().parents[3] / "meshctl" / "emit" / "istio"

NS = """apiVersion: v1
kind: Namespace
metadata: {name: shop, annotations: {linkerd.io/inject: enabled}}
"""
SERVICES = """apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {labels}
      annotations: {annotations}
    spec:
      serviceAccountName: {name}
      containers:
      - name: {name}
        image: example/{name}:1
        ports: {ports}
"""
BACKEND = "  - backendRefs: [{name: ratings, port: 9080}]\n"
SERVICE_PARENT = '{group: "", kind: Service, name: reviews, port: 9080}'


def docs(*parts: str) -> str:
    return "---\n".join(p if p.endswith("\n") else p + "\n" for p in parts)


def deployment(name: str = "reviews", annotations: str = "{}", ports: str = "[{name: http, containerPort: 9080}]",
               labels: str | None = None) -> str:
    return DEPLOYMENT.format(name=name, annotations=annotations, ports=ports, labels=labels or f"{{app: {name}}}")


def route(annotations: str = "{}", rules: str = BACKEND, kind: str = "HTTPRoute", parent: str = SERVICE_PARENT,
          api: str = "gateway.networking.k8s.io/v1", name: str = "reviews", extra: str = "") -> str:
    return f"""apiVersion: {api}
kind: {kind}
metadata: {{name: {name}, namespace: shop, annotations: {annotations}}}
spec:
  parentRefs: [{parent}]
{extra}  rules:
{rules}"""


def mesh(*parts: str) -> str:
    """A Linkerd mesh (an injected namespace) with the two Services."""
    return docs(NS, SERVICES, *parts)


def gateway_api(*parts: str) -> str:
    """Gateway API only, no Linkerd: routes keep Istio's reading."""
    return docs(SERVICES, *parts)


GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: public, namespace: shop}}
spec:
  gatewayClassName: {klass}
  listeners:
{listeners}"""
HTTP_LISTENER = "  - {name: http, port: 80, protocol: HTTP}\n"


def gateway(listeners: str = HTTP_LISTENER, klass: str = "istio") -> str:
    return GATEWAY.format(listeners=listeners, klass=klass)


def server(port: str = "http", selector: str = "{matchLabels: {app: reviews}}", extra: str = "",
           name: str = "reviews-http") -> str:
    return f"""apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {{name: {name}, namespace: shop}}
spec:
  podSelector: {selector}
  port: {port}
{extra}"""


def authorization(refs: str, target: str = "kind: Server, name: reviews-http", name: str = "allow") -> str:
    return f"""apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {{name: {name}, namespace: shop}}
spec:
  targetRef: {{group: policy.linkerd.io, {target}}}
  requiredAuthenticationRefs: {refs}
"""


def mesh_tls(identities: str) -> str:
    return f"""apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {{name: clients, namespace: shop}}
spec:
  {identities}
"""


WEB = "web.shop.serviceaccount.identity.linkerd.cluster.local"
MTLS_REF = "[{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: clients}]"


def server_route(matches: str, name: str = "reviews-api") -> str:
    return f"""apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {{name: {name}, namespace: shop}}
spec:
  parentRefs: [{{group: policy.linkerd.io, kind: Server, name: reviews-http}}]
  rules:
  - matches: {matches}
"""


def policy_with_route(matches: str, refs: str = "[{kind: ServiceAccount, name: web}]") -> str:
    return mesh(deployment(), server(), server_route(matches),
                authorization(refs, "kind: HTTPRoute, name: reviews-api"))


def profile(spec_text: str, name: str = "reviews.shop.svc.cluster.local", namespace: str = "shop") -> str:
    return f"""apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {{name: {name}, namespace: {namespace}}}
spec:
{spec_text}"""


ROUTE_X = "  routes:\n  - {name: r, condition: {pathRegex: /x}}\n"
RETRYABLE = "  routes:\n  - {name: r, condition: {pathRegex: /x}, isRetryable: true}\n"


def classes(response_classes: str) -> str:
    return ("  routes:\n  - name: r\n    condition: {pathRegex: /x}\n    isRetryable: true\n"
            f"    responseClasses: {response_classes}\n")
BUDGET = "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}\n"


def split(backends: str) -> str:
    return f"""apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: {{name: split, namespace: shop}}
spec:
  service: reviews
  backends: {backends}
"""


def annotated_service(annotations: str, name: str = "reviews") -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: shop, annotations: {annotations}}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: 9080}}]
"""


def ratings_service() -> str:
    return SERVICES.split("---\n")[1]


def istio_vs(host: str = "reviews") -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: existing, namespace: shop}}
spec:
  hosts: [{host}]
  http: [{{route: [{{destination: {{host: {host}}}}}]}}]
"""


def istio_dr(host: str = "reviews") -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: existing, namespace: shop}}
spec:
  host: {host}
"""


ACCRUAL = "{balancer.linkerd.io/failure-accrual: consecutive"


def accrual(extra: str = "") -> str:
    return docs(annotated_service(ACCRUAL + extra + "}"), ratings_service())


def namespace(annotations: str, labels: str = "{}") -> str:
    return f"""apiVersion: v1
kind: Namespace
metadata: {{name: shop, labels: {labels}, annotations: {annotations}}}
"""


INPUT_RULE = """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: shop}
spec: {host: api.shop.svc.cluster.local, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}
"""


@dataclass(frozen=True)
class Case:
    id: str
    message: str  # a stable part of the message
    fires: str
    quiet: str
    options: dict[str, str] = field(default_factory=dict)


CASES = [
    # -- annotations.py ---------------------------------------------------------------------------
    Case("http-on-grpc", "Linkerd ignores retry.linkerd.io/http on a GRPCRoute",
         mesh(route('{retry.linkerd.io/http: "5xx"}', kind="GRPCRoute")),
         mesh(route('{retry.linkerd.io/grpc: "unavailable"}', kind="GRPCRoute"))),
    Case("limit-zero", "means the default (1 retry)",
         mesh(route('{retry.linkerd.io/http: "503", retry.linkerd.io/limit: "0"}')),
         mesh(route('{retry.linkerd.io/http: "503", retry.linkerd.io/limit: "2"}'))),
    Case("limit-nan", "is not a number",
         mesh(route('{retry.linkerd.io/http: "503", retry.linkerd.io/limit: many}')),
         mesh(route('{retry.linkerd.io/http: "503", retry.linkerd.io/limit: "2"}'))),
    Case("retry-timeout-bad", "retry.linkerd.io/timeout 'soon' is not a duration",
         mesh(route('{retry.linkerd.io/http: "5xx", retry.linkerd.io/timeout: soon}')),
         mesh(route('{retry.linkerd.io/http: "5xx", retry.linkerd.io/timeout: 1s}'))),
    Case("reset-added", "reset was added",
         mesh(route("{retry.linkerd.io/timeout: 1s}")),
         mesh(route('{retry.linkerd.io/http: "5xx", retry.linkerd.io/timeout: 1s}'))),
    Case("retry-nothing", "make Linkerd retry nothing",
         mesh(route('{retry.linkerd.io/limit: "2"}')),
         mesh(route('{retry.linkerd.io/limit: "2", retry.linkerd.io/http: "503"}'))),
    Case("http-condition-bad", "condition 'teapot' is not a status",
         mesh(route('{retry.linkerd.io/http: "teapot"}')), mesh(route('{retry.linkerd.io/http: "418"}'))),
    Case("envoy-5xx", "Envoy's retryOn 5xx also retries connect failures and resets; Linkerd retries on the response",
         mesh(route('{retry.linkerd.io/http: "5xx"}')), mesh(route('{retry.linkerd.io/http: "500-504"}'))),
    Case("grpc-condition-bad", "retry.linkerd.io/grpc condition 'sometimes'",
         mesh(route('{retry.linkerd.io/grpc: "sometimes"}', kind="GRPCRoute")),
         mesh(route('{retry.linkerd.io/grpc: "internal"}', kind="GRPCRoute"))),
    Case("timeout-bad", "timeout.linkerd.io/request 'soon' is not a duration",
         mesh(route("{timeout.linkerd.io/request: soon}")), mesh(route("{timeout.linkerd.io/request: 5s}"))),
    Case("response-as-route", "timeout.linkerd.io/response became the route timeout",
         mesh(route("{timeout.linkerd.io/response: 5s}")), mesh(route("{timeout.linkerd.io/request: 5s}"))),
    Case("response-dropped", "timeout.linkerd.io/response is not translated",
         mesh(route("{timeout.linkerd.io/response: 5s, timeout.linkerd.io/request: 9s}")),
         mesh(route("{timeout.linkerd.io/request: 9s}"))),
    Case("idle", "timeout.linkerd.io/idle (a stream's idle time)",
         mesh(route("{timeout.linkerd.io/idle: 1m}")), mesh(route("{timeout.linkerd.io/request: 1m}"))),
    # -- entries.py -------------------------------------------------------------------------------
    Case("extension-ref", "an ExtensionRef filter is implementation-specific",
         gateway_api(route(rules="  - filters: [{type: ExtensionRef, extensionRef: {group: x.io, kind: K, name: n}}]\n"
                           "    backendRefs: [{name: ratings, port: 9080}]\n")),
         gateway_api(route())),
    Case("unknown-filter", "filter type 'Teleport' has no VirtualService equivalent",
         gateway_api(route(rules="  - filters: [{type: Teleport}]\n    backendRefs: [{name: ratings, port: 9080}]\n")),
         gateway_api(route())),
    Case("linkerd-ignores-route", "Linkerd ignores this whole route",
         mesh(route(rules="  - filters: [{type: URLRewrite, urlRewrite: {hostname: x}}]\n"
                    "    backendRefs: [{name: ratings, port: 9080}]\n")),
         mesh(route(rules="  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {remove: [x]}}]\n"
                    "    backendRefs: [{name: ratings, port: 9080}]\n"))),
    Case("empty-backends-linkerd", "goes to the parent Service in Linkerd",
         mesh(route(rules="  - matches: [{path: {value: /x}}]\n")), mesh(route())),
    Case("unreachable-backend", "its share of the requests gets HTTP 500",
         gateway_api(route(rules="  - backendRefs: [{group: x.io, kind: Bucket, name: b}]\n")), gateway_api(route())),
    Case("rounded-weights", "are written as shares of 100: 34/33/33",
         gateway_api(route(rules="  - backendRefs: [{name: ratings, port: 9080}, {name: reviews, port: 9080}, "
                           "{name: ratings, port: 9080}]\n")),
         gateway_api(route(rules="  - backendRefs: [{name: ratings, port: 9080}, {name: reviews, port: 9080}]\n"))),
    Case("mirror-unreachable", "the mirror is not translated",
         gateway_api(route(rules="  - filters: [{type: RequestMirror, requestMirror: {backendRef: {group: x.io, "
                           "kind: Bucket, name: b}}}]\n    backendRefs: [{name: ratings, port: 9080}]\n")),
         gateway_api(route(rules="  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: reviews, "
                           "port: 9080}}}]\n    backendRefs: [{name: ratings, port: 9080}]\n"))),
    Case("prefix-redirect", "a VirtualService redirect replaces the whole path",
         gateway_api(route(rules="  - matches: [{path: {value: /old}}]\n    filters: [{type: RequestRedirect, "
                           "requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]\n")),
         gateway_api(route(rules="  - matches: [{path: {value: /old}}]\n    filters: [{type: RequestRedirect, "
                           "requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}}}]\n"))),
    Case("prefix-rewrite-not-prefix", "ReplacePrefixMatch on a match that is not a path prefix",
         gateway_api(route(rules="  - matches: [{path: {type: Exact, value: /old}}]\n    filters: [{type: URLRewrite, "
                           "urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]\n"
                           "    backendRefs: [{name: ratings, port: 9080}]\n")),
         gateway_api(route(rules="  - matches: [{path: {value: /old}}]\n    filters: [{type: URLRewrite, "
                           "urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]\n"
                           "    backendRefs: [{name: ratings, port: 9080}]\n"))),
    Case("timeouts-request-bad", "timeouts.request 'soon' is not a duration",
         gateway_api(route(rules="  - timeouts: {request: soon}\n    backendRefs: [{name: ratings, port: 9080}]\n")),
         gateway_api(route(rules="  - timeouts: {request: 2s}\n    backendRefs: [{name: ratings, port: 9080}]\n"))),
    Case("tcp-unreachable", "its connections are not routed",
         gateway_api(route(kind="TCPRoute", api="gateway.networking.k8s.io/v1alpha2",
                           rules="  - backendRefs: [{group: x.io, kind: Bucket, name: b}]\n")),
         gateway_api(route(kind="TCPRoute", api="gateway.networking.k8s.io/v1alpha2"))),
    # -- gateways.py ------------------------------------------------------------------------------
    Case("gateway-missing", "Gateway shop/nowhere is not among the inputs",
         gateway_api(route(parent="{name: nowhere}")), gateway_api(gateway(), route(parent="{name: public}"))),
    Case("no-listener", "no listener of Gateway shop/public accepts this route",
         gateway_api(gateway(), route(parent="{name: public, sectionName: https}")),
         gateway_api(gateway(), route(parent="{name: public, sectionName: http}"))),
    Case("ingress-pods", "served by the pods labelled istio=ingressgateway",
         gateway_api(gateway()), gateway_api(route())),
    Case("gateway-class", "gatewayClassName 'contour'",
         gateway_api(gateway(klass="contour")), gateway_api(gateway())),
    Case("waypoint", "Gateway is Istio's own proxy", gateway_api(gateway(klass="istio-waypoint")),
         gateway_api(gateway())),
    Case("waypoint-route", "is an Istio istio-waypoint proxy, not an ingress",
         gateway_api(gateway(klass="istio-waypoint"), route(parent="{name: public}")),
         gateway_api(gateway(), route(parent="{name: public}"))),
    Case("udp-listener", "an Istio Gateway has no UDP servers",
         gateway_api(gateway("  - {name: dns, port: 53, protocol: UDP}\n")),
         gateway_api(gateway("  - {name: dns, port: 53, protocol: TCP}\n"))),
    Case("selector-no-namespace", "no namespace of the inputs matches the allowedRoutes selector",
         gateway_api(gateway("  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, "
                             "selector: {matchLabels: {edge: 'yes'}}}}}\n")),
         gateway_api(namespace("{}", "{edge: 'yes'}"),
                     gateway("  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, "
                             "selector: {matchLabels: {edge: 'yes'}}}}}\n"))),
    Case("passthrough-not-tls", "TLS Passthrough needs protocol TLS",
         gateway_api(gateway("  - {name: p, port: 443, protocol: HTTPS, tls: {mode: Passthrough}}\n")),
         gateway_api(gateway("  - {name: p, port: 443, protocol: TLS, tls: {mode: Passthrough}}\n"))),
    Case("foreign-certificate", "certificateRef certs/c is in another namespace",
         gateway_api(gateway("  - {name: s, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c, namespace: "
                             "certs}]}}\n")),
         gateway_api(gateway("  - {name: s, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c}]}}\n"))),
    Case("no-certificate", "a terminating TLS listener without certificateRefs",
         gateway_api(gateway("  - {name: s, port: 443, protocol: HTTPS, tls: {mode: Terminate}}\n")),
         gateway_api(gateway("  - {name: s, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c}]}}\n"))),
    Case("three-certificates", "at most two certificates",
         gateway_api(gateway("  - {name: s, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: a}, {name: b},"
                             " {name: c}]}}\n")),
         gateway_api(gateway("  - {name: s, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: a}, "
                             "{name: b}]}}\n"))),
    # -- identities.py ----------------------------------------------------------------------------
    Case("identity-form", "identity 'web.example' has no Istio principal form",
         mesh(deployment(), server(), mesh_tls('identities: ["web.example"]'), authorization(MTLS_REF)),
         mesh(deployment(), server(), mesh_tls(f"identities: [{WEB}]"), authorization(MTLS_REF))),
    Case("trust-domain", "Linkerd trust domain 'example.org' is written as Istio's",
         mesh(deployment(), server(), mesh_tls('identities: ["web.shop.serviceaccount.identity.linkerd.example.org"]'),
              authorization(MTLS_REF)),
         mesh(deployment(), server(), mesh_tls(f"identities: [{WEB}]"), authorization(MTLS_REF))),
    # -- policy.py --------------------------------------------------------------------------------
    Case("default-policy-bad", "'sometimes' is not a Linkerd default inbound policy",
         docs(namespace("{config.linkerd.io/default-inbound-policy: sometimes}")),
         docs(namespace("{config.linkerd.io/default-inbound-policy: deny}"))),
    Case("external-server", "a Server for ExternalWorkloads has no Istio equivalent",
         mesh("""apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: vm, namespace: shop}
spec:
  externalWorkloadSelector: {matchLabels: {app: vm}}
  port: 8080
"""), mesh(server(port="8080"))),
    Case("expressions-nothing", "no workload of the inputs matches these matchExpressions",
         mesh(server(port="8080", selector="{matchExpressions: [{key: app, operator: Exists}]}")),
         mesh(server(port="8080", selector="{matchExpressions: [{key: app, operator: In, values: [a]}]}"))),
    Case("expressions-workloads", "the Server is translated for the workloads of the inputs it selects",
         mesh(deployment(), server(port="8080", selector="{matchExpressions: [{key: app, operator: Exists}]}")),
         mesh(deployment(), server(port="8080", selector="{matchExpressions: [{key: app, operator: In, values: "
                                                         "[reviews]}]}"))),
    Case("proxy-port", "linkerd-admin is the Linkerd proxy's own port",
         mesh(deployment(), server(port="linkerd-admin")), mesh(deployment(), server())),
    Case("port-unresolved", "no workload of the inputs declares a container port named 'grpc'",
         mesh(deployment(), server(port="grpc")), mesh(deployment(), server())),
    Case("port-numbers-differ", "port 'http' is 8080, 9080 on different workloads",
         mesh(deployment(), deployment("v2", ports="[{name: http, containerPort: 8080}]", labels="{app: reviews}"),
              server()),
         mesh(deployment(), deployment("v2", labels="{app: reviews}"), server())),
    Case("identity-ref-kind", "an identityRef of kind 'Group' is not translated",
         mesh(deployment(), server(), mesh_tls("identityRefs: [{kind: Group, name: ops}]"), authorization(MTLS_REF)),
         mesh(deployment(), server(), mesh_tls("identityRefs: [{kind: ServiceAccount, name: ops}]"),
              authorization(MTLS_REF))),
    Case("authentication-kind", "an authentication of kind 'Password' is not translated",
         mesh(deployment(), server(), authorization("[{group: x.io, kind: Password, name: p}]")),
         mesh(deployment(), server(), authorization("[{kind: ServiceAccount, name: web}]"))),
    Case("authentication-missing", "MeshTLSAuthentication clients is not among the inputs",
         mesh(deployment(), server(), authorization(MTLS_REF)),
         mesh(deployment(), server(), mesh_tls('identities: ["*"]'), authorization(MTLS_REF))),
    Case("unauthenticated-tls", "Istio cannot require TLS without a client identity",
         mesh(deployment(), server(), """apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: tls, namespace: shop}
spec: {server: {name: reviews-http}, client: {meshTLS: {unauthenticatedTLS: true}}}
"""), mesh(deployment(), server(), """apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: tls, namespace: shop}
spec: {server: {name: reviews-http}, client: {unauthenticated: true}}
""")),
    Case("authz-regex", "has no Istio path pattern",
         policy_with_route('[{path: {type: RegularExpression, value: "/v[0-9]/x"}}]'),
         policy_with_route('[{path: {type: RegularExpression, value: "/v1/.*"}}]')),
    Case("authz-header-regex", "a regex match on header 'x' has no Istio authorization condition",
         policy_with_route('[{headers: [{type: RegularExpression, name: x, value: "a.*"}]}]'),
         policy_with_route('[{headers: [{name: x, value: a}]}]')),
    Case("authz-query", "Istio authorization cannot match query parameters",
         policy_with_route("[{queryParams: [{name: a, value: b}]}]"), policy_with_route("[{path: {value: /a}}]")),
    Case("opaque-server-routes", "Linkerd ignores the routes of an opaque or TLS Server",
         mesh(deployment(), server(extra="  proxyProtocol: opaque\n"), server_route("[{path: {value: /a}}]")),
         mesh(deployment(), server(extra="  proxyProtocol: HTTP/1\n"), server_route("[{path: {value: /a}}]"))),
    Case("route-404", "404 from Linkerd and 403 from Istio",
         mesh(deployment(), server(), server_route("[{path: {value: /a}}]")), mesh(deployment(), server())),
    Case("probe-route", "if this route only lets kubelet probes in",
         policy_with_route("[{path: {type: Exact, value: /healthz}, method: GET}]", "[]"),
         policy_with_route("[{path: {type: Exact, value: /healthz}, method: GET}]")),
    Case("access-audit", "accessPolicy audit admits every client",
         mesh(deployment(), server(extra="  accessPolicy: audit\n")),
         mesh(deployment(), server(extra="  accessPolicy: all-unauthenticated\n"))),
    Case("namespace-target-no-server", "authorizes nothing Linkerd enforces",
         mesh(authorization("[]", "kind: Namespace, name: shop")),
         mesh(deployment(), server(), authorization("[]", "kind: Namespace, name: shop"))),
    Case("server-authorization-unused", "authorizes nothing Linkerd enforces", mesh(deployment(), server(), """\
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: other, namespace: shop}
spec: {server: {name: elsewhere}, client: {unauthenticated: true}}
"""), mesh(deployment(), server(), """apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: other, namespace: shop}
spec: {server: {name: reviews-http}, client: {unauthenticated: true}}
""")),
    Case("pod-default-no-labels", "the pods have no labels to select them by",
         mesh(deployment(annotations="{config.linkerd.io/default-inbound-policy: deny}", labels="{}")),
         mesh(deployment(annotations="{config.linkerd.io/default-inbound-policy: deny}"))),
    Case("mixed-defaults", "the selected pods have different default inbound policies",
         mesh(deployment(ports="[{name: http, containerPort: 9080}, {name: m, containerPort: 9090}]"),
              deployment("v2", annotations="{config.linkerd.io/default-inbound-policy: all-authenticated}",
                         labels="{app: reviews}"),
              server(extra="  accessPolicy: all-unauthenticated\n")),
         mesh(deployment(ports="[{name: http, containerPort: 9080}, {name: m, containerPort: 9090}]"),
              deployment("v2", labels="{app: reviews}"), server(extra="  accessPolicy: all-unauthenticated\n"))),
    Case("keep-open", "a rule keeps the ports other than 9080 open",
         mesh(deployment(ports="[{name: http, containerPort: 9080}, {name: m, containerPort: 9090}]"),
              server(extra="  accessPolicy: all-unauthenticated\n")),
         mesh(deployment(), server(extra="  accessPolicy: all-unauthenticated\n"))),
    Case("port-mtls-no-selector", "port-level mTLS needs a selector",
         docs(namespace("{config.linkerd.io/default-inbound-policy: all-authenticated}"), deployment(),
              server(selector="{matchLabels: {}}", extra="  accessPolicy: all-unauthenticated\n")),
         docs(namespace("{config.linkerd.io/default-inbound-policy: all-authenticated}"), deployment(),
              server(extra="  accessPolicy: all-unauthenticated\n"))),
    Case("istio-peer-authentication", "an Istio PeerAuthentication of the inputs already sets the mode here",
         docs(namespace("{config.linkerd.io/default-inbound-policy: all-authenticated}"), """apiVersion: \
security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: PERMISSIVE}}
"""), docs(namespace("{config.linkerd.io/default-inbound-policy: all-authenticated}"))),
    Case("cluster-networks", "cluster-unauthenticated admits Linkerd's default clusterNetworks",
         docs(namespace("{config.linkerd.io/default-inbound-policy: cluster-unauthenticated}")),
         docs(namespace("{config.linkerd.io/default-inbound-policy: all-authenticated}"))),
    Case("default-audit", "audit admits every client; Linkerd flags the requests",
         docs(namespace("{config.linkerd.io/default-inbound-policy: audit}")),
         docs(namespace("{config.linkerd.io/default-inbound-policy: all-unauthenticated}"))),
    # -- profiles.py ------------------------------------------------------------------------------
    Case("profile-name", "so Linkerd never uses this profile", mesh(profile(ROUTE_X, name="reviews")),
         mesh(profile(ROUTE_X))),
    Case("profile-istio-vs", "an Istio VirtualService of the inputs already routes reviews.shop.svc.cluster.local; a "
         "second one would conflict, so this is not", mesh(profile(ROUTE_X), istio_vs()),
         mesh(profile(ROUTE_X), istio_vs("ratings"))),
    Case("profile-empty", "a ServiceProfile without routes or dstOverrides", mesh(profile("  routes: []\n")),
         mesh(profile(ROUTE_X))),
    Case("profile-consumer", "a profile in the client's namespace applies to its clients only",
         mesh(profile(ROUTE_X, namespace="front")), mesh(profile(ROUTE_X))),
    Case("budget-unused", "the retry budget has nothing to bound", mesh(profile(ROUTE_X + BUDGET)),
         mesh(profile(RETRYABLE + BUDGET))),
    Case("profile-timeout-bad", "timeout 'soon' is not a duration",
         mesh(profile("  routes:\n  - {name: r, condition: {pathRegex: /x}, timeout: soon}\n")),
         mesh(profile("  routes:\n  - {name: r, condition: {pathRegex: /x}, timeout: 1s}\n"))),
    Case("profile-5xx", "Envoy's retryOn 5xx also retries connect failures and resets; Linkerd retries failed "
         "responses", mesh(profile(RETRYABLE)),
         mesh(profile(classes("[{condition: {status: {min: 503, max: 503}}, isFailure: true}, "
                              "{condition: {}, isFailure: false}]")))),
    Case("no-failures", "no status is a failure for this route's response classes",
         mesh(profile(classes("[{condition: {status: {min: 100, max: 599}}, isFailure: false}]"))),
         mesh(profile(RETRYABLE))),
    Case("condition-impossible", "the condition matches no request",
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{method: GET}, {method: POST}]}}\n")),
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{method: GET}, {pathRegex: /x}]}}\n"))),
    Case("condition-terms", "the condition expands to 81 alternatives",
         mesh(profile("  routes:\n  - name: r\n    condition:\n      all:\n" + "".join(
             f"      - any: [{{pathRegex: /a{i}}}, {{pathRegex: /b{i}}}, {{pathRegex: /c{i}}}]\n" for i in range(4)))),
         mesh(profile("  routes:\n  - name: r\n    condition:\n      all:\n" + "".join(
             f"      - any: [{{pathRegex: /a{i}}}, {{pathRegex: /b{i}}}, {{pathRegex: /c{i}}}]\n" for i in range(3))))),
    Case("not-method", "a negated method matches the other standard methods",
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{not: {method: GET}}]}}\n")),
         mesh(profile("  routes:\n  - {name: r, condition: {method: GET}}\n"))),
    Case("two-paths", "of the ANDed pathRegex values only '/a.*' is kept",
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{pathRegex: /a.*}, {pathRegex: .*b}]}}\n")),
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{pathRegex: /a.*}, {method: GET}]}}\n"))),
    Case("not-path-with-path", "together with a path regex cannot be expressed",
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{pathRegex: /a.*}, {not: {pathRegex: /ab}}]}}\n")),
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{method: GET}, {not: {pathRegex: /ab}}]}}\n"))),
    Case("not-path-guard", "later routes of the profile no longer see them",
         mesh(profile("  routes:\n  - {name: r, condition: {all: [{not: {pathRegex: /ab}}]}}\n"
                      "  - {name: s, condition: {pathRegex: /x}}\n")),
         mesh(profile("  routes:\n  - {name: s, condition: {pathRegex: /x}}\n"
                      "  - {name: r, condition: {all: [{not: {pathRegex: /ab}}]}}\n"))),
    Case("quantity-bad", "weight 'lots' is not a Kubernetes quantity",
         mesh(split("[{service: reviews, weight: lots}, {service: ratings, weight: 1}]")),
         mesh(split("[{service: reviews, weight: 2}, {service: ratings, weight: 1}]"))),
    Case("override-shares", "are written as shares of 100: 34/33/33",
         mesh(profile(ROUTE_X + "  dstOverrides: [{authority: reviews.shop.svc.cluster.local, weight: 1}, {authority: "
                      "ratings.shop.svc.cluster.local, weight: 1}, {authority: other.shop.svc.cluster.local, weight: "
                      "1}]\n")),
         mesh(profile(ROUTE_X + "  dstOverrides: [{authority: reviews.shop.svc.cluster.local, weight: 1}, {authority: "
                      "ratings.shop.svc.cluster.local, weight: 1}]\n"))),
    Case("split-empty", "the TrafficSplit has no backends", mesh(split("[]")),
         mesh(split("[{service: ratings, weight: 1}]"))),
    Case("consumer-budget", "the retry budget of a client-side profile is not translated",
         mesh(profile(RETRYABLE, namespace="front")), mesh(profile(RETRYABLE))),
    Case("budget-istio-dr", "already configures reviews.shop.svc.cluster.local; the retry budget",
         mesh(profile(RETRYABLE), istio_dr()), mesh(profile(RETRYABLE), istio_dr("ratings"))),
    Case("budget", "Linkerd's retry budget (ratio 0.2, 10 retries/s, ttl 10s)", mesh(profile(RETRYABLE)),
         mesh(profile(ROUTE_X))),
    Case("opaque-no-service", "opaquePorts of a Service that is not among the inputs",
         mesh(profile('  opaquePorts: ["9080"]\n' + ROUTE_X, name="gone.shop.svc.cluster.local")),
         mesh(profile('  opaquePorts: ["9080"]\n' + ROUTE_X))),
    Case("opaque-profile", "as Linkerd's opaque ports\x00", mesh(profile('  opaquePorts: ["9080"]\n' + ROUTE_X)),
         mesh(profile(ROUTE_X))),
    # -- resilience.py ----------------------------------------------------------------------------
    Case("accrual-shadowed", "Linkerd disables failure accrual while ServiceProfile",
         docs(accrual(), profile(ROUTE_X)), docs(accrual())),
    Case("accrual-mode", "failure-accrual mode 'sometimes' is unknown",
         docs(annotated_service("{balancer.linkerd.io/failure-accrual: sometimes}")), docs(accrual())),
    Case("accrual-unified", "Istio has no success-rate ejection",
         docs(annotated_service("{balancer.linkerd.io/failure-accrual: unified, balancer.alpha.linkerd.io/"
                                "failure-accrual-success-rate-threshold: '0.9'}")),
         docs(annotated_service("{balancer.linkerd.io/failure-accrual: unified}"))),
    Case("accrual-istio-dr", "already configures the Service; failure accrual is not translated",
         docs(accrual(), istio_dr()), docs(accrual(), istio_dr("ratings"))),
    Case("accrual-max-failures", "max-failures 'x' is not a positive integer",
         accrual(", balancer.linkerd.io/failure-accrual-consecutive-max-failures: x"),
         accrual(", balancer.linkerd.io/failure-accrual-consecutive-max-failures: '3'")),
    Case("accrual-min-penalty", "min-penalty 'x' is not a duration",
         accrual(", balancer.linkerd.io/failure-accrual-consecutive-min-penalty: x"),
         accrual(", balancer.linkerd.io/failure-accrual-consecutive-min-penalty: 2s")),
    Case("accrual-jitter", "Envoy's ejection time grows linearly",
         accrual(", balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio: '0.3'"), accrual()),
    Case("accrual-backoff", "Linkerd probes an ejected endpoint", accrual(), docs(SERVICES)),
    # -- routes.py --------------------------------------------------------------------------------
    Case("udp-route", "Istio routes no UDP",
         gateway_api(route(kind="UDPRoute", api="gateway.networking.k8s.io/v1alpha2")),
         gateway_api(route(kind="TCPRoute", api="gateway.networking.k8s.io/v1alpha2"))),
    Case("no-parents", "a route without parentRefs attaches to nothing",
         gateway_api(route().replace(f"  parentRefs: [{SERVICE_PARENT}]\n", "")), gateway_api(route())),
    Case("parent-group", "a Service parentRef in group 'gateway.networking.k8s.io'",
         gateway_api(route(parent="{kind: Service, name: reviews, port: 9080}")), gateway_api(route())),
    Case("route-shadowed", "Linkerd ignores routes to this Service while ServiceProfile",
         mesh(route(), profile(ROUTE_X)), mesh(route(), profile(ROUTE_X, name="ratings.shop.svc.cluster.local"))),
    Case("egress-parent", "a route on an EgressNetwork has no VirtualService equivalent",
         mesh(route(parent="{group: policy.linkerd.io, kind: EgressNetwork, name: all, port: 443}")), mesh(route())),
    Case("other-parent", "a Mesh parent is not translated",
         gateway_api(route(parent="{group: x.io, kind: Mesh, name: m}")), gateway_api(route())),
    Case("route-istio-vs", "a second one would conflict, so this route is not translated",
         gateway_api(route(), istio_vs()), gateway_api(route(), istio_vs("ratings"))),
    Case("mesh-hostnames", "hostnames of a Service-parented route are not translated",
         gateway_api(route(extra="  hostnames: [reviews.example.com]\n")), gateway_api(route())),
    Case("tie", "the same match as in HTTPRoute/shop/a-first",
         gateway_api(route(name="a-first"), route(name="b-second", rules="  - backendRefs: [{name: reviews, port: "
                                                                          "9080}]\n")),
         gateway_api(route(name="a-first", rules="  - matches: [{path: {value: /a}}]\n    backendRefs: [{name: "
                                                 "ratings, port: 9080}]\n"),
                     route(name="b-second", rules="  - backendRefs: [{name: reviews, port: 9080}]\n"))),
    Case("default-retry", "Istio retries failed connections twice by default",
         mesh(route()), mesh(route('{retry.linkerd.io/http: "503"}'))),
    Case("service-shadowed", "Linkerd ignores retry.linkerd.io/http while ServiceProfile",
         docs(annotated_service('{retry.linkerd.io/http: "5xx"}'), profile(ROUTE_X)),
         docs(annotated_service('{retry.linkerd.io/http: "5xx"}'))),
    Case("service-istio-vs", "its retry and timeout annotations are not translated",
         docs(annotated_service('{retry.linkerd.io/http: "5xx"}'), istio_vs()),
         docs(annotated_service('{retry.linkerd.io/http: "5xx"}'), istio_vs("ratings"))),
    # -- unsupported.py ---------------------------------------------------------------------------
    Case("rate-limit", "Istio has no rate-limit resource", mesh("""apiVersion: policy.linkerd.io/v1alpha1
kind: HTTPLocalRateLimitPolicy
metadata: {name: limit, namespace: shop}
spec: {targetRef: {group: policy.linkerd.io, kind: Server, name: s}, total: {requestsPerSecond: 100}}
"""), mesh()),
    Case("egress-network", "Istio controls egress with outboundTrafficPolicy", mesh("""apiVersion: \
policy.linkerd.io/v1alpha1
kind: EgressNetwork
metadata: {name: all, namespace: shop}
spec: {trafficPolicy: Allow}
"""), mesh()),
    Case("external-workload", "an ExternalWorkload becomes a WorkloadEntry", mesh("""apiVersion: \
workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata: {name: vm, namespace: shop, labels: {app: vm}}
spec:
  meshTLS: {identity: "spiffe://root.linkerd.cluster.local/vm", serverName: vm.cluster.local}
  workloadIPs: [{ip: 192.0.2.10}]
  ports: [{port: 80}]
"""), mesh()),
    Case("reference-grant", "VirtualServices route to other namespaces without a ReferenceGrant",
         gateway_api("""apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: shop}
spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}], to: [{group: "", kind: Service}]}
"""), gateway_api()),
    Case("gateway-class-object", "nothing is emitted for the GatewayClass", gateway_api("""apiVersion: \
gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
"""), gateway_api()),
    Case("unknown-kind", "Link (multicluster.linkerd.io/v1alpha2) has no Istio translation",
         mesh("""apiVersion: multicluster.linkerd.io/v1alpha2
kind: Link
metadata: {name: west, namespace: linkerd-multicluster}
spec: {targetClusterName: west}
"""), mesh()),
    # -- workloads.py -----------------------------------------------------------------------------
    Case("namespace-inject-bad", "linkerd.io/inject 'yes' is not enabled",
         docs(namespace("{linkerd.io/inject: 'yes'}")), docs(namespace("{linkerd.io/inject: enabled}"))),
    Case("revision", "the namespace already has istio.io/rev",
         docs(namespace("{linkerd.io/inject: enabled}", "{istio.io/rev: canary}")),
         docs(namespace("{linkerd.io/inject: enabled}"))),
    Case("namespace-ingress", "the pods are injected normally", docs(namespace("{linkerd.io/inject: ingress}")),
         docs(namespace("{linkerd.io/inject: enabled}"))),
    Case("namespace-config", "namespace-wide config.linkerd.io/proxy-cpu-request has no Istio equivalent",
         docs(namespace("{config.linkerd.io/proxy-cpu-request: 100m}")), docs(namespace("{}"))),
    Case("injected-manifest", "already contains the linkerd-proxy container",
         mesh(deployment().replace("      containers:\n",
                                   "      containers:\n      - {name: linkerd-proxy, image: p}\n")),
         mesh(deployment())),
    Case("pod-inject", 'set the pod-template label sidecar.istio.io/inject: "true"',
         docs(deployment(annotations="{linkerd.io/inject: enabled}")),
         docs(NS, deployment(annotations="{linkerd.io/inject: enabled}"))),
    Case("pod-no-inject", 'set the pod-template label sidecar.istio.io/inject: "false"',
         docs(NS, deployment(annotations="{linkerd.io/inject: disabled}")),
         docs(deployment(annotations="{linkerd.io/inject: disabled}"))),
    Case("pod-inject-bad", "linkerd.io/inject 'maybe' is not enabled",
         docs(deployment(annotations="{linkerd.io/inject: maybe}")), docs(deployment())),
    Case("pod-ingress", "route ingress through an Istio gateway instead",
         docs(NS, deployment(annotations="{linkerd.io/inject: ingress}")), docs(NS, deployment())),
    Case("proxy-setting", "set the pod annotation sidecar.istio.io/proxyMemory",
         docs(deployment(annotations="{config.linkerd.io/proxy-memory-request: 64Mi}")), docs(deployment())),
    Case("pod-config", "config.linkerd.io/proxy-log-level has no Istio equivalent",
         docs(deployment(annotations="{config.linkerd.io/proxy-log-level: debug}")), docs(deployment())),
    Case("opaque-service", "appProtocol tcp: Istio then proxies it without protocol detection, as Linkerd did",
         docs(annotated_service("{config.linkerd.io/opaque-ports: '9080'}")),
         docs(annotated_service("{config.linkerd.io/opaque-ports: '9443'}"))),
    Case("opaque-server", "appProtocol tcp: Istio then proxies it without protocol detection",
         mesh(deployment(), server(extra="  proxyProtocol: opaque\n")),
         mesh(deployment(), server(extra="  proxyProtocol: HTTP/2\n"))),
    Case("connect-timeout", "connectionPool.tcp.connectTimeout, per destination",
         docs(deployment(annotations="{config.linkerd.io/proxy-outbound-connect-timeout: 2s}")), docs(deployment())),
    Case("service-copy", "is emitted again with the appProtocol changes",
         docs(annotated_service("{config.linkerd.io/opaque-ports: '9080'}")), docs(annotated_service("{}"))),
    # -- ingresses.py -----------------------------------------------------------------------------
    Case("affinity-hash", "hashes cookie 'route' onto its endpoints", ingress_cases.AFFINITY,
         ingress_cases.AFFINITY_NOT_SET),
    Case("affinity-beside-rule", "already configures api.shop.svc.cluster.local; the cookie affinity is not",
         ingress_cases.AFFINITY + INPUT_RULE, ingress_cases.AFFINITY),
    Case("affinity-two-cookies", "api.shop.svc.cluster.local already hashes another cookie (INGRESSCOOKIE, from another",
         ingress_cases.AFFINITY + ingress_cases.ingress("cart", ingress_cases.host(
             "shop.example.com", f"{{path: /cart, pathType: Prefix, {ingress_cases.API}}}"),
             annotations="    nginx.ingress.kubernetes.io/affinity: cookie\n"),
         ingress_cases.AFFINITY),
]


def _messages(text: str, options: dict[str, str]) -> list[str]:
    return [f.message + "\x00" for f in run(text, **options).findings]


def _well_formed(text: str) -> bool:
    """Every document of the fixture was read (a YAML slip would make a quiet case vacuous)."""
    expected = text.count("\napiVersion:") + text.startswith("apiVersion:")
    return len(read_text(text, "mesh.yaml").docs) == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_loss_fires_and_its_fix_silences_it(case: Case) -> None:
    assert _well_formed(case.fires) and _well_formed(case.quiet)
    fired = _messages(case.fires, case.options)
    assert any(case.message in m for m in fired), fired
    assert not any(case.message in m for m in _messages(case.quiet, case.options))


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


def _call_sites() -> Iterator[tuple[str, int]]:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dropped", "approximated")
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "losses"):
                yield path.name, node.lineno


def test_every_loss_of_the_back_end_has_a_case(monkeypatch: pytest.MonkeyPatch) -> None:
    hit: set[tuple[str, int]] = set()
    original = Losses._add

    def record(self: Losses, code: str, origin: object, message: str) -> None:
        frame = sys._getframe(2)  # _add <- dropped/approximated <- the call site
        hit.add((Path(frame.f_code.co_filename).name, frame.f_lineno))
        original(self, code, origin, message)  # type: ignore[arg-type]

    monkeypatch.setattr(losses_module.Losses, "_add", record)
    for case in CASES:
        run(case.fires, **case.options)
    missing = sorted(set(_call_sites()) - hit)
    assert missing == []
