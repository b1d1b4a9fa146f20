"""What the ingress-nginx annotations of one Ingress ask for, read once for every back-end.

Before::

    metadata:
      annotations:
        nginx.ingress.kubernetes.io/rewrite-target: /$2
        nginx.ingress.kubernetes.io/proxy-read-timeout: "30"
        nginx.ingress.kubernetes.io/canary: "true"
        nginx.ingress.kubernetes.io/canary-weight: "20"
        nginx.ingress.kubernetes.io/limit-rps: "5"

After::

    Nginx(rewrite_target="/$2", use_regex=True, read_timeout=30,
          canary=Canary(weight=20, total=100, ...),
          unread=(("nginx.ingress.kubernetes.io/limit-rps", "rate limiting ..."),))

Only what Gateway API or Istio can express is read; every other annotation of
ingress-nginx (and of other controllers) is in ``unread`` with the reason, for the
back-end to report at its position. Values follow ingress-nginx's parsing: booleans as Go's
``strconv.ParseBool`` reads them (``"true"``, ``"True"``, ``"1"``...; anything else keeps the
default), timeouts whole seconds, weights integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meshctl.model.objects import Gateway, Labels

PREFIX = "nginx.ingress.kubernetes.io/"
REDIRECT_CODE = 308  # ingress-nginx's http-redirect-code default, for ssl-redirect
TRUE = ("true", "True", "TRUE", "t", "T", "1")
FALSE = ("false", "False", "FALSE", "f", "F", "0")
OTHER_CONTROLLERS = {
    "alb.ingress.kubernetes.io/": "the AWS Load Balancer Controller",
    "ingress.kubernetes.io/": "an Ingress controller (GCE, HAProxy or Voyager)",
    "ingress.gcp.kubernetes.io/": "GKE's Ingress controller",
    "networking.gke.io/": "GKE's Ingress controller",
    "traefik.ingress.kubernetes.io/": "Traefik",
    "haproxy.org/": "HAProxy's Ingress controller",
    "haproxy-ingress.github.io/": "HAProxy Ingress",
    "konghq.com/": "Kong",
    "appgw.ingress.kubernetes.io/": "Azure Application Gateway",
    "kubernetes.io/ingress.global-static-ip-name": "GKE's Ingress controller",
    "kubernetes.io/ingress.allow-http": "GKE's Ingress controller",
    "cert-manager.io/": "cert-manager's ingress-shim (it issues the TLS Secret for Ingresses)",
    "acme.cert-manager.io/": "cert-manager's ingress-shim",
    "kubernetes.io/tls-acme": "cert-manager's ingress-shim",
}
READ = frozenset({
    "rewrite-target", "use-regex", "app-root", "ssl-redirect", "force-ssl-redirect", "permanent-redirect",
    "permanent-redirect-code", "temporal-redirect", "temporal-redirect-code", "proxy-read-timeout",
    "proxy-send-timeout", "upstream-vhost", "canary", "canary-weight", "canary-weight-total", "canary-by-header",
    "canary-by-header-value", "canary-by-header-pattern", "canary-by-cookie", "enable-cors", "affinity",
})
CORS = frozenset({  # read with enable-cors: "true" only; alone they do nothing
    "cors-allow-origin", "cors-allow-methods", "cors-allow-headers", "cors-expose-headers",
    "cors-allow-credentials", "cors-max-age",
})
AFFINITY = frozenset({  # read with affinity: cookie only
    "session-cookie-name", "session-cookie-max-age", "session-cookie-expires", "session-cookie-path", "affinity-mode",
})
# annotation -> (the annotation it depends on, the values of that which turn it on)
DEPENDENT = {**dict.fromkeys(CORS, ("enable-cors", TRUE)), **dict.fromkeys(AFFINITY, ("affinity", ("cookie",)))}
SESSION_COOKIE = "INGRESSCOOKIE"  # ingress-nginx's session-cookie-name default
# ingress-nginx's defaults for a CORS-enabled Ingress
CORS_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
CORS_HEADERS = ("DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,"
                "Authorization")
CORS_MAX_AGE = 1728000
# an origin ingress-nginx accepts in cors-allow-origin (others it leaves out)
_CORS_ORIGIN = re.compile(r"^(\*|https?://(\*\.)?[A-Za-z0-9\-.]*(:[0-9]+)?)$")
WHY = {  # what the most common annotations nobody can carry over do, said once
    "configuration-snippet": "raw nginx configuration",
    "server-snippet": "raw nginx configuration",
    "auth-url": "external authentication (Istio: a CUSTOM AuthorizationPolicy with an ext_authz provider)",
    "auth-type": "basic authentication",
    "whitelist-source-range": "a client address allow-list (Istio: an AuthorizationPolicy on the gateway)",
    "allowlist-source-range": "a client address allow-list (Istio: an AuthorizationPolicy on the gateway)",
    "limit-rps": "rate limiting", "limit-rpm": "rate limiting", "limit-connections": "rate limiting",
    "session-cookie-samesite": "the SameSite attribute of the affinity cookie",
    "session-cookie-secure": "the Secure attribute of the affinity cookie",
    "session-cookie-domain": "the Domain attribute of the affinity cookie",
    "session-cookie-change-on-failure": "a new affinity cookie when the pinned pod fails",
    "backend-protocol": "the protocol to the backend (Istio: the Service port's appProtocol or a DestinationRule "
                        "tls mode)",
    "proxy-connect-timeout": "the connect timeout (Istio: DestinationRule connectionPool.tcp.connectTimeout)",
    "proxy-body-size": "the request body size limit",
}


@dataclass(frozen=True)
class Canary:
    """ingress-nginx's canary: this Ingress's backends take part of its main Ingress's requests."""

    weight: int  # 0 when only headers or a cookie send requests here
    total: int  # canary-weight-total (100)
    header: str | None  # canary-by-header: "always" sends here, "never" never does
    header_value: str | None  # canary-by-header-value: this value sends here instead of "always"
    header_pattern: str | None  # canary-by-header-pattern: a regular expression instead
    cookie: str | None  # canary-by-cookie: cookie value "always" / "never"


