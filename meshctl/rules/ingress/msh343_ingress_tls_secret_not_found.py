"""An Ingress TLS entry names a Secret that is not where the controller reads it.

## Why it matters
The controller terminates TLS for the entry's hosts with the certificate in the Secret
`secretName`. Most controllers read it in the Ingress's own namespace; Istio's ingress
gateway reads it in *its* namespace (usually `istio-system`), like an Istio Gateway's
`credentialName`. Without the Secret there, ingress-nginx falls back to its self-signed
default certificate and Istio serves no HTTPS for those hosts: clients get certificate
errors or handshake failures.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls        # the Secret in namespace web is called shop-cert
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
```

## Fix
Create the `kubernetes.io/tls` Secret in the namespace the message names, or correct the
name. For an Ingress of Istio's class, create (or copy) the Secret in the ingress
gateway's namespace. The rule runs only when the inputs contain Secrets; a Secret no
input shows a mistake about (no close name, none of that name elsewhere) is reported as
unresolved (info) unless `--closed-world` is given, since certificates are often made
outside the manifests (cert-manager, external secrets).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.lower.ingress import istio_gateway_selector
from meshctl.model.mesh import selects
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.ingress._ingress import Entry, entries

RULE = Rule(
    "MSH343", "ingress-tls-secret-not-found", Severity.ERROR, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes", "secrets", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.has_secrets:
        return  # certificates are provisioned outside the inputs
    names: dict[str, list[str]] = {}
    spaces: dict[str, set[str]] = {}
    for secret in mesh.secrets:
        names.setdefault(secret.namespace, []).append(secret.name)
        spaces.setdefault(secret.name, set()).add(secret.namespace)
    for entry in entries(ctx):
        namespace, why = _reader(ctx, entry)
        for listener in entry.ingress.listeners:
            name = listener.secret_name
            if name is None or mesh.has_secret(namespace, name):
                continue
            where = listener.origin.at("secretName")
            close = difflib.get_close_matches(name, sorted(names.get(namespace, [])), n=1, cutoff=0.8)
            elsewhere = sorted(spaces.get(name, set()) - {namespace})
            message = f"secretName {name!r} matches no Secret in namespace {namespace!r} ({why})"
            if close:
                yield RULE.on(where, f"{message}; did you mean {close[0]!r}?")
            elif entry.ingress.namespace in elsewhere and entry.istio:
                yield RULE.on(where, f"{message}; it is in the Ingress's namespace {entry.ingress.namespace!r}, "
                                     "which Istio's ingress gateway does not read: create it in the gateway's "
                                     "namespace")
            elif elsewhere:
                yield RULE.on(where, f"{message}; there is one in namespace {elsewhere[0]!r}, which the "
                                     "controller does not read")
            else:
                yield RULE.on(where, f"secretName {name!r} names a Secret of namespace {namespace!r}", unresolved=True)


def _reader(ctx: Analysis, entry: Entry) -> tuple[str, str]:
    """The namespace the controller reads the Secret in, and why."""
    if not entry.istio:
        return entry.ingress.namespace, "the Ingress's namespace, where its controller reads it"
    selector = istio_gateway_selector(ctx.mesh)
    pods = sorted({w.namespace for w in ctx.mesh.workloads if w.labels and selects(selector, w.labels)})
    if pods:
        return pods[0], "Istio reads Ingress certificates in the ingress gateway's namespace"
    root = ctx.mesh.mesh_config.root_namespace
    return root, "Istio reads Ingress certificates in the ingress gateway's namespace, assumed to be the root namespace"
