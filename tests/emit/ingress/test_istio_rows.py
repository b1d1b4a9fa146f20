"""``translate --to istio`` of Ingresses, one fixture per row of docs/ingress.md: the Istio
Gateway and VirtualServices written, and every loss with its code, message and position.

Istio takes the first ``http[]`` entry that matches, so the expected entries are in the
order that keeps the Ingress meaning (exact, then the longest prefix, header matches
before the weights of the same path); a Prefix path is the ``exact`` + ``prefix: /p/`` pair
that matches whole segments. Expected values come from those semantics, not the code.
"""

from __future__ import annotations

import re2

from tests.emit.ingress import cases
from tests.emit.ingress.helpers import (
    Json,
    at,
    find,
    istio_out,
    loss,
    losses,
    names,
    no_loss_mentions,
    spec,
    value_at,
)

SERVED_BY = "served by the pods labelled istio=ingressgateway"
HTTP_SERVER = {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["./*"]}


def https(host: str, secret: str) -> Json:
    name = "https-" + host.replace("*", "wildcard").replace(".", "-")
    return {"port": {"number": 443, "name": name, "protocol": "HTTPS"}, "hosts": [f"./{host}"],
            "tls": {"mode": "SIMPLE", "credentialName": secret}}


def segments(path: str, **extra: Json | int) -> list[Json]:
    """The Istio matches of ``PathPrefix path`` (with ``extra`` conditions on each)."""
    return [{"uri": {"exact": path}, **extra}, {"uri": {"prefix": path + "/"}, **extra}]


def to(host: str, port: int, weight: int | None = None) -> Json:
    out: Json = {"destination": {"host": f"{host}.shop.svc.cluster.local", "port": {"number": port}}}
    if weight is not None:
        out["weight"] = weight
    return out


def vs(out: object, name: str) -> list[Json]:
    found = spec(out, "VirtualService", name)  # type: ignore[arg-type]
    assert found["gateways"] == ["shop/" + found["gateways"][0].split("/")[1]]
    return found["http"]  # type: ignore[no-any-return]


def first(entries: list[Json], path: str, **headers: str | None) -> list[Json] | None:
    """The route of the first entry matching a request (Istio's reading: exact, prefix,
    RE2 whole-value regex; ports are not looked at), or None."""
    sent = {name: value for name, value in headers.items() if value is not None}

    def matches(condition: Json, value: str | None) -> bool:
        if value is None:
            return False
        if "exact" in condition:
            return value == condition["exact"]
        if "prefix" in condition:
            return value.startswith(condition["prefix"])
        return re2.fullmatch(condition["regex"], value) is not None

    for entry in entries:
        for match in entry.get("match", [{}]):
            if "uri" in match and not matches(match["uri"], path):
                continue
            if all(matches(c, sent.get(name)) for name, c in match.get("headers", {}).items()):
                return entry.get("route")  # type: ignore[no-any-return]
    return None


TO_HTTPS = {"match": [{"port": 80}], "redirect": {"scheme": "https", "derivePort": "FROM_PROTOCOL_DEFAULT",
                                                  "redirectCode": 308}}


# -- paths ------------------------------------------------------------------------------------
def test_exact_prefix_and_ingress_nginx_implementation_specific_paths() -> None:
    text = cases.PATH_TYPES
    out = istio_out(text)
    assert spec(out, "Gateway", "nginx") == {"selector": {"istio": "ingressgateway"}, "servers": [HTTP_SERVER]}
    found = spec(out, "VirtualService", "paths-shop-example-com")
    assert (found["hosts"], found["gateways"]) == (["shop.example.com"], ["shop/nginx"])
    assert found["http"] == [
        {"match": [{"uri": {"exact": "/exact"}}, *segments("/prefix")], "route": [to("api", 8080)]},
        {"match": segments("/impl"), "route": [to("web", 80)]},
    ]
    loss(out, "MSH401", at(text, "/impl, pathType"), "ImplementationSpecific path '/impl'", "string prefix")
    loss(out, "MSH401", value_at(text, "ingressClassName: nginx"), SERVED_BY, "instead of the nginx class's controller")
    assert len(losses(out)) == 2


