"""Two listeners share a name, or the same port, protocol and hostname.

## Why it matters
Routes attach to a listener by name (`parentRefs[].sectionName`), and a connection is
given to the listener whose port, protocol and hostname it matches. Two listeners with
the same name, or with the same port, protocol and hostname, leave both questions
without an answer: the API server rejects the Gateway or ListenerSet.

## Example
```yaml
listeners:
- name: web
  port: 80
  protocol: HTTP
- name: web-2
  port: 80
  protocol: HTTP          # same port, protocol and (no) hostname as "web"
```

## Fix
Give every listener its own name. Listeners may share a port and protocol when
their hostnames differ (`a.example.com` and `b.example.com`); otherwise merge them.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import LISTENER_OWNERS, entries, repeated, scalar, spec

RULE = Rule("MSH040", "duplicate-listener", Severity.ERROR, __doc__, kinds=LISTENER_OWNERS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    names: dict[str | int, int] = {}
    endpoints: dict[tuple[str | int, str | int, str | int | None], int] = {}
    for index, listener in entries(spec(doc).get("listeners")):
        path = ("spec", "listeners", index)
        name = scalar(listener.get("name"))
        if name is not None:
            if name in names:
                yield repeated(
                    RULE,
                    doc,
                    (*path, "name"),
                    f"listener name {name!r} is used twice; listener names must be unique",
                    ("spec", "listeners", names[name]),
                )
            else:
                names[name] = index
        port, protocol = scalar(listener.get("port")), scalar(listener.get("protocol"))
        if port is None or protocol is None:
            continue  # a schema violation, reported as such
        hostname = scalar(listener.get("hostname"))
        endpoint = (port, protocol, hostname)
        if endpoint in endpoints:
            where = f"hostname {hostname!r}" if hostname is not None else "no hostname"
            yield repeated(
                RULE,
                doc,
                path,
                f"listener {name!r} has the same port {port}, protocol {protocol} and {where} "
                "as another listener; give it a different hostname or merge the two",
                ("spec", "listeners", endpoints[endpoint]),
            )
        else:
            endpoints[endpoint] = index
