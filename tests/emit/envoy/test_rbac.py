"""AuthorizationPolicy -> Envoy RBAC filters, row by row of envoy-translation.md §4.2.

Expected values are written from the reference (its table and the validated example
sidecar-mtls-inbound-rbac.yaml), not produced by the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.options import EnvoyOptions
from meshctl.emit.envoy.rbac import applicable_policies, http_rbac_filters, network_rbac_filters
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.objects import MeshConfig, Workload

Json = dict[str, Any]
RBAC_HTTP = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
RBAC_TCP = "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC"
ANY_PERMISSION = {"and_rules": {"rules": [{"any": True}]}}
ANY_PRINCIPAL = {"and_ids": {"ids": [{"any": True}]}}
NEVER = {"permissions": [{"not_rule": {"any": True}}], "principals": [{"not_id": {"any": True}}]}

WORKLOAD = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080, targetPort: 9080}
  - {name: tcp-db, port: 5432, targetPort: 5432}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, namespace: default, labels: {app: reviews}}
spec:
  containers: [{name: app, image: reviews}]
status: {podIP: 10.244.1.11}
"""


def setup(policies: str, config: MeshConfig | None = None) -> tuple[Build, Workload]:
    mesh = lower(read_text(WORKLOAD + "---\n" + policies, "test.yaml").docs, config)
    build = Build(mesh, EnvoyOptions(proxy="inbound", target=("reviews-v1", "default")), proxy_namespace="default")
    workload = next(w for w in mesh.workloads if w.name == "reviews-v1")
    return build, workload


def policy(name: str, spec: str, *, namespace: str = "default", annotations: str = "") -> str:
    meta = f"{{name: {name}, namespace: {namespace}{', annotations: ' + annotations if annotations else ''}}}"
    return f"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {meta}\nspec:\n{spec}\n---\n"


def http_filter(action: str, policies: Json) -> Json:
    return {"name": "envoy.filters.http.rbac",
            "typed_config": {"@type": RBAC_HTTP, "rules": {"action": action, "policies": policies}}}


def only_policy(build: Build, workload: Workload, port: int = 9080, *, tcp: bool = False) -> Json:
    """The single RBAC policy of the single filter."""
    filters = (network_rbac_filters if tcp else http_rbac_filters)(build, workload, port)
    assert len(filters) == 1
    policies = filters[0]["typed_config"]["rules"]["policies"]
    assert len(policies) == 1
    return next(iter(policies.values()))


def findings(build: Build) -> list[tuple[str, str]]:
    return sorted((f.code, f.location.path if f.location else "") for f in build.losses.findings)


# -- the example of the reference ---------------------------------------------------------


def test_reference_example_deny_and_allow() -> None:
    build, workload = setup(
        policy("deny-admin", """
  action: DENY
  rules:
  - from: [{source: {notNamespaces: [istio-system]}}]
    to: [{operation: {paths: ["/admin*"]}}]""")
        + policy("allow-get", """
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/productpage]}}]
    to:
    - operation:
        hosts: [reviews.default.svc.cluster.local]
        methods: [GET]
        paths: ["/api/*"]
        notPaths: [/api/internal]
        ports: ["9080"]"""))
    assert http_rbac_filters(build, workload, 9080) == [
        http_filter("DENY", {"ns[default]-policy[deny-admin]-rule[0]": {
            "permissions": [{"and_rules": {"rules": [
                {"or_rules": {"rules": [{"url_path": {"path": {"prefix": "/admin"}}}]}},
            ]}}],
            "principals": [{"and_ids": {"ids": [
                {"not_id": {"or_ids": {"ids": [
                    {"authenticated": {"principal_name": {"safe_regex": {"regex": ".*/ns/istio-system/.*"}}}},
                ]}}},
            ]}}],
        }}),
        http_filter("ALLOW", {"ns[default]-policy[allow-get]-rule[0]": {
            "permissions": [{"and_rules": {"rules": [
                {"or_rules": {"rules": [{"header": {"name": ":authority", "string_match": {
                    "exact": "reviews.default.svc.cluster.local", "ignore_case": True}}}]}},
                {"or_rules": {"rules": [{"header": {"name": ":method", "string_match": {"exact": "GET"}}}]}},
                {"or_rules": {"rules": [{"url_path": {"path": {"prefix": "/api/"}}}]}},
                {"not_rule": {"or_rules": {"rules": [{"url_path": {"path": {"exact": "/api/internal"}}}]}}},
                {"or_rules": {"rules": [{"destination_port": 9080}]}},
            ]}}],
            "principals": [{"and_ids": {"ids": [
                {"or_ids": {"ids": [{"authenticated": {"principal_name": {
                    "exact": "spiffe://cluster.local/ns/default/sa/productpage"}}}]}},
            ]}}],
        }}),
    ]
    assert build.losses.findings == []