def test_use_regex_paths_are_case_insensitive_regular_expression_prefixes() -> None:
    text = cases.REGEX
    out = istio_out(text)
    assert vs(out, "regex-shop-example-com") == [
        {"match": segments("/plain"), "route": [to("web", 80)]},
        {"match": [{"uri": {"regex": "(?i)/v[0-9]+/items.*"}}], "route": [to("api", 8080)]},
    ]
    assert re2.fullmatch("(?i)/v[0-9]+/items.*", "/V2/ITEMS/3")
    loss(out, "MSH401", at(text, "/plain, pathType"), "string prefix")


def test_use_regex_of_one_ingress_reaches_every_path_of_its_host() -> None:
    text = cases.REGEX_HOST_WIDE
    out = istio_out(text)
    entries = vs(out, "nginx-shop-example-com")
    assert first(entries, "/V1.0/x") == [to("api", 8080)]  # Prefix '/v1.0' read as the regex nginx reads
    assert first(entries, "/V2/items") == [to("api", 8080)]
    loss(out, "MSH401", at(text, "/exact, pathType"), "use-regex on Ingress shop/regex", "PathExact does not")
    loss(out, "MSH401", at(text, "/impl, pathType"), "case-insensitive string prefix")


def test_a_regular_expression_behind_a_catch_all_of_its_host_is_reported() -> None:
    text = cases.REGEX_BEHIND_CATCH_ALL
    out = istio_out(text)
    entries = vs(out, "nginx-shop-example-com")
    assert entries[0] == {"route": [to("web", 80)]}  # Istio's order: the catch-all takes every request
    assert [m["uri"]["regex"] for e in entries[1:] for m in e["match"]] == [
        "(?i)/static/.+[.]css.*", "(?i)/api/v[0-9]+.*"]
    assert first(entries, "/api/v2") == [to("web", 80)]  # what the finding says
    for path in ("'/api/v[0-9]+'", "'/static/.+[.]css'"):
        loss(out, "MSH401", at(text, path), "PathPrefix '/' of this host comes first in Istio")


def test_another_controllers_implementation_specific_path_and_annotations() -> None:
    text = cases.OTHER_CONTROLLER
    out = istio_out(text)
    assert vs(out, "traefik-shop-example-com") == [{"match": segments("/t"), "route": [to("api", 8080)]}]
    loss(out, "MSH400", at(text, "/\n    traefik"), "read by ingress-nginx only", "class is traefik")
    loss(out, "MSH400", at(text, "shop-strip@kubernetescrd"), "read by Traefik only")
    loss(out, "MSH401", at(text, "/t, pathType"), "the controller reads it as a string prefix")
    loss(out, "MSH401", value_at(text, "ingressClassName: traefik"), SERVED_BY, "the traefik class's controller")


def test_istio_class_reads_implementation_specific_as_istio_does() -> None:
    text = cases.ISTIO_CLASS
    out = istio_out(text)
    assert spec(out, "Gateway", "istio")["servers"] == [HTTP_SERVER, https("mesh.example.com", "mesh-cert")]
    assert vs(out, "mesh-mesh-example-com") == [  # served on both ports: no ssl-redirect, no default backend
        {"match": [{"uri": {"exact": "/exact"}}, *segments("/star")], "route": [to("api", 8080)]},
        {"match": [*segments("/dot"), *segments("/p")], "route": [to("web", 80)]},
    ]
    assert names(out, "VirtualService") == ["mesh-mesh-example-com"]
    loss(out, "MSH400", at(text, '"true"\n    alb'), "read by ingress-nginx only", "class is istio")
    loss(out, "MSH400", at(text, "internet-facing"), "AWS Load Balancer Controller")
    loss(out, "MSH400", at(text, "{service: {name: web, port: {number: 80}}}\n  tls"),
         "Istio's ingress controller ignores spec.defaultBackend")
    loss(out, "MSH401", at(text, "/star/*"), "Istio reads '/star/*' as the string prefix '/star/'")
    loss(out, "MSH401", at(text, "/dot.*"), "Istio reads '/dot.*' as the string prefix '/dot'")


def test_istio_class_by_annotation() -> None:
    out = istio_out(cases.ISTIO_ANNOTATION)
    assert vs(out, "legacy-legacy-example-com") == [{"match": [{"uri": {"exact": "/old"}}], "route": [to("api", 8080)]}]


