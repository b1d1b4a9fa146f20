"""An Istio webhook for an external control plane has no usable HTTPS URL.

## Why it matters
On a remote cluster of an external (or primary-remote) control plane, the injector
and validation webhooks reach istiod by URL (`clientConfig.url`) instead of by a
local Service. A missing URL, a URL that is not `https://`, or one with no host makes
every call fail: pods are created without their proxy (or not at all) and Istio
resources go unvalidated. This is `istioctl analyze`'s IST0163
(InvalidExternalControlPlaneConfig).

## Example
```yaml
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector-external-istiod}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: {url: "http://istiod.example.com:15017/inject"}   # not https
```

## Fix
Point the webhook at the external istiod's HTTPS address
(`https://<istiod host>:15017/inject/cluster/<cluster>/net/<network>`), as
`istioctl install` does with `values.global.remotePilotAddress`.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, Webhook, dct, live_check, webhooks

RULE = Rule("MSH507", "invalid-external-control-plane-webhook", Severity.ERROR, __doc__, istio_code="IST0163")


def external_webhooks(ctx: LiveAnalysis) -> Iterator[Webhook]:
    """Istio's injector and validator webhooks that reach istiod by URL (external control plane)."""
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for hook in webhooks(ctx.state, kind):
            client = dct(hook.data.get("clientConfig"))
            istio = hook.name.endswith(".istio.io") or "istio" in hook.config.name
            if istio and ("url" in client or hook.config.name.endswith("external-istiod")) and "service" not in client:
                yield hook


@live_check(RULE, needs=("admissionregistration.k8s.io/MutatingWebhookConfiguration",
                         "admissionregistration.k8s.io/ValidatingWebhookConfiguration"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    for hook in external_webhooks(ctx):
        url = dct(hook.data.get("clientConfig")).get("url")
        where = hook.path + ("clientConfig",)
        if not isinstance(url, str) or not url.strip():
            problem = "has neither a url nor a service"
        else:
            parts = urlsplit(url)
            where += ("url",)
            if parts.scheme != "https":
                problem = f"url {url!r} is not https (the API server calls webhooks over TLS only)"
            elif not parts.hostname:
                problem = f"url {url!r} has no host"
            else:
                continue
        yield RULE.at(
            hook.config, where,
            f"webhook {hook.name!r} of {hook.config.name} {problem}: injection and validation through it fail",
        )
