"""A route sends traffic from a caller to a workload whose authorization denies that caller: the requests get 403.

## Why it matters
Routing and authorization are configured apart, often by different people. When a
route sends traffic that no policy lets through, every such request fails (HTTP 403
`RBAC: access denied` from Istio, 403 or a refused connection from Linkerd) although
both resources look right on their own. meshctl checks the traffic whose callers the
configuration states:

- a route attached to a gateway (Istio Gateway, Gateway API Gateway): the caller is
  the gateway's workload, found through the Gateway's selector or the
  `gateway.networking.k8s.io/gateway-name` label; when its workload is not among the
  inputs its identity is unknown, and only denials that hold for any identity count;
- a mesh VirtualService match with `sourceLabels` (and `sourceNamespace`): the callers
  are the workloads those labels select.

The request is what the route's match describes (path, prefix, method); the decision
follows Istio's precedence (CUSTOM, DENY, ALLOW, allow-nothing) or Linkerd's Servers,
routes and default policies. A denial is reported only when it holds for every request
the match describes and on every workload behind the destination; refusals by STRICT
mTLS of a client without a sidecar are the mTLS rules' business.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [shop-gateway]          # selector {istio: ingressgateway}
  http:
  - match: [{uri: {prefix: /cart}}]
    route: [{destination: {host: cart}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]   # not the gateway
```

## Fix
Allow the caller's identity in the destination's policy (for a gateway:
`cluster.local/ns/<gateway namespace>/sa/<gateway service account>`), or correct the
route.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import (
    Backend,
    MatchType,
    ParentRef,
    Protocol,
    RequestMatch,
    Route,
    RouteRule,
    Service,
    Workload,
)
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.security.authz import (
    ANY_NAME,
    ANY_REQUEST,
    GATEWAY_NAME_LABEL,
    AuthzIndex,
    Decision,
    Outcome,
    Request,
    Who,
    caller_meshed,
    evaluate,
    server_spec,
    target_port,
)

RULE = Rule(
    "MSH223", "routed-traffic-forbidden", Severity.ERROR, __doc__,
    reads=frozenset({
        "routes", "gateways", "services", "workloads", "destination_policies", "authorization_policies",
        "peer_authentications", "linkerd_servers", "linkerd_authorizations", "mesh_tls_authentications",
        "network_authentications", "server_authorizations", "service_accounts",
    }),
)


@dataclass(frozen=True)
class _Caller:
    label: str
    namespace: str
    account: str
    istio: bool | None
    linkerd: bool | None
    origin: Origin

    def who(self, dataplane: str) -> Who:
        meshed = self.linkerd if dataplane == "linkerd" else self.istio
        return Who(self.namespace, self.account, meshed, True)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not (mesh.authorization_policies or mesh.linkerd_servers or _linkerd_defaults(mesh)):
        return
    index: AuthzIndex = ctx.memo("security.authz.index", lambda: AuthzIndex(mesh))
    gateway_callers: dict[tuple[str, str, str], list[_Caller]] = {}
    cache: dict[tuple[object, ...], Decision] = {}
    for route in mesh.routes:
        if route.source_kind == "LinkerdHTTPRoute":
            continue  # inbound (Server) routes and Linkerd's outbound routes name no caller
        gateway_parents = [p for p in route.parents if p.kind == "Gateway"]
        for rule in route.rules:
            if not rule.backends or rule.delegate:
                continue
            # one finding per (destination, caller): the requests of several matches listed together
            denied: dict[tuple[int, str], tuple[Backend, _Caller, Service, int, Decision, list[Request]]] = {}
            for caller, request in _flows(ctx, index, route, rule, gateway_parents, gateway_callers):
                for k, backend in enumerate(rule.backends):
                    if backend.weight == 0:
                        continue
                    verdict = _verdict(mesh, index, cache, caller, request, backend)
                    if verdict is None:
                        continue
                    key = (k, caller.label)
                    if key not in denied:
                        denied[key] = (backend, caller, *verdict, [])
                    denied[key][5].append(request)
            for backend, caller, service, port, decision, requests in denied.values():
                shown = ", ".join(r.describe() for r in requests[:3]) + (", ..." if len(requests) > 3 else "")
                related: tuple[Related, ...] = tuple(
                    ctx.related(o, "denied by") for o in decision.origins[:2]
                ) + (ctx.related(caller.origin, "caller"),)
                yield RULE.on(
                    backend.host_origin,
                    f"{_route_label(route)} sends {shown} from {caller.label} to {service.name}.{service.namespace}:"
                    f"{port}, but authorization denies it (403): {decision.reason}",
                    related=related,
                )


def _linkerd_defaults(mesh: MeshModel) -> bool:
    return any("config.linkerd.io/default-inbound-policy" in ns.annotations for ns in mesh.namespaces.values())


def _route_label(route: Route) -> str:
    return f"{route.source_kind} {route.name!r}"


# -- who calls, with which requests ---------------------------------------------------------


def _flows(ctx: Analysis, index: AuthzIndex, route: Route, rule: RouteRule, gateway_parents: list[ParentRef],
           cache: dict[tuple[str, str, str], list[_Caller]]) -> Iterator[tuple[_Caller, Request]]:
    """(caller, request set) pairs the route rule sends to its backends, deduplicated."""
    seen: set[tuple[str, Request]] = set()
    matches: tuple[RequestMatch | None, ...] = rule.matches or (None,)
    for match in matches:
        request = _request(match) if rule.protocol in ("http", "grpc") else ANY_REQUEST
        callers: list[_Caller] = []
        if match is not None and match.source_labels:
            callers += _source_callers(ctx.mesh, index, route, match)
        else:
            for parent in gateway_parents:
                if match is not None and match.gateways and not _named_in(parent, match.gateways, route.namespace):
                    continue
                key = (parent.group, parent.namespace, parent.name)
                if key not in cache:
                    cache[key] = _gateway_callers(ctx.mesh, index, parent.group, parent.namespace, parent.name,
                                                  parent.origin)
                callers += cache[key]
        for caller in callers:
            if (caller.label, request) not in seen:
                seen.add((caller.label, request))
                yield caller, request


def _named_in(parent: ParentRef, gateways: tuple[str, ...], namespace: str) -> bool:
    for name in gateways:
        ns, _, short = name.rpartition("/")
        if short == parent.name and (ns or namespace) == parent.namespace:
            return True
    return False


def _request(match: RequestMatch | None) -> Request:
    if match is None:
        return ANY_REQUEST
    path, prefix = None, False
    if match.path is not None and not match.path.invert and not match.path.ignore_case:
        if match.path.type is MatchType.EXACT:
            path = match.path.value
        elif match.path.type is MatchType.PREFIX:
            path, prefix = match.path.value, True
    method = None
    if match.method is not None and match.method.type is MatchType.EXACT and not match.method.invert:
        method = match.method.value
    return Request(path=path, method=method, path_prefix=prefix)


def _gateway_callers(mesh: MeshModel, index: AuthzIndex, group: str, namespace: str, name: str,
                     origin: Origin) -> list[_Caller]:
    gateways = mesh.gateways_named(namespace, name)
    istio_api = group == "networking.istio.io"
    gateway = next((g for g in gateways if (g.source_kind == "Gateway") != istio_api), None)
    workloads: list[Workload] = []
    where = origin
    if gateway is not None:
        where = gateway.origin
        if istio_api and gateway.selector:
            spaces = sorted({w.namespace for w in mesh.workloads})
            workloads = [w for ns in spaces for w in mesh.workloads_selected(ns, gateway.selector)]
        elif not istio_api:
            workloads = mesh.workloads_selected(namespace, {GATEWAY_NAME_LABEL: name})
    label = f"gateway {namespace}/{name}"
    if not workloads:
        istio_class = istio_api or (gateway is not None and gateway.class_name == "istio")
        return [_Caller(f"{label} (its workload is not among the inputs)", ANY_NAME, ANY_NAME,
                        True if istio_class else None, None, where)]
    return _accounts(index, workloads, label)


def _source_callers(mesh: MeshModel, index: AuthzIndex, route: Route, match: RequestMatch) -> list[_Caller]:
    spaces = [match.source_namespace] if match.source_namespace else sorted({w.namespace for w in mesh.workloads})
    workloads = [w for ns in spaces for w in mesh.workloads_selected(ns, match.source_labels)]
    labels = ", ".join(f"{k}={v}" for k, v in sorted(match.source_labels.items()))
    return _accounts(index, workloads, f"sourceLabels {labels}")


def _accounts(index: AuthzIndex, workloads: list[Workload], label: str) -> list[_Caller]:
    by_account: dict[tuple[str, str], list[Workload]] = {}
    for w in workloads:
        by_account.setdefault((w.namespace, w.service_account), []).append(w)
    out = []
    for (ns, sa), members in sorted(by_account.items()):
        istio = _state(caller_meshed(index.mesh, w, "istio") for w in members)
        linkerd = _state(caller_meshed(index.mesh, w, "linkerd") for w in members)
        out.append(_Caller(f"{label} (service account {ns}/{sa})", ns, sa, istio, linkerd, members[0].origin))
    return out


def _state(values: Iterable[bool | None]) -> bool | None:
    found = set(values)
    return found.pop() if len(found) == 1 else None


# -- the decision at the destination ---------------------------------------------------------


def _verdict(mesh: MeshModel, index: AuthzIndex, cache: dict[tuple[object, ...], Decision], caller: _Caller,
             request: Request, backend: Backend) -> tuple[Service, int, Decision] | None:
    """The destination and the decision, when every workload behind it denies the flow."""
    services = mesh.services_for(backend.fqdn)
    if not services:
        return None
    service = services[0]
    workloads = _backend_workloads(mesh, service, backend)
    if not workloads:
        return None
    ports = [p for p in service.ports if backend.port is None or p.port == backend.port]
    if not ports:
        return None
    first: Decision | None = None
    for port in ports:
        for workload in workloads:
            target = target_port(port, workload)
            if target is None:
                return None
            spec = server_spec(index, workload, target, service, port.mesh_protocol)
            if spec.dataplane == "none" or (spec.protocol is not Protocol.UNKNOWN and not spec.protocol.is_http
                                            and request != ANY_REQUEST):
                return None
            key = (spec.key(), caller, request)
            if key not in cache:
                cache[key] = evaluate(index, spec, caller.who(spec.dataplane), request)
            decision = cache[key]
            if decision.outcome is not Outcome.DENIED or decision.layer != "authorization":
                return None
            first = first or decision
    assert first is not None
    return service, ports[0].port, first


def _backend_workloads(mesh: MeshModel, service: Service, backend: Backend) -> list[Workload]:
    workloads = mesh.workloads_of(service)
    if backend.subset:
        for policy in mesh.policies_for(service.fqdn):
            for subset in policy.subsets:
                if subset.name == backend.subset:
                    return [w for w in workloads if selects(subset.labels, w.labels)]
        return []
    return workloads
