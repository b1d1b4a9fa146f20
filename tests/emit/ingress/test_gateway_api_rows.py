"""``translate --to gateway-api`` of Ingresses, one fixture per row of docs/ingress.md: the
Gateway and HTTPRoutes written, and every loss with its code, message and position.

Expected values come from the Ingress and ingress-nginx semantics, not from the code: a
Prefix path matches whole segments as a PathPrefix does, ingress-nginx reads an
ImplementationSpecific path as a string prefix, a canary by header sends ``always`` to
the canary and ``never`` to the main backends before the weights apply, and so on.
"""

from __future__ import annotations

import re

import re2

from tests.emit.ingress import cases
from tests.emit.ingress.helpers import (
    Json,
    at,
    find,
    gateway_api_out,
    loss,
    losses,
    names,
    no_loss_mentions,
    spec,
    value_at,
)

CLASS_NOTE = "the Ingress controller of that class may not implement Gateway API"


def prefix(value: str) -> Json:
    return {"path": {"type": "PathPrefix", "value": value}}


def exact(value: str) -> Json:
    return {"path": {"type": "Exact", "value": value}}


def ref(name: str, port: int, weight: int | None = None) -> Json:
    out: Json = {"name": name, "port": port}
    if weight is not None:
        out["weight"] = weight
    return out


def parents(*sections: str, gateway: str = "nginx") -> list[Json]:
    return [{"name": gateway, "sectionName": s} for s in sections]


HTTP = {"name": "http", "port": 80, "protocol": "HTTP"}


def https(host: str, secret: str) -> Json:
    name = "https-" + host.replace("*", "wildcard").replace(".", "-")
    return {"name": name, "port": 443, "protocol": "HTTPS", "hostname": host,
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": secret}]}}


# -- paths ------------------------------------------------------------------------------------
def test_exact_prefix_and_ingress_nginx_implementation_specific_paths() -> None:
    text = cases.PATH_TYPES
    out = gateway_api_out(text)
    assert spec(out, "Gateway", "nginx") == {"gatewayClassName": "nginx", "listeners": [HTTP]}
    route = spec(out, "HTTPRoute", "paths-shop-example-com")
    assert route == {
        "parentRefs": parents("http"), "hostnames": ["shop.example.com"],
        "rules": [
            {"matches": [exact("/exact")], "backendRefs": [ref("api", 8080)]},
            {"matches": [prefix("/prefix/")], "backendRefs": [ref("api", 8080)]},  # PathPrefix ignores the last /
            {"matches": [prefix("/impl")], "backendRefs": [ref("web", 80)]},
        ],
    }
    assert losses(out) == sorted([("MSH401", value_at(text, "ingressClassName: nginx")),
                                  ("MSH401", at(text, "/impl, pathType"))])
    loss(out, "MSH401", at(text, "/impl, pathType"), "ImplementationSpecific path '/impl'", "ingress-nginx reads it as "
         "a string prefix", "/implx")
    loss(out, "MSH401", value_at(text, "ingressClassName: nginx"), "gatewayClassName 'nginx'", CLASS_NOTE)


def test_use_regex_paths_are_case_insensitive_regular_expression_prefixes() -> None:
    text = cases.REGEX
    out = gateway_api_out(text)
    rules = spec(out, "HTTPRoute", "regex-shop-example-com")["rules"]
    written = "(?i)/v[0-9]+/items.*"
    assert rules == [
        {"matches": [{"path": {"type": "RegularExpression", "value": written}}], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/plain")], "backendRefs": [ref("web", 80)]},  # no regex characters: a string prefix
    ]
    # what ingress-nginx's ~* "^/v[0-9]+/items" matches, the whole-path RE2 expression matches
    for path, matched in (("/v1/items", True), ("/V12/Items/7", True), ("/v/items", False), ("/x/v1/items", False)):
        assert bool(re2.fullmatch(written, path)) is matched, path
    loss(out, "MSH401", at(text, "'/v[0-9]+/items'"), "case-insensitive PCRE prefix", "RegularExpression",
         "implementation-specific")
    loss(out, "MSH401", at(text, "/plain, pathType"), "string prefix")


def test_use_regex_makes_every_path_of_the_host_a_regular_expression() -> None:
    text = cases.REGEX_HOST_WIDE
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "plain-shop-example-com")["rules"] == [
        {"matches": [{"path": {"type": "Exact", "value": "/exact"}}], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/cart/")], "backendRefs": [ref("api", 8080)]},
        {"matches": [{"path": {"type": "RegularExpression", "value": "(?i)/v1.0.*"}}], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/impl")], "backendRefs": [ref("web", 80)]},
    ]
    assert spec(out, "HTTPRoute", "plain-other-example-com")["rules"] == [
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080)]}]
    cause = "use-regex on Ingress shop/regex makes ingress-nginx match every path of this host"
    loss(out, "MSH401", at(text, "/exact, pathType"), cause, "Exact '/exact' is read as '^/exact'",
         "also takes /EXACT and /exactx...", "PathExact does not")
    loss(out, "MSH401", at(text, "/cart/, pathType"), cause, "also takes /CART/;", "PathPrefix does not")
    loss(out, "MSH401", at(text, "'/v1.0'"), "case-insensitive PCRE prefix")
    loss(out, "MSH401", at(text, "/impl, pathType"), "case-insensitive string prefix", "/IMPL and /implx...",
         "case-sensitively")
    # the other host keeps Prefix's meaning
    assert not [f for f in out.findings if f.location and f.location.short() == at(text, "/api, pathType")]