# -- default backend --------------------------------------------------------------------------
def test_default_backend_is_a_catch_all_per_host_and_a_virtual_service_for_other_hosts() -> None:
    text = cases.DEFAULT_BACKEND
    out = istio_out(text)
    assert vs(out, "fallback-a-example-com") == [
        {"match": segments("/api"), "route": [to("api", 8080)]},
        {"route": [to("web", 80)]},  # last; port named http resolved to 80
    ]
    assert vs(out, "fallback-b-example-com") == [{"route": [to("api", 8080)]}]
    other = spec(out, "VirtualService", "fallback")
    assert (other["hosts"], other["http"]) == (["*"], [{"route": [to("web", 80)]}])
    assert losses(out) == [("MSH401", value_at(text, "ingressClassName: nginx"))]


def test_an_ingress_with_only_a_default_backend() -> None:
    out = istio_out(cases.DEFAULT_BACKEND_ONLY)
    assert names(out, "VirtualService") == ["only"]
    assert spec(out, "VirtualService", "only")["hosts"] == ["*"]


# -- TLS and redirects to HTTPS -----------------------------------------------------------------
def test_tls_hosts_become_https_servers_and_their_hosts_redirect_to_https() -> None:
    text = cases.TLS
    out = istio_out(text)
    assert spec(out, "Gateway", "nginx")["servers"] == [
        HTTP_SERVER, https("shop.example.com", "other-cert"), https("*.wild.example.com", "shop-cert")]
    assert vs(out, "nginx-shop-example-com") == [
        {"match": segments("/second", port=443), "route": [to("api", 8080)]},
        TO_HTTPS,
        {"match": [{"port": 443}], "route": [to("web", 80)]},
    ]
    assert vs(out, "nginx-a-wild-example-com") == [{"match": [{"port": 443}], "route": [to("web", 80)]}, TO_HTTPS]
    plain = spec(out, "VirtualService", "secure-nosecret-example-com")  # same rules, one VirtualService
    assert (sorted(plain["hosts"]), plain["http"]) == (["nosecret.example.com", "plain.example.com"],
                                                        [{"route": [to("web", 80)]}])
    loss(out, "MSH400", at(text, "{hosts: [nosecret.example.com]}"), "without secretName")
    loss(out, "MSH401", at(text, "shop-cert}"), "already has TLS Secret other-cert")


def test_ssl_redirect_false_serves_both_ports() -> None:
    out = istio_out(cases.SSL_REDIRECT_OFF)
    assert vs(out, "nosslredirect-shop-example-com") == [{"route": [to("web", 80)]}]


def test_force_ssl_redirect_redirects_tls_hosts_and_reports_the_others() -> None:
    text = cases.FORCE_SSL_REDIRECT
    out = istio_out(text)
    assert vs(out, "nginx-shop-example-com") == [{"match": [{"port": 443}], "route": [to("web", 80)]}, TO_HTTPS]
    assert vs(out, "forced-bare-example-com") == [{"route": [to("web", 80)]}]
    loss(out, "MSH401", at(text, '"true"\nspec'), "ingress-nginx redirects bare.example.com to HTTPS",
         "served over HTTP instead")


# -- redirects, app-root, rewrites --------------------------------------------------------------
def test_permanent_redirect_with_every_url_part_and_its_code() -> None:
    text = cases.PERMANENT_REDIRECT
    out = istio_out(text)
    assert vs(out, "moved-old-example-com") == [{"redirect": {
        "uri": "/landing", "authority": "new.example.com", "scheme": "https", "port": 8443, "redirectCode": 308}}]
    where = at(text, "https://new.example.com:8443/landing?from=old")
    loss(out, "MSH401", where, "drops the request's query string")
    loss(out, "MSH400", where, "the query or fragment")


def test_temporal_redirect_is_a_302_to_the_schemes_port() -> None:
    text = cases.TEMPORAL_REDIRECT
    out = istio_out(text)
    assert vs(out, "away-away-example-com") == [{"match": segments("/x"), "redirect": {
        "uri": "/", "authority": "maintenance.example.com", "scheme": "http", "derivePort": "FROM_PROTOCOL_DEFAULT",
        "redirectCode": 302}}]
    loss(out, "MSH401", at(text, "http://maintenance.example.com/"), "drops the request's query string")


