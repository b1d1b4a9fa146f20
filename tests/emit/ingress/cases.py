"""One small input per translation row, shared by the Gateway API and Istio row tests and
by the test that every output validates.

Each fixture is PRELUDE (Services api with ports http 8080 and admin 9090, web on 80,
canary on 8080, their Deployments, IngressClass nginx of ingress-nginx) plus the Ingresses
of the row, all in namespace shop.
"""

from __future__ import annotations


def _workload(name: str, ports: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{app: {name}}}
  ports: {ports}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: {name}, image: {name}:1}}]}}
---
"""


PRELUDE = (
    _workload("api", "[{name: http, port: 8080}, {name: admin, port: 9090}]")
    + _workload("web", "[{name: http, port: 80}]")
    + _workload("canary", "[{name: http, port: 8080}]")
    + """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
"""
)
API = "backend: {service: {name: api, port: {number: 8080}}}"
WEB = "backend: {service: {name: web, port: {number: 80}}}"
CANARY = "backend: {service: {name: canary, port: {number: 8080}}}"


def ingress(name: str, rules: str, *, annotations: str = "", extra: str = "",
            class_line: str = "ingressClassName: nginx") -> str:
    """An Ingress of namespace shop; ``annotations`` and ``extra`` (spec fields) are written
    as given, indented already."""
    notes = f"  annotations:\n{annotations}" if annotations else ""
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: shop
{notes}spec:
  {class_line}
{extra}  rules:
{rules}---
"""


def host(name: str, *paths: str) -> str:
    return f"  - host: {name}\n    http:\n      paths:\n" + "".join(f"      - {p}\n" for p in paths)


# -- paths ------------------------------------------------------------------------------------
PATH_TYPES = PRELUDE + ingress("paths", host(
    "shop.example.com",
    f"{{path: /exact, pathType: Exact, {API}}}",
    f"{{path: /prefix/, pathType: Prefix, {API}}}",
    f"{{path: /impl, pathType: ImplementationSpecific, {WEB}}}",
))

REGEX = PRELUDE + ingress("regex", host(
    "shop.example.com",
    f"{{path: '/v[0-9]+/items', pathType: ImplementationSpecific, {API}}}",
    f"{{path: /plain, pathType: ImplementationSpecific, {WEB}}}",
), annotations='    nginx.ingress.kubernetes.io/use-regex: "true"\n')

# use-regex on one Ingress makes ingress-nginx read every path of that host as a
# case-insensitive regular expression, whichever Ingress the path is on; other hosts keep theirs
REGEX_HOST_WIDE = PRELUDE + ingress("plain", host(
    "shop.example.com",
    f"{{path: /exact, pathType: Exact, {API}}}",
    f"{{path: /cart/, pathType: Prefix, {API}}}",
    f"{{path: '/v1.0', pathType: Prefix, {API}}}",
    f"{{path: /impl, pathType: ImplementationSpecific, {WEB}}}",
) + host(
    "other.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
)) + ingress("regex", host(
    "shop.example.com", f"{{path: '/v[0-9]+/items', pathType: ImplementationSpecific, {API}}}",
), annotations='    nginx.ingress.kubernetes.io/use-regex: "true"\n')

REGEX_BEHIND_CATCH_ALL = PRELUDE + ingress("front", host(
    "shop.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
)) + ingress("regex", host(
    "shop.example.com",
    f"{{path: '/api/v[0-9]+', pathType: ImplementationSpecific, {API}}}",
    f"{{path: '/static/.+[.]css', pathType: ImplementationSpecific, {API}}}",
), annotations='    nginx.ingress.kubernetes.io/use-regex: "true"\n')

OTHER_CONTROLLER = PRELUDE + ingress("traefik", host(
    "shop.example.com", f"{{path: /t, pathType: ImplementationSpecific, {API}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/rewrite-target: /\n"
    "    traefik.ingress.kubernetes.io/router.middlewares: shop-strip@kubernetescrd\n"
), class_line="ingressClassName: traefik")

ISTIO_CLASS = """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: istio}
spec: {controller: istio.io/ingress-controller}
---
""" + PRELUDE + ingress("mesh", host(
    "mesh.example.com",
    f"{{path: /exact, pathType: ImplementationSpecific, {API}}}",
    f"{{path: /star/*, pathType: ImplementationSpecific, {API}}}",
    f"{{path: /dot.*, pathType: ImplementationSpecific, {WEB}}}",
    f"{{path: /p, pathType: Prefix, {WEB}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/ssl-redirect: \"true\"\n"
    "    alb.ingress.kubernetes.io/scheme: internet-facing\n"
), extra=(
    "  defaultBackend: {service: {name: web, port: {number: 80}}}\n"
    "  tls: [{hosts: [mesh.example.com], secretName: mesh-cert}]\n"
), class_line="ingressClassName: istio")

