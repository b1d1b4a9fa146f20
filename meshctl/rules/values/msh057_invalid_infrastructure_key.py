"""A Gateway's infrastructure label or annotation key is not a Kubernetes key.

## Why it matters
`spec.infrastructure.labels` and `annotations` are copied onto the resources the
implementation creates for the Gateway (Deployment, Service, load balancer), so
their keys must be valid Kubernetes label and annotation keys: an optional DNS
subdomain prefix and `/`, then a name of at most 63 letters, digits, `-`, `_` and
`.` that starts and ends with a letter or digit. The API server rejects others.

## Example
```yaml
infrastructure:
  labels:
    Team/Owner: payments          # the prefix must be lowercase
  annotations:
    "service.beta.kubernetes.io/aws-load-balancer-type ": nlb   # trailing space
```

## Fix
Use a lowercase DNS prefix and a name of at most 63 characters:
`team.example.com/owner`.
"""

import re
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import kinds, mapping, spec

RULE = Rule("MSH057", "invalid-infrastructure-key", Severity.ERROR, __doc__, kinds=kinds("Gateway"))

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
MAX_NAME = 63
MAX_PREFIX = 252


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    infrastructure = mapping(spec(doc).get("infrastructure"))
    for field, what in (("labels", "label"), ("annotations", "annotation")):
        for key in map(str, mapping(infrastructure.get(field))):
            problem = key_problem(key)
            if problem:
                yield RULE.at(
                    doc,
                    ("spec", "infrastructure", field, key),
                    f"{what} key {key!r} {problem}",
                    key=True,
                )


def key_problem(key: str) -> str | None:
    """What is wrong with a label or annotation key (``[prefix/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if "/" in prefix:
            return "has more than one '/'"
        if not DNS_SUBDOMAIN.fullmatch(prefix):
            return f"has prefix {prefix!r}, which is not a lowercase DNS subdomain"
        if len(prefix) > MAX_PREFIX:
            return f"has a prefix of {len(prefix)} characters; at most {MAX_PREFIX} are allowed"
    if len(name) > MAX_NAME:
        return f"has a name of {len(name)} characters; at most {MAX_NAME} are allowed"
    if not NAME.fullmatch(name):
        return (
            f"has name {name!r}: use letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit"
        )
    return None