def test_a_regular_expression_behind_a_catch_all_of_its_host_is_reported() -> None:
    text = cases.REGEX_BEHIND_CATCH_ALL
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "front-shop-example-com")["rules"] == [
        {"matches": [prefix("/")], "backendRefs": [ref("web", 80)]}]
    for path in ("'/api/v[0-9]+'", "'/static/.+[.]css'"):
        loss(out, "MSH401", at(text, path), "PathPrefix '/' of this host comes first",
             "ingress-nginx tried the longer expression first")
    # use-regex makes Prefix / the expression '^/', which takes what PathPrefix / takes: no note
    assert not [f for f in out.findings if f.location and f.location.short() == at(text, "/, pathType")]


def test_another_controllers_implementation_specific_path_and_annotations() -> None:
    text = cases.OTHER_CONTROLLER
    out = gateway_api_out(text)
    assert spec(out, "Gateway", "traefik")["gatewayClassName"] == "traefik"
    route = spec(out, "HTTPRoute", "traefik-shop-example-com")
    assert route["parentRefs"] == parents("http", gateway="traefik")
    assert route["rules"] == [{"matches": [prefix("/t")], "backendRefs": [ref("api", 8080)]}]  # no rewrite
    loss(out, "MSH400", at(text, "/\n    traefik"), "read by ingress-nginx only", "class is traefik")
    loss(out, "MSH400", at(text, "shop-strip@kubernetescrd"), "read by Traefik only")
    loss(out, "MSH401", at(text, "/t, pathType"), "the controller reads it as a string prefix")
    assert len(losses(out)) == 4  # and the class


def test_istio_class_reads_implementation_specific_as_istio_does() -> None:
    text = cases.ISTIO_CLASS
    out = gateway_api_out(text)
    assert spec(out, "Gateway", "istio") == {
        "gatewayClassName": "istio", "listeners": [HTTP, https("mesh.example.com", "mesh-cert")]}
    route = spec(out, "HTTPRoute", "mesh-mesh-example-com")
    assert route["parentRefs"] == parents("http", "https-mesh-example-com", gateway="istio")  # no ssl-redirect
    assert route["rules"] == [
        {"matches": [exact("/exact")], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/star/")], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/dot")], "backendRefs": [ref("web", 80)]},
        {"matches": [prefix("/p")], "backendRefs": [ref("web", 80)]},
    ]  # and no catch-all: Istio ignores defaultBackend
    assert names(out, "HTTPRoute") == ["mesh-mesh-example-com"]
    assert losses(out) == sorted([
        ("MSH400", at(text, '"true"\n    alb')), ("MSH400", at(text, "internet-facing")),
        ("MSH400", at(text, "{service: {name: web, port: {number: 80}}}\n  tls")),
        ("MSH401", at(text, "/star/*")), ("MSH401", at(text, "/dot.*")),
    ])
    loss(out, "MSH400", at(text, '"true"\n    alb'), "read by ingress-nginx only", "class is istio")
    loss(out, "MSH400", at(text, "internet-facing"), "AWS Load Balancer Controller")
    loss(out, "MSH400", at(text, "{service: {name: web, port: {number: 80}}}\n  tls"),
         "Istio's ingress controller ignores spec.defaultBackend")
    loss(out, "MSH401", at(text, "/star/*"), "Istio reads '/star/*' as the string prefix '/star/'")
    loss(out, "MSH401", at(text, "/dot.*"), "Istio reads '/dot.*' as the string prefix '/dot'")


def test_istio_class_by_annotation() -> None:
    text = cases.ISTIO_ANNOTATION
    out = gateway_api_out(text)
    assert spec(out, "Gateway", "istio")["gatewayClassName"] == "istio"
    assert spec(out, "HTTPRoute", "legacy-legacy-example-com")["rules"] == [
        {"matches": [exact("/old")], "backendRefs": [ref("api", 8080)]}]
    assert losses(out) == []  # Istio's class is meshctl's Gateway API class: nothing to say


# -- default backend --------------------------------------------------------------------------
def test_default_backend_is_a_catch_all_per_host_and_a_route_for_other_hosts() -> None:
    text = cases.DEFAULT_BACKEND
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "fallback-a-example-com")["rules"] == [
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080)]},
        {"backendRefs": [ref("web", 80)]},  # the port named http, resolved against Service web
    ]
    assert spec(out, "HTTPRoute", "fallback-b-example-com")["rules"] == [  # has its own catch-all
        {"matches": [prefix("/")], "backendRefs": [ref("api", 8080)]}]
    other = spec(out, "HTTPRoute", "fallback")
    assert other == {"parentRefs": parents("http"), "rules": [{"backendRefs": [ref("web", 80)]}]}  # no hostnames
    assert losses(out) == [("MSH401", value_at(text, "ingressClassName: nginx"))]


