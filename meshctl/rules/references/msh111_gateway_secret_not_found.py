"""A gateway's TLS server names a certificate Secret that does not exist.

## Why it matters
A TLS server on a gateway takes its certificate from a Kubernetes Secret: an Istio
Gateway's `tls.credentialName` is read in the namespace of the gateway *workload*
(usually `istio-system`, not the Gateway resource's namespace), a Gateway API
listener's `tls.certificateRefs` in the ref's namespace (the Gateway's by default).
Without the Secret the gateway has no certificate for that server: the listener is
not served (Istio) or not programmed (Gateway API), and clients get TLS handshake
failures. This is what `istioctl analyze` reports as IST0101
(ReferencedResourceNotFound) for a Gateway credential.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}     # the workload runs in istio-system
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}   # the Secret is in namespace shop
```

## Fix
Create the Secret (type `kubernetes.io/tls`) in the gateway workload's namespace, or
correct the name. The rule runs only when the inputs contain Secrets. Certificates are
often provisioned outside the manifests (cert-manager, external secrets, `kubectl
create secret tls`), so a missing Secret is an error when the inputs show the mistake
(a Secret of a close name in that namespace, or one of that name in another namespace)
and is otherwise reported as unresolved (info) unless `--closed-world` is given. When
the gateway workload is not among the inputs, the Gateway's namespace is assumed (the
root namespace for the default `istio: ingressgateway`).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.objects import Gateway, Listener, Secret, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._workload_selectors import WorkloadIndex

RULE = Rule(
    "MSH111",
    "gateway-secret-not-found",
    Severity.ERROR,
    __doc__,
    istio_code="IST0101",
    reads=frozenset({"gateways", "secrets", "workloads"}),
)


class _Secrets:
    """The Secrets of the inputs by name and by namespace (near misses, open world)."""

    def __init__(self, secrets: list[Secret]) -> None:
        self.namespaces_of: dict[str, set[str]] = defaultdict(set)
        self.names_in: dict[str, list[str]] = defaultdict(list)
        for secret in secrets:
            self.namespaces_of[secret.name].add(secret.namespace)
            self.names_in[secret.namespace].append(secret.name)

    def elsewhere(self, name: str, ns: str) -> list[str]:
        return sorted(self.namespaces_of.get(name, set()) - {ns})

    def close(self, name: str, ns: str) -> str | None:
        found = difflib.get_close_matches(name, sorted(self.names_in.get(ns, [])), n=1, cutoff=0.8)
        return found[0] if found else None


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.has_secrets:
        return  # the inputs carry no Secrets: certificates are provisioned elsewhere
    index: WorkloadIndex | None = None
    secrets = _Secrets(mesh.secrets)
    for gateway in mesh.gateways:
        if not any(listener.credential_names for listener in gateway.listeners):
            continue
        if gateway.source_kind == "IstioGateway":
            index = index or WorkloadIndex(mesh)
            yield from _istio(ctx, gateway, index, secrets)
        else:
            yield from _gateway_api(ctx, gateway, secrets)


def _istio(
    ctx: Analysis, gateway: Gateway, index: WorkloadIndex, secrets: _Secrets
) -> Iterator[Finding]:
    mesh = ctx.mesh
    workloads = index.anywhere(gateway.selector) if gateway.selector else []
    namespaces = sorted({w.namespace for w in workloads})
    assumed = ""
    if not namespaces:
        root = mesh.mesh_config.root_namespace
        if gateway.selector == {"istio": mesh.mesh_config.ingress_selector}:
            namespaces = [root]
            assumed = f"the default ingress gateway is not among the inputs; assumed in {root!r}"
        else:
            namespaces = [gateway.namespace]
            assumed = (
                "the gateway workload is not among the inputs; assumed in the Gateway's namespace"
            )
    for listener in gateway.listeners:
        for i, name in enumerate(listener.credential_names):
            if "://" in name or _placeholder(name):
                continue  # an SDS resource name or a template placeholder, not a Secret name
            for ns in namespaces:
                if mesh.has_secret(ns, name):
                    continue
                elsewhere = secrets.elsewhere(name, ns)
                if assumed and elsewhere:
                    continue  # the workload's namespace is a guess, and the Secret exists
                close = secrets.close(name, ns)
                where = _credential_origin(listener, i)
                if not elsewhere and not close:
                    yield RULE.on(
                        where,
                        f"credentialName {name!r} matches no Secret in namespace {ns!r}",
                        unresolved=True,
                    )
                    continue
                message = f"credentialName {name!r} matches no Secret in namespace {ns!r}"
                message += f" ({assumed})" if assumed else " (where the gateway workload runs)"
                if close:
                    message += f"; did you mean {close!r}?"
                else:
                    message += (
                        f"; it is in namespace {elsewhere[0]!r}, which the gateway does not read"
                    )
                yield RULE.on(where, message, related=_related(ctx, workloads, ns))


def _placeholder(name: str) -> bool:
    return any(mark in name for mark in ("$", "{{", "<"))


def _related(ctx: Analysis, workloads: list[Workload], ns: str) -> tuple[Related, ...]:
    local = [w for w in workloads if w.namespace == ns]
    return (ctx.related(local[0].origin, "gateway workload"),) if local else ()


def _credential_origin(listener: Listener, i: int) -> Origin:
    """`tls.credentialNames[i]` when that list is written, else `tls.credentialName`."""
    listed = listener.origin.at("tls", "credentialNames", i)
    here, tls = listed.location(), listener.origin.at("tls").location()
    if (here.line, here.column) != (tls.line, tls.column):  # a missing path falls back to `tls`
        return listed
    return listener.origin.at("tls", "credentialName")


def _gateway_api(ctx: Analysis, gateway: Gateway, secrets: _Secrets) -> Iterator[Finding]:
    mesh = ctx.mesh
    for listener in gateway.listeners:
        for i, ref in enumerate(listener.credential_names):
            ns, _, name = ref.partition("/")
            if mesh.has_secret(ns, name) or _placeholder(name):
                continue
            where = listener.origin.at("tls", "certificateRefs", i)
            close, elsewhere = secrets.close(name, ns), secrets.elsewhere(name, ns)
            if close:
                yield RULE.on(
                    where,
                    f"certificateRef {name!r} matches no Secret in namespace {ns!r}; "
                    f"did you mean {close!r}?",
                )
            elif elsewhere:
                yield RULE.on(
                    where,
                    f"certificateRef {name!r} matches no Secret in namespace {ns!r}; there is one in "
                    f"namespace {elsewhere[0]!r}: set the ref's namespace (a ReferenceGrant there "
                    "must allow it)",
                )
            else:
                yield RULE.on(
                    where,
                    f"certificateRef {name!r} matches no Secret in namespace {ns!r}",
                    unresolved=True,
                )
