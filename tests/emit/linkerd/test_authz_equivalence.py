"""Istio -> Linkerd keeps who may call what: the policy evaluator of meshctl/security decides
the same callers and requests against the Istio input and the Linkerd output (§5.3: STRICT
mTLS, one service account may GET /api/*, everyone else is refused, other ports closed)."""

from __future__ import annotations

from meshctl.emit.linkerd import translate
from meshctl.emit.manifests import render
from meshctl.emit.mesh_options import MeshOptions
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.security.authz import Caller, Outcome, Request, decide

WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      containers: [{name: api, image: api:1, ports: [{containerPort: 8080, name: http}, {containerPort: 9090, name: admin}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: web:1, ports: [{containerPort: 8080, name: http}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9090}]
"""

ISTIO = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api-readers, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]
    to: [{operation: {methods: [GET], paths: ["/api/*"], ports: ["8080"]}}]
---
""" + WORKLOADS

CALLERS = [Caller("shop", "web"), Caller("shop", "api"), Caller("other", "web"), Caller("shop", "web", meshed=False)]
REQUESTS = [Request("/api/items", "GET"), Request("/api/items", "POST"), Request("/admin", "GET")]


def _model(text: str):  # type: ignore[no-untyped-def]
    return lower(read_text(text, "mesh.yaml").docs)


def test_the_linkerd_policies_decide_as_istio_did() -> None:
    source = _model(ISTIO)
    out = translate(source, MeshOptions())
    target = _model(render(out.resources, "translated") + "---\n" + WORKLOADS)
    checked = 0
    for port in (8080, 9090):
        before_workload = next(w for w in source.workloads if w.name == "api")
        after_workload = next(w for w in target.workloads if w.name == "api")
        for caller in CALLERS:
            for request in REQUESTS:
                before = decide(source, caller, before_workload, port, request)
                after = decide(target, caller, after_workload, port, request)
                if before.outcome is Outcome.UNKNOWN:
                    continue
                assert (port, caller, request, after.outcome) == (port, caller, request, before.outcome)
                checked += 1
    assert checked >= 12