def test_an_ingress_with_only_a_default_backend() -> None:
    out = gateway_api_out(cases.DEFAULT_BACKEND_ONLY)
    assert names(out, "HTTPRoute") == ["only"]
    assert spec(out, "HTTPRoute", "only") == {"parentRefs": parents("http"), "rules": [{"backendRefs": [ref("web", 80)]}]}


# -- TLS and redirects to HTTPS -----------------------------------------------------------------
def test_tls_hosts_become_https_listeners_and_their_hosts_redirect_to_https() -> None:
    text = cases.TLS
    out = gateway_api_out(text)
    # "second" sorts before "secure": its Secret is the one shop.example.com gets
    assert spec(out, "Gateway", "nginx")["listeners"] == [
        HTTP, https("shop.example.com", "other-cert"), https("*.wild.example.com", "shop-cert")]
    assert spec(out, "HTTPRoute", "secure-shop-example-com")["parentRefs"] == parents("https-shop-example-com")
    assert spec(out, "HTTPRoute", "second-shop-example-com")["parentRefs"] == parents("https-shop-example-com")
    assert spec(out, "HTTPRoute", "secure-a-wild-example-com")["parentRefs"] == parents(
        "https-wildcard-wild-example-com")
    to_https = [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 308}}]}]
    # one redirect per host, whichever Ingress of the host asked first
    assert [n for n in names(out, "HTTPRoute") if n.endswith("-redirect")] == [
        "second-shop-example-com-redirect", "secure-a-wild-example-com-redirect"]
    for name, host in (("second-shop-example-com-redirect", "shop.example.com"),
                       ("secure-a-wild-example-com-redirect", "a.wild.example.com")):
        assert spec(out, "HTTPRoute", name) == {"parentRefs": parents("http"), "hostnames": [host], "rules": to_https}
    # a host without TLS, and one whose tls entry has no Secret, stay on HTTP
    assert spec(out, "HTTPRoute", "secure-plain-example-com")["parentRefs"] == parents("http")
    assert spec(out, "HTTPRoute", "secure-nosecret-example-com")["parentRefs"] == parents("http")
    loss(out, "MSH400", at(text, "{hosts: [nosecret.example.com]}"), "without secretName",
         "no HTTPS listener is written for nosecret.example.com")
    loss(out, "MSH401", at(text, "shop-cert}"), "already has TLS Secret other-cert", "this one is not used")
    assert len(losses(out)) == 3


def test_ssl_redirect_false_serves_both_ports() -> None:
    out = gateway_api_out(cases.SSL_REDIRECT_OFF)
    assert names(out, "HTTPRoute") == ["nosslredirect-shop-example-com"]
    assert spec(out, "HTTPRoute", "nosslredirect-shop-example-com")["parentRefs"] == parents(
        "http", "https-shop-example-com")


def test_force_ssl_redirect_redirects_tls_hosts_and_reports_the_others() -> None:
    text = cases.FORCE_SSL_REDIRECT
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "forced-shop-example-com")["parentRefs"] == parents("https-shop-example-com")
    assert spec(out, "HTTPRoute", "forced-shop-example-com-redirect")["rules"] == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 308}}]}]
    assert spec(out, "HTTPRoute", "forced-bare-example-com")["parentRefs"] == parents("http")
    assert "forced-bare-example-com-redirect" not in names(out)
    loss(out, "MSH401", at(text, '"true"\nspec'), "ingress-nginx redirects bare.example.com to HTTPS",
         "no HTTPS listener", "served over HTTP instead")


# -- redirects, app-root, rewrites --------------------------------------------------------------
def test_permanent_redirect_with_every_url_part_and_its_code() -> None:
    text = cases.PERMANENT_REDIRECT
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "moved-old-example-com")["rules"] == [{
        "matches": [prefix("/")],
        "filters": [{"type": "RequestRedirect", "requestRedirect": {
            "scheme": "https", "hostname": "new.example.com", "port": 8443,
            "path": {"type": "ReplaceFullPath", "replaceFullPath": "/landing"}, "statusCode": 308}}],
    }]  # and no backendRefs
    where = at(text, "https://new.example.com:8443/landing?from=old")
    loss(out, "MSH401", where, "drops the request's query string")
    loss(out, "MSH400", where, "the query or fragment of 'https://new.example.com:8443/landing?from=old'")


def test_temporal_redirect_is_a_302() -> None:
    text = cases.TEMPORAL_REDIRECT
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "away-away-example-com")["rules"][0]["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {
            "scheme": "http", "hostname": "maintenance.example.com",
            "path": {"type": "ReplaceFullPath", "replaceFullPath": "/"}, "statusCode": 302}}]
    loss(out, "MSH401", at(text, "http://maintenance.example.com/"), "drops the request's query string")
    no_loss_mentions(out, "query or fragment")


def test_a_redirect_code_a_route_cannot_send_is_reported_at_the_code() -> None:
    text = cases.REDIRECT_ODD_CODE
    out = gateway_api_out(text)
    redirect = spec(out, "HTTPRoute", "oddcode-odd-example-com")["rules"][0]["filters"][0]["requestRedirect"]
    assert redirect["statusCode"] in (301, 302, 303, 307, 308)
    loss(out, "MSH401", at(text, '"305"'), "redirect code 305 is not one a route can send",
         f"written as {redirect['statusCode']}")


