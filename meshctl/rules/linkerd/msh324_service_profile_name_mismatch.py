"""A ServiceProfile is named after a Service that does not exist.

## Why it matters
Linkerd finds a ServiceProfile by name: the destination controller looks up the
profile named after the fully qualified name of the Service a request goes to,
`<service>.<namespace>.svc.<cluster domain>`, in the client's namespace and then in
the Service's. A profile named after a Service that does not exist (a typo, a
renamed Service, the wrong namespace in the name) is never looked up: its routes,
retries, timeouts and per-route metrics silently do nothing.

## Example
```yaml
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: web.emojivoto.svc.cluster.local      # the Service is web-svc
  namespace: emojivoto
spec:
  routes:
  - name: GET /api/list
    condition: {method: GET, pathRegex: /api/list}
```

## Fix
Name the profile after the Service's fully qualified name
(`linkerd profile --template web-svc -n emojivoto` prints one). A profile for a
Service the inputs may simply not hold (its namespace is not defined by a Namespace
object among them, and no Service of a close name suggests a typo) is reported as
unresolved (info) unless `--closed-world` is given; a profile for an external host
(`api.example.com`) is left alone. A name that is not of the FQDN form at all is
MSH067's.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import close_name, missing_is_error, profiled_service

RULE = Rule(
    "MSH324", "service-profile-name-mismatch", Severity.WARNING, __doc__,
    reads=frozenset({"service_profiles", "services"}),
)

@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for profile in mesh.service_profiles:
        target = profiled_service(profile.name)
        if target is None:
            continue  # an external authority, or not an FQDN (MSH067)
        service, namespace, domain = target
        if mesh.service(service, namespace) is not None:
            continue
        where = profile.origin.at("metadata", "name")
        close = close_name(service, [s.name for s in mesh.services_in(namespace)])
        if not missing_is_error(ctx, namespace, close):
            yield RULE.on(
                where, f"ServiceProfile {profile.name!r} is for Service {service!r} of namespace {namespace!r}",
                unresolved=True,
            )
            continue
        message = (
            f"ServiceProfile {profile.name!r} is named after Service {service!r}, which does not exist in "
            f"namespace {namespace!r}, so Linkerd never uses the profile"
        )
        if close:
            message += f"; did you mean {close}.{namespace}.svc.{domain}?"
        yield RULE.on(where, message)
