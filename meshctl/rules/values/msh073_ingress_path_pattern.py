"""An Ingress path is written as a glob or a regular expression.

## Why it matters
`Exact` and `Prefix` paths are literal: `Prefix` `/api/*` matches only a path whose
segment is a literal `*`, and `/api/.*` only the literal characters `.*`, so the requests
meant for the pattern fall through to another path or get 404. With `ImplementationSpecific`
the meaning is the controller's: ingress-nginx reads a regular expression only with
`nginx.ingress.kubernetes.io/use-regex: "true"` (or a `rewrite-target`), GCE reads `/*`
at the end as a glob, Istio turns a path ending in `/*` or `.*` into a prefix and takes
anything else literally (an exact match). The same Ingress means something else on
another controller, which is what a migration to a mesh gateway runs into.

## Example
```yaml
kind: Ingress
spec:
  rules:
  - http:
      paths:
      - path: /api/*            # literal '*': /api/users does not match
        pathType: Prefix
        backend: {service: {name: api, port: {number: 8080}}}
```

## Fix
Use `pathType: Prefix` with the plain prefix (`/api`: it matches `/api` and `/api/...`
by whole segments) or `Exact`. Keep `ImplementationSpecific` for patterns only together
with what makes the controller read them (`use-regex: "true"` for ingress-nginx), and
know that another controller will read them differently.
"""

import re
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._ingress import INGRESS_KINDS, class_written, path_type, paths

RULE = Rule("MSH073", "ingress-path-pattern", Severity.WARNING, __doc__, kinds=INGRESS_KINDS)

# a glob star, or regex syntax that is no URL path character: ^ [..] (a|b) .+ {n} \ and a final $
PATTERN = re.compile(r"\*|\^|\\|\[[^\]]*\]|\([^)]*\|[^)]*\)|\.\+|\{\d*,?\d*\}|\$$")
NGINX_REGEX = ("nginx.ingress.kubernetes.io/use-regex", "nginx.ingress.kubernetes.io/rewrite-target")
GCE_CLASSES = ("gce", "gce-internal")
ISTIO_PREFIX_SUFFIXES = ("/*", ".*")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for where, item in paths(doc):
        value = item.get("path")
        kind = path_type(doc, item)
        if not isinstance(value, str) or not PATTERN.search(value):
            continue
        if kind in ("Exact", "Prefix"):
            yield RULE.at(doc, (*where, "path"), f"{kind} path {value!r} looks like a pattern, but {kind} paths "
                                                 "are literal: only a request for exactly those characters matches")
        elif kind == "ImplementationSpecific" and not _understood(doc, value):
            yield RULE.at(doc, (*where, "path"), f"ImplementationSpecific path {value!r} is a pattern whose meaning "
                                                 "depends on the controller (ingress-nginx: a regex only with "
                                                 "use-regex; GCE: a trailing '/*' glob; Istio: a prefix when it "
                                                 "ends in '/*' or '.*', else the literal path)")


def _understood(doc: SourceDoc, value: str) -> bool:
    """The Ingress says which reading it wants: nginx's regex annotations, GCE's glob, Istio's suffixes."""
    annotations = doc.annotations
    if annotations.get(NGINX_REGEX[0]) == "true" or NGINX_REGEX[1] in annotations:
        return True
    written = class_written(doc)
    stem = value[:-2]
    if written in GCE_CLASSES and value.endswith("/*") and not PATTERN.search(stem):
        return True
    return written == "istio" and value.endswith(ISTIO_PREFIX_SUFFIXES) and not PATTERN.search(stem)