def test_app_root_redirects_the_root_only() -> None:
    out = gateway_api_out(cases.APP_ROOT)
    assert spec(out, "HTTPRoute", "approot-app-example-com")["rules"] == [
        {"matches": [exact("/")], "filters": [{"type": "RequestRedirect", "requestRedirect": {
            "path": {"type": "ReplaceFullPath", "replaceFullPath": "/app1"}, "statusCode": 302}}]},
        {"matches": [prefix("/")], "backendRefs": [ref("web", 80)]},
    ]
    assert len(losses(out)) == 1  # the class only


def test_rewrite_target_without_captures_replaces_the_whole_path() -> None:
    out = gateway_api_out(cases.REWRITE_FULL)
    assert spec(out, "HTTPRoute", "rewrite-shop-example-com")["rules"] == [{
        "matches": [prefix("/old")],
        "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/new"}}}],
        "backendRefs": [ref("api", 8080)],
    }]
    # rewrite-target makes the host's paths regular expressions, as use-regex does
    loss(out, "MSH401", at(cases.REWRITE_FULL, "/old, pathType"), "rewrite-target on Ingress shop/rewrite",
         "'^/old', which also takes /OLD and /oldx...")
    assert len(losses(out)) == 2  # and the class


def test_the_documented_prefix_rewrite_is_a_prefix_replacement() -> None:
    out = gateway_api_out(cases.REWRITE_PREFIX)
    assert spec(out, "HTTPRoute", "strip-shop-example-com")["rules"] == [{
        "matches": [prefix("/api")],
        "filters": [{"type": "URLRewrite", "urlRewrite": {
            "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
        "backendRefs": [ref("api", 8080)],
    }]
    assert len(losses(out)) == 1


def test_the_optional_slash_rewrite_also_took_longer_names() -> None:
    text = cases.REWRITE_OPTIONAL_SLASH
    out = gateway_api_out(text)
    rule = spec(out, "HTTPRoute", "loose-shop-example-com")["rules"][0]
    assert rule["matches"] == [prefix("/web")]
    assert rule["filters"][0]["urlRewrite"]["path"] == {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
    loss(out, "MSH401", at(text, "'/web/?(.*)'"), "also matched /webx", "PathPrefix '/web'")


def test_a_rewrite_with_other_captures_is_left_out() -> None:
    text = cases.REWRITE_CAPTURES
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "captures-shop-example-com")["rules"] == [{
        "matches": [{"path": {"type": "RegularExpression", "value": "(?i)/v([0-9]+)/items/(.*).*"}}],
        "backendRefs": [ref("api", 8080)],
    }]
    loss(out, "MSH400", at(text, "/items/$2/v$1"), "no regular expression captures", "--to istio keeps it")


# -- Host header, timeouts --------------------------------------------------------------------
def test_upstream_vhost_is_a_hostname_rewrite() -> None:
    out = gateway_api_out(cases.UPSTREAM_VHOST)
    assert spec(out, "HTTPRoute", "vhost-shop-example-com")["rules"][0]["filters"] == [
        {"type": "URLRewrite", "urlRewrite": {"hostname": "internal.example.com"}}]
    assert len(losses(out)) == 1


def test_upstream_vhost_variables_are_filled_in_per_backend_and_the_port_reported() -> None:
    text = cases.UPSTREAM_VHOST_VARIABLES
    out = gateway_api_out(text)
    rules = spec(out, "HTTPRoute", "linkerd-dash-example-com")["rules"]
    assert [(r["matches"], r["filters"], r["backendRefs"]) for r in rules] == [
        ([prefix("/")], [{"type": "URLRewrite", "urlRewrite": {"hostname": "web.shop.svc.cluster.local"}}],
         [ref("web", 80)]),
        ([prefix("/api")], [{"type": "URLRewrite", "urlRewrite": {"hostname": "api.shop.svc.cluster.local"}}],
         [ref("api", 8080)]),
    ]
    where = at(text, "$service_name.$namespace")
    loss(out, "MSH401", where, "'web.shop.svc.cluster.local'", "takes no port", "web.shop.svc.cluster.local:8084")
    loss(out, "MSH401", where, "'api.shop.svc.cluster.local'", "takes no port", "api.shop.svc.cluster.local:8084")


def test_upstream_vhost_with_a_variable_nginx_alone_knows_is_left_out() -> None:
    text = cases.UPSTREAM_VHOST_UNKNOWN
    out = gateway_api_out(text)
    assert "filters" not in spec(out, "HTTPRoute", "hostvar-shop-example-com")["rules"][0]
    loss(out, "MSH400", at(text, "$host"), "$host", "the Host header is not rewritten")


def test_read_timeout_bounds_the_request_and_send_timeout_is_left_out() -> None:
    text = cases.TIMEOUTS
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "slow-shop-example-com")["rules"] == [
        {"matches": [prefix("/report")], "backendRefs": [ref("api", 8080)], "timeouts": {"request": "120s"}}]
    loss(out, "MSH401", at(text, '"120"'), "between two reads", "120s bounds the whole response")
    loss(out, "MSH400", at(text, '"30"'), "between two writes", "not translated")


# -- canaries ---------------------------------------------------------------------------------
MAIN_WEB = {"matches": [prefix("/web")], "backendRefs": [ref("web", 80)]}


def test_enable_cors_is_the_cors_filter_with_the_annotations_values() -> None:
    text = cases.CORS_SET
    out = gateway_api_out(text)
    (rule,) = spec(out, "HTTPRoute", "cors-shop-example-com")["rules"]
    assert rule["filters"] == [{"type": "CORS", "cors": {
        "allowOrigins": ["https://app.example.com", "https://*.example.org"],
        "allowCredentials": False,
        "allowMethods": ["GET", "POST"],  # ingress-nginx's methods are case-insensitive
        "allowHeaders": ["X-Token", "Content-Type"],
        "exposeHeaders": ["X-Trace"],
        "maxAge": 600,
    }}]
    origins = value_at(text, "cors-allow-origin: ")
    loss(out, "MSH400", origins, "'ftp:x' is not an origin", "ingress-nginx leaves it out")
    loss(out, "MSH401", origins, "'https://*.example.org'", "one DNS label", "one or more")
    assert len(losses(out)) == 3  # and the class


def test_enable_cors_alone_has_ingress_nginx_defaults_and_redirects_get_none() -> None:
    out = gateway_api_out(cases.CORS_DEFAULTS)
    root, api = spec(out, "HTTPRoute", "open-shop-example-com")["rules"]
    assert [f["type"] for f in root["filters"]] == ["RequestRedirect"]  # app-root: a redirect, no CORS
    assert api["filters"] == [{"type": "CORS", "cors": {
        "allowOrigins": ["*"],
        "allowCredentials": True,  # with '*': the gateway echoes the Origin, as ingress-nginx does
        "allowMethods": ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"],
        "allowHeaders": ["DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control",
                         "Content-Type", "Range", "Authorization"],
        "maxAge": 1728000,
    }}]
    no_loss_mentions(out, "cors")


def test_cors_settings_without_enable_cors_do_nothing_and_are_reported() -> None:
    text = cases.CORS_NOT_ENABLED
    out = gateway_api_out(text)
    assert "filters" not in spec(out, "HTTPRoute", "closed-shop-example-com")["rules"][0]
    loss(out, "MSH400", value_at(text, "cors-allow-origin: "), 'takes effect with enable-cors: "true" only')


def test_cookie_affinity_is_session_persistence_in_the_experimental_channel() -> None:
    text = cases.AFFINITY
    out = gateway_api_out(text, gateway_api_channel="experimental")
    rules = spec(out, "HTTPRoute", "sticky-shop-example-com")["rules"]
    assert [r["sessionPersistence"] for r in rules] == [{
        "sessionName": "route", "type": "Cookie", "absoluteTimeout": "48h",
        "cookieConfig": {"lifetimeType": "Permanent"},
    }] * 2
    affinity = value_at(text, "affinity: cookie")
    loss(out, "MSH401", affinity, "sessionPersistence is Extended support")
    loss(out, "MSH400", value_at(text, "session-cookie-path: /shop"), "no cookie path")
    loss(out, "MSH400", value_at(text, "session-cookie-samesite: Lax"), "the SameSite attribute")
    assert len(losses(out)) == 4  # and the class


def test_a_cookie_lifetime_beyond_a_gateway_api_duration_is_clamped_and_reported() -> None:
    text = cases.AFFINITY.replace('"172800"', '"400000000"')
    out = gateway_api_out(text, gateway_api_channel="experimental")
    rules = spec(out, "HTTPRoute", "sticky-shop-example-com")["rules"]
    assert rules[0]["sessionPersistence"]["absoluteTimeout"] == "99999h59m59s"
    loss(out, "MSH401", value_at(text, "affinity: cookie"), "400000000s is longer", "99999h59m59s")


def test_cookie_affinity_in_the_standard_channel_is_reported() -> None:
    text = cases.AFFINITY
    out = gateway_api_out(text)
    assert all("sessionPersistence" not in r for r in spec(out, "HTTPRoute", "sticky-shop-example-com")["rules"])
    loss(out, "MSH400", value_at(text, "affinity: cookie"), "experimental channel only",
         "--gateway-api-channel experimental")


def test_cookie_affinity_defaults_a_session_cookie_and_redirects_get_none() -> None:
    text = cases.AFFINITY_DEFAULTS
    out = gateway_api_out(text, gateway_api_channel="experimental")
    root, api = spec(out, "HTTPRoute", "pinned-shop-example-com")["rules"]
    assert "sessionPersistence" not in root
    assert api["sessionPersistence"] == {"sessionName": "INGRESSCOOKIE", "type": "Cookie"}
    loss(out, "MSH401", value_at(text, "affinity-mode: persistent"), "never moves a client")


def test_affinity_other_than_cookie_and_its_settings_are_reported() -> None:
    text = cases.AFFINITY_NOT_SET
    out = gateway_api_out(text, gateway_api_channel="experimental")
    assert "sessionPersistence" not in spec(out, "HTTPRoute", "loose-shop-example-com")["rules"][0]
    loss(out, "MSH400", value_at(text, "affinity: ip"), "knows affinity 'cookie' only")
    loss(out, "MSH400", value_at(text, "session-cookie-name: route"), 'takes effect with affinity: "cookie" only')


def test_expressions_re2_cannot_read_are_left_out_and_reported() -> None:
    text = cases.BAD_REGEX
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "broken-broken-example-com")["rules"] == [
        {"matches": [prefix("/fine")], "backendRefs": [ref("web", 80)]}]  # not the broken path, nor a catch-all
    loss(out, "MSH400", at(text, "'/v[0-9'"), "read as a regular expression by ingress-nginx", "not translated")
    api = spec(out, "HTTPRoute", "main-shop-example-com")["rules"][0]
    assert api == {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080, 90), ref("canary", 8080, 10)]}
    loss(out, "MSH400", value_at(text, "canary-by-header-pattern: v(2"), "the header condition is not translated")