# -- filters: order, allow-nothing, dry-run --------------------------------------------------


def test_filters_come_audit_deny_allow_whatever_the_input_order() -> None:
    build, workload = setup(
        policy("a-allow", "  action: ALLOW\n  rules: [{}]")
        + policy("b-deny", "  action: DENY\n  rules: [{}]")
        + policy("c-audit", "  action: AUDIT\n  rules: [{}]"))
    filters = http_rbac_filters(build, workload, 9080)
    assert [f["typed_config"]["rules"]["action"] for f in filters] == ["LOG", "DENY", "ALLOW"]
    assert [list(f["typed_config"]["rules"]["policies"]) for f in filters] == [
        ["ns[default]-policy[c-audit]-rule[0]"], ["ns[default]-policy[b-deny]-rule[0]"],
        ["ns[default]-policy[a-allow]-rule[0]"],
    ]
    # an empty rule matches every request
    assert filters[2]["typed_config"]["rules"]["policies"]["ns[default]-policy[a-allow]-rule[0]"] == {
        "permissions": [ANY_PERMISSION], "principals": [ANY_PRINCIPAL]}


def test_no_policy_no_filter() -> None:
    build, workload = setup("")
    assert http_rbac_filters(build, workload, 9080) == []
    assert network_rbac_filters(build, workload, 5432) == []


def test_policies_of_one_action_share_one_filter_root_namespace_first() -> None:
    build, workload = setup(
        policy("local", "  action: DENY\n  rules: [{}, {}]")
        + policy("mesh-wide", "  action: DENY\n  rules: [{}]", namespace="istio-system"))
    filters = http_rbac_filters(build, workload, 9080)
    assert len(filters) == 1
    assert list(filters[0]["typed_config"]["rules"]["policies"]) == [
        "ns[istio-system]-policy[mesh-wide]-rule[0]",
        "ns[default]-policy[local]-rule[0]",
        "ns[default]-policy[local]-rule[1]",
    ]


def test_allow_nothing() -> None:
    build, workload = setup(policy("allow-nothing", "  {}"))
    assert http_rbac_filters(build, workload, 9080) == [
        http_filter("ALLOW", {"ns[default]-policy[allow-nothing]-rule[0]": NEVER})]


def test_allow_with_empty_rules_list_is_allow_nothing_too() -> None:
    build, workload = setup(policy("empty", "  action: ALLOW\n  rules: []"))
    assert only_policy(build, workload) == NEVER


def test_deny_without_rules_never_matches() -> None:
    build, workload = setup(policy("deny-nothing", "  action: DENY"))
    assert http_rbac_filters(build, workload, 9080) == [
        http_filter("DENY", {"ns[default]-policy[deny-nothing]-rule[0]": NEVER})]


