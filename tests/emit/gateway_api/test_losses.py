"""Every loss the back-end reports: a fixture where it fires and one where it must not.

MSH400 (left out) and MSH401 (carried over differently, or read differently by the
meshes). Each case names words of the message; the quiet fixture is the nearest input
that translates without that loss. Both outputs validate clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.emit.gateway_api.harness import has_loss, translated, validated

PRELUDE = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: multi, namespace: shop}
spec:
  selector: {app: multi}
  ports: [{name: http, port: 8080}, {name: http-admin, port: 9090}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  subsets: [{name: v2, labels: {version: v2}}]
---
"""
ROUTE = "    route: [{destination: {host: cart}}]\n"


def vs(http: str, *, hosts: str = "[cart]", extra: str = "", name: str = "cart", namespace: str = "shop") -> str:
    return PRELUDE + f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  hosts: {hosts}
{extra}  http:
{http}"""


def rule(lines: str, route: str = ROUTE) -> str:
    """One http rule: ``lines`` (indented 4) and a route to cart."""
    return "  - " + lines.lstrip().removeprefix("- ") + route


def gateway(servers: str, http: str = "  - route: [{destination: {host: cart}}]\n") -> str:
    return PRELUDE + f"""apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: gw, namespace: shop}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
{servers}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: front, namespace: shop}}
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  http:
{http}"""


HTTP_SERVER = '  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["shop.example.com"]\n'


def dr(policy: str, host: str = "cart") -> str:
    return PRELUDE.replace("  subsets: [{name: v2, labels: {version: v2}}]\n", "") + f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: policy, namespace: shop}}
spec:
  host: {host}
  trafficPolicy:
{policy}"""


def l4(body: str) -> str:
    return PRELUDE + f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: raw, namespace: shop}}