def test_canary_weight_splits_the_main_rule() -> None:
    out = gateway_api_out(cases.CANARY_WEIGHT)
    assert names(out, "HTTPRoute") == ["main-shop-example-com"]  # the canary Ingress has no route of its own
    assert spec(out, "HTTPRoute", "main-shop-example-com")["rules"] == [
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080, 80), ref("canary", 8080, 20)]}, MAIN_WEB]
    assert len(losses(out)) == 1
    # the route says both Ingresses it is made of
    route = find(out, "HTTPRoute", "main-shop-example-com")
    assert route["metadata"]["annotations"]["meshctl.io/translated-from"] == "Ingress/shop/main,Ingress/shop/weighted"


def test_a_canary_by_header_is_named_among_the_sources_too() -> None:
    route = find(gateway_api_out(cases.CANARY_HEADER), "HTTPRoute", "main-shop-example-com")
    sources = route["metadata"]["annotations"]["meshctl.io/translated-from"].split(",")
    assert sources[0] == "Ingress/shop/main" and len(sources) == 2


def test_canary_weight_total() -> None:
    rules = spec(gateway_api_out(cases.CANARY_WEIGHT_TOTAL), "HTTPRoute", "main-shop-example-com")["rules"]
    assert rules[0]["backendRefs"] == [ref("api", 8080, 995), ref("canary", 8080, 5)]