def test_dry_run_goes_to_shadow_rules() -> None:
    dry = '{istio.io/dry-run: "true"}'
    build, workload = setup(
        policy("enforced", "  action: DENY\n  rules: [{to: [{operation: {methods: [DELETE]}}]}]")
        + policy("trial", "  action: DENY\n  rules: [{to: [{operation: {methods: [PUT]}}]}]", annotations=dry)
        + policy("trial-allow", "  action: ALLOW\n  rules: [{}]", annotations=dry)
        + policy("trial-audit", "  action: AUDIT\n  rules: [{}]", annotations=dry))

    def method(name: str) -> Json:
        header = {"header": {"name": ":method", "string_match": {"exact": name}}}
        return {"permissions": [{"and_rules": {"rules": [{"or_rules": {"rules": [header]}}]}}],
                "principals": [ANY_PRINCIPAL]}

    everything = {"permissions": [ANY_PERMISSION], "principals": [ANY_PRINCIPAL]}
    assert http_rbac_filters(build, workload, 9080) == [
        {"name": "envoy.filters.http.rbac", "typed_config": {
            "@type": RBAC_HTTP,
            "shadow_rules": {"action": "LOG", "policies": {"ns[default]-policy[trial-audit]-rule[0]": everything}},
        }},
        {"name": "envoy.filters.http.rbac", "typed_config": {
            "@type": RBAC_HTTP,
            "rules": {"action": "DENY", "policies": {"ns[default]-policy[enforced]-rule[0]": method("DELETE")}},
            "shadow_rules": {"action": "DENY", "policies": {"ns[default]-policy[trial]-rule[0]": method("PUT")}},
            "shadow_rules_stat_prefix": "istio_dry_run_deny_",
        }},
        # only dry-run ALLOW policies: nothing is enforced (no `rules`)
        {"name": "envoy.filters.http.rbac", "typed_config": {
            "@type": RBAC_HTTP,
            "shadow_rules": {"action": "ALLOW", "policies": {"ns[default]-policy[trial-allow]-rule[0]": everything}},
            "shadow_rules_stat_prefix": "istio_dry_run_allow_",
        }},
    ]


def test_custom_action_is_a_loss() -> None:
    build, workload = setup(policy("ext", "  action: CUSTOM\n  provider: {name: opa}\n  rules: [{}]"))
    assert http_rbac_filters(build, workload, 9080) == []
    assert findings(build) == [("MSH400", "")]
    assert "ext_authz" in build.losses.findings[0].message


# -- which policies apply --------------------------------------------------------------------


def test_applicable_policies() -> None:
    build, workload = setup(
        policy("mine", "  selector: {matchLabels: {app: reviews}}")
        + policy("theirs", "  selector: {matchLabels: {app: ratings}}")
        + policy("namespace-wide", "  action: DENY")
        + policy("other-namespace", "  {}", namespace="shop")
        + policy("mesh-wide", "  action: AUDIT", namespace="istio-system")
        + policy("gateway-only", "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]"))
    assert [p.name for p in applicable_policies(build, workload)] == ["mesh-wide", "mine", "namespace-wide"]


# -- source (principals) rows ----------------------------------------------------------------


def _source(field: str, values: str) -> str:
    return policy("p", f"  rules: [{{from: [{{source: {{{field}: {values}}}}}]}}]")


@pytest.mark.parametrize(("field", "values", "ids"), [
    ("principals", "[cluster.local/ns/a/sa/b]",
     [{"or_ids": {"ids": [{"authenticated": {"principal_name": {"exact": "spiffe://cluster.local/ns/a/sa/b"}}}]}}]),
    ("principals", '["*"]',
     [{"or_ids": {"ids": [{"authenticated": {"principal_name": {"safe_regex": {"regex": ".+"}}}}]}}]),
    ("principals", '["cluster.local/ns/a/*"]',
     [{"or_ids": {"ids": [{"authenticated": {"principal_name": {"prefix": "spiffe://cluster.local/ns/a/"}}}]}}]),
    ("principals", '["*/sa/b"]',
     [{"or_ids": {"ids": [{"authenticated": {"principal_name": {"safe_regex": {"regex": "spiffe://.*/sa/b"}}}}]}}]),
    ("notPrincipals", "[cluster.local/ns/a/sa/b]",
     [{"not_id": {"or_ids": {"ids": [
         {"authenticated": {"principal_name": {"exact": "spiffe://cluster.local/ns/a/sa/b"}}}]}}}]),
    ("namespaces", "[shop, dev-*]",
     [{"or_ids": {"ids": [
         {"authenticated": {"principal_name": {"safe_regex": {"regex": ".*/ns/shop/.*"}}}},
         {"authenticated": {"principal_name": {"safe_regex": {"regex": ".*/ns/dev-.*/.*"}}}}]}}]),
    ("serviceAccounts", "[shop/web, local]",
     [{"or_ids": {"ids": [
         {"authenticated": {"principal_name": {"safe_regex": {"regex": "spiffe://.+/ns/shop/(.+/|)sa/web(/.+)?"}}}},
         {"authenticated": {"principal_name": {"safe_regex": {"regex": "spiffe://.+/ns/default/(.+/|)sa/local(/.+)?"}}}},
     ]}}]),
    ("ipBlocks", "[10.0.0.0/8, 192.168.1.7]",
     [{"or_ids": {"ids": [{"direct_remote_ip": {"address_prefix": "10.0.0.0", "prefix_len": 8}},
                          {"direct_remote_ip": {"address_prefix": "192.168.1.7", "prefix_len": 32}}]}}]),
    ("remoteIpBlocks", "[203.0.113.0/24]",
     [{"or_ids": {"ids": [{"remote_ip": {"address_prefix": "203.0.113.0", "prefix_len": 24}}]}}]),
    ("notIpBlocks", "[10.1.0.0/16]",
     [{"not_id": {"or_ids": {"ids": [{"direct_remote_ip": {"address_prefix": "10.1.0.0", "prefix_len": 16}}]}}}]),
])
def test_source_field(field: str, values: str, ids: list[Json]) -> None:
    build, workload = setup(_source(field, values))
    assert only_policy(build, workload) == {"permissions": [ANY_PERMISSION], "principals": [{"and_ids": {"ids": ids}}]}
    assert build.losses.findings == []