def test_a_redirect_code_a_route_cannot_send_is_reported_at_the_code() -> None:
    text = cases.REDIRECT_ODD_CODE
    out = istio_out(text)
    (entry,) = vs(out, "oddcode-odd-example-com")
    code = entry["redirect"]["redirectCode"]
    assert code in (301, 302, 303, 307, 308)
    loss(out, "MSH401", at(text, '"305"'), "redirect code 305", f"written as {code}")


def test_app_root_redirects_the_root_only() -> None:
    out = istio_out(cases.APP_ROOT)
    assert vs(out, "approot-app-example-com") == [
        {"match": [{"uri": {"exact": "/"}}], "redirect": {"uri": "/app1", "redirectCode": 302}},
        {"route": [to("web", 80)]},
    ]


def test_rewrite_target_without_captures_replaces_the_whole_path() -> None:
    (entry,) = vs(istio_out(cases.REWRITE_FULL), "rewrite-shop-example-com")
    assert entry["match"] == segments("/old")
    rewrite = entry["rewrite"]["uriRegexRewrite"]
    for path in ("/old", "/old/a/b"):
        assert re2.sub(rewrite["match"], rewrite["rewrite"], path) == "/new"


def test_the_documented_prefix_rewrite_is_a_prefix_replacement() -> None:
    assert vs(istio_out(cases.REWRITE_PREFIX), "strip-shop-example-com") == [
        {"match": segments("/api"), "route": [to("api", 8080)], "rewrite": {"uri": "/"}}]


def test_the_optional_slash_rewrite_also_took_longer_names() -> None:
    text = cases.REWRITE_OPTIONAL_SLASH
    out = istio_out(text)
    assert vs(out, "loose-shop-example-com") == [
        {"match": segments("/web"), "route": [to("web", 80)], "rewrite": {"uri": "/"}}]
    loss(out, "MSH401", at(text, "'/web/?(.*)'"), "also matched /webx")


def test_a_rewrite_with_other_captures_is_a_regex_rewrite() -> None:
    text = cases.REWRITE_CAPTURES
    out = istio_out(text)
    (entry,) = vs(out, "captures-shop-example-com")
    assert entry["match"] == [{"uri": {"regex": "(?i)/v([0-9]+)/items/(.*).*"}}]
    rewrite = entry["rewrite"]["uriRegexRewrite"]
    # nginx: rewrite "(?i)/v([0-9]+)/items/(.*)" /items/$2/v$1 -- the whole path replaced
    assert re2.sub(rewrite["match"], rewrite["rewrite"], "/v2/items/a/b") == "/items/a/b/v2"
    assert re2.sub(rewrite["match"], rewrite["rewrite"], "/V10/Items/x") == "/items/x/v10"
    no_loss_mentions(out, "captures")


# -- Host header, timeouts --------------------------------------------------------------------
def test_upstream_vhost_is_an_authority_rewrite() -> None:
    (entry,) = vs(istio_out(cases.UPSTREAM_VHOST), "vhost-shop-example-com")
    assert entry["rewrite"] == {"authority": "internal.example.com"}


def test_upstream_vhost_variables_are_filled_in_per_backend_with_the_port() -> None:
    out = istio_out(cases.UPSTREAM_VHOST_VARIABLES)
    assert vs(out, "linkerd-dash-example-com") == [
        {"match": segments("/api"), "route": [to("api", 8080)],
         "rewrite": {"authority": "api.shop.svc.cluster.local:8084"}},
        {"route": [to("web", 80)], "rewrite": {"authority": "web.shop.svc.cluster.local:8084"}},
    ]
    assert len(losses(out)) == 1  # the class: an authority keeps the port


def test_upstream_vhost_with_a_variable_nginx_alone_knows_is_left_out() -> None:
    text = cases.UPSTREAM_VHOST_UNKNOWN
    out = istio_out(text)
    assert vs(out, "hostvar-shop-example-com") == [{"route": [to("web", 80)]}]
    loss(out, "MSH400", at(text, "$host"), "$host", "the Host header is not rewritten")


