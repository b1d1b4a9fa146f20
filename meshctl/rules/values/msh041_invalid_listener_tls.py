"""A listener's TLS settings do not fit its protocol.

## Why it matters
`tls` says how a listener handles TLS, so it belongs on HTTPS and TLS listeners only.
The API server rejects `tls` on an HTTP, TCP or UDP listener, a TLS listener without
`tls`, an HTTPS listener in `Passthrough` mode, and a listener that terminates TLS
(mode `Terminate`, the default) with neither `certificateRefs` nor `options` to
find a certificate. An HTTPS listener without `tls` gets past the API server, but
the specification requires `tls` there and implementations mark the listener
invalid: it has no certificate to serve. Two `tls.frontend.perPort` entries for one
port are rejected too, as it would be unclear which client validation applies.

## Example
```yaml
listeners:
- name: https
  port: 443
  protocol: HTTPS
  tls:
    mode: Passthrough     # HTTPS terminates TLS
```

## Fix
Use protocol `TLS` to pass TLS through to the backend; give terminating listeners
`certificateRefs` to a Secret; remove `tls` from HTTP, TCP and UDP listeners; keep
one `perPort` entry per port.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import (
    DEFAULT_TLS_MODE,
    LISTENER_OWNERS,
    entries,
    has,
    mapping,
    repeated,
    scalar,
    spec,
    text,
)

RULE = Rule("MSH041", "invalid-listener-tls", Severity.ERROR, __doc__, kinds=LISTENER_OWNERS)

WITHOUT_TLS = ("HTTP", "TCP", "UDP")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for index, listener in entries(spec(doc).get("listeners")):
        yield from _listener(doc, ("spec", "listeners", index), listener)
    yield from _per_port(doc)


def _listener(doc: SourceDoc, path: FieldPath, listener: dict[str, Any]) -> Iterator[Finding]:
    protocol = text(listener.get("protocol"))
    name = text(listener.get("name"), "?")
    if not has(listener, "tls"):
        if protocol == "HTTPS":
            yield RULE.at(
                doc,
                path,
                f"HTTPS listener {name!r} has no tls: set tls.certificateRefs to the Secret "
                "holding its certificate",
            )
        elif protocol == "TLS":
            yield RULE.at(
                doc,
                path,
                f"TLS listener {name!r} has no tls: set tls.mode: Passthrough, or "
                "tls.certificateRefs to terminate TLS",
            )
        return
    if protocol in WITHOUT_TLS:
        yield RULE.at(
            doc,
            (*path, "tls"),
            f"{protocol} listener {name!r} must not set tls; only HTTPS and TLS listeners use it",
            key=True,
        )
        return
    tls = listener["tls"]
    if not isinstance(tls, dict):
        return
    mode = text(tls.get("mode"), DEFAULT_TLS_MODE)
    if protocol == "HTTPS" and mode != "Terminate":
        yield RULE.at(
            doc,
            (*path, "tls", "mode"),
            f"HTTPS listener {name!r} must terminate TLS, not use mode {mode!r}; "
            "use protocol TLS to pass TLS through",
        )
    elif mode == "Terminate" and not tls.get("certificateRefs") and not tls.get("options"):
        yield RULE.at(
            doc,
            (*path, "tls"),
            f"listener {name!r} terminates TLS but has no tls.certificateRefs (or tls.options) "
            "to get a certificate from",
            key=True,
        )


def _per_port(doc: SourceDoc) -> Iterator[Finding]:
    frontend = mapping(mapping(spec(doc).get("tls")).get("frontend"))
    ports: dict[str | int, int] = {}
    for index, entry in entries(frontend.get("perPort")):
        port = scalar(entry.get("port"))
        if port is None:
            continue
        path = ("spec", "tls", "frontend", "perPort", index)
        if port in ports:
            yield repeated(
                RULE,
                doc,
                (*path, "port"),
                f"port {port} has two tls.frontend.perPort entries; keep one per port",
                ("spec", "tls", "frontend", "perPort", ports[port]),
            )
        else:
            ports[port] = index