def test_canary_by_header_always_and_never_come_before_the_weights() -> None:
    rules = spec(gateway_api_out(cases.CANARY_HEADER), "HTTPRoute", "main-shop-example-com")["rules"]

    def header(value: str) -> Json:
        return {**prefix("/api"), "headers": [{"type": "Exact", "name": "x-canary", "value": value}]}

    assert rules == [
        {"matches": [header("always")], "backendRefs": [ref("canary", 8080)]},
        {"matches": [header("never")], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080, 90), ref("canary", 8080, 10)]},
        MAIN_WEB,
    ]


def test_canary_by_header_value() -> None:
    rules = spec(gateway_api_out(cases.CANARY_HEADER_VALUE), "HTTPRoute", "main-shop-example-com")["rules"]
    assert rules == [
        {"matches": [{**prefix("/api"), "headers": [{"type": "Exact", "name": "x-region", "value": "eu-west"}]}],
         "backendRefs": [ref("canary", 8080)]},
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080)]},  # no weight: all to the main backend
        MAIN_WEB,
    ]


def test_canary_by_header_pattern_matches_where_ingress_nginx_finds_it() -> None:
    rules = spec(gateway_api_out(cases.CANARY_HEADER_PATTERN), "HTTPRoute", "main-shop-example-com")["rules"]
    assert rules[0] == {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080)]}
    assert rules[2] == MAIN_WEB
    (match,) = rules[1]["matches"]
    assert rules[1]["backendRefs"] == [ref("canary", 8080)]
    assert match["path"] == prefix("/web")["path"]
    (header,) = match["headers"]
    assert (header["type"], header["name"]) == ("RegularExpression", "x-version")
    # ingress-nginx: ngx.re.match(value, "v2|v3"), a search; a route header regex matches the whole value
    for value in ("v2", "v3", "beta-v2", "v3.1"):
        assert re.search("v2|v3", value) and re2.fullmatch(header["value"], value), value
    for value in ("v1", "V2", ""):
        assert not re.search("v2|v3", value) and not re2.fullmatch(header["value"], value), value


def test_canary_by_cookie() -> None:
    rules = spec(gateway_api_out(cases.CANARY_COOKIE), "HTTPRoute", "main-shop-example-com")["rules"]
    assert [r["backendRefs"] for r in rules] == [[ref("canary", 8080)], [ref("api", 8080)], [ref("api", 8080)],
                                                 [ref("web", 80)]]
    always, never = (r["matches"][0]["headers"][0] for r in rules[:2])
    assert (always["type"], always["name"], never["name"]) == ("RegularExpression", "cookie", "cookie")
    for cookie, value in (("beta=always", always), ("a=1; beta=always", always), ("beta=always; b=2", always),
                          ("beta=never", never), ("x=1;beta=never;y=2", never)):
        assert re2.fullmatch(value["value"], cookie), cookie
    for cookie in ("xbeta=always", "beta=alwaysx", "beta=never"):
        assert not re2.fullmatch(always["value"], cookie), cookie


