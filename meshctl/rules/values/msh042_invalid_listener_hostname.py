"""A TCP or UDP listener sets a hostname.

## Why it matters
A listener matches its `hostname` against the TLS SNI or the HTTP Host header. Plain
TCP and UDP carry neither, so there is nothing to match, and the API server rejects
a TCP or UDP listener with a `hostname`.

## Example
```yaml
listeners:
- name: postgres
  port: 5432
  protocol: TCP
  hostname: db.example.com   # TCP has no host name to match
```

## Fix
Remove the hostname and give each TCP or UDP service its own port, or use a TLS
listener (SNI carries the hostname) if the clients speak TLS.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import LISTENER_OWNERS, entries, spec, text

RULE = Rule("MSH042", "invalid-listener-hostname", Severity.ERROR, __doc__, kinds=LISTENER_OWNERS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for index, listener in entries(spec(doc).get("listeners")):
        protocol = text(listener.get("protocol"))
        hostname = listener.get("hostname")
        if protocol in ("TCP", "UDP") and hostname not in (None, ""):
            name = text(listener.get("name"), "?")
            yield RULE.at(
                doc,
                ("spec", "listeners", index, "hostname"),
                f"{protocol} listener {name!r} cannot match hostname {hostname!r}: {protocol} "
                "carries no host name; remove it",
            )