@dataclass(frozen=True)
class CorsSettings:
    """enable-cors and its cors-* annotations, with ingress-nginx's defaults filled in."""

    origins: tuple[str, ...]  # "*", or scheme://host[:port] with an optional "*." label
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    credentials: bool
    max_age: int  # seconds


@dataclass(frozen=True)
class Affinity:
    """affinity: cookie — a client kept on one pod by a cookie ingress-nginx sets."""

    cookie: str
    max_age: int | None  # seconds (session-cookie-max-age, else -expires); None: a browser-session cookie
    path: str | None  # session-cookie-path; None: the path of the location
    persistent: bool  # affinity-mode persistent (balanced by default: nginx may move clients to new pods)


@dataclass(frozen=True)
class Nginx:
    rewrite_target: str | None = None
    use_regex: bool = False  # paths are (case-insensitive) regular expressions
    app_root: str | None = None
    ssl_redirect: bool | None = None  # None: ingress-nginx's default (redirect hosts that have TLS)
    force_ssl_redirect: bool = False
    redirect: tuple[str, int, str] | None = None  # (URL, code, annotation) of permanent-/temporal-redirect
    read_timeout: int | None = None  # seconds
    send_timeout: int | None = None
    upstream_vhost: str | None = None
    canary: Canary | None = None
    cors: CorsSettings | None = None
    affinity: Affinity | None = None
    unread: tuple[tuple[str, str], ...] = ()  # (annotation, why it is not carried over)
    bad: tuple[tuple[str, str], ...] = ()  # (annotation, what is wrong with its value)