ISTIO_ANNOTATION = PRELUDE + ingress("legacy", host(
    "legacy.example.com", f"{{path: /old, pathType: ImplementationSpecific, {API}}}",
), annotations='    kubernetes.io/ingress.class: "istio"\n', class_line="")

# -- default backend --------------------------------------------------------------------------
DEFAULT_BACKEND = PRELUDE + ingress("fallback", host(
    "a.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
) + host(
    "b.example.com", f"{{path: /, pathType: Prefix, {API}}}",
), extra="  defaultBackend: {service: {name: web, port: {name: http}}}\n")

DEFAULT_BACKEND_ONLY = PRELUDE + """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: only, namespace: shop}
spec:
  ingressClassName: nginx
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
"""

# -- TLS and redirects to HTTPS -----------------------------------------------------------------
TLS = PRELUDE + ingress("secure", host(
    "shop.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
) + host(
    "a.wild.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
) + host(
    "plain.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
) + host(
    "nosecret.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), extra=(
    "  tls:\n"
    "  - {hosts: [shop.example.com, '*.wild.example.com'], secretName: shop-cert}\n"
    "  - {hosts: [nosecret.example.com]}\n"
)) + ingress("second", host(
    "shop.example.com", f"{{path: /second, pathType: Prefix, {API}}}",
), extra="  tls: [{hosts: [shop.example.com], secretName: other-cert}]\n")

