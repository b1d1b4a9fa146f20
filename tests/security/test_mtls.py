"""The mTLS analysis: who sends what to whom, and what the server does with it.

Precedence tables (PeerAuthentication mesh < namespace < workload < port; DestinationRule
trafficPolicy < portLevelSettings < subset < subset port level), auto-mTLS on and off,
sidecar detection variants, client grouping, the table and the graph annotation.
"""

from __future__ import annotations

import pytest

from meshctl.graph import build
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import MeshConfig
from meshctl.security.mtls import (
    BROKEN,
    MTLS,
    PLAINTEXT,
    TLS,
    MtlsEdge,
    MtlsView,
    add_mtls,
    dataplane_of,
    mtls_edges,
    mtls_table,
    parse_ports,
    peer_mode,
    sidecar_of,
)

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: front, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
"""

CART = """\
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 8080, targetPort: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: cart, version: v1}}
  template:
    metadata: {labels: {app: cart, version: v1}}
    spec: {containers: [{name: cart, image: cart:1, ports: [{containerPort: 9080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: front}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep, namespace: legacy}
spec:
  selector: {matchLabels: {app: sleep}}
  template:
    metadata: {labels: {app: sleep}}
    spec: {containers: [{name: sleep, image: curl}]}
"""


def _mesh(text: str, config: MeshConfig | None = None) -> MeshModel:
    return lower(read_text(text, "mesh.yaml").docs, config)


def _pa(name: str, namespace: str, mode: str | None = None, selector: str | None = None,
        ports: dict[int, str] | None = None) -> str:
    spec = []
    if selector:
        spec.append(f"  selector: {{matchLabels: {{{selector}}}}}")
    if mode:
        spec.append(f"  mtls: {{mode: {mode}}}")
    if ports:
        spec.append("  portLevelMtls:")
        spec += [f"    {p}: {{mode: {m}}}" for p, m in ports.items()]
    body = "\n".join(spec) if spec else "  {}"
    return (f"---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}\n")


def _edge(edges: list[MtlsEdge], client: str, service: str = "cart.shop:8080") -> MtlsEdge:
    found = [e for e in edges if e.client.node_id == client and e.target == service]
    assert len(found) == 1, [(e.client.node_id, e.target) for e in edges]
    return found[0]


def _workload(mesh: MeshModel, name: str):  # type: ignore[no-untyped-def]
    return next(w for w in mesh.workloads if w.name == name)


# -- PeerAuthentication precedence ------------------------------------------------------
@pytest.mark.parametrize(
    ("policies", "mode", "level"),
    [
        ("", "PERMISSIVE", "default"),
        (_pa("default", "istio-system", "STRICT"), "STRICT", "mesh"),
        (_pa("default", "istio-system", "STRICT") + _pa("default", "shop", "PERMISSIVE"), "PERMISSIVE", "namespace"),
        (_pa("default", "istio-system", "PERMISSIVE") + _pa("default", "shop", "STRICT")
         + _pa("cart", "shop", "DISABLE", "app: cart"), "DISABLE", "workload"),
        (_pa("default", "shop", "STRICT") + _pa("cart", "shop", "STRICT", "app: cart", {9080: "PERMISSIVE"}),
         "PERMISSIVE", "port"),
        # UNSET (or no mtls) inherits from the level above
        (_pa("default", "istio-system", "STRICT") + _pa("default", "shop", "UNSET"), "STRICT", "mesh"),
        (_pa("default", "shop", "STRICT") + _pa("cart", "shop", None, "app: cart", {9080: "UNSET"}), "STRICT",
         "namespace"),
        # a selector policy in the root namespace applies to nothing
        (_pa("cart", "istio-system", "DISABLE", "app: cart"), "PERMISSIVE", "default"),
        # port-level modes key on the target (container) port, not the Service port
        (_pa("cart", "shop", "STRICT", "app: cart", {8080: "DISABLE"}), "STRICT", "workload"),
        # several at one level: the first by name wins (the inputs carry no creation time)
        (_pa("b-later", "shop", "STRICT") + _pa("a-first", "shop", "PERMISSIVE"), "PERMISSIVE", "namespace"),
    ],
    ids=["default", "mesh", "namespace", "workload", "port", "unset-ns", "unset-port", "root-selector",
         "service-port", "oldest"],
)
def test_peer_authentication_precedence(policies: str, mode: str, level: str) -> None:
    mesh = _mesh(NAMESPACES + CART + policies)
    view = MtlsView(mesh)
    cart = _workload(mesh, "cart-v1")
    decision = view.peer_decision(cart.namespace, cart.labels, 9080)
    assert (decision.mode, decision.level) == (mode, level)
    assert peer_mode(mesh, cart, 9080)[0] == mode
    assert (peer_mode(mesh, cart, 9080)[1] is None) == (level == "default")


def test_the_deciding_field_is_the_origin() -> None:
    mesh = _mesh(NAMESPACES + CART + _pa("cart", "shop", "STRICT", "app: cart", {9080: "DISABLE"}))
    _, origin = peer_mode(mesh, _workload(mesh, "cart-v1"), 9080)
    assert origin is not None and origin.location().path == "spec.portLevelMtls.9080.mode"


# -- DestinationRule precedence and lookup -----------------------------------------------
def _dr(name: str, namespace: str, host: str, body: str) -> str:
    return (f"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  host: {host}\n{body}")


TOP_DISABLE = "  trafficPolicy: {tls: {mode: DISABLE}}\n"
PORT_LEVEL = "  trafficPolicy:\n    tls: {mode: DISABLE}\n    portLevelSettings:\n"


@pytest.mark.parametrize(
    ("body", "subset", "mode", "level"),
    [
        ("  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}\n", None, None, "trafficPolicy"),
        (TOP_DISABLE, None, "DISABLE", "trafficPolicy"),
        (PORT_LEVEL + "    - {port: {number: 8080}, tls: {mode: ISTIO_MUTUAL}}\n", None, "ISTIO_MUTUAL",
         "portLevelSettings[8080]"),
        # a port-level entry replaces the whole policy: without tls it resets to auto-mTLS
        (PORT_LEVEL + "    - {port: {number: 8080}, connectionPool: {tcp: {maxConnections: 5}}}\n", None, None,
         "portLevelSettings[8080]"),
        # another port's entry does not apply
        (PORT_LEVEL + "    - {port: {number: 9999}, tls: {mode: ISTIO_MUTUAL}}\n", None, "DISABLE", "trafficPolicy"),
        (TOP_DISABLE + "  subsets:\n  - name: v1\n    labels: {version: v1}\n"
         "    trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n", "v1", "ISTIO_MUTUAL", "subset v1"),
        (TOP_DISABLE + "  subsets:\n  - name: v1\n    labels: {version: v1}\n    trafficPolicy:\n"
         "      tls: {mode: ISTIO_MUTUAL}\n      portLevelSettings:\n      - {port: {number: 8080}, tls: {mode: SIMPLE}}\n",
         "v1", "SIMPLE", "subset v1 portLevelSettings[8080]"),
        # a subset without tls keeps the DestinationRule's
        (TOP_DISABLE + "  subsets:\n  - name: v1\n    labels: {version: v1}\n", "v1", "DISABLE", "trafficPolicy"),
    ],
    ids=["no-tls", "host", "port", "port-resets", "other-port", "subset", "subset-port", "subset-inherits"],
)
def test_destination_rule_precedence(body: str, subset: str | None, mode: str | None, level: str) -> None:
    mesh = _mesh(NAMESPACES + CART + _dr("cart", "shop", "cart", body))
    view = MtlsView(mesh)
    rules = view.destination_rules("shop", "cart.shop.svc.cluster.local")
    tls = view.client_tls(rules, 8080, subset)
    assert (tls.mode, tls.level) == (mode, level)


def test_destination_rule_lookup_from_the_client_namespace() -> None:
    fqdn = "cart.shop.svc.cluster.local"
    text = NAMESPACES + CART + _dr("cart", "shop", "cart", TOP_DISABLE)
    text += _dr("cart-from-front", "front", fqdn, "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n")
    text += _dr("private", "shop", "cart", "  exportTo: [.]\n  trafficPolicy: {tls: {mode: SIMPLE}}\n")
    text += _dr("mesh-wide", "istio-system", "\"*.local\"", "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n")
    view = MtlsView(_mesh(text))
    assert [d.name for d in view.destination_rules("front", fqdn)] == ["cart-from-front"]  # its own first
    assert [d.name for d in view.destination_rules("legacy", fqdn)] == ["cart"]  # then the exported ones
    assert [d.name for d in view.destination_rules("shop", fqdn)] == ["cart", "private"]  # merged, first by name
    assert view.client_tls(view.destination_rules("shop", fqdn), 8080).mode == "DISABLE"
    # the root namespace's wildcard rule applies where nothing more specific is seen
    assert [d.name for d in view.destination_rules("legacy", "pay.billing.svc.cluster.local")] == ["mesh-wide"]


def test_namespaces_that_see_another_rule_get_their_own_group() -> None:
    fqdn = "cart.shop.svc.cluster.local"
    text = NAMESPACES + CART + _dr("cart-from-front", "front", fqdn, "  trafficPolicy: {tls: {mode: DISABLE}}\n")
    text += "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ops, labels: {istio-injection: enabled}}\n"
    text += ("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tool, namespace: ops}\nspec:\n"
             "  selector: {matchLabels: {app: tool}}\n  template:\n    metadata: {labels: {app: tool}}\n"
             "    spec: {containers: [{name: tool, image: tool:1}]}\n")
    edges = mtls_edges(_mesh(text))
    assert _edge(edges, "clients:front/meshed").outcome == PLAINTEXT
    merged = _edge(edges, "clients:*/meshed")
    assert merged.client.namespaces == ("ops", "shop") and merged.outcome == MTLS


# -- auto-mTLS ---------------------------------------------------------------------------
def test_auto_mtls_sends_mtls_exactly_to_pods_with_a_sidecar() -> None:
    text = NAMESPACES + CART + """\
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{name: tcp, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, sidecar.istio.io/inject: "false"}}
    spec: {containers: [{name: db, image: postgres}]}
"""
    edges = mtls_edges(_mesh(text))
    assert _edge(edges, "clients:*/meshed").outcome == MTLS
    db = _edge(edges, "clients:*/meshed", "db.shop:5432")
    assert db.outcome == PLAINTEXT and "auto-mTLS" in db.client_reason
    unmeshed = _edge(edges, "clients:*/unmeshed")  # legacy, and the db pod itself
    assert unmeshed.outcome == PLAINTEXT and unmeshed.client.namespaces == ("legacy", "shop")


def test_auto_mtls_off_sends_plaintext_and_breaks_strict() -> None:
    text = NAMESPACES + CART + _pa("default", "shop", "STRICT")
    on = mtls_edges(_mesh(text))
    off = mtls_edges(_mesh(text, MeshConfig(enable_auto_mtls=False)))
    assert _edge(on, "clients:*/meshed").outcome == MTLS
    assert _edge(off, "clients:*/meshed").outcome == BROKEN
    assert "auto-mTLS is off" in _edge(off, "clients:*/meshed").client_reason
    fixed = text + _dr("cart", "shop", "cart", "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n")
    assert _edge(mtls_edges(_mesh(fixed, MeshConfig(enable_auto_mtls=False))), "clients:*/meshed").outcome == MTLS


def test_auto_mtls_respects_a_disable_server() -> None:
    text = NAMESPACES + CART + _pa("cart", "shop", "DISABLE", "app: cart")
    assert _edge(mtls_edges(_mesh(text)), "clients:*/meshed").outcome == PLAINTEXT
    forced = text + _dr("cart", "shop", "cart", "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n")
    assert _edge(mtls_edges(_mesh(forced)), "clients:*/meshed").outcome == BROKEN


def test_a_disable_namespace_turns_auto_mtls_off_even_for_a_strict_workload() -> None:
    text = NAMESPACES + CART + _pa("default", "shop", "DISABLE") + _pa("cart", "shop", "STRICT", "app: cart")
    edge = _edge(mtls_edges(_mesh(text)), "clients:*/meshed")
    assert edge.outcome == BROKEN and "the namespace's mode is DISABLE" in edge.client_reason


@pytest.mark.parametrize(
    ("mode", "server", "outcome"),
    [
        ("DISABLE", "STRICT", BROKEN), ("SIMPLE", "STRICT", BROKEN), ("ISTIO_MUTUAL", "STRICT", MTLS),
        ("DISABLE", "PERMISSIVE", PLAINTEXT), ("SIMPLE", "PERMISSIVE", TLS), ("ISTIO_MUTUAL", "DISABLE", BROKEN),
    ],
)
def test_client_tls_against_server_modes(mode: str, server: str, outcome: str) -> None:
    text = NAMESPACES + CART + _pa("default", "shop", server)
    text += _dr("cart", "shop", "cart", f"  trafficPolicy: {{tls: {{mode: {mode}}}}}\n")
    assert _edge(mtls_edges(_mesh(text)), "clients:*/meshed").outcome == outcome


def test_strict_refuses_unmeshed_clients() -> None:
    edges = mtls_edges(_mesh(NAMESPACES + CART + _pa("default", "shop", "STRICT")))
    edge = _edge(edges, "clients:legacy/unmeshed")
    assert edge.outcome == BROKEN and edge.certain
    assert "STRICT from PeerAuthentication default.shop (namespace)" in edge.server_reason


def test_subset_edges_appear_only_where_the_subset_changes_tls() -> None:
    body = TOP_DISABLE + ("  subsets:\n  - name: v1\n    labels: {version: v1}\n"
                          "    trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n  - name: v2\n    labels: {version: v2}\n")
    edges = [e for e in mtls_edges(_mesh(NAMESPACES + CART + _dr("cart", "shop", "cart", body)))
             if e.client.node_id == "clients:*/meshed"]
    assert [(e.subset, e.outcome) for e in edges] == [(None, PLAINTEXT), ("v1", MTLS)]
    assert edges[0].client.namespaces == ("front", "shop")


# -- sidecars ----------------------------------------------------------------------------
def _pod(namespace: str, labels: str = "", annotations: str = "", extra: str = "", containers: str = "[{name: app, image: app}]") -> str:
    return f"""\
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app{', ' + labels if labels else ''}}}, annotations: {{{annotations}}}}}
    spec: {{containers: {containers}{', ' + extra if extra else ''}}}