def test_request_principals_match_the_jwt_payload_and_are_reported() -> None:
    build, workload = setup(_source("requestPrincipals", '["https://issuer.example.com/alice", "*"]'))

    def claim(name: str, value: Json) -> Json:
        return {"sourced_metadata": {"metadata_matcher": {
            "filter": "envoy.filters.http.jwt_authn", "path": [{"key": "payload"}, {"key": name}], "value": value}}}

    assert only_policy(build, workload)["principals"] == [{"and_ids": {"ids": [{"or_ids": {"ids": [
        {"and_ids": {"ids": [claim("iss", {"string_match": {"exact": "https://issuer.example.com"}}),
                             claim("sub", {"string_match": {"exact": "alice"}})]}},
        {"and_ids": {"ids": [claim("iss", {"present_match": True}), claim("sub", {"present_match": True})]}},
    ]}}]}}]
    assert findings(build) == [("MSH401", "spec.rules[0].from[0].source.requestPrincipals")]


def test_several_sources_are_alternatives_and_fields_are_anded() -> None:
    build, workload = setup(policy("p", """
  rules:
  - from:
    - source: {namespaces: [shop], ipBlocks: [10.0.0.0/8]}
    - source: {principals: [cluster.local/ns/a/sa/b]}"""))
    assert only_policy(build, workload)["principals"] == [
        {"and_ids": {"ids": [
            {"or_ids": {"ids": [{"authenticated": {"principal_name": {"safe_regex": {"regex": ".*/ns/shop/.*"}}}}]}},
            {"or_ids": {"ids": [{"direct_remote_ip": {"address_prefix": "10.0.0.0", "prefix_len": 8}}]}},
        ]}},
        {"and_ids": {"ids": [
            {"or_ids": {"ids": [{"authenticated": {"principal_name": {"exact": "spiffe://cluster.local/ns/a/sa/b"}}}]}},
        ]}},
    ]


def test_trust_domain_replaces_cluster_local() -> None:
    build, workload = setup(_source("principals", "[cluster.local/ns/a/sa/b, other.org/ns/a/sa/b]"),
                            MeshConfig(trust_domain="example.org"))
    assert only_policy(build, workload)["principals"] == [{"and_ids": {"ids": [{"or_ids": {"ids": [
        {"authenticated": {"principal_name": {"exact": "spiffe://example.org/ns/a/sa/b"}}},
        {"authenticated": {"principal_name": {"exact": "spiffe://other.org/ns/a/sa/b"}}},
    ]}}]}}]


# -- operation (permissions) rows -------------------------------------------------------------


def _operation(field: str, values: str) -> str:
    return policy("p", f"  rules: [{{to: [{{operation: {{{field}: {values}}}}}]}}]")