spec:
  hosts: [cart]
{body}"""


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    words: tuple[str, ...]
    fires: str
    quiet: str
    channel: str = "standard"
    quiet_channel: str | None = None  # the quiet fixture's, when it differs
    linkerd_version: str = "2.20"


CASES = [
    # -- matches
    Case("ignore-uri-case", "MSH401", ("ignoreUriCase",),
         vs(rule("- match: [{uri: {exact: /Cart}, ignoreUriCase: true}]\n")),
         vs(rule("- match: [{uri: {exact: /cart}}]\n"))),
    Case("path-not-accepted", "MSH401", ("is not a path Gateway API accepts",),
         vs(rule("- match: [{uri: {exact: '/a//b'}}]\n")), vs(rule("- match: [{uri: {exact: /a/b}}]\n"))),
    Case("prefix-segments", "MSH401", ("uri prefix '/api'", "whole path segments"),
         vs(rule("- match: [{uri: {prefix: /api}}]\n")), vs(rule("- match: [{uri: {prefix: /}}]\n"))),
    Case("prefix-trailing-slash", "MSH401", ("uri prefix '/api/'", "does not match '/api'"),
         vs(rule("- match: [{uri: {prefix: /api/}}]\n")), vs(rule("- match: [{uri: {exact: /api/}}]\n"))),
    Case("without-headers", "MSH400", ("withoutHeaders x-debug",),
         vs(rule("- match: [{withoutHeaders: {x-debug: {}}}]\n")),
         vs(rule("- match: [{headers: {x-debug: {}}}]\n"))),
    Case("jwt-claim", "MSH400", ("JWT claim match",),
         vs(rule("- match: [{headers: {'@request.auth.claims.group': {exact: admin}}}]\n")),
         vs(rule("- match: [{headers: {x-group: {exact: admin}}}]\n"))),
    Case("header-name", "MSH400", ("is not a name Gateway API can match on",),
         vs(rule("- match: [{queryParams: {'a[b]': {exact: '1'}}}]\n")),
         vs(rule("- match: [{queryParams: {ab: {exact: '1'}}}]\n"))),
    Case("too-many-conditions", "MSH400", ("Gateway API allows 16 per match",),
         vs(rule("- match: [{headers: {" + ", ".join(f"h{i}: {{exact: v}}" for i in range(17)) + "}}]\n")),
         vs(rule("- match: [{headers: {" + ", ".join(f"h{i}: {{exact: v}}" for i in range(16)) + "}}]\n"))),
    Case("header-prefix", "MSH401", ("header x-v prefix", "no prefix match"),
         vs(rule("- match: [{headers: {x-v: {prefix: a}}}]\n")), vs(rule("- match: [{headers: {x-v: {regex: 'a.*'}}}]\n"))),
    Case("header-value", "MSH400", ("cannot be written as a Gateway API match value",),
         vs(rule("- match: [{headers: {x-v: {exact: 'a  b'}}}]\n")), vs(rule("- match: [{headers: {x-v: {exact: 'a b'}}}]\n"))),
    Case("method-not-standard", "MSH400", ("method 'PURGE'",),
         vs(rule("- match: [{method: {exact: PURGE}}]\n")), vs(rule("- match: [{method: {exact: PUT}}]\n"))),
    Case("method-regex-unreadable", "MSH400", ("could not be evaluated",),
         vs(rule("- match: [{method: {regex: '\\pL+'}}]\n")), vs(rule("- match: [{method: {regex: '[A-Z]+'}}]\n"))),
    Case("method-none-accepted", "MSH400", ("accepts none of the methods",),
         vs(rule("- match: [{method: {prefix: X}}]\n")), vs(rule("- match: [{method: {prefix: P}}]\n"))),
    Case("authority-mesh", "MSH400", ("authority exact",),
         vs(rule("- match: [{authority: {exact: cart}}]\n")), vs(rule("- match: [{uri: {exact: /cart}}]\n"))),
    Case("scheme", "MSH400", ("cannot match the scheme",),
         vs(rule("- match: [{scheme: {exact: https}}]\n")), vs(rule("- match: [{uri: {exact: /s}}]\n"))),
    Case("source-labels", "MSH400", ("sourceLabels app=web",),
         vs(rule("- match: [{sourceLabels: {app: web}}]\n")), vs(rule("- match: [{sourceNamespace: web}]\n"))),
    Case("source-namespace-own", "MSH400", ("sourceNamespace shop",),
         vs(rule("- match: [{sourceNamespace: shop}]\n")), vs(rule("- match: [{sourceNamespace: web}]\n"))),
    Case("port-unknown-parent", "MSH400", ("the parent's ports are not known",),
         vs(rule("- match: [{port: 80}]\n", "    route: [{destination: {host: cart}}]\n"), hosts="[ghost]"),
         vs(rule("- match: [{port: 8080}]\n"))),
    # -- filters
    Case("header-set-value", "MSH400", ("request header set x-a",),
         vs(rule("- headers: {request: {set: {x-a: ''}}}\n")), vs(rule("- headers: {request: {set: {x-a: b}}}\n"))),
    Case("envoy-substitution", "MSH401", ("uses an Envoy substitution",),
         vs(rule("- headers: {request: {set: {x-ip: '%DOWNSTREAM_REMOTE_ADDRESS%'}}}\n")),
         vs(rule("- headers: {request: {set: {x-ip: '100%'}}}\n"))),
    Case("too-many-headers", "MSH400", ("Gateway API allows 16; the rest",),
         vs(rule("- headers: {request: {set: {" + ", ".join(f"h{i}: v" for i in range(17)) + "}}}\n")),
         vs(rule("- headers: {request: {set: {" + ", ".join(f"h{i}: v" for i in range(16)) + "}}}\n"))),
    Case("header-remove-name", "MSH400", ("request header remove 'x y'",),
         vs(rule("- headers: {request: {remove: ['x y']}}\n")), vs(rule("- headers: {request: {remove: [x-y]}}\n"))),
    Case("redirect-scheme", "MSH400", ("redirect scheme 'ftp'",),
         vs("  - redirect: {scheme: ftp}\n"), vs("  - redirect: {scheme: https}\n")),
    Case("redirect-authority", "MSH400", ("redirect authority",),
         vs("  - redirect: {authority: 'Bad_Host'}\n"), vs("  - redirect: {authority: good.example.com}\n")),
    Case("redirect-derive-port", "MSH401", ("derivePort FROM_REQUEST_PORT",),
         vs("  - redirect: {scheme: https, derivePort: FROM_REQUEST_PORT}\n"),
         vs("  - redirect: {derivePort: FROM_REQUEST_PORT}\n")),
    Case("redirect-code", "MSH400", ("redirect code 305",),
         vs("  - redirect: {uri: /x, redirectCode: 305}\n"), vs("  - redirect: {uri: /x, redirectCode: 307}\n")),
    Case("rewrite-authority", "MSH400", ("rewrite authority",),
         vs(rule("- rewrite: {authority: 'a:b:c'}\n")), vs(rule("- rewrite: {authority: a.example.com}\n"))),
    Case("uri-regex-rewrite", "MSH400", ("uriRegexRewrite",),
         vs(rule("- rewrite: {uriRegexRewrite: {match: '^/a', rewrite: /b}}\n")), vs(rule("- rewrite: {uri: /b/}\n"))),
    Case("rewrite-regex-match", "MSH400", ("on a regex match",),
         vs(rule("- match: [{uri: {regex: '/a.*'}}]\n    rewrite: {uri: /b}\n")),
         vs(rule("- match: [{uri: {exact: /a}}]\n    rewrite: {uri: /b}\n"))),
    Case("rewrite-slashes", "MSH401", ("ReplacePrefixMatch replaces whole segments",),
         vs(rule("- match: [{uri: {prefix: /a/}}]\n    rewrite: {uri: /b}\n")),
         vs(rule("- match: [{uri: {prefix: /a/}}]\n    rewrite: {uri: /b/}\n"))),
    Case("cors-origin", "MSH400", ("CORS origin regex",),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: 'https://a.com'}, {regex: '.*b'}]}\n")),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: 'https://a.com'}, {regex: '.*'}]}\n"))),
    Case("cors-no-origin", "MSH400", ("no allowed origin can be expressed",),
         vs(rule("- corsPolicy: {allowOrigins: [{prefix: 'https://'}]}\n")),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: 'https://a.com'}]}\n"))),
    Case("cors-method", "MSH400", ("CORS method 'PURGE'",),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: '*'}], allowMethods: [PURGE]}\n")),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: '*'}], allowMethods: [GET]}\n"))),
    Case("cors-header", "MSH400", ("CORS allowHeaders 'a b'",),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: '*'}], allowHeaders: ['a b']}\n")),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: '*'}], allowHeaders: [a-b]}\n"))),
    Case("cors-preflights", "MSH400", ("unmatchedPreflights IGNORE",),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: '*'}], unmatchedPreflights: IGNORE}\n")),
         vs(rule("- corsPolicy: {allowOrigins: [{exact: '*'}], unmatchedPreflights: FORWARD}\n"))),
    # -- rules
    Case("delegate", "MSH400", ("delegate shop/part",),
         vs("  - match: [{uri: {prefix: /p/}}]\n    delegate: {name: part}\n"), vs(rule("- match: [{uri: {prefix: /p/}}]\n"))),
    Case("fault", "MSH400", ("fault injection (abort 503 for 5% of requests)",),
         vs(rule("- fault: {abort: {httpStatus: 503, percentage: {value: 5}}}\n")), vs(rule("- timeout: 1s\n"))),
    Case("direct-response", "MSH400", ("directResponse 404",),
         vs("  - directResponse: {status: 404}\n"), vs(rule("- timeout: 1s\n"))),
    Case("no-destination-left", "MSH400", ("no destination of the rule could be translated",),
         vs("  - route: [{destination: {host: api.example.com}}]\n"), vs(rule("- timeout: 1s\n"))),
    Case("timeout-not-duration", "MSH400", ("timeout 'soon' is not a duration Gateway API can write",),
         vs(rule("- timeout: soon\n")), vs(rule("- timeout: 1s\n"))),
    Case("timeout-rounded", "MSH401", ("rounded up to 2ms",),
         vs(rule("- timeout: 1500us\n")), vs(rule("- timeout: 1500ms\n"))),
    Case("no-retries", "MSH401", ("attempts: 0",),
         vs(rule("- retries: {attempts: 0}\n")), vs(rule("- retries: {attempts: 1}\n"))),
    Case("retry-standard", "MSH400", ("experimental channel only",),
         vs(rule("- retries: {attempts: 2}\n")), vs(rule("- retries: {attempts: 2}\n")), "standard", "experimental"),
    Case("retry-localities", "MSH400", ("retryRemoteLocalities",),
         vs(rule("- retries: {attempts: 2, retryRemoteLocalities: true}\n")),
         vs(rule("- retries: {attempts: 2, retryRemoteLocalities: false}\n")), "experimental"),
    Case("retry-previous-hosts", "MSH400", ("retryIgnorePreviousHosts",),
         vs(rule("- retries: {attempts: 2, retryIgnorePreviousHosts: false}\n")),
         vs(rule("- retries: {attempts: 2, retryIgnorePreviousHosts: true}\n")), "experimental"),
    Case("retry-5xx", "MSH401", ("retryOn 5xx",),
         vs(rule("- retries: {attempts: 2, retryOn: 5xx}\n")), vs(rule("- retries: {attempts: 2, retryOn: '503'}\n")),
         "experimental"),
    Case("retry-on-lost", "MSH400", ("retryOn reset, retriable-headers",),
         vs(rule("- retries: {attempts: 2, retryOn: 'reset,retriable-headers,503'}\n")),
         vs(rule("- retries: {attempts: 2, retryOn: 'connect-failure,503'}\n")), "experimental"),
    # -- destinations
    Case("backend-not-service", "MSH400", ("destination 'api.example.com' is not a Kubernetes Service",),
         vs("  - route: [{destination: {host: api.example.com}, weight: 10}, {destination: {host: cart}, weight: 90}]\n"),
         vs(rule("- timeout: 1s\n"))),
    Case("backend-no-port", "MSH400", ("has no port and Service multi has 2 ports",),
         gateway(HTTP_SERVER, "  - route: [{destination: {host: multi}}]\n"),
         gateway(HTTP_SERVER, "  - route: [{destination: {host: multi, port: {number: 8080}}}]\n")),
    Case("subset-undefined", "MSH400", ("subset 'v9' of 'cart' is defined by no DestinationRule",),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart, subset: v9}}]\n")),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart, subset: v2}}]\n"))),
    Case("subset-no-selector", "MSH400", ("has no selector", "which you must create"),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart, subset: v2}}]\n")).replace(
             "  selector: {app: cart}\n", "", 1),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart, subset: v2}}]\n"))),
    Case("subset-service", "MSH401", ("generated Service cart-v2",),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart, subset: v2}}]\n")),
         vs(rule("- timeout: 1s\n"))),
    # -- placement
    Case("host-not-service", "MSH400", ("host 'api.example.com' is not a Kubernetes Service",),
         vs(rule("- timeout: 1s\n"), hosts="[cart, api.example.com]"), vs(rule("- timeout: 1s\n"))),
    Case("hostname-invalid", "MSH400", ("host '10.0.0.1' is not a hostname Gateway API accepts",),
         gateway(HTTP_SERVER).replace('hosts: ["shop.example.com"]\n  gateways', 'hosts: ["shop.example.com", 10.0.0.1]\n  gateways'),
         gateway(HTTP_SERVER)),
    Case("authority-outside-hosts", "MSH401", ("is outside the VirtualService's hosts",),
         gateway(HTTP_SERVER, "  - match: [{authority: {exact: other.example.com}}]\n" + ROUTE),
         gateway(HTTP_SERVER, "  - match: [{authority: {exact: shop.example.com}}]\n" + ROUTE)),
    Case("unknown-gateway", "MSH401", ("gateway istio-system/main is not among the translated inputs",),
         gateway(HTTP_SERVER).replace("gateways: [gw]", "gateways: [istio-system/main]"), gateway(HTTP_SERVER)),
    Case("gateway-binds-nothing", "MSH401", ("no listener of Gateway shop/gw serves these hosts",),
         gateway(HTTP_SERVER.replace("shop.example.com", "other.example.com")), gateway(HTTP_SERVER)),
    # -- routes
    Case("delegate-virtual-service", "MSH400", ("has no hosts: it is a delegate",),
         vs(rule("- timeout: 1s\n"), hosts="[]"), vs(rule("- timeout: 1s\n"))),
    Case("split-route", "MSH401", ("so it is split",),
         vs("".join(rule(f"- match: [{{uri: {{exact: /p{i}}}}}]\n") for i in range(17))),
         vs("".join(rule(f"- match: [{{uri: {{exact: /p{i}}}}}]\n") for i in range(16)))),
    Case("unreachable-rule", "MSH401", ("http[1] is never reached in Istio",),
         vs(rule("- timeout: 1s\n") + rule("- match: [{uri: {exact: /x}}]\n")),
         vs(rule("- match: [{uri: {exact: /x}}]\n") + rule("- timeout: 1s\n"))),
    Case("ineffective-match", "MSH401", ("never selects http[1]",),
         vs(rule("- match: [{uri: {prefix: /a/}}]\n") + rule("- match: [{uri: {exact: /a/b}}, {uri: {exact: /c}}]\n")),
         vs(rule("- match: [{uri: {prefix: /a/}}]\n") + rule("- match: [{uri: {exact: /b}}, {uri: {exact: /c}}]\n"))),
    Case("rule-order", "MSH401", ("rule order",),
         vs(rule("- match: [{uri: {regex: '/a/.*'}}]\n", "    route: [{destination: {host: cart, subset: v2}}]\n")
            + rule("- timeout: 1s\n")),
         vs(rule("- match: [{uri: {prefix: /a/}}]\n", "    route: [{destination: {host: cart, subset: v2}}]\n")
            + rule("- timeout: 1s\n"))),
    Case("l4-unreachable", "MSH401", ("tcp[1] is never reached in Istio",),
         l4("  tcp:\n  - route: [{destination: {host: cart}}]\n  - route: [{destination: {host: cart}}]\n"),
         l4("  tcp:\n  - route: [{destination: {host: cart}}]\n")),
    Case("l4-same-port", "MSH401", ("attach to the same parent and port",),
         l4("  tcp:\n  - match: [{port: 8080, destinationSubnets: [10.0.0.0/8]}]\n    route: [{destination: {host: cart}}]\n"
            "  - match: [{port: 8080}]\n    route: [{destination: {host: cart}}]\n"),
         l4("  tcp:\n  - match: [{port: 8080}]\n    route: [{destination: {host: cart}}]\n")),
    Case("l4-linkerd", "MSH401", ("Linkerd applies Service-parented TCP and TLS routes",),
         l4("  tcp:\n  - route: [{destination: {host: cart}}]\n"), vs(rule("- timeout: 1s\n"))),
    Case("l4-subnets", "MSH400", ("destinationSubnets",),
         l4("  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/8]}]\n    route: [{destination: {host: cart}}]\n"),
         l4("  tcp:\n  - match: [{port: 8080}]\n    route: [{destination: {host: cart}}]\n")),
    Case("l4-source", "MSH400", ("sourceLabels/sourceNamespace",),
         l4("  tcp:\n  - match: [{sourceLabels: {app: x}}]\n    route: [{destination: {host: cart}}]\n"),
         l4("  tcp:\n  - match: [{port: 8080}]\n    route: [{destination: {host: cart}}]\n")),
    Case("tls-route-no-hostname", "MSH400", ("a TLSRoute needs hostnames",),
         l4("  tls:\n  - match: [{port: 8080}]\n    route: [{destination: {host: cart}}]\n").replace("hosts: [cart]", "hosts: ['*']"),
         l4("  tls:\n  - match: [{port: 8080, sniHosts: [cart.example.com]}]\n    route: [{destination: {host: cart}}]\n")),
    Case("l4-no-destination", "MSH400", ("tcp[0]: no destination could be translated",),
         l4("  tcp:\n  - route: [{destination: {host: db.example.com, port: {number: 5432}}}]\n"),
         l4("  tcp:\n  - route: [{destination: {host: cart}}]\n")),
    # -- how the meshes read GAMMA routes
    Case("consumer-route", "MSH401", ("a consumer route",),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart.shop.svc.cluster.local}}]\n"),
            hosts="[cart.shop.svc.cluster.local]", namespace="web"),
         vs(rule("- timeout: 1s\n", "    route: [{destination: {host: cart.shop.svc.cluster.local}}]\n"),
            hosts="[cart.shop.svc.cluster.local]", namespace="web", extra="  exportTo: [.]\n")),
    Case("producer-route", "MSH401", ("a producer route",),
         vs(rule("- timeout: 1s\n"), extra="  exportTo: [.]\n"), vs(rule("- timeout: 1s\n"), extra="  exportTo: ['*']\n")),
    Case("linkerd-filters", "MSH401", ("uses URLRewrite", "Linkerd ignores the whole route"),
         vs(rule("- rewrite: {authority: a.example.com}\n")), vs(rule("- redirect: {uri: /x}\n", ""))),
    Case("linkerd-retry", "MSH401", ("Linkerd reads retries only from retry.linkerd.io",),
         vs(rule("- retries: {attempts: 2}\n")), vs(rule("- retries: {attempts: 2}\n")), "experimental", "standard"),
    Case("linkerd-timeouts", "MSH401", ("ignores timeouts.request on Gateway API routes",),
         vs(rule("- match: [{uri: {exact: /a}}]\n    timeout: 1s\n") + rule("- timeout: 2s\n")),
         vs(rule("- match: [{uri: {exact: /a}}]\n    timeout: 2s\n") + rule("- timeout: 2s\n")),
         linkerd_version="2.18"),
    Case("no-backends", "MSH401", ("a rule without backendRefs gets 500 from Istio",),
         vs("  - directResponse: {status: 503}\n"), vs(rule("- timeout: 1s\n"))),
    Case("new-redirect-code", "MSH401", ("redirect status 307",),
         vs("  - redirect: {uri: /x, redirectCode: 307}\n"), vs("  - redirect: {uri: /x, redirectCode: 302}\n")),
    # -- gateways
    Case("duplicate-server", "MSH400", ("repeats port 80, protocol HTTP",),
         gateway(HTTP_SERVER + HTTP_SERVER.replace("name: http", "name: http2")), gateway(HTTP_SERVER)),
    Case("no-listener", "MSH400", ("no server can be a Gateway API listener",),
         gateway('  - port: {number: 15443, name: tls, protocol: TLS}\n    hosts: ["*"]\n    tls: {mode: AUTO_PASSTHROUGH}\n'),
         gateway(HTTP_SERVER)),
    Case("bind", "MSH400", ("bind 10.0.0.1",),
         gateway(HTTP_SERVER + "    bind: 10.0.0.1\n"), gateway(HTTP_SERVER)),
    Case("istio-mutual-server", "MSH400", ("TLS mode ISTIO_MUTUAL",),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: ISTIO_MUTUAL}\n"), gateway(HTTP_SERVER)),
    Case("https-without-tls", "MSH400", ("protocol HTTPS without a TLS mode",),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'),
         gateway(HTTP_SERVER)),
    Case("grpc-web", "MSH401", ("GRPC-WEB",),
         gateway(HTTP_SERVER.replace("protocol: HTTP}", "protocol: GRPC-WEB}")), gateway(HTTP_SERVER)),
    Case("protocol-filter", "MSH401", ("MONGO: the listener is plain TCP",),
         gateway(HTTP_SERVER + '  - port: {number: 27017, name: mongo, protocol: MONGO}\n    hosts: ["*"]\n'),
         gateway(HTTP_SERVER + '  - port: {number: 27017, name: mongo, protocol: TCP}\n    hosts: ["*"]\n')),
    Case("unknown-protocol", "MSH400", ("server protocol UDP",),
         gateway(HTTP_SERVER + '  - port: {number: 53, name: dns, protocol: UDP}\n    hosts: ["*"]\n'),
         gateway(HTTP_SERVER)),
    Case("file-certificates", "MSH400", ("certificates from files",),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}\n"),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: SIMPLE, credentialName: cert}\n")),
    Case("mutual-server", "MSH400", ("TLS mode MUTUAL: client certificate validation",),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: MUTUAL, credentialName: cert}\n"),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: SIMPLE, credentialName: cert}\n")),
    Case("secret-elsewhere", "MSH401", ("credentialName cert", "copy the Secret there"),
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: SIMPLE, credentialName: cert}\n") +
         "---\napiVersion: v1\nkind: Secret\nmetadata: {name: cert, namespace: istio-system}\ntype: kubernetes.io/tls\n",
         gateway(HTTP_SERVER + '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n'
                 "    tls: {mode: SIMPLE, credentialName: cert}\n") +
         "---\napiVersion: v1\nkind: Secret\nmetadata: {name: cert, namespace: shop}\ntype: kubernetes.io/tls\n"),
    Case("listener-host", "MSH400", ("is not a hostname a Gateway API listener accepts",),
         gateway(HTTP_SERVER.replace('["shop.example.com"]', '["shop.example.com", "10.1.2.3"]')), gateway(HTTP_SERVER)),
    Case("gateway-deployment", "MSH401", ("gets its own deployment",),
         gateway(HTTP_SERVER), vs(rule("- timeout: 1s\n"))),
    # -- destination rules
    Case("load-balancer", "MSH400", ("loadBalancer ROUND_ROBIN",),
         dr("    loadBalancer: {simple: ROUND_ROBIN}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    Case("connection-pool", "MSH400", ("connectionPool",),
         dr("    connectionPool: {tcp: {maxConnections: 1}}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    Case("outlier-detection", "MSH400", ("outlierDetection",),
         dr("    outlierDetection: {consecutive5xxErrors: 1}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    Case("unmodelled-field", "MSH400", ("proxyProtocol: no Gateway API equivalent",),
         dr("    proxyProtocol: {version: V1}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    Case("istio-mutual-sni", "MSH400", ("tls ISTIO_MUTUAL",),
         dr("    tls: {mode: ISTIO_MUTUAL, sni: x.example.com}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    Case("tls-disable", "MSH400", ("tls DISABLE",),
         dr("    tls: {mode: DISABLE}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    Case("tls-mutual", "MSH400", ("tls MUTUAL",),
         dr("    tls: {mode: MUTUAL, credentialName: c}\n"), dr("    tls: {mode: SIMPLE, credentialName: c}\n")),
    Case("tls-skip-verify", "MSH400", ("insecureSkipVerify",),
         dr("    tls: {mode: SIMPLE, insecureSkipVerify: true}\n"), dr("    tls: {mode: SIMPLE}\n")),
    Case("tls-ca-file", "MSH400", ("caCertificates /etc/ca.pem is a file",),
         dr("    tls: {mode: SIMPLE, caCertificates: /etc/ca.pem}\n"), dr("    tls: {mode: SIMPLE, credentialName: ca}\n")),
    Case("tls-not-service", "MSH400", ("the host is not a Service of the inputs",),
         dr("    tls: {mode: SIMPLE}\n", host="api.example.com"), dr("    tls: {mode: SIMPLE}\n")),
    Case("backend-tls-policy", "MSH401", ("BackendTLSPolicy shop/cart",),
         dr("    tls: {mode: SIMPLE}\n"), dr("    tls: {mode: ISTIO_MUTUAL}\n")),
    # -- kinds
    Case("not-translated-kind", "MSH400", ("ServiceEntry ext is not translated",),
         vs(rule("- timeout: 1s\n")) + "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
         "metadata: {name: ext, namespace: shop}\nspec: {hosts: [api.example.com], ports: [{number: 443, name: https, protocol: HTTPS}]}\n",
         vs(rule("- timeout: 1s\n"))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_loss_fires(case: Case) -> None:
    out = translated(case.fires, case.channel, linkerd_version=case.linkerd_version)
    assert has_loss(out, case.code, *case.words), [f"{f.code} {f.message}" for f in out.findings]
    assert validated(out, case.channel) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_loss_stays_quiet(case: Case) -> None:
    channel = case.quiet_channel or case.channel
    out = translated(case.quiet, channel, linkerd_version=case.linkerd_version)
    assert not has_loss(out, case.code, *case.words), [f"{f.code} {f.message}" for f in out.findings]
    assert validated(out, channel) == []


def test_every_case_has_its_own_name() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


def test_an_invalid_regex_leaves_its_match_out() -> None:
    out = translated(vs(rule("- match: [{uri: {regex: '('}}, {uri: {exact: /a}}]\n")))
    assert has_loss(out, "MSH400", "regex '(' is invalid")
    assert validated(out) == []