def test_a_canary_without_a_main_ingress_is_left_out() -> None:
    text = cases.CANARY_WITHOUT_MAIN
    out = gateway_api_out(text)
    assert names(out, "HTTPRoute") == ["main-shop-example-com"]  # nothing for other.example.com
    assert spec(out, "HTTPRoute", "main-shop-example-com")["rules"] == [
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080, 50), ref("canary", 8080, 50)]}, MAIN_WEB]
    loss(out, "MSH400", at(text, "{path: /nomain"), "without a main Ingress for shop.example.com /nomain")
    loss(out, "MSH400", at(text, "{path: /api, pathType: Prefix, backend: {service: {name: canary", 2),
         "without a main Ingress for other.example.com /api")
    assert len(losses(out)) == 3


# -- backends ---------------------------------------------------------------------------------
def test_port_names_resolve_against_the_service_and_other_backends_are_left_out() -> None:
    text = cases.BACKENDS
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "backends-shop-example-com")["rules"] == [
        {"matches": [prefix("/admin")], "backendRefs": [ref("api", 9090)]},
        {"matches": [prefix("/nope")]},
        {"matches": [prefix("/ghost")]},
        {"matches": [prefix("/bucket")]},
        {"matches": [prefix("/web")], "backendRefs": [ref("web", 80)]},
    ]
    loss(out, "MSH400", at(text, "{service: {name: api, port: {name: grpc}}}"), "port 'grpc' is a name",
         "Service api with a port of that name is not among the inputs")
    loss(out, "MSH400", at(text, "{service: {name: ghost"), "port 'http'", "Service ghost")
    loss(out, "MSH400", at(text, "{resource:"), "a Bucket.k8s.example.com resource backend", "not translated")
    assert len(losses(out)) == 4


def test_more_than_16_paths_are_split_into_routes_for_the_same_host() -> None:
    out = gateway_api_out(cases.MANY_PATHS)
    first, second = spec(out, "HTTPRoute", "many-shop-example-com"), spec(out, "HTTPRoute", "many-shop-example-com-2")
    assert [r["matches"] for r in first["rules"]] == [[prefix(f"/p{i:02d}")] for i in range(16)]
    assert second["rules"] == [
        {"matches": [prefix("/p16")], "backendRefs": [ref("api", 8080)]},
        {"matches": [prefix("/p17")], "backendRefs": [ref("api", 8080)]},
        {"backendRefs": [ref("web", 80)]},  # the default backend, still last
    ]
    for route in (first, second):
        assert (route["parentRefs"], route["hostnames"]) == (parents("http"), ["shop.example.com"])
    assert names(out, "HTTPRoute") == ["many", "many-shop-example-com", "many-shop-example-com-2"]


# -- API versions and classes -------------------------------------------------------------------
def test_v1beta1_ingresses() -> None:
    text = cases.V1BETA1
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "beta-beta-example-com")["rules"] == [
        {"matches": [prefix("/beta")], "backendRefs": [ref("api", 9090)]},  # servicePort: admin
        {"matches": [exact("/typed")], "backendRefs": [ref("api", 8080)]},
        {"backendRefs": [ref("web", 80)]},  # spec.backend
    ]
    assert spec(out, "HTTPRoute", "beta")["rules"] == [{"backendRefs": [ref("web", 80)]}]
    assert spec(out, "HTTPRoute", "ext-ext-example-com")["rules"] == [
        {"matches": [prefix("/ext")], "backendRefs": [ref("web", 80)]}]
    # no pathType: ImplementationSpecific, a string prefix for ingress-nginx
    loss(out, "MSH401", at(text, "/beta\n"), "ImplementationSpecific path '/beta'", "string prefix")
    loss(out, "MSH401", at(text, "/ext\n"), "ImplementationSpecific path '/ext'", "string prefix")
    assert [n for n in names(out, "Gateway")] == ["nginx"]  # the annotation and the field: one class
    assert set(find(out, "Gateway", "nginx")["metadata"]["annotations"]["meshctl.io/translated-from"].split(",")) == {
        "Ingress/shop/beta", "Ingress/shop/ext"}


def test_a_class_without_its_ingress_class_is_another_controller() -> None:
    text = cases.CLASS_WITHOUT_INGRESS_CLASS
    out = gateway_api_out(text)
    assert names(out, "Gateway") == ["haproxy"]  # named after the class, though the Ingress has that name too
    assert spec(out, "HTTPRoute", "haproxy-h-example-com")["parentRefs"] == parents("http", gateway="haproxy")
    loss(out, "MSH400", at(text, '"false"'), "read by ingress-nginx only", "class is haproxy")
    loss(out, "MSH401", at(text, "/h, pathType"), "the controller reads it as a string prefix")
    loss(out, "MSH401", value_at(text, "ingressClassName: haproxy"), "gatewayClassName 'haproxy'", CLASS_NOTE)