"""


def _ns(name: str, labels: str = "", annotations: str = "") -> str:
    return (f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}, "
            f"annotations: {{{annotations}}}}}\n")


SERVICE_PROFILE = """\
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.c.svc.cluster.local, namespace: c}
spec:
  routes: [{name: GET /, condition: {method: GET, pathRegex: /}}]
"""


@pytest.mark.parametrize(
    ("text", "mesh", "certain"),
    [
        (_ns("a", "istio-injection: enabled") + _pod("a"), "istio", True),
        (_ns("a", "istio-injection: enabled") + _pod("a", 'sidecar.istio.io/inject: "false"'), None, True),
        (_ns("a", "istio-injection: enabled") + _pod("a", annotations='sidecar.istio.io/inject: "false"'), None, True),
        (_ns("a", "istio-injection: disabled") + _pod("a", 'sidecar.istio.io/inject: "true"'), None, True),
        (_ns("a", "istio.io/rev: canary") + _pod("a"), "istio", True),
        (_ns("a") + _ns("b", "istio-injection: enabled") + _pod("a", 'sidecar.istio.io/inject: "true"'), "istio", True),
        (_ns("a") + _ns("b", "istio-injection: enabled") + _pod("a", "istio.io/rev: stable"), "istio", True),
        (_ns("a") + _ns("b", "istio-injection: enabled") + _pod("a"), None, True),  # not enrolled, others are
        (_ns("a") + _pod("a"), None, False),  # no Namespace is labelled anywhere: injection is managed elsewhere
        # Istio namespaces are labelled, but Linkerd (also used) may inject this one at deploy time
        (_ns("a") + _ns("b", "istio-injection: enabled") + SERVICE_PROFILE + _pod("a"), "istio", False),
        (_pod("a"), None, False),  # nothing says which mesh: no proxy assumed
        (_pa("default", "a", "STRICT") + _pod("a"), "istio", False),  # namespace not among the inputs
        (_ns("a", "istio-injection: enabled") + _pod("a", extra="hostNetwork: true"), None, True),
        (_ns("kube-system", "istio-injection: enabled") + _pod("kube-system"), None, True),
        (_ns("a") + _pod("a", containers="[{name: app, image: app}, {name: istio-proxy, image: proxyv2}]"), "istio", True),
        (_ns("a", "istio.io/dataplane-mode: ambient") + _pod("a"), "ambient", True),
        (_ns("a", "istio.io/dataplane-mode: ambient") + _ns("b", "istio-injection: enabled")
         + _pod("a", "istio.io/dataplane-mode: none"), None, True),
        (_ns("a", "istio-injection: enabled, istio.io/dataplane-mode: ambient") + _pod("a"), "istio", True),
        (_ns("a", annotations="linkerd.io/inject: enabled") + _pod("a"), "linkerd", True),
        (_ns("a", annotations="linkerd.io/inject: enabled") + _pod("a", annotations="linkerd.io/inject: disabled"),
         None, True),
        (_pod("a", annotations="linkerd.io/inject: enabled"), "linkerd", True),
        (_ns("a") + _pod("a", containers="[{name: app, image: app}, {name: linkerd-proxy, image: proxy}]"), "linkerd", True),
    ],
    ids=["ns-enabled", "pod-label-false", "pod-annotation-false", "ns-disabled-wins", "ns-revision", "pod-opt-in",
         "pod-revision", "ns-unlabelled", "nothing-enrolled", "other-mesh-not-enrolled", "no-mesh", "ns-unknown", "host-network", "kube-system",
         "istio-proxy-container", "ambient", "ambient-opt-out", "sidecar-over-ambient", "linkerd-ns",
         "linkerd-pod-disabled", "linkerd-pod", "linkerd-proxy-container"],
)
def test_sidecar_detection(text: str, mesh: str | None, certain: bool) -> None:
    model = _mesh(text)
    workload = _workload(model, "app")
    assert sidecar_of(model, workload) == mesh
    assert dataplane_of(model, workload).certain is certain


def test_a_running_pod_without_proxy_has_none() -> None:
    text = _ns("a", "istio-injection: enabled") + """\
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: a}
spec: {containers: [{name: app, image: app}]}
status: {podIP: 10.0.0.4}
"""
    model = _mesh(text)
    assert sidecar_of(model, _workload(model, "app")) is None
    manifest = _mesh(text.replace("status: {podIP: 10.0.0.4}\n", ""))
    assert sidecar_of(manifest, _workload(manifest, "app")) == "istio"  # injected when it is created


def test_excluded_inbound_port_receives_tls_it_cannot_terminate() -> None:
    text = NAMESPACES + CART.replace(
        "    metadata: {labels: {app: cart, version: v1}}",
        '    metadata: {labels: {app: cart, version: v1}, annotations: {traffic.sidecar.istio.io/excludeInboundPorts: "9080"}}',
    )
    edge = _edge(mtls_edges(_mesh(text)), "clients:*/meshed")
    assert edge.outcome == BROKEN and "bypasses the proxy" in edge.server_reason
    assert parse_ports("80, 8000-8002,x") == {80, 8000, 8001, 8002} and parse_ports("*") is None


# -- Linkerd -----------------------------------------------------------------------------
LINKERD = """\
apiVersion: v1
kind: Namespace
metadata: {name: books, annotations: {linkerd.io/inject: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: load}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: books}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: books}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api, ports: [{name: http, containerPort: 7000}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gen, namespace: load}
spec:
  selector: {matchLabels: {app: gen}}
  template:
    metadata: {labels: {app: gen}}
    spec: {containers: [{name: gen, image: gen}]}
