"""A backend reference to a Service has no port.

## Why it matters
A Service can expose several ports and Gateway API does not pick one for you: the
API server rejects a `backendRefs` entry, a RequestMirror `backendRef` or an
ExternalAuth `backendRef` that names a Service (the default kind) without `port`.

## Example
```yaml
rules:
- backendRefs:
  - name: reviews          # kind Service by default: which port?
```

## Fix
Add the Service port to send to: `port: 9080`.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import (
    DEFAULT_BACKEND_GROUP,
    DEFAULT_BACKEND_KIND,
    ROUTES,
    entries,
    filters,
    has,
    mapping,
    rules,
    text,
)

RULE = Rule("MSH045", "missing-backend-port", Severity.ERROR, __doc__, kinds=ROUTES)

FILTER_BACKENDS = ("requestMirror", "externalAuth")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for path, ref in _backend_refs(doc):
        group = text(ref.get("group"), DEFAULT_BACKEND_GROUP)
        kind = text(ref.get("kind"), DEFAULT_BACKEND_KIND)
        if group == "" and kind == "Service" and not has(ref, "port"):
            name = text(ref.get("name"), "?")
            yield RULE.at(
                doc,
                path,
                f"backend Service {name!r} has no port; a Service reference must say which "
                "port to send to",
            )


def _backend_refs(doc: SourceDoc) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for path, rule in rules(doc):
        for index, ref in entries(rule.get("backendRefs")):
            yield (*path, "backendRefs", index), ref
    for path, item in filters(doc):
        for name in FILTER_BACKENDS:
            backend = mapping(item.get(name)).get("backendRef")
            if isinstance(backend, dict):
                yield (*path, name, "backendRef"), backend
