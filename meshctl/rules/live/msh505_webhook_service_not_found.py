"""An Istio or Linkerd admission webhook points at a Service or port that does not exist.

## Why it matters
The sidecar injectors and the configuration validators are admission webhooks that
the API server calls through a Service. When that Service is gone (an uninstalled
revision left its webhook behind) or lacks the port, every call fails: with
`failurePolicy: Fail` no pod (or no Istio resource) can be created in the namespaces
the webhook selects; with `Ignore` pods start silently without their proxy. This is
part of `istioctl analyze`'s IST0139 (InvalidWebhook).

Only webhooks whose name mentions istio or linkerd are checked, and only when the
Service's namespace was read.

## Example
```yaml
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector-canary}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod-canary, namespace: istio-system, port: 443}   # revision removed
```

## Fix
Delete the webhook configuration of the removed revision
(`istioctl uninstall --revision canary`, or `kubectl delete mutatingwebhookconfiguration
istio-sidecar-injector-canary`), or reinstall the Service it needs.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, dct, live_check, webhooks

RULE = Rule("MSH505", "webhook-service-not-found", Severity.ERROR, __doc__, istio_code="IST0139")


@live_check(RULE, needs=("/Service", "admissionregistration.k8s.io/MutatingWebhookConfiguration",
                         "admissionregistration.k8s.io/ValidatingWebhookConfiguration"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for hook in webhooks(state, kind):
            text = f"{hook.config.name} {hook.name}".lower()
            if "istio" not in text and "linkerd" not in text:
                continue
            ref = dct(dct(hook.data.get("clientConfig")).get("service"))
            name, namespace = ref.get("name"), ref.get("namespace")
            if not isinstance(name, str) or not isinstance(namespace, str) or not state.in_scope(namespace):
                continue
            where = hook.path + ("clientConfig", "service")
            service = state.find("/Service", namespace, name)
            if service is None:
                yield RULE.at(
                    hook.config, where,
                    f"webhook {hook.name!r} of {kind} {hook.config.name} calls Service {name}.{namespace}, which does "
                    f"not exist: {_impact(hook.data)}",
                )
                continue
            port = ref.get("port", 443)
            ports = [p.get("port") for p in service.data.get("spec", {}).get("ports", []) if isinstance(p, dict)]
            if port not in ports:
                yield RULE.at(
                    hook.config, where + ("port",),
                    f"webhook {hook.name!r} calls port {port} of Service {name}.{namespace}, which exposes "
                    f"{', '.join(map(str, ports)) or 'no port'}: {_impact(hook.data)}",
                )


def _impact(webhook: dict[str, object]) -> str:
    if webhook.get("failurePolicy", "Fail") == "Ignore":
        return "calls fail and are ignored (pods start without their proxy, resources go unvalidated)"
    return "every call fails, and the requests it selects are refused (failurePolicy: Fail)"