def test_read_timeout_is_the_route_timeout_and_send_timeout_is_left_out() -> None:
    text = cases.TIMEOUTS
    out = istio_out(text)
    assert vs(out, "slow-shop-example-com") == [
        {"match": segments("/report"), "route": [to("api", 8080)], "timeout": "120s"}]
    loss(out, "MSH401", at(text, '"120"'), "between two reads")
    loss(out, "MSH400", at(text, '"30"'), "between two writes")


# -- canaries ---------------------------------------------------------------------------------
WEB_ENTRY = {"match": segments("/web"), "route": [to("web", 80)]}


def test_enable_cors_is_a_cors_policy() -> None:
    text = cases.CORS_SET
    out = istio_out(text)
    (entry,) = vs(out, "cors-shop-example-com")
    assert entry["corsPolicy"] == {
        "allowOrigins": [{"exact": "https://app.example.com"}, {"regex": r"https://.*\.example\.org"}],
        "allowMethods": ["GET", "POST"],
        "allowHeaders": ["X-Token", "Content-Type"],
        "exposeHeaders": ["X-Trace"],
        "maxAge": "600s",
        "allowCredentials": False,
    }
    assert re2.fullmatch(entry["corsPolicy"]["allowOrigins"][1]["regex"], "https://shop.example.org")
    origins = value_at(text, "cors-allow-origin: ")
    loss(out, "MSH400", origins, "'ftp:x' is not an origin")
    loss(out, "MSH401", origins, "'https://*.example.org'", "Istio's regular expression any text")


def test_enable_cors_alone_has_ingress_nginx_defaults() -> None:
    root, *api = vs(istio_out(cases.CORS_DEFAULTS), "open-shop-example-com")
    assert "corsPolicy" not in root and root["redirect"] == {"uri": "/app", "redirectCode": 302}
    assert [e["corsPolicy"]["allowOrigins"] for e in api] == [[{"regex": ".*"}]]
    assert api[0]["corsPolicy"]["maxAge"] == "1728000s" and api[0]["corsPolicy"]["allowCredentials"] is True


def test_cookie_affinity_is_a_consistent_hash_on_the_cookie_for_each_backend() -> None:
    text = cases.AFFINITY
    out = istio_out(text)
    for service in ("api", "web"):
        rule = find(out, "DestinationRule", service)
        assert rule["spec"] == {"host": f"{service}.shop.svc.cluster.local", "trafficPolicy": {"loadBalancer": {
            "consistentHash": {"httpCookie": {"name": "route", "path": "/shop", "ttl": "172800s"}}}}}
        assert rule["metadata"]["annotations"]["meshctl.io/translated-from"] == "Ingress/shop/sticky"
        loss(out, "MSH401", value_at(text, "affinity: cookie"), f"a DestinationRule for {service}.shop.svc",
             "may move a client when pods come or go", "every client of the Service")
    loss(out, "MSH400", value_at(text, "session-cookie-samesite: Lax"), "the SameSite attribute")


def test_cookie_affinity_without_max_age_is_a_session_cookie() -> None:
    out = istio_out(cases.AFFINITY_DEFAULTS)
    assert find(out, "DestinationRule", "api")["spec"]["trafficPolicy"] == {"loadBalancer": {"consistentHash": {
        "httpCookie": {"name": "INGRESSCOOKIE", "ttl": "0s"}}}}


def test_cookie_affinity_beside_an_input_destination_rule_is_left_out() -> None:
    text = cases.AFFINITY + """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: shop}
spec: {host: api.shop.svc.cluster.local, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}
"""
    out = istio_out(text)
    assert names(out, "DestinationRule") == ["web"]
    loss(out, "MSH400", value_at(text, "affinity: cookie"), "already configures api.shop.svc.cluster.local")


def test_canary_weight_splits_the_main_rule() -> None:
    out = istio_out(cases.CANARY_WEIGHT)
    assert names(out, "VirtualService") == ["main-shop-example-com"]
    assert vs(out, "main-shop-example-com") == [
        {"match": segments("/api"), "route": [to("api", 8080, 80), to("canary", 8080, 20)]}, WEB_ENTRY]
    service = find(out, "VirtualService", "main-shop-example-com")
    assert service["metadata"]["annotations"]["meshctl.io/translated-from"] == "Ingress/shop/main,Ingress/shop/weighted"


