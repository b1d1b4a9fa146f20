"""An Ingress TLS entry names a host or a Secret the API server does not accept.

## Why it matters
Each `tls` entry lists the hosts its certificate covers and the Secret that holds it.
The API server rejects the Ingress when a TLS host is not a lower-case DNS name (or a
wildcard other than a whole first label, `*.example.com`) and when `secretName` is not
a valid Secret name (a lower-case DNS-1123 subdomain). An empty `secretName` is allowed:
the controller then serves its default certificate (ingress-nginx), or skips the entry
(Istio).

## Example
```yaml
kind: Ingress
spec:
  tls:
  - hosts: ["*.Example.com"]   # upper case
    secretName: shop_cert      # '_' is not allowed in a Secret name
```

## Fix
Write the hosts in lower case, with a wildcard only as the first label, and name the
`kubernetes.io/tls` Secret of the Ingress's namespace by its real name.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._ingress import INGRESS_KINDS, dns_subdomain_problem, entries, spec
from meshctl.rules.values.msh074_invalid_ingress_host import host_problem

RULE = Rule("MSH075", "invalid-ingress-tls", Severity.ERROR, __doc__, kinds=INGRESS_KINDS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for i, tls in entries(spec(doc).get("tls")):
        hosts = tls.get("hosts")
        for j, host in enumerate(hosts if isinstance(hosts, list) else []):
            if isinstance(host, str):
                problem = host_problem(host) if host else "must not be empty"
                if problem:
                    yield RULE.at(doc, ("spec", "tls", i, "hosts", j), f"TLS host {host!r} {problem}")
        secret = tls.get("secretName")
        if isinstance(secret, str) and secret:
            problem = dns_subdomain_problem(secret)
            if problem:
                yield RULE.at(doc, ("spec", "tls", i, "secretName"), f"secretName {secret!r} is not a Secret "
                                                                      f"name: it {problem}")
