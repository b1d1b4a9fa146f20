"""Authorization evaluation: Istio's precedence and matchers, Linkerd's Servers and defaults,
and the grouped allowed-caller edges."""

from __future__ import annotations

import pytest

from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import MeshConfig, Workload
from meshctl.security.authz import (
    ANY_REQUEST,
    Caller,
    Outcome,
    Request,
    add_authorization,
    allowed_callers,
    decide,
    match_linkerd_identity,
    match_path,
    match_principal,
    simple_match,
)

BASE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: tcp-db, port: 5432}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      serviceAccountName: cart
      containers: [{name: cart, image: cart:1, ports: [{containerPort: 8080}, {containerPort: 5432}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {serviceAccountName: web, containers: [{name: web, image: web:1}]}
"""

WEB = Caller("shop", "web")
OTHER_SA = Caller("shop", "batch")
PLAIN = Caller(None, None, meshed=False)
GET_API = Request("/api/items", method="GET")


def _mesh(extra: str = "", config: MeshConfig | None = None) -> MeshModel:
    docs = read_text(BASE + ("---\n" + extra if extra else ""), "test.yaml").docs
    return lower(docs, config)


def _cart(mesh: MeshModel) -> Workload:
    return next(w for w in mesh.workloads if w.name == "cart")


def _policy(name: str, body: str, namespace: str = "shop") -> str:
    return f"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\n{body}\n---\n"


def _outcome(extra: str, caller: Caller = WEB, request: Request = GET_API, port: int = 8080) -> Outcome:
    mesh = _mesh(extra)
    return decide(mesh, caller, _cart(mesh), port, request).outcome


ALLOW_WEB = _policy("allow-web", """spec:
  selector: {matchLabels: {app: cart}}
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]""")
DENY_API = _policy("deny-api", """spec:
  action: DENY
  rules: [{to: [{operation: {paths: [/api/*]}}]}]""")
CUSTOM_ALL = _policy("ext", """spec:
  action: CUSTOM
  provider: {name: opa}
  rules: [{to: [{operation: {paths: ["*"]}}]}]""")
AUDIT_ALL = _policy("audit", """spec:
  action: AUDIT
  rules: [{}]""")


# -- precedence ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policies", "caller", "expected"),
    [
        ("", WEB, Outcome.ALLOWED),  # no policy: allowed
        (AUDIT_ALL, WEB, Outcome.ALLOWED),  # AUDIT only logs
        (ALLOW_WEB, WEB, Outcome.ALLOWED),
        (ALLOW_WEB, OTHER_SA, Outcome.DENIED),  # an ALLOW applies and no rule matches
        (DENY_API, WEB, Outcome.DENIED),  # a matching DENY
        (ALLOW_WEB + DENY_API, WEB, Outcome.DENIED),  # DENY beats ALLOW
        (CUSTOM_ALL, WEB, Outcome.UNKNOWN),  # the external authorizer decides
        (CUSTOM_ALL + DENY_API, WEB, Outcome.DENIED),  # denied either way
        (CUSTOM_ALL + ALLOW_WEB, OTHER_SA, Outcome.DENIED),  # allowed by CUSTOM, then denied by ALLOW
    ],
    ids=["none", "audit", "allow", "allow-other", "deny", "deny-over-allow", "custom", "custom-deny",
         "custom-allow-miss"],
)
def test_precedence(policies: str, caller: Caller, expected: Outcome) -> None:
    assert _outcome(policies, caller) is expected


def test_allow_nothing_denies_every_caller() -> None:
    nothing = _policy("nothing", "spec: {}")
    assert _outcome(nothing) is Outcome.DENIED
    assert _outcome(nothing, PLAIN) is Outcome.DENIED


def test_allow_everything_rule() -> None:
    assert _outcome(_policy("all", "spec:\n  rules: [{}]"), PLAIN) is Outcome.ALLOWED


def test_deny_without_rules_never_matches() -> None:
    assert _outcome(_policy("d", "spec: {action: DENY}")) is Outcome.ALLOWED


def test_dry_run_policy_only_logs() -> None:
    dry = ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: dry\n  namespace: shop\n"
           "  annotations: {istio.io/dry-run: \"true\"}\nspec: {}\n---\n")
    assert _outcome(dry) is Outcome.ALLOWED


def test_reason_and_origins_name_the_policy() -> None:
    mesh = _mesh(ALLOW_WEB + DENY_API)
    decision = decide(mesh, WEB, _cart(mesh), 8080, GET_API)
    assert "deny-api.shop rule 0" in decision.reason
    assert decision.origins and decision.origins[0].path == ("spec", "rules", 0)


# -- matchers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/api/items", "/api/items", True),
        ("/api/items", "/api/items/1", False),
        ("/api/*", "/api/items", True),
        ("/api/*", "/apix", False),
        ("*.png", "/img/logo.png", True),
        ("*.png", "/img/logo.jpg", False),
        ("*", "/anything", True),
        ("/users/{*}/profile", "/users/42/profile", True),
        ("/users/{*}/profile", "/users/4/2/profile", False),
        ("/files/{**}", "/files/a/b/c", True),
        ("api/*", "/api/items", False),
    ],
)
def test_path_wildcard_forms(pattern: str, path: str, expected: bool) -> None:
    assert match_path(pattern, Request(path)) is expected


def test_paths_over_a_request_set() -> None:
    under_api = Request("/api", path_prefix=True)
    assert match_path("/*", under_api) is True  # every path under /api starts with /
    assert match_path("/api/v1/*", under_api) is None  # some do
    assert match_path("/admin/*", under_api) is False
    assert match_path("/api/*", ANY_REQUEST) is None


def test_methods_ports_and_hosts() -> None:
    body = """spec:
  selector: {matchLabels: {app: cart}}
  rules:
  - to: [{operation: {methods: [GET], ports: ["8080"], hosts: ["cart.shop.svc.cluster.local", "*.example.com"]}}]"""
    policy = _policy("ops", body)
    assert _outcome(policy, request=Request("/", method="GET", host="CART.shop.svc.cluster.local")) is Outcome.ALLOWED
    assert _outcome(policy, request=Request("/", method="GET", host="shop.example.com")) is Outcome.ALLOWED
    assert _outcome(policy, request=Request("/", method="POST", host="shop.example.com")) is Outcome.DENIED
    assert _outcome(policy, request=Request("/", method="GET", host="cart")) is Outcome.DENIED
    assert _outcome(policy, request=Request("/", method="GET")) is Outcome.UNKNOWN  # host not known


def test_principal_patterns() -> None:
    td = "cluster.local"
    assert match_principal("cluster.local/ns/shop/sa/web", "shop", "web", td) is True
    assert match_principal("cluster.local/ns/shop/sa/*", "shop", "web", td) is True
    assert match_principal("*/sa/web", "shop", "web", td) is True
    assert match_principal("*", "shop", "web", td) is True
    assert match_principal("cluster.local/ns/other/sa/web", "shop", "web", td) is False
    # the policy's cluster.local stands for the mesh's trust domain; another domain does not
    assert match_principal("cluster.local/ns/shop/sa/web", "shop", "web", "corp.example") is True
    assert match_principal("other.example/ns/shop/sa/web", "shop", "web", "corp.example") is False
    assert simple_match("team-*", "team-a") is True
    assert simple_match("*-prod", "shop-prod") is True


@pytest.mark.parametrize(
    ("source", "caller", "expected"),
    [
        ("{notPrincipals: [cluster.local/ns/shop/sa/web]}", WEB, Outcome.DENIED),
        ("{notPrincipals: [cluster.local/ns/shop/sa/web]}", OTHER_SA, Outcome.ALLOWED),
        # a client without an identity has no principal: notPrincipals matches it
        ("{notPrincipals: [cluster.local/ns/shop/sa/web]}", PLAIN, Outcome.ALLOWED),
        ("{notNamespaces: [shop]}", WEB, Outcome.DENIED),
        ("{notNamespaces: [shop]}", Caller("ops", "bot"), Outcome.ALLOWED),
        ("{notServiceAccounts: [shop/web]}", WEB, Outcome.DENIED),
        ("{serviceAccounts: [web]}", WEB, Outcome.ALLOWED),  # the policy's namespace
        ("{namespaces: [shop]}", PLAIN, Outcome.DENIED),
        ("{ipBlocks: [0.0.0.0/0]}", PLAIN, Outcome.ALLOWED),
        ("{ipBlocks: [10.0.0.0/8]}", WEB, Outcome.UNKNOWN),  # addresses are not in the inputs
        ("{notIpBlocks: [10.0.0.0/8]}", WEB, Outcome.UNKNOWN),
        ("{requestPrincipals: ['*']}", WEB, Outcome.UNKNOWN),  # the JWT is not in the inputs
    ],
)
def test_source_fields_and_not_forms(source: str, caller: Caller, expected: Outcome) -> None:
    body = f"spec:\n  selector: {{matchLabels: {{app: cart}}}}\n  rules: [{{from: [{{source: {source}}}]}}]"
    assert _outcome(_policy("src", body), caller) is expected


def test_not_operation_forms() -> None:
    body = """spec:
  selector: {matchLabels: {app: cart}}
  rules: [{to: [{operation: {notPaths: [/admin/*], notMethods: [DELETE]}}]}]"""
    policy = _policy("nots", body)
    assert _outcome(policy, request=Request("/api", method="GET")) is Outcome.ALLOWED
    assert _outcome(policy, request=Request("/admin/x", method="GET")) is Outcome.DENIED
    assert _outcome(policy, request=Request("/api", method="DELETE")) is Outcome.DENIED


def test_when_conditions() -> None:
    def when(cond: str) -> str:
        return _policy("w", f"spec:\n  selector: {{matchLabels: {{app: cart}}}}\n  rules: [{{when: [{cond}]}}]")

    assert _outcome(when("{key: source.namespace, values: [shop]}")) is Outcome.ALLOWED
    assert _outcome(when("{key: source.namespace, notValues: [shop]}")) is Outcome.DENIED
    assert _outcome(when("{key: destination.port, values: ['8080']}")) is Outcome.ALLOWED
    assert _outcome(when("{key: destination.port, values: ['80']}")) is Outcome.DENIED
    assert _outcome(when("{key: 'request.headers[x-user]', values: [admin]}")) is Outcome.UNKNOWN
    assert _outcome(when("{key: 'request.auth.claims[groups]', values: [admin]}")) is Outcome.UNKNOWN


def test_http_only_fields_on_a_tcp_port() -> None:
    allow = _policy("tcp-allow", """spec:
  selector: {matchLabels: {app: cart}}
  rules: [{to: [{operation: {methods: [GET]}}]}]""")
    deny = _policy("tcp-deny", """spec:
  selector: {matchLabels: {app: cart}}
  action: DENY
  rules: [{from: [{source: {namespaces: [shop]}}], to: [{operation: {paths: [/admin]}}]}]""")
    # ALLOW: the rule is dropped from the TCP chain, so nothing is allowed on 5432
    assert _outcome(allow, port=5432, request=ANY_REQUEST) is Outcome.DENIED
    assert _outcome(allow, port=8080, request=GET_API) is Outcome.ALLOWED
    # DENY: the HTTP-only field is ignored, so every connection from shop is denied on 5432
    assert _outcome(deny, port=5432, request=ANY_REQUEST) is Outcome.DENIED
    assert _outcome(deny, port=8080, request=GET_API) is Outcome.ALLOWED


# -- where policies apply -----------------------------------------------------------------
def test_root_namespace_policy_applies_mesh_wide() -> None:
    mesh_wide = _policy("deny-all", "spec: {}", namespace="istio-system")
    assert _outcome(mesh_wide) is Outcome.DENIED
    elsewhere = _policy("deny-all", "spec: {}", namespace="ops")
    assert _outcome(elsewhere) is Outcome.ALLOWED


def test_root_namespace_follows_mesh_config() -> None:
    policy = _policy("deny-all", "spec: {}", namespace="mesh-root")
    mesh = _mesh(policy, MeshConfig(root_namespace="mesh-root"))
    assert decide(mesh, WEB, _cart(mesh), 8080).outcome is Outcome.DENIED


def test_selector_scopes_a_policy() -> None:
    other = _policy("web-only", "spec:\n  selector: {matchLabels: {app: web}}")
    assert _outcome(other) is Outcome.ALLOWED


def test_target_refs() -> None:
    gateway = """apiVersion: apps/v1
kind: Deployment
metadata: {name: public-istio, namespace: shop}
spec:
  selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: public}}
  template:
    metadata: {labels: {gateway.networking.k8s.io/gateway-name: public}}
    spec: {containers: [{name: istio-proxy, image: auto, ports: [{containerPort: 80}]}]}
---
"""
    to_gateway = _policy("gw", """spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public}]""")
    mesh = _mesh(gateway + to_gateway)
    gw = next(w for w in mesh.workloads if w.name == "public-istio")
    assert decide(mesh, WEB, gw, 80).outcome is Outcome.DENIED
    assert decide(mesh, WEB, _cart(mesh), 8080).outcome is Outcome.ALLOWED
    # a Service targetRef is enforced by a waypoint only: sidecars ignore it
    to_service = _policy("svc", """spec:
  targetRefs: [{kind: Service, group: "", name: cart}]""")
    mesh = _mesh(to_service)
    cart_service = mesh.service("cart", "shop")
    assert decide(mesh, WEB, _cart(mesh), 8080, service=cart_service).outcome is Outcome.ALLOWED


def test_strict_mtls_refuses_clients_without_identity() -> None:
    strict = """apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
"""
    mesh = _mesh(strict)
    decision = decide(mesh, PLAIN, _cart(mesh), 8080)
    assert decision.outcome is Outcome.DENIED and decision.layer == "mtls"


def test_unknown_proxy_on_the_caller_side() -> None:
    assert _outcome(ALLOW_WEB, Caller("shop", "web", meshed=None)) is Outcome.UNKNOWN
    assert _outcome(ALLOW_WEB, Caller("shop", "batch", meshed=None)) is Outcome.DENIED


# -- Linkerd ------------------------------------------------------------------------------
LINKERD = """\
apiVersion: v1
kind: Namespace
metadata:
  name: books
  annotations: {linkerd.io/inject: enabled}
---
apiVersion: v1
kind: Service
metadata: {name: authors, namespace: books}
spec:
  selector: {app: authors}
  ports: [{name: service, port: 7001}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: authors, namespace: books}
spec:
  selector: {matchLabels: {app: authors}}
  template:
    metadata: {labels: {app: authors}}
    spec:
      serviceAccountName: authors
      containers: [{name: authors, image: books:1, ports: [{name: service, containerPort: 7001}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: webapp, namespace: books}
spec:
  selector: {matchLabels: {app: webapp}}
  template:
    metadata: {labels: {app: webapp}}
    spec: {serviceAccountName: webapp, containers: [{name: webapp, image: books:1}]}
"""
SERVER = """---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: authors, namespace: books}
spec:
  podSelector: {matchLabels: {app: authors}}
  port: service
"""
WEBAPP_ONLY = """---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: authors, namespace: books}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: authors}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: webapp}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: webapp, namespace: books}
spec:
  identities: [webapp.books.serviceaccount.identity.linkerd.cluster.local]
"""


def _linkerd(extra: str, caller: Caller, request: Request = ANY_REQUEST) -> Outcome:
    mesh = lower(read_text(LINKERD + extra, "l.yaml").docs)
    authors = next(w for w in mesh.workloads if w.name == "authors")
    return decide(mesh, caller, authors, 7001, request).outcome


def test_linkerd_default_policies() -> None:
    webapp, plain = Caller("books", "webapp"), Caller(None, None, meshed=False)
    assert _linkerd("", plain) is Outcome.ALLOWED  # cluster default all-unauthenticated
    annotated = LINKERD.replace("{linkerd.io/inject: enabled}",
                                "{linkerd.io/inject: enabled, config.linkerd.io/default-inbound-policy: "
                                "all-authenticated}")
    mesh = lower(read_text(annotated, "l.yaml").docs)
    authors = next(w for w in mesh.workloads if w.name == "authors")
    assert decide(mesh, webapp, authors, 7001).outcome is Outcome.ALLOWED
    assert decide(mesh, plain, authors, 7001).outcome is Outcome.DENIED
    denied = annotated.replace("all-authenticated", "deny")
    mesh = lower(read_text(denied, "l.yaml").docs)
    authors = next(w for w in mesh.workloads if w.name == "authors")
    assert decide(mesh, webapp, authors, 7001).outcome is Outcome.DENIED


def test_linkerd_server_closes_its_port() -> None:
    assert _linkerd(SERVER, Caller("books", "webapp")) is Outcome.DENIED  # accessPolicy deny by default
    open_server = SERVER + "  accessPolicy: all-unauthenticated\n"
    assert _linkerd(open_server, Caller(None, None, meshed=False)) is Outcome.ALLOWED


def test_linkerd_authorization_policy_on_server() -> None:
    assert _linkerd(SERVER + WEBAPP_ONLY, Caller("books", "webapp")) is Outcome.ALLOWED
    assert _linkerd(SERVER + WEBAPP_ONLY, Caller("books", "books")) is Outcome.DENIED
    assert _linkerd(SERVER + WEBAPP_ONLY, Caller(None, None, meshed=False)) is Outcome.DENIED


def test_linkerd_namespace_target_and_identity_refs() -> None:
    policy = """---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: ns, namespace: books}
spec:
  targetRef: {kind: Namespace, name: books}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: books}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: books, namespace: books}
spec:
  identityRefs: [{kind: Namespace, name: books}]
"""
    assert _linkerd(SERVER + policy, Caller("books", "webapp")) is Outcome.ALLOWED
    assert _linkerd(SERVER + policy, Caller("ops", "bot")) is Outcome.DENIED


def test_linkerd_missing_authentication_makes_a_policy_inert() -> None:
    inert = WEBAPP_ONLY.split("---\napiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication")[0]
    assert _linkerd(SERVER + inert, Caller("books", "webapp")) is Outcome.DENIED


def test_linkerd_route_authorization() -> None:
    route = """---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: authors-get, namespace: books}
spec:
  parentRefs: [{name: authors, kind: Server, group: policy.linkerd.io}]
  rules:
  - matches: [{path: {value: /authors.json}, method: GET}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: authors-get, namespace: books}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: authors-get}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: webapp}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: webapp, namespace: books}
spec:
  identities: ["*.books.serviceaccount.identity.linkerd.cluster.local"]
"""
    webapp = Caller("books", "webapp")
    assert _linkerd(SERVER + route, webapp, Request("/authors.json", method="GET")) is Outcome.ALLOWED
    assert _linkerd(SERVER + route, webapp, Request("/authors.json", method="DELETE")) is Outcome.DENIED  # 404
    assert _linkerd(SERVER + route, Caller("ops", "bot"), Request("/authors.json", method="GET")) is Outcome.DENIED


def test_linkerd_server_authorization() -> None:
    legacy = """---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: authors, namespace: books}
spec:
  server: {name: authors}
  client:
    meshTLS:
      serviceAccounts: [{name: webapp}]
"""
    assert _linkerd(SERVER + legacy, Caller("books", "webapp")) is Outcome.ALLOWED
    assert _linkerd(SERVER + legacy, Caller("books", "authors")) is Outcome.DENIED


def test_linkerd_identity_patterns() -> None:
    td = "cluster.local"
    assert match_linkerd_identity("*", "books", "webapp", td) is True
    assert match_linkerd_identity("*.books.serviceaccount.identity.linkerd.cluster.local", "books", "webapp", td)
    assert match_linkerd_identity("*.shop.serviceaccount.identity.linkerd.cluster.local", "books", "webapp", td) is False
    assert match_linkerd_identity("webapp.books.serviceaccount.identity.linkerd.cluster.local", "books", "webapp", td)
    assert match_linkerd_identity("spiffe://cluster.local/ns/books/sa/webapp", "books", "webapp", td) is True


# -- allowed callers and the graph ---------------------------------------------------------
def test_allowed_callers_groups_identities() -> None:
    mesh = _mesh(ALLOW_WEB)
    edges = [e for e in allowed_callers(mesh) if e.port == 80]
    table = {e.caller.key: e.decision.outcome for e in edges}
    assert table == {
        "sa:shop/web": Outcome.ALLOWED,
        "ns:shop": Outcome.DENIED,  # the other accounts of shop (cart)
        "outside": Outcome.DENIED,
        "unauthenticated": Outcome.DENIED,
    }


def test_open_service_is_one_anyone_edge() -> None:
    mesh = _mesh()
    edges = [e for e in allowed_callers(mesh) if e.port == 80]
    assert [(e.caller.key, e.decision.outcome) for e in edges] == [("anyone", Outcome.ALLOWED)]


def test_named_namespace_outside_the_inputs_is_its_own_group() -> None:
    policy = _policy("mon", """spec:
  selector: {matchLabels: {app: cart}}
  rules: [{from: [{source: {namespaces: [monitoring]}}]}]""")
    edges = {e.caller.key: e.decision.outcome for e in allowed_callers(_mesh(policy)) if e.port == 80}
    assert edges["named-ns:monitoring"] is Outcome.ALLOWED
    assert edges["outside"] is Outcome.DENIED


def test_add_authorization_edges() -> None:
    from meshctl.graph import build

    mesh = _mesh(ALLOW_WEB)
    graph = build(mesh)
    add_authorization(graph, mesh, allowed_callers(mesh))
    allowed = [(a, b) for a, b, _ in graph.edges("allowed")]
    assert ("workload:shop/Deployment/web", "service:cart.shop.svc.cluster.local") in allowed
    assert graph.attrs("service:cart.shop.svc.cluster.local")["authorization"] == "restricted"