@pytest.mark.parametrize(("field", "values", "rules"), [
    ("paths", '[/exact, "/pre*", "*.png", "*"]',
     [{"or_rules": {"rules": [
         {"url_path": {"path": {"exact": "/exact"}}},
         {"url_path": {"path": {"prefix": "/pre"}}},
         {"url_path": {"path": {"suffix": ".png"}}},
         {"url_path": {"path": {"safe_regex": {"regex": ".+"}}}},
     ]}}]),
    ("paths", '["/users/{*}/orders/{**}"]',
     [{"or_rules": {"rules": [{"uri_template": {
         "name": "envoy.path.match.uri_template.uri_template_matcher",
         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
                          "path_template": "/users/*/orders/**"}}}]}}]),
    ("notPaths", "[/healthz]",
     [{"not_rule": {"or_rules": {"rules": [{"url_path": {"path": {"exact": "/healthz"}}}]}}}]),
    ("methods", '[GET, "*"]',
     [{"or_rules": {"rules": [{"header": {"name": ":method", "string_match": {"exact": "GET"}}},
                              {"header": {"name": ":method", "present_match": True}}]}}]),
    ("hosts", '[api.example.com, "*.example.com", "internal*"]',
     [{"or_rules": {"rules": [
         {"header": {"name": ":authority", "string_match": {"exact": "api.example.com", "ignore_case": True}}},
         {"header": {"name": ":authority", "string_match": {"suffix": ".example.com", "ignore_case": True}}},
         {"header": {"name": ":authority", "string_match": {"prefix": "internal", "ignore_case": True}}},
     ]}}]),
    ("ports", '["9080", "8080"]',
     [{"or_rules": {"rules": [{"destination_port": 9080}, {"destination_port": 8080}]}}]),
    ("notPorts", '["15020"]',
     [{"not_rule": {"or_rules": {"rules": [{"destination_port": 15020}]}}}]),
])
def test_operation_field(field: str, values: str, rules: list[Json]) -> None:
    build, workload = setup(_operation(field, values))
    assert only_policy(build, workload) == {"permissions": [{"and_rules": {"rules": rules}}],
                                            "principals": [ANY_PRINCIPAL]}
    assert build.losses.findings == []


def test_several_operations_are_alternatives() -> None:
    build, workload = setup(policy("p", "  rules: [{to: [{operation: {methods: [GET]}}, {operation: {ports: ['8080']}}]}]"))
    assert only_policy(build, workload)["permissions"] == [
        {"and_rules": {"rules": [{"or_rules": {"rules": [
            {"header": {"name": ":method", "string_match": {"exact": "GET"}}}]}}]}},
        {"and_rules": {"rules": [{"or_rules": {"rules": [{"destination_port": 8080}]}}]}},
    ]


# -- when conditions ---------------------------------------------------------------------


def _when(key: str, values: str, negate: bool = False) -> str:
    field = "notValues" if negate else "values"
    return policy("p", f"""
  rules:
  - to: [{{operation: {{methods: [GET]}}}}]
    when: [{{key: "{key}", {field}: {values}}}]""")


GET = {"or_rules": {"rules": [{"header": {"name": ":method", "string_match": {"exact": "GET"}}}]}}