SSL_REDIRECT_OFF = PRELUDE + ingress("nosslredirect", host(
    "shop.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), annotations='    nginx.ingress.kubernetes.io/ssl-redirect: "false"\n',
    extra="  tls: [{hosts: [shop.example.com], secretName: shop-cert}]\n")

FORCE_SSL_REDIRECT = PRELUDE + ingress("forced", host(
    "shop.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
) + host(
    "bare.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), annotations='    nginx.ingress.kubernetes.io/force-ssl-redirect: "true"\n',
    extra="  tls: [{hosts: [shop.example.com], secretName: shop-cert}]\n")

# -- redirects, app-root, rewrites --------------------------------------------------------------
PERMANENT_REDIRECT = PRELUDE + ingress("moved", host(
    "old.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/permanent-redirect: https://new.example.com:8443/landing?from=old\n"
    "    nginx.ingress.kubernetes.io/permanent-redirect-code: \"308\"\n"
))

TEMPORAL_REDIRECT = PRELUDE + ingress("away", host(
    "away.example.com", f"{{path: /x, pathType: Prefix, {WEB}}}",
), annotations="    nginx.ingress.kubernetes.io/temporal-redirect: http://maintenance.example.com/\n")

REDIRECT_ODD_CODE = PRELUDE + ingress("oddcode", host(
    "odd.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/temporal-redirect: /elsewhere\n"
    "    nginx.ingress.kubernetes.io/temporal-redirect-code: \"305\"\n"
))

APP_ROOT = PRELUDE + ingress("approot", host(
    "app.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), annotations="    nginx.ingress.kubernetes.io/app-root: /app1\n")

REWRITE_FULL = PRELUDE + ingress("rewrite", host(
    "shop.example.com", f"{{path: /old, pathType: Prefix, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/rewrite-target: /new\n")

REWRITE_PREFIX = PRELUDE + ingress("strip", host(
    "shop.example.com", f"{{path: '/api(/|$)(.*)', pathType: ImplementationSpecific, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/rewrite-target: /$2\n")

REWRITE_OPTIONAL_SLASH = PRELUDE + ingress("loose", host(
    "shop.example.com", f"{{path: '/web/?(.*)', pathType: ImplementationSpecific, {WEB}}}",
), annotations="    nginx.ingress.kubernetes.io/rewrite-target: /$1\n")

REWRITE_CAPTURES = PRELUDE + ingress("captures", host(
    "shop.example.com", f"{{path: '/v([0-9]+)/items/(.*)', pathType: ImplementationSpecific, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/rewrite-target: /items/$2/v$1\n")

# -- Host header, timeouts --------------------------------------------------------------------
UPSTREAM_VHOST = PRELUDE + ingress("vhost", host(
    "shop.example.com", f"{{path: /, pathType: Prefix, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/upstream-vhost: internal.example.com\n")

UPSTREAM_VHOST_VARIABLES = PRELUDE + ingress("linkerd", host(
    "dash.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
    f"{{path: /api, pathType: Prefix, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/upstream-vhost: $service_name.$namespace.svc.cluster.local:8084\n")

UPSTREAM_VHOST_UNKNOWN = PRELUDE + ingress("hostvar", host(
    "shop.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), annotations="    nginx.ingress.kubernetes.io/upstream-vhost: $host\n")

TIMEOUTS = PRELUDE + ingress("slow", host(
    "shop.example.com", f"{{path: /report, pathType: Prefix, {API}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/proxy-read-timeout: \"120\"\n"
    "    nginx.ingress.kubernetes.io/proxy-send-timeout: \"30\"\n"
))

# -- CORS -------------------------------------------------------------------------------------
CORS_SET = PRELUDE + ingress("cors", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
), annotations=(
    '    nginx.ingress.kubernetes.io/enable-cors: "true"\n'
    '    nginx.ingress.kubernetes.io/cors-allow-origin: "https://app.example.com, https://*.example.org, ftp:x"\n'
    '    nginx.ingress.kubernetes.io/cors-allow-methods: "get, POST"\n'
    '    nginx.ingress.kubernetes.io/cors-allow-headers: "X-Token,Content-Type"\n'
    '    nginx.ingress.kubernetes.io/cors-expose-headers: "X-Trace"\n'
    '    nginx.ingress.kubernetes.io/cors-allow-credentials: "false"\n'
    '    nginx.ingress.kubernetes.io/cors-max-age: "600"\n'
))

CORS_DEFAULTS = PRELUDE + ingress("open", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
), annotations='    nginx.ingress.kubernetes.io/enable-cors: "true"\n'
   '    nginx.ingress.kubernetes.io/app-root: /app\n')

CORS_NOT_ENABLED = PRELUDE + ingress("closed", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
), annotations='    nginx.ingress.kubernetes.io/cors-allow-origin: "https://app.example.com"\n')

# -- cookie affinity -----------------------------------------------------------------------------
AFFINITY = PRELUDE + ingress("sticky", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}", f"{{path: /web, pathType: Prefix, {WEB}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/affinity: cookie\n"
    "    nginx.ingress.kubernetes.io/session-cookie-name: route\n"
    '    nginx.ingress.kubernetes.io/session-cookie-max-age: "172800"\n'
    "    nginx.ingress.kubernetes.io/session-cookie-path: /shop\n"
    "    nginx.ingress.kubernetes.io/session-cookie-samesite: Lax\n"
))

AFFINITY_DEFAULTS = PRELUDE + ingress("pinned", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/affinity: cookie\n"
    "    nginx.ingress.kubernetes.io/affinity-mode: persistent\n"
    "    nginx.ingress.kubernetes.io/app-root: /app\n"
))

AFFINITY_NOT_SET = PRELUDE + ingress("loose", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/affinity: ip\n"
    "    nginx.ingress.kubernetes.io/session-cookie-name: route\n"
))

# -- canaries ---------------------------------------------------------------------------------
MAIN = ingress("main", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {API}}}", f"{{path: /web, pathType: Prefix, {WEB}}}",
))

# a path RE2 cannot read, and a canary header pattern it cannot read
BAD_REGEX = PRELUDE + MAIN + ingress("broken", host(
    "broken.example.com",
    f"{{path: '/v[0-9', pathType: ImplementationSpecific, {API}}}",
    f"{{path: /fine, pathType: Prefix, {WEB}}}",
), annotations='    nginx.ingress.kubernetes.io/use-regex: "true"\n') + ingress("pattern", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-by-header: x-version\n"
    "    nginx.ingress.kubernetes.io/canary-by-header-pattern: v(2\n"
    "    nginx.ingress.kubernetes.io/canary-weight: \"10\"\n"
))

CANARY_WEIGHT = PRELUDE + MAIN + ingress("weighted", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-weight: \"20\"\n"
))

CANARY_WEIGHT_TOTAL = PRELUDE + MAIN + ingress("permille", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-weight: \"5\"\n"
    "    nginx.ingress.kubernetes.io/canary-weight-total: \"1000\"\n"
))

CANARY_HEADER = PRELUDE + MAIN + ingress("byheader", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-by-header: x-canary\n"
    "    nginx.ingress.kubernetes.io/canary-weight: \"10\"\n"
))

CANARY_HEADER_VALUE = PRELUDE + MAIN + ingress("byvalue", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-by-header: x-region\n"
    "    nginx.ingress.kubernetes.io/canary-by-header-value: eu-west\n"
))