def test_canary_weight_total_is_rescaled_to_shares_of_100() -> None:
    text = cases.CANARY_WEIGHT_TOTAL
    out = istio_out(text)
    entries = vs(out, "main-shop-example-com")
    assert [r["weight"] for r in entries[0]["route"]] == [100, 0]  # 99.5% and 0.5%
    # reported at the main path whose weights changed
    loss(out, "MSH401", at(text, "{path: /api, pathType: Prefix, backend: {service: {name: api"),
         "weights 995:5 are written as shares of 100: 100/0")


def test_canary_by_header_always_and_never_come_before_the_weights() -> None:
    entries = vs(istio_out(cases.CANARY_HEADER), "main-shop-example-com")
    assert entries == [
        {"match": segments("/api", headers={"x-canary": {"exact": "always"}}), "route": [to("canary", 8080)]},
        {"match": segments("/api", headers={"x-canary": {"exact": "never"}}), "route": [to("api", 8080)]},
        {"match": segments("/api"), "route": [to("api", 8080, 90), to("canary", 8080, 10)]},
        WEB_ENTRY,
    ]


def test_canary_by_header_value() -> None:
    entries = vs(istio_out(cases.CANARY_HEADER_VALUE), "main-shop-example-com")
    assert entries == [
        {"match": segments("/api", headers={"x-region": {"exact": "eu-west"}}), "route": [to("canary", 8080)]},
        {"match": segments("/api"), "route": [to("api", 8080)]},
        WEB_ENTRY,
    ]


def test_canary_by_header_pattern_matches_where_ingress_nginx_finds_it() -> None:
    entries = vs(istio_out(cases.CANARY_HEADER_PATTERN), "main-shop-example-com")
    assert entries[0]["route"] == [to("canary", 8080)]
    pattern = entries[0]["match"][0]["headers"]["x-version"]["regex"]
    assert entries[0]["match"] == segments("/web", headers={"x-version": {"regex": pattern}})
    assert entries[1:] == [{"match": segments("/api"), "route": [to("api", 8080)]}, WEB_ENTRY]
    assert [bool(re2.fullmatch(pattern, v)) for v in ("v2", "beta-v3", "v1", "")] == [True, True, False, False]


def test_canary_by_cookie() -> None:
    entries = vs(istio_out(cases.CANARY_COOKIE), "main-shop-example-com")
    for cookie, backend in (("beta=always", "canary"), ("a=b; beta=always", "canary"), ("beta=never; c=d", "api"),
                            ("nobeta=always", "api"), (None, "api")):
        assert first(entries, "/api/x", cookie=cookie) == [to(backend, 8080)], cookie
    assert first(entries, "/web", cookie="beta=always") == [to("web", 80)]


def test_a_canary_without_a_main_ingress_is_left_out() -> None:
    text = cases.CANARY_WITHOUT_MAIN
    out = istio_out(text)
    assert names(out, "VirtualService") == ["main-shop-example-com"]
    assert vs(out, "main-shop-example-com")[0]["route"] == [to("api", 8080, 50), to("canary", 8080, 50)]
    loss(out, "MSH400", at(text, "{path: /nomain"), "without a main Ingress for shop.example.com /nomain")
    loss(out, "MSH400", at(text, "{path: /api, pathType: Prefix, backend: {service: {name: canary", 2),
         "without a main Ingress for other.example.com /api")


# -- backends ---------------------------------------------------------------------------------
def test_port_names_resolve_against_the_service_and_other_backends_are_left_out() -> None:
    text = cases.BACKENDS
    out = istio_out(text)
    entries = vs(out, "backends-shop-example-com")
    by_path = {m["uri"]["exact"]: e for e in entries for m in e["match"] if "exact" in m["uri"]}
    assert by_path["/admin"]["route"] == [to("api", 9090)]  # port named admin: 9090, not the first port
    assert by_path["/web"]["route"] == [to("web", 80)]
    for path in ("/nope", "/ghost", "/bucket"):  # nothing to route to
        assert "route" not in by_path[path] and by_path[path]["directResponse"]["status"] >= 500, path
    loss(out, "MSH400", at(text, "{service: {name: api, port: {name: grpc}}}"), "port 'grpc' is a name",
         "Service api with a port of that name is not among the inputs")
    loss(out, "MSH400", at(text, "{service: {name: ghost"), "port 'http'", "Service ghost")
    loss(out, "MSH400", at(text, "{resource:"), "resource backend")