@pytest.mark.parametrize(("key", "values", "negate", "permission", "principal"), [
    ("destination.ip", "[10.0.0.1]", False,
     {"or_rules": {"rules": [{"destination_ip": {"address_prefix": "10.0.0.1", "prefix_len": 32}}]}}, None),
    ("destination.port", '["9080"]', False, {"or_rules": {"rules": [{"destination_port": 9080}]}}, None),
    ("connection.sni", '["*.example.com"]', False,
     {"or_rules": {"rules": [{"requested_server_name": {"suffix": ".example.com"}}]}}, None),
    ("source.ip", "[10.1.0.0/16]", True, None,
     {"not_id": {"or_ids": {"ids": [{"direct_remote_ip": {"address_prefix": "10.1.0.0", "prefix_len": 16}}]}}}),
    ("remote.ip", "[198.51.100.1]", False, None,
     {"or_ids": {"ids": [{"remote_ip": {"address_prefix": "198.51.100.1", "prefix_len": 32}}]}}),
    ("source.namespace", "[shop]", False, None,
     {"or_ids": {"ids": [{"authenticated": {"principal_name": {"safe_regex": {"regex": ".*/ns/shop/.*"}}}}]}}),
    ("source.principal", "[cluster.local/ns/shop/sa/web]", False, None,
     {"or_ids": {"ids": [{"authenticated": {"principal_name": {"exact": "spiffe://cluster.local/ns/shop/sa/web"}}}]}}),
    ("request.headers[x-user]", '[alice, "adm*"]', False, None,
     {"or_ids": {"ids": [{"header": {"name": "x-user", "string_match": {"exact": "alice"}}},
                         {"header": {"name": "x-user", "string_match": {"prefix": "adm"}}}]}}),
])
def test_when_condition(key: str, values: str, negate: bool, permission: Json | None, principal: Json | None) -> None:
    build, workload = setup(_when(key, values, negate))
    expected_permission = [GET] + ([permission] if permission else [])
    expected_principal = [principal] if principal else [{"any": True}]
    assert only_policy(build, workload) == {
        "permissions": [{"and_rules": {"rules": expected_permission}}],
        "principals": [{"and_ids": {"ids": expected_principal}}],
    }
    assert build.losses.findings == []


def test_when_claims_match_the_jwt_payload_string_or_list() -> None:
    build, workload = setup(_when("request.auth.claims[groups]", "[admins]"))
    assert only_policy(build, workload)["principals"] == [{"and_ids": {"ids": [{"or_ids": {"ids": [
        {"sourced_metadata": {"metadata_matcher": {
            "filter": "envoy.filters.http.jwt_authn", "path": [{"key": "payload"}, {"key": "groups"}],
            "value": {"or_match": {"value_matchers": [
                {"string_match": {"exact": "admins"}},
                {"list_match": {"one_of": {"string_match": {"exact": "admins"}}}},
            ]}},
        }}},
    ]}}]}}]
    assert findings(build) == [("MSH401", "spec.rules[0].when[0].values")]


def test_when_conditions_join_every_from_and_to() -> None:
    build, workload = setup(policy("p", """
  rules:
  - from: [{source: {namespaces: [a]}}, {source: {namespaces: [b]}}]
    to: [{operation: {ports: ["1"]}}, {operation: {ports: ["2"]}}]
    when: [{key: destination.port, values: ["9"]}, {key: source.ip, values: [10.0.0.1]}]"""))
    rbac = only_policy(build, workload)
    nine = {"or_rules": {"rules": [{"destination_port": 9}]}}
    ip = {"or_ids": {"ids": [{"direct_remote_ip": {"address_prefix": "10.0.0.1", "prefix_len": 32}}]}}
    assert [entry["and_rules"]["rules"][1] for entry in rbac["permissions"]] == [nine, nine]
    assert [entry["and_ids"]["ids"][1] for entry in rbac["principals"]] == [ip, ip]


def test_unknown_condition_key_drops_the_rule() -> None:
    build, workload = setup(policy("p", """
  action: DENY
  rules:
  - when: [{key: source.color, values: [blue]}]
  - to: [{operation: {methods: [DELETE]}}]"""))
    filters = http_rbac_filters(build, workload, 9080)
    assert list(filters[0]["typed_config"]["rules"]["policies"]) == ["ns[default]-policy[p]-rule[1]"]
    assert findings(build) == [("MSH400", "spec.rules[0].when[0].key")]


def test_bad_values_skip_an_allow_rule_and_are_ignored_in_a_deny_rule() -> None:
    build, workload = setup(
        policy("allow", "  rules: [{to: [{operation: {ports: ['http']}}]}, {}]")
        + policy("deny", "  action: DENY\n  rules: [{from: [{source: {ipBlocks: [not-an-ip, 10.0.0.0/8]}}]}]"))
    allow, deny = http_rbac_filters(build, workload, 9080)[::-1]
    assert list(allow["typed_config"]["rules"]["policies"]) == ["ns[default]-policy[allow]-rule[1]"]
    assert deny["typed_config"]["rules"]["policies"]["ns[default]-policy[deny]-rule[0]"]["principals"] == [
        {"and_ids": {"ids": [{"or_ids": {"ids": [
            {"direct_remote_ip": {"address_prefix": "10.0.0.0", "prefix_len": 8}}]}}]}}]
    assert findings(build) == [("MSH400", "spec.rules[0].from[0].source.ipBlocks"),
                               ("MSH400", "spec.rules[0].to[0].operation.ports")]


