"""An Istio webhook reaches an external control plane by IP address instead of host name.

## Why it matters
The API server verifies the webhook's TLS certificate against the URL's host. istiod's
certificate names host names; an IP address in `clientConfig.url` either fails
verification (every injection and validation fails) or pins the webhook to an address
that changes when the external control plane's load balancer is recreated. This is
`istioctl analyze`'s IST0164 (ExternalControlPlaneAddressIsNotAHostname).

## Example
```yaml
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: {url: "https://203.0.113.10:15017/inject/cluster/remote/net/net1"}
```

## Fix
Use a DNS name that resolves to the external istiod and that its certificate names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, dct, live_check
from meshctl.rules.live.msh507_invalid_external_control_plane_webhook import external_webhooks

RULE = Rule("MSH508", "external-control-plane-address-is-ip", Severity.WARNING, __doc__, istio_code="IST0164")


@live_check(RULE, needs=("admissionregistration.k8s.io/MutatingWebhookConfiguration",
                         "admissionregistration.k8s.io/ValidatingWebhookConfiguration"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    for hook in external_webhooks(ctx):
        url = dct(hook.data.get("clientConfig")).get("url")
        host = urlsplit(url).hostname if isinstance(url, str) else None
        if not host:
            continue
        try:
            ipaddress.ip_address(host)
        except ValueError:
            continue
        yield RULE.at(
            hook.config, hook.path + ("clientConfig", "url"),
            f"webhook {hook.name!r} of {hook.config.name} calls the external control plane at IP address {host}: "
            "use a host name its certificate names",
        )
