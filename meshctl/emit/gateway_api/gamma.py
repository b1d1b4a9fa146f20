"""How Istio and Linkerd read the Service-parented (GAMMA) routes this back-end writes.

Both meshes read a ``gateway.networking.k8s.io`` HTTPRoute whose parent is a Service,
but not identically (reference §4.2). The route is written to work for Istio, which reads
everything emitted here; what Linkerd (or GAMMA itself) reads differently is noted
once per emitted route, at the VirtualService:

- a consumer route (route namespace other than the Service's) serves only its own
  namespace's clients, where Istio applied the VirtualService to every namespace it was
  exported to; a producer route serves every namespace, where ``exportTo`` may have
  limited the VirtualService;
- URLRewrite, RequestMirror and CORS make Linkerd ignore the whole route;
- ``rules[].retry`` (and the per-try ``timeouts.backendRequest`` written with it) are
  read by Istio only; Linkerd reads ``retry.linkerd.io/*`` annotations;
- ``timeouts.request``: Linkerd reads it from 2.20; when every rule has the same
  timeout, the ``timeout.linkerd.io/request`` annotation (read by every Linkerd,
  ignored by Istio) is written as well, as the dual-mesh recipe asks;
- a rule left without backends: Istio answers 500, Linkerd forwards to the Service;
- redirect status codes 303/307/308 are newer than the Gateway API Linkerd reads.
"""

from __future__ import annotations

from meshctl.emit.gateway_api.context import Build
from meshctl.emit.gateway_api.placement import Placement
from meshctl.emit.gateway_api.rules import HttpRule
from meshctl.model.objects import Route

TIMEOUT_ANNOTATION = "timeout.linkerd.io/request"
LINKERD_DROPS = ("URLRewrite", "RequestMirror", "CORS")
NEW_REDIRECT_CODES = (303, 307, 308)


def linkerd_annotations(rules: list[HttpRule]) -> dict[str, str]:
    """``timeout.linkerd.io/request`` when every rule has the same request timeout."""
    timeouts = {rule.timeouts.get("request") for rule in rules}
    if len(timeouts) == 1 and None not in timeouts:
        return {TIMEOUT_ANNOTATION: str(timeouts.pop())}
    return {}


def notes(build: Build, route: Route, placement: Placement, name: str, rules: list[HttpRule]) -> None:
    where = route.origin
    what = f"HTTPRoute {placement.namespace}/{name}"
    services = ", ".join(f"{s.namespace}/{s.name}" for s in placement.services)
    if placement.own_clients is not None and placement.source_namespace is None:
        if not set(route.export_to) <= {".", route.namespace} or not route.export_to:
            build.losses.approximated(
                where, f"{what} has a parent Service in another namespace ({services}): a consumer route, "
                       f"used only by clients in {placement.namespace}; Istio applied the VirtualService to the "
                       "clients of every namespace it is exported to",
            )
    elif placement.own_clients is None and route.export_to and "*" not in route.export_to:
        build.losses.approximated(
            where.at("spec", "exportTo"), f"{what} is a producer route, used by clients in every namespace; "
                                          f"exportTo {', '.join(route.export_to)} limited the VirtualService",
        )
    kinds = sorted({f["type"] for r in rules for f in _filters(r) if f["type"] in LINKERD_DROPS})
    if kinds:
        build.losses.approximated(
            where, f"{what} uses {', '.join(kinds)}: Istio applies it, Linkerd ignores the whole route (its "
                   "Service then gets Linkerd's default routing)",
        )
    if any(r.retry is not None for r in rules):
        build.losses.approximated(
            where, f"{what}: rules[].retry (and timeouts.backendRequest, its per-try timeout) are applied by "
                   "Istio; Linkerd reads retries only from retry.linkerd.io annotations",
        )
    timed = [r for r in rules if "request" in r.timeouts]
    if timed and not linkerd_annotations(rules) and _version(build.options.linkerd_version) < (2, 20):
        build.losses.approximated(
            where, f"{what}: Linkerd {build.options.linkerd_version} ignores timeouts.request on Gateway API "
                   f"routes (read from 2.20); the rules' timeouts differ, so no route-wide {TIMEOUT_ANNOTATION} "
                   "annotation stands in for them",
        )
    for rule in rules:
        if not rule.forwards:
            build.losses.approximated(
                rule.source.origin, f"{what}: a rule without backendRefs gets 500 from Istio, while Linkerd "
                                    "forwards its requests to the parent Service",
            )
        for item in rule.filters:
            code = item.get("requestRedirect", {}).get("statusCode")
            if code in NEW_REDIRECT_CODES:
                build.losses.approximated(
                    rule.source.redirect.origin if rule.source.redirect else rule.source.origin,
                    f"{what}: redirect status {code} is a Gateway API v1.5 value; Linkerd reads Gateway API up "
                    "to 1.2.1 and ignores the route",
                )


def _filters(rule: HttpRule) -> list[dict[str, object]]:
    return [*rule.filters, *(f for ref in rule.backend_refs for f in ref.get("filters", []))]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())