# -- TCP ports ----------------------------------------------------------------------------


def test_tcp_port_gets_network_rbac_with_tcp_stat_prefix() -> None:
    build, workload = setup(policy("p", "  action: DENY\n  rules: [{from: [{source: {namespaces: [legacy]}}]}]"))
    assert network_rbac_filters(build, workload, 5432) == [{
        "name": "envoy.filters.network.rbac",
        "typed_config": {
            "@type": RBAC_TCP,
            "stat_prefix": "tcp.",
            "rules": {"action": "DENY", "policies": {"ns[default]-policy[p]-rule[0]": {
                "permissions": [ANY_PERMISSION],
                "principals": [{"and_ids": {"ids": [{"or_ids": {"ids": [
                    {"authenticated": {"principal_name": {"safe_regex": {"regex": ".*/ns/legacy/.*"}}}}]}}]}}],
            }}},
        },
    }]


def test_tcp_allow_rule_with_http_fields_is_skipped() -> None:
    build, workload = setup(policy("p", """
  rules:
  - to: [{operation: {paths: [/api], ports: ["5432"]}}]
  - from: [{source: {requestPrincipals: ["*"]}}]
  - to: [{operation: {ports: ["5432"]}}]"""))
    assert network_rbac_filters(build, workload, 5432)[0]["typed_config"]["rules"] == {
        "action": "ALLOW", "policies": {"ns[default]-policy[p]-rule[2]": {
            "permissions": [{"and_rules": {"rules": [{"or_rules": {"rules": [{"destination_port": 5432}]}}]}}],
            "principals": [ANY_PRINCIPAL],
        }}}
    assert findings(build) == [("MSH401", "spec.rules[0].to[0].operation.paths"),
                               ("MSH401", "spec.rules[1].from[0].source.requestPrincipals")]
    assert all("skips rule" in f.message for f in build.losses.findings)


def test_tcp_allow_with_every_rule_skipped_denies_everything() -> None:
    build, workload = setup(policy("p", "  rules: [{to: [{operation: {methods: [GET]}}]}]"))
    assert network_rbac_filters(build, workload, 5432)[0]["typed_config"]["rules"] == {
        "action": "ALLOW", "policies": {}}


def test_tcp_deny_ignores_http_fields() -> None:
    build, workload = setup(policy("p", """
  action: DENY
  rules:
  - to: [{operation: {methods: [GET], ports: ["5432"]}}]
    when: [{key: "request.headers[x-a]", values: [b]}]"""))
    assert only_policy(build, workload, 5432, tcp=True) == {
        "permissions": [{"and_rules": {"rules": [{"or_rules": {"rules": [{"destination_port": 5432}]}}]}}],
        "principals": [ANY_PRINCIPAL],
    }
    assert findings(build) == [("MSH401", "spec.rules[0].to[0].operation.methods"),
                               ("MSH401", "spec.rules[0].when[0].values")]
    assert all("ignores it" in f.message for f in build.losses.findings)


def test_tcp_deny_with_only_http_fields_denies_every_connection() -> None:
    build, workload = setup(policy("p", "  action: AUDIT\n  rules: [{to: [{operation: {paths: [/x]}}]}]"))
    assert only_policy(build, workload, 5432, tcp=True) == {"permissions": [ANY_PERMISSION],
                                                            "principals": [ANY_PRINCIPAL]}


def test_same_policy_on_http_port_keeps_http_fields() -> None:
    build, workload = setup(policy("p", "  rules: [{to: [{operation: {methods: [GET]}}]}]"))
    assert only_policy(build, workload, 9080)["permissions"] == [{"and_rules": {"rules": [GET]}}]
    assert build.losses.findings == []
