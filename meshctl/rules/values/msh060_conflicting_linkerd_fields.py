"""A Linkerd policy resource sets two fields of which only one may be set.

## Why it matters
Several Linkerd policy fields are alternatives, and the API server or Linkerd's
admission webhook rejects a resource that sets more than one of them:

- Server: `podSelector` or `externalWorkloadSelector` (v1beta2 and later); in
  v1alpha1, `podSelector` takes exactly one of `matchLabels` and `matchExpressions`.
- ServerAuthorization: `server.name` or `server.selector`; `client.meshTLS` or
  `client.unauthenticated: true` (and with neither the authorization admits no one);
  `meshTLS.unauthenticatedTLS: true` without `identities` or `serviceAccounts`.
- MeshTLSAuthentication: `identities` or `identityRefs`.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
spec:
  port: http
  podSelector:
    matchLabels: {app: web}
  externalWorkloadSelector:     # a Server selects pods or external workloads
    matchLabels: {app: web-vm}
```

## Fix
Keep one of the two. To cover both pods and external workloads, write two Servers;
to list identities by name and by reference, write two MeshTLSAuthentications.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Related, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import items, mapping, present

SERVER = "policy.linkerd.io/Server"
SERVER_AUTHORIZATION = "policy.linkerd.io/ServerAuthorization"
MESH_TLS_AUTHENTICATION = "policy.linkerd.io/MeshTLSAuthentication"

RULE = Rule(
    "MSH060",
    "conflicting-linkerd-fields",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({SERVER, SERVER_AUTHORIZATION, MESH_TLS_AUTHENTICATION}),
)

# Server versions without externalWorkloadSelector (the schema reports it as unknown there).
SELECTOR_ONLY_SERVERS = ("v1alpha1", "v1beta1")
SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
CLIENT_FIELDS = frozenset({"networks", "unauthenticated", "meshTLS"})


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    spec = mapping(doc.data.get("spec"))
    kind = doc.kind_key
    if kind == SERVER:
        yield from _server(doc, spec)
    elif kind == SERVER_AUTHORIZATION:
        yield from _server_authorization(doc, spec)
    elif kind == MESH_TLS_AUTHENTICATION:
        yield from _both(
            doc,
            ("spec",),
            spec,
            "identities",
            "identityRefs",
            "a MeshTLSAuthentication lists identities one way (write two for both)",
        )


def _server(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    if doc.version not in SELECTOR_ONLY_SERVERS:
        yield from _both(
            doc,
            ("spec",),
            spec,
            "podSelector",
            "externalWorkloadSelector",
            "a Server selects either pods or external workloads",
        )
        return
    selector = spec.get("podSelector")
    if doc.version != "v1alpha1" or not isinstance(selector, dict):
        return
    path = ("spec", "podSelector")
    labels, expressions = SELECTOR_FIELDS
    yield from _both(
        doc,
        path,
        selector,
        labels,
        expressions,
        "a v1alpha1 Server's podSelector takes exactly one of them",
    )
    # A selector with other keys has a misspelt field the schema reports (MSH011).
    known = set(selector) <= set(SELECTOR_FIELDS)
    if known and not any(present(selector, field) for field in SELECTOR_FIELDS):
        yield RULE.at(
            doc,
            path,
            "a v1alpha1 Server's podSelector needs matchLabels or matchExpressions "
            "(an empty selector is only allowed from v1beta1 on)",
        )


def _server_authorization(doc: SourceDoc, spec: dict[str, Any]) -> Iterator[Finding]:
    server = spec.get("server")
    if isinstance(server, dict):
        yield from _both(
            doc,
            ("spec", "server"),
            server,
            "name",
            "selector",
            "a ServerAuthorization picks its Servers by name or by selector",
        )
    client = spec.get("client")
    if not isinstance(client, dict):
        return
    path: FieldPath = ("spec", "client")
    if present(client, "meshTLS") and client.get("unauthenticated") is True:
        yield RULE.at(
            doc,
            (*path, "unauthenticated"),
            "unauthenticated: true and meshTLS are both set; Linkerd rejects an authorization "
            "that admits unauthenticated clients and also asks for mesh TLS",
            key=True,
        )
    elif (
        not present(client, "meshTLS")
        and client.get("unauthenticated") in (None, False)
        and set(client) <= CLIENT_FIELDS  # else a misspelt field the schema reports
    ):
        yield RULE.at(
            doc,
            path,
            "client needs meshTLS or unauthenticated: true; without either Linkerd ignores "
            "the authorization",
        )
    mesh_tls = client.get("meshTLS")
    if isinstance(mesh_tls, dict) and mesh_tls.get("unauthenticatedTLS") is True:
        for field in ("identities", "serviceAccounts"):
            if items(mesh_tls.get(field)):
                yield RULE.at(
                    doc,
                    (*path, "meshTLS", field),
                    f"unauthenticatedTLS: true and {field} are both set; Linkerd rejects "
                    "client identities on an authorization that requires none",
                    key=True,
                )


def _both(
    doc: SourceDoc, path: FieldPath, obj: dict[str, Any], first: str, second: str, why: str
) -> Iterator[Finding]:
    if present(obj, first) and present(obj, second):
        note = Related(
            f"{first} is set at {format_path((*path, first))}", doc.locate((*path, first), key=True)
        )
        yield RULE.finding(
            f"{first} and {second} are both set; {why}",
            doc.locate((*path, second), key=True),
            doc.ref,
            related=(note,),
        )
