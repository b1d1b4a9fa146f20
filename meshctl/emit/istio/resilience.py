"""Linkerd failure accrual (Service annotations) -> DestinationRule ``outlierDetection``.

Linkerd's consecutive failure accrual takes an endpoint out of the balancer after
``max-failures`` 5xx responses in a row and probes it again after a back-off; Envoy's
outlier detection ejects it after ``consecutive5xxErrors`` for ``baseEjectionTime``::

    balancer.linkerd.io/failure-accrual: consecutive                   outlierDetection:
    balancer.linkerd.io/failure-accrual-consecutive-max-failures: "5" ->  consecutive5xxErrors: 5
    balancer.linkerd.io/failure-accrual-consecutive-min-penalty: 2s      baseEjectionTime: 2s
                                                                         maxEjectionPercent: 100

Linkerd may trip every endpoint, hence ``maxEjectionPercent: 100``. Linkerd backs off
exponentially (with jitter) up to ``max-penalty``; Envoy multiplies the base time by the
number of ejections (up to 300s): reported. When the Service is a version of another one
(``destinations.py``), the subset gets the same policy. While a ServiceProfile exists for
the Service, Linkerd disables failure accrual, and nothing is emitted.
"""

from __future__ import annotations

from meshctl.emit.istio.build import Build, annotation_origin, source_of
from meshctl.emit.istio.values import istio_duration
from meshctl.emit.manifests import Json
from meshctl.model.objects import Service

ACCRUAL = "balancer.linkerd.io/failure-accrual"
PREFIX = "balancer.linkerd.io/failure-accrual-consecutive-"
MAX_FAILURES = PREFIX + "max-failures"
MIN_PENALTY = PREFIX + "min-penalty"
MAX_PENALTY = PREFIX + "max-penalty"
JITTER = PREFIX + "jitter-ratio"
ALPHA = "balancer.alpha.linkerd.io/failure-accrual"


def translate_accrual(build: Build, shadowed: dict[str, str]) -> None:
    if not build.takes_linkerd:
        return
    for service in sorted(build.mesh.services, key=lambda s: (s.namespace, s.name)):
        keys = [k for k in service.annotations if k.startswith((ACCRUAL, ALPHA))]
        if not keys:
            continue
        at = lambda key: annotation_origin(service.origin, key)  # noqa: E731
        if service.fqdn in shadowed:
            for key in sorted(keys):
                build.losses.dropped(at(key), f"Linkerd disables failure accrual while {shadowed[service.fqdn]} "
                                     "exists; not translated")
            continue
        mode = service.annotations.get(ACCRUAL)
        if mode not in ("consecutive", "unified"):
            what = f"failure-accrual mode {mode!r} is unknown" if mode else f"{ACCRUAL} is not set"
            build.losses.dropped(at(ACCRUAL if mode else sorted(keys)[0]), f"{what}: Linkerd does no failure "
                                 "accrual here; not translated")
            continue
        outlier = _outlier(build, service)
        if outlier is None:
            continue
        if mode == "unified":
            for key in sorted(k for k in keys if k.startswith(ALPHA)):
                build.losses.dropped(at(key), "Istio has no success-rate ejection; only the consecutive failures "
                                     "of the unified mode are translated")
        source = source_of("Service", service.namespace, service.name)
        draft = build.destination_rule(service.fqdn, service.namespace, source)
        if draft is None:
            build.losses.dropped(at(ACCRUAL), "an Istio DestinationRule of the inputs already configures the "
                                 "Service; failure accrual is not translated")
            continue
        draft.traffic_policy["outlierDetection"] = outlier
        if service.fqdn in build.subset_of:
            host, subset = build.subset_of[service.fqdn]
            parent = build.destination_rules.get(host)
            if parent is not None:
                parent.subset_policies.setdefault(subset, {})["outlierDetection"] = outlier
                parent.sources.append(source)


def _outlier(build: Build, service: Service) -> Json | None:
    values = service.annotations
    at = lambda key: annotation_origin(service.origin, key)  # noqa: E731
    failures = 7
    if MAX_FAILURES in values:
        raw = values[MAX_FAILURES].strip()
        if not raw.isdigit() or int(raw) < 1:
            build.losses.dropped(at(MAX_FAILURES), f"max-failures {raw!r} is not a positive integer; Linkerd's "
                                 "default 7 is used")
        else:
            failures = int(raw)
    penalty = "1s"
    if MIN_PENALTY in values:
        found = istio_duration(values[MIN_PENALTY])
        if found is None:
            build.losses.dropped(at(MIN_PENALTY), f"min-penalty {values[MIN_PENALTY]!r} is not a duration; "
                                 "Linkerd's default 1s is used")
        else:
            penalty = found
    for key in (MAX_PENALTY, JITTER):
        if key in values:
            build.losses.dropped(at(key), "Envoy's ejection time grows linearly with the number of ejections (up to "
                                 "300s), without jitter; not translated")
    build.losses.approximated(at(ACCRUAL), "Linkerd probes an ejected endpoint with real requests after an "
                              "exponential back-off; Envoy returns it after baseEjectionTime x its ejections")
    return {"consecutive5xxErrors": failures, "baseEjectionTime": penalty, "maxEjectionPercent": 100}