class _Values:
    """The ingress-nginx annotations without their prefix, parsed as ingress-nginx does."""

    def __init__(self, notes: Labels) -> None:
        self.raw = {k[len(PREFIX):]: v for k, v in notes.items() if k.startswith(PREFIX)}
        self.bad: list[tuple[str, str]] = []

    def get(self, name: str) -> str | None:
        return self.raw.get(name)

    def flag(self, name: str) -> bool | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if value not in TRUE + FALSE:  # Go's strconv.ParseBool, as ingress-nginx parses them
            why = f"{value!r} is not a boolean (\"true\" or \"false\"); ingress-nginx ignores it and keeps its default"
            self.bad.append((PREFIX + name, why))
            return None
        return value in TRUE

    def number(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if not value.strip().isdigit():
            self.bad.append((PREFIX + name, f"{value!r} is not a whole number; ingress-nginx ignores it"))
            return None
        return int(value)


def read(ingress: Gateway) -> Nginx:
    values = _Values(ingress.annotations)
    rewrite = values.get("rewrite-target")
    return Nginx(
        rewrite_target=rewrite,
        use_regex=bool(values.flag("use-regex")) or rewrite is not None,
        app_root=values.get("app-root"),
        ssl_redirect=values.flag("ssl-redirect"),
        force_ssl_redirect=bool(values.flag("force-ssl-redirect")),
        redirect=_redirect(values),
        read_timeout=values.number("proxy-read-timeout"),
        send_timeout=values.number("proxy-send-timeout"),
        upstream_vhost=values.get("upstream-vhost"),
        canary=_canary(values),
        cors=_cors(values),
        affinity=_affinity(values),
        unread=_unread(ingress.annotations, values.raw),
        bad=tuple(values.bad),
    )


def _redirect(values: _Values) -> tuple[str, int, str] | None:
    """ingress-nginx looks at temporal-redirect first; a code outside 300-308 is its default."""
    for name, code in (("temporal-redirect", 302), ("permanent-redirect", 301)):
        url = values.get(name)
        if url is None:
            continue
        given = values.number(f"{name}-code")
        if given is not None and not 300 <= given <= 308:
            why = f"{given} is not a redirect code (300-308); ingress-nginx sends {code}"
            values.bad.append((f"{PREFIX}{name}-code", why))
            given = None
        return url, given or code, PREFIX + name
    return None


def _canary(values: _Values) -> Canary | None:
    if not values.flag("canary"):
        return None
    return Canary(
        weight=values.number("canary-weight") or 0, total=values.number("canary-weight-total") or 100,
        header=values.get("canary-by-header"), header_value=values.get("canary-by-header-value"),
        header_pattern=values.get("canary-by-header-pattern"), cookie=values.get("canary-by-cookie"),
    )


def _cors(values: _Values) -> CorsSettings | None:
    if not values.flag("enable-cors"):
        return None
    origins = []
    for origin in _list(values.get("cors-allow-origin") or "*"):
        if _CORS_ORIGIN.match(origin):
            origins.append(origin)
        else:
            why = f"{origin!r} is not an origin (scheme://host[:port], optionally with a '*.' label, or '*')"
            values.bad.append((PREFIX + "cors-allow-origin", f"{why}; ingress-nginx leaves it out"))
    credentials = values.flag("cors-allow-credentials")
    return CorsSettings(
        origins=tuple(origins) or ("*",),
        methods=tuple(m.upper() for m in _list(values.get("cors-allow-methods") or CORS_METHODS)),
        headers=_list(values.get("cors-allow-headers") or CORS_HEADERS),
        expose=_list(values.get("cors-expose-headers") or ""),
        credentials=True if credentials is None else credentials,
        max_age=CORS_MAX_AGE if (age := values.number("cors-max-age")) is None else age,
    )


def _affinity(values: _Values) -> Affinity | None:
    kind = values.get("affinity")
    if kind is None:
        return None
    if kind != "cookie":
        why = f"{kind!r}: ingress-nginx knows affinity 'cookie' only and ignores this"
        values.bad.append((PREFIX + "affinity", why))
        return None
    max_age = values.number("session-cookie-max-age")
    mode = values.get("affinity-mode") or "balanced"
    if mode not in ("balanced", "persistent"):
        values.bad.append((PREFIX + "affinity-mode", f"{mode!r} is not balanced or persistent; ingress-nginx uses balanced"))
    return Affinity(
        cookie=values.get("session-cookie-name") or SESSION_COOKIE,
        max_age=max_age if max_age is not None else values.number("session-cookie-expires"),
        path=values.get("session-cookie-path"), persistent=mode == "persistent",
    )


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _unread(notes: Labels, values: Labels) -> tuple[tuple[str, str], ...]:
    out = []
    for name in sorted(values):
        if name in DEPENDENT:
            needs, on = DEPENDENT[name]
            if values.get(needs) not in on:
                why = f'takes effect with {needs}: "{on[0]}" only, which this Ingress does not set'
                out.append((PREFIX + name, why))
        elif name not in READ:
            what = WHY.get(name, "an ingress-nginx setting")
            out.append((PREFIX + name, f"{what}: no Gateway API or Istio routing field carries it"))
    for key in sorted(notes):
        for prefix, who in OTHER_CONTROLLERS.items():
            if key.startswith(prefix) if prefix.endswith("/") else key == prefix:
                out.append((key, f"read by {who} only"))
                break
    return tuple(out)
