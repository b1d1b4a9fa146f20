"""Reading ingress-nginx's annotations (``meshctl.emit.ingress.nginx``): each annotation read,
its default, what a bad value does, and what is reported as not read (ingress-nginx's other
annotations and other controllers' ones).

Values are parsed as ingress-nginx parses them: booleans with Go's ``strconv.ParseBool``
(an invalid one keeps the default), numbers as whole numbers (an invalid one is ignored).
"""

from __future__ import annotations

import pytest

from meshctl.emit.ingress import nginx
from meshctl.emit.ingress.nginx import Canary, Nginx
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.lower.ingress import ingresses

P = nginx.PREFIX


def read(annotations: dict[str, str]) -> Nginx:
    notes = "".join(f"    {key}: {value!r}\n" for key, value in annotations.items())
    text = f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: web
  annotations:
{notes or "    {}"}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
"""
    found = ingresses(lower(read_text(text, "ingress.yaml").docs))
    assert len(found) == 1
    return nginx.read(found[0])


def test_no_annotation_reads_every_default() -> None:
    settings = read({})
    assert settings == Nginx()
    assert settings.ssl_redirect is None  # ingress-nginx's default: redirect the hosts that have TLS
    assert (settings.use_regex, settings.force_ssl_redirect, settings.canary) == (False, False, None)
    assert (settings.unread, settings.bad) == ((), ())


# -- paths and rewrites -------------------------------------------------------------------------
def test_rewrite_target_is_read_and_turns_paths_into_regular_expressions() -> None:
    settings = read({P + "rewrite-target": "/$2"})
    assert settings.rewrite_target == "/$2"
    assert settings.use_regex is True  # ingress-nginx: rewrite-target implies use-regex


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "t", "1"])
def test_use_regex_true_in_every_spelling_go_accepts(value: str) -> None:
    settings = read({P + "use-regex": value})
    assert settings.use_regex is True
    assert settings.bad == ()


@pytest.mark.parametrize("value", ["false", "False", "f", "0"])
def test_use_regex_false(value: str) -> None:
    assert read({P + "use-regex": value}) == Nginx()


def test_a_bad_boolean_is_reported_and_keeps_the_default() -> None:
    settings = read({P + "use-regex": "yes", P + "ssl-redirect": "no", P + "canary": "on"})
    assert settings.use_regex is False
    assert settings.ssl_redirect is None  # the default (redirect hosts with TLS), not "false"
    assert settings.canary is None
    assert sorted(key for key, _ in settings.bad) == [P + "canary", P + "ssl-redirect", P + "use-regex"]
    assert all("is not a boolean" in why and "keeps its default" in why for _, why in settings.bad)
    assert settings.unread == ()  # read, with a bad value: not also "not read"


def test_app_root() -> None:
    assert read({P + "app-root": "/app1"}).app_root == "/app1"


# -- redirects to HTTPS -------------------------------------------------------------------------
def test_ssl_redirect_false_and_true() -> None:
    assert read({P + "ssl-redirect": "false"}).ssl_redirect is False
    assert read({P + "ssl-redirect": "true"}).ssl_redirect is True


def test_force_ssl_redirect() -> None:
    assert read({P + "force-ssl-redirect": "true"}).force_ssl_redirect is True
    assert read({P + "force-ssl-redirect": "false"}).force_ssl_redirect is False


# -- redirects ----------------------------------------------------------------------------------
def test_permanent_redirect_defaults_to_301() -> None:
    settings = read({P + "permanent-redirect": "https://new.example.com/"})
    assert settings.redirect == ("https://new.example.com/", 301, P + "permanent-redirect")


def test_permanent_redirect_code() -> None:
    settings = read({P + "permanent-redirect": "https://new.example.com/", P + "permanent-redirect-code": "308"})
    assert settings.redirect == ("https://new.example.com/", 308, P + "permanent-redirect")


def test_temporal_redirect_defaults_to_302_and_takes_its_code() -> None:
    assert read({P + "temporal-redirect": "https://t.example.com/"}).redirect == (
        "https://t.example.com/", 302, P + "temporal-redirect")
    assert read({P + "temporal-redirect": "https://t.example.com/", P + "temporal-redirect-code": "307"}).redirect == (
        "https://t.example.com/", 307, P + "temporal-redirect")


def test_a_bad_redirect_code_is_reported_and_the_default_used() -> None:
    settings = read({P + "permanent-redirect": "https://new.example.com/", P + "permanent-redirect-code": "moved"})
    assert settings.redirect == ("https://new.example.com/", 301, P + "permanent-redirect")
    assert settings.bad == ((P + "permanent-redirect-code", "'moved' is not a whole number; ingress-nginx ignores it"),)


def test_a_redirect_code_without_its_redirect_does_nothing() -> None:
    settings = read({P + "permanent-redirect-code": "308"})
    assert settings.redirect is None
    assert settings.unread == ()


# -- timeouts, Host header ----------------------------------------------------------------------
def test_read_and_send_timeouts_in_seconds() -> None:
    settings = read({P + "proxy-read-timeout": "120", P + "proxy-send-timeout": "30"})
    assert (settings.read_timeout, settings.send_timeout) == (120, 30)


def test_a_timeout_with_a_unit_is_ignored_as_ingress_nginx_does() -> None:
    settings = read({P + "proxy-read-timeout": "30s"})
    assert settings.read_timeout is None
    assert settings.bad == ((P + "proxy-read-timeout", "'30s' is not a whole number; ingress-nginx ignores it"),)


def test_upstream_vhost() -> None:
    assert read({P + "upstream-vhost": "internal.example.com"}).upstream_vhost == "internal.example.com"


# -- canaries -----------------------------------------------------------------------------------
def test_canary_weight_defaults_total_100() -> None:
    settings = read({P + "canary": "true", P + "canary-weight": "20"})
    assert settings.canary == Canary(weight=20, total=100, header=None, header_value=None, header_pattern=None,
                                     cookie=None)


def test_canary_every_setting() -> None:
    settings = read({
        P + "canary": "true", P + "canary-weight": "5", P + "canary-weight-total": "1000",
        P + "canary-by-header": "x-canary", P + "canary-by-header-value": "yes", P + "canary-by-cookie": "beta",
    })
    assert settings.canary == Canary(weight=5, total=1000, header="x-canary", header_value="yes",
                                     header_pattern=None, cookie="beta")
    assert (settings.unread, settings.bad) == ((), ())


def test_canary_header_pattern() -> None:
    canary = read({P + "canary": "true", P + "canary-by-header": "x-v", P + "canary-by-header-pattern": "v2|v3"}).canary
    assert canary is not None
    assert (canary.header, canary.header_pattern, canary.weight) == ("x-v", "v2|v3", 0)


def test_canary_settings_without_canary_true_are_no_canary() -> None:
    assert read({P + "canary-weight": "50"}).canary is None
    assert read({P + "canary": "false", P + "canary-weight": "50"}).canary is None


def test_a_bad_canary_weight_is_reported_and_counts_as_zero() -> None:
    settings = read({P + "canary": "true", P + "canary-weight": "half"})
    assert settings.canary is not None and settings.canary.weight == 0
    assert settings.bad == ((P + "canary-weight", "'half' is not a whole number; ingress-nginx ignores it"),)


# -- what is not read ---------------------------------------------------------------------------
def test_every_annotation_read_is_not_reported_unread() -> None:
    values = {name: "1" for name in nginx.READ | set(nginx.DEPENDENT)} | {"affinity": "cookie"}
    assert read({P + name: value for name, value in values.items()}).unread == ()


# -- cookie affinity ------------------------------------------------------------------------------
def test_cookie_affinity_with_ingress_nginx_defaults() -> None:
    assert read({P + "affinity": "cookie"}).affinity == nginx.Affinity(
        cookie="INGRESSCOOKIE", max_age=None, path=None, persistent=False)


def test_cookie_affinity_settings() -> None:
    settings = read({P + "affinity": "cookie", P + "session-cookie-name": "route", P + "session-cookie-expires": "60",
                     P + "session-cookie-path": "/shop", P + "affinity-mode": "persistent"})
    assert settings.affinity == nginx.Affinity(cookie="route", max_age=60, path="/shop", persistent=True)
    both = read({P + "affinity": "cookie", P + "session-cookie-max-age": "30", P + "session-cookie-expires": "60"})
    assert both.affinity is not None and both.affinity.max_age == 30  # max-age wins, as in browsers


def test_affinity_values_ingress_nginx_ignores() -> None:
    assert read({P + "affinity": "ip"}).affinity is None
    odd = read({P + "affinity": "cookie", P + "affinity-mode": "sticky"})
    assert odd.affinity is not None and not odd.affinity.persistent
    assert dict(odd.bad) == {P + "affinity-mode": "'sticky' is not balanced or persistent; ingress-nginx uses "
                             "balanced"}


# -- CORS ---------------------------------------------------------------------------------------
def test_enable_cors_alone_has_ingress_nginx_defaults() -> None:
    cors = read({P + "enable-cors": "true"}).cors
    assert cors == nginx.CorsSettings(
        origins=("*",), methods=("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"),
        headers=("DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control",
                 "Content-Type", "Range", "Authorization"),
        expose=(), credentials=True, max_age=1728000,
    )


def test_cors_values_are_read_as_ingress_nginx_reads_them() -> None:
    settings = read({
        P + "enable-cors": "True", P + "cors-allow-origin": " https://a.example.com ,http://*.b.example:8080,,*x",
        P + "cors-allow-methods": "get,Post", P + "cors-allow-credentials": "0", P + "cors-max-age": "0",
        P + "cors-expose-headers": "X-A, X-B",
    })
    assert settings.cors is not None
    assert settings.cors.origins == ("https://a.example.com", "http://*.b.example:8080")
    assert (settings.cors.methods, settings.cors.expose) == (("GET", "POST"), ("X-A", "X-B"))
    assert (settings.cors.credentials, settings.cors.max_age) == (False, 0)
    assert dict(settings.bad) == {P + "cors-allow-origin": "'*x' is not an origin (scheme://host[:port], optionally "
                                  "with a '*.' label, or '*'); ingress-nginx leaves it out"}


def test_cors_settings_do_nothing_without_enable_cors() -> None:
    for enable in ({}, {P + "enable-cors": "false"}, {P + "enable-cors": "yes"}):
        settings = read({**enable, P + "cors-max-age": "60"})
        assert settings.cors is None
        assert dict(settings.unread) == {P + "cors-max-age": 'takes effect with enable-cors: "true" only, which this '
                                         "Ingress does not set"}


def test_ingress_nginx_annotations_not_read_say_what_they_did() -> None:
    settings = read({
        P + "limit-rps": "5", P + "configuration-snippet": "more_set_headers x;", P + "auth-url": "http://auth/",
        P + "proxy-body-size": "8m", P + "proxy-buffering": "on",
    })
    assert dict(settings.unread) == {
        P + "auth-url": "external authentication (Istio: a CUSTOM AuthorizationPolicy with an ext_authz provider): "
                        "no Gateway API or Istio routing field carries it",
        P + "configuration-snippet": "raw nginx configuration: no Gateway API or Istio routing field carries it",
        P + "proxy-body-size": "the request body size limit: no Gateway API or Istio routing field carries it",
        P + "limit-rps": "rate limiting: no Gateway API or Istio routing field carries it",
        P + "proxy-buffering": "an ingress-nginx setting: no Gateway API or Istio routing field carries it",
    }


@pytest.mark.parametrize(("key", "who"), [
    ("alb.ingress.kubernetes.io/scheme", "the AWS Load Balancer Controller"),
    ("ingress.kubernetes.io/custom-request-headers", "an Ingress controller (GCE, HAProxy or Voyager)"),
    ("ingress.gcp.kubernetes.io/pre-shared-cert", "GKE's Ingress controller"),
    ("kubernetes.io/ingress.global-static-ip-name", "GKE's Ingress controller"),
    ("traefik.ingress.kubernetes.io/router.entrypoints", "Traefik"),
    ("haproxy.org/request-set-header", "HAProxy's Ingress controller"),
    ("konghq.com/plugins", "Kong"),
    ("appgw.ingress.kubernetes.io/ssl-redirect", "Azure Application Gateway"),
    ("cert-manager.io/cluster-issuer", "cert-manager's ingress-shim (it issues the TLS Secret for Ingresses)"),
    ("kubernetes.io/tls-acme", "cert-manager's ingress-shim"),
])
def test_other_controllers_annotations_are_reported_with_their_owner(key: str, who: str) -> None:
    assert read({key: "x"}).unread == ((key, f"read by {who} only"),)


def test_annotations_of_no_controller_are_not_reported() -> None:
    settings = read({"kubernetes.io/ingress.class": "nginx", "example.com/owner": "team-a",
                     "kubernetes.io/tls-acme-extra": "x"})
    assert (settings.unread, settings.bad) == ((), ())