def test_more_than_16_paths_stay_in_one_virtual_service() -> None:
    out = istio_out(cases.MANY_PATHS)
    entries = vs(out, "many-shop-example-com")
    assert [m["uri"] for e in entries[:-1] for m in e["match"]] == [
        u for i in range(18) for u in ({"exact": f"/p{i:02d}"}, {"prefix": f"/p{i:02d}/"})]
    assert entries[-1] == {"route": [to("web", 80)]}
    assert names(out, "VirtualService") == ["many", "many-shop-example-com"]


# -- API versions and classes -------------------------------------------------------------------
def test_v1beta1_ingresses() -> None:
    text = cases.V1BETA1
    out = istio_out(text)
    assert vs(out, "beta-beta-example-com") == [
        {"match": [{"uri": {"exact": "/typed"}}], "route": [to("api", 8080)]},
        {"match": segments("/beta"), "route": [to("api", 9090)]},
        {"route": [to("web", 80)]},
    ]
    assert vs(out, "ext-ext-example-com") == [{"match": segments("/ext"), "route": [to("web", 80)]}]
    loss(out, "MSH401", at(text, "/beta\n"), "ImplementationSpecific path '/beta'")
    loss(out, "MSH401", at(text, "/ext\n"), "ImplementationSpecific path '/ext'")
    assert names(out, "Gateway") == ["nginx"]


def test_a_class_without_its_ingress_class_is_another_controller() -> None:
    text = cases.CLASS_WITHOUT_INGRESS_CLASS
    out = istio_out(text)
    assert names(out, "Gateway") == ["haproxy"]
    assert spec(out, "VirtualService", "haproxy-h-example-com")["gateways"] == ["shop/haproxy"]
    loss(out, "MSH400", at(text, '"false"'), "read by ingress-nginx only", "class is haproxy")


def test_an_ingress_without_class_takes_the_default_ingress_class() -> None:
    text = cases.DEFAULT_CLASS
    out = istio_out(text)
    found = spec(out, "VirtualService", "unclassed-d-example-com")
    assert found["gateways"] == ["shop/public"]
    assert found["http"][0]["timeout"] == "7s"


def test_an_ingress_without_any_class() -> None:
    text = cases.NO_CLASS
    out = istio_out(text)
    assert names(out, "Gateway") == ["ingress"]
    loss(out, "MSH400", at(text, '"7"'), "read by ingress-nginx only", "class is (none)")


def test_ingresses_of_one_class_and_namespace_share_a_gateway() -> None:
    out = istio_out(cases.SHARED_GATEWAY)
    shared = find(out, "Gateway", "nginx")
    assert shared["spec"]["servers"] == [HTTP_SERVER, https("one.example.com", "one-cert"),
                                         https("two.example.com", "two-cert")]
    assert shared["metadata"]["annotations"]["meshctl.io/translated-from"] == "Ingress/shop/one,Ingress/shop/two"
    assert spec(out, "Gateway", "nginx", "other")["servers"] == [HTTP_SERVER]
    assert spec(out, "VirtualService", "three-three-example-com", "other")["gateways"] == ["other/nginx"]


# -- --from -----------------------------------------------------------------------------------
def test_from_auto_and_from_ingress_translate_the_ingresses() -> None:
    for source in ("auto", "ingress"):
        out = istio_out(cases.MIXED, source=source)
        assert sorted((r["kind"], r["metadata"]["name"]) for r in out.resources) == [
            ("Gateway", "nginx"), ("VirtualService", "front-shop-example-com")], source


def test_another_source_leaves_ingresses_alone() -> None:
    for source in ("linkerd", "gateway-api"):
        out = istio_out(cases.MIXED, source=source)
        assert (out.resources, out.findings) == ([], []), source