def test_class_nginx_without_its_ingress_class_is_read_as_ingress_nginx() -> None:
    text = cases.NGINX_WITHOUT_INGRESS_CLASS
    out = gateway_api_out(text)
    assert spec(out, "HTTPRoute", "byname-n-example-com")["rules"][0]["timeouts"] == {"request": "5s"}
    loss(out, "MSH401", at(text, "/n, pathType"), "ingress-nginx reads it as a string prefix")


def test_an_ingress_without_class_takes_the_default_ingress_class() -> None:
    text = cases.DEFAULT_CLASS
    out = gateway_api_out(text)
    assert spec(out, "Gateway", "public")["gatewayClassName"] == "public"
    route = spec(out, "HTTPRoute", "unclassed-d-example-com")
    assert route["parentRefs"] == parents("http", gateway="public")
    assert route["rules"][0]["timeouts"] == {"request": "7s"}  # public's controller is ingress-nginx
    loss(out, "MSH401", at(text, "/d, pathType"), "ingress-nginx reads it as a string prefix")


def test_an_ingress_without_any_class() -> None:
    text = cases.NO_CLASS
    out = gateway_api_out(text)
    assert spec(out, "Gateway", "ingress")["gatewayClassName"] == "default"
    assert spec(out, "HTTPRoute", "unclassed-d-example-com")["parentRefs"] == parents("http", gateway="ingress")
    ingress_at = at(text, "apiVersion: networking.k8s.io/v1\nkind: Ingress\n")
    loss(out, "MSH401", ingress_at, "name no class and no IngressClass is the default", "'default'")
    loss(out, "MSH400", at(text, '"7"'), "read by ingress-nginx only", "class is (none)")
    loss(out, "MSH401", at(text, "/d, pathType"), "the controller reads it as a string prefix")


def test_ingresses_of_one_class_and_namespace_share_a_gateway() -> None:
    out = gateway_api_out(cases.SHARED_GATEWAY)
    shared = find(out, "Gateway", "nginx")
    assert shared["spec"]["listeners"] == [HTTP, https("one.example.com", "one-cert"),
                                           https("two.example.com", "two-cert")]
    assert shared["metadata"]["annotations"]["meshctl.io/translated-from"] == "Ingress/shop/one,Ingress/shop/two"
    assert spec(out, "Gateway", "nginx", "other")["listeners"] == [HTTP]  # another namespace, another Gateway
    assert spec(out, "HTTPRoute", "one-one-example-com")["parentRefs"] == parents("https-one-example-com")
    assert spec(out, "HTTPRoute", "two-two-example-com")["parentRefs"] == parents("https-two-example-com")
    assert spec(out, "HTTPRoute", "three-three-example-com", "other")["parentRefs"] == parents("http")


# -- --from -----------------------------------------------------------------------------------
def test_from_auto_translates_ingresses_and_istio_objects() -> None:
    out = gateway_api_out(cases.MIXED)
    assert sorted((r["kind"], r["metadata"]["name"]) for r in out.resources) == [
        ("Gateway", "nginx"), ("HTTPRoute", "api-retries"), ("HTTPRoute", "front-shop-example-com")]


def test_from_ingress_translates_only_ingresses() -> None:
    out = gateway_api_out(cases.MIXED, source="ingress")
    assert sorted((r["kind"], r["metadata"]["name"]) for r in out.resources) == [
        ("Gateway", "nginx"), ("HTTPRoute", "front-shop-example-com")]
    no_loss_mentions(out, "retries")


def test_from_istio_leaves_ingresses_alone() -> None:
    out = gateway_api_out(cases.MIXED + cases.ingress("noisy", cases.host(
        "noisy.example.com", f"{{path: /, pathType: Prefix, {cases.WEB}}}"),
        annotations="    nginx.ingress.kubernetes.io/limit-rps: \"5\"\n"), source="istio")
    assert sorted((r["kind"], r["metadata"]["name"]) for r in out.resources) == [("HTTPRoute", "api-retries")]
    assert [f.message for f in out.findings if f.resource is None or f.resource.kind == "Ingress"] == []


def test_a_route_named_like_a_redirect_is_still_a_main_route() -> None:
    """An Ingress named ``*-redirect`` without host gives a route of that name: what makes a
    route the redirect to HTTPS is what it does, so its canary still finds it."""
    anyhost = f"  - http:\n      paths:\n      - {{path: /api, pathType: Prefix, {cases.API}}}\n"
    canary = f"  - http:\n      paths:\n      - {{path: /api, pathType: Prefix, {cases.CANARY}}}\n"
    text = cases.PRELUDE + cases.ingress("api-redirect", anyhost) + cases.ingress("api-canary", canary, annotations=(
        "    nginx.ingress.kubernetes.io/canary: \"true\"\n"
        "    nginx.ingress.kubernetes.io/canary-weight: \"20\"\n"))
    out = gateway_api_out(text)
    assert names(out, "HTTPRoute") == ["api-redirect"]
    assert spec(out, "HTTPRoute", "api-redirect")["rules"] == [
        {"matches": [prefix("/api")], "backendRefs": [ref("api", 8080, 80), ref("canary", 8080, 20)]}]
    assert len(losses(out)) == 1  # the class note, as for every nginx Gateway