CANARY_HEADER_PATTERN = PRELUDE + MAIN + ingress("bypattern", host(
    "shop.example.com", f"{{path: /web, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-by-header: x-version\n"
    "    nginx.ingress.kubernetes.io/canary-by-header-pattern: v2|v3\n"
))

CANARY_COOKIE = PRELUDE + MAIN + ingress("bycookie", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-by-cookie: beta\n"
))

CANARY_WITHOUT_MAIN = PRELUDE + MAIN + ingress("orphan", host(
    "shop.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
    f"{{path: /nomain, pathType: Prefix, {CANARY}}}",
) + host(
    "other.example.com", f"{{path: /api, pathType: Prefix, {CANARY}}}",
), annotations=(
    "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
    "    nginx.ingress.kubernetes.io/canary-weight: \"50\"\n"
))

# -- backends ---------------------------------------------------------------------------------
BACKENDS = PRELUDE + ingress("backends", host(
    "shop.example.com",
    "{path: /admin, pathType: Prefix, backend: {service: {name: api, port: {name: admin}}}}",
    "{path: /nope, pathType: Prefix, backend: {service: {name: api, port: {name: grpc}}}}",
    "{path: /ghost, pathType: Prefix, backend: {service: {name: ghost, port: {name: http}}}}",
    "{path: /bucket, pathType: Prefix, backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: assets}}}",
    f"{{path: /web, pathType: Prefix, {WEB}}}",
))

MANY_PATHS = PRELUDE + ingress("many", host(
    "shop.example.com", *(f"{{path: /p{i:02d}, pathType: Prefix, {API}}}" for i in range(18)),
), extra="  defaultBackend: {service: {name: web, port: {number: 80}}}\n")

# -- API versions and classes -------------------------------------------------------------------
V1BETA1 = PRELUDE + """apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: {name: beta, namespace: shop}
spec:
  ingressClassName: nginx
  backend: {serviceName: web, servicePort: 80}
  rules:
  - host: beta.example.com
    http:
      paths:
      - path: /beta
        backend: {serviceName: api, servicePort: admin}
      - path: /typed
        pathType: Exact
        backend: {serviceName: api, servicePort: 8080}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: ext
  namespace: shop
  annotations: {kubernetes.io/ingress.class: nginx}
spec:
  rules:
  - host: ext.example.com
    http:
      paths:
      - path: /ext
        backend: {serviceName: web, servicePort: http}
---
"""

CLASS_WITHOUT_INGRESS_CLASS = PRELUDE + ingress("haproxy", host(
    "h.example.com", f"{{path: /h, pathType: ImplementationSpecific, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/ssl-redirect: \"false\"\n", class_line="ingressClassName: haproxy")

NGINX_WITHOUT_INGRESS_CLASS = PRELUDE.replace("kind: IngressClass\nmetadata: {name: nginx}", "kind: IngressClass\n"
                                              "metadata: {name: unused}") + ingress("byname", host(
    "n.example.com", f"{{path: /n, pathType: ImplementationSpecific, {API}}}",
), annotations="    nginx.ingress.kubernetes.io/proxy-read-timeout: \"5\"\n")

DEFAULT_CLASS = """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: public
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
""" + PRELUDE + """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: unclassed
  namespace: shop
  annotations: {nginx.ingress.kubernetes.io/proxy-read-timeout: "7"}
spec:
  rules:
  - host: d.example.com
    http:
      paths:
      - {path: /d, pathType: ImplementationSpecific, backend: {service: {name: api, port: {number: 8080}}}}
---
"""

NO_CLASS = DEFAULT_CLASS.replace("  annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}\n", "")

SHARED_GATEWAY = PRELUDE + ingress("one", host(
    "one.example.com", f"{{path: /, pathType: Prefix, {API}}}",
), extra="  tls: [{hosts: [one.example.com], secretName: one-cert}]\n") + ingress("two", host(
    "two.example.com", f"{{path: /, pathType: Prefix, {WEB}}}",
), extra="  tls: [{hosts: [two.example.com], secretName: two-cert}]\n") + """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: three, namespace: other}
spec:
  ingressClassName: nginx
  rules:
  - host: three.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
"""

MIXED = PRELUDE + """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api-retries, namespace: shop}
spec:
  hosts: [api]
  http:
  - route: [{destination: {host: api, port: {number: 8080}}}]
    retries: {attempts: 3}
---
""" + ingress("front", host("shop.example.com", f"{{path: /, pathType: Prefix, {WEB}}}"))

CASES = {name.lower(): value for name, value in dict(globals()).items()
         if name.isupper() and isinstance(value, str) and name not in ("PRELUDE", "API", "WEB", "CANARY", "MAIN")}