"""


def _server(access: str | None) -> str:
    policy = f"\n  accessPolicy: {access}" if access else ""
    return ("---\napiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: api-http, namespace: books}\n"
            f"spec:\n  podSelector: {{matchLabels: {{app: api}}}}\n  port: http{policy}\n")


OPEN_AUTHZ = """\
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: api-open, namespace: books}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: api-http}
  requiredAuthenticationRefs: []
"""


@pytest.mark.parametrize(
    ("extra", "unmeshed"),
    [
        ("", PLAINTEXT),  # Linkerd's default: all-unauthenticated
        (_server("all-authenticated"), BROKEN),
        (_server("all-unauthenticated"), PLAINTEXT),
        (_server(None), BROKEN),  # a Server denies by default
        (_server(None) + OPEN_AUTHZ, PLAINTEXT),
    ],
    ids=["default", "authenticated", "unauthenticated", "server-deny", "authorized"],
)
def test_linkerd_admission(extra: str, unmeshed: str) -> None:
    edges = mtls_edges(_mesh(LINKERD + extra))
    assert _edge(edges, "clients:books/meshed", "api.books:80").outcome == MTLS
    assert _edge(edges, "clients:load/unmeshed", "api.books:80").outcome == unmeshed


def test_linkerd_default_inbound_policy_from_the_namespace() -> None:
    text = LINKERD.replace("annotations: {linkerd.io/inject: enabled}",
                           "annotations: {linkerd.io/inject: enabled, config.linkerd.io/default-inbound-policy: all-authenticated}")
    view = MtlsView(_mesh(text))
    api = next(w for w in view.workloads if w.name == "api")
    inbound = view.linkerd_inbound(api, 7000, "http")
    assert inbound.policy == "all-authenticated" and not inbound.admits_unauthenticated and inbound.admits_meshed


# -- the table, the graph, determinism ----------------------------------------------------
def test_mtls_table() -> None:
    text = NAMESPACES + CART + _pa("default", "shop", "STRICT")
    table = mtls_table(mtls_edges(_mesh(text)))
    lines = table.splitlines()
    assert lines[0].split() == ["CLIENTS", "SERVER", "OUTCOME", "WHY"]
    assert lines[1].split("  ")[0] == "*/meshed (istio, front, shop)"
    assert lines[1].endswith("cart.shop:8080  mtls     client: Istio sidecar; auto-mTLS (no DestinationRule sets tls)")
    assert lines[3].startswith("legacy/unmeshed ") and " broken " in lines[3]
    assert lines[2].startswith(" " * 20) and lines[2].strip().startswith("server: cart-v1")
    assert lines[1].index("client:") == lines[2].index("server:")  # the reasons line up
    assert "server: cart-v1: Istio sidecar (namespace 'shop' istio-injection: enabled); STRICT from " \
           "PeerAuthentication default.shop (namespace) -> broken: plaintext to a STRICT server" in table
    assert "?" not in table  # every fact is in the inputs
    assumed = mtls_table(mtls_edges(_mesh(CART + _pa("default", "shop", "STRICT"))))
    assert "mtls?" in assumed and "? = decided from an assumed proxy" in assumed
    assert mtls_table([]).startswith("no connection to analyse")


def test_add_mtls_annotates_the_graph() -> None:
    mesh = _mesh(NAMESPACES + CART + _pa("default", "shop", "STRICT"))
    graph = build(mesh)
    add_mtls(graph, mesh, mtls_edges(mesh))
    assert list(graph.nodes("clients")) == ["clients:*/meshed", "clients:legacy/unmeshed"]
    found = {(a, b, d["outcome"], d["port"]) for a, b, d in graph.edges("mtls")}
    assert ("clients:legacy/unmeshed", "service:cart.shop.svc.cluster.local", "broken", 8080) in found
    assert graph.attrs("clients:legacy/unmeshed")["namespaces"] == ["legacy"]


def test_same_inputs_in_another_order_give_the_same_edges() -> None:
    docs = (NAMESPACES + CART + _pa("default", "shop", "STRICT")).split("---\n")
    forward = mtls_table(mtls_edges(_mesh("---\n".join(docs))))
    backward = mtls_table(mtls_edges(_mesh("---\n".join(reversed(docs)))))
    assert forward == backward


def test_no_mesh_among_the_inputs_gives_no_edges() -> None:
    assert mtls_edges(_mesh(CART)) == []
