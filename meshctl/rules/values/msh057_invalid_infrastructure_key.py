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

QUALIFIED_NAME = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
)
MAX_PREFIX = 253


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
    """What is wrong with a label or annotation key, or None."""
    if not QUALIFIED_NAME.fullmatch(key):
        return (
            "is not a qualified name: an optional lowercase DNS prefix and '/', then up to 63 "
            "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    if len(key.split("/")[0]) >= MAX_PREFIX:
        return f"has a prefix longer than {MAX_PREFIX - 1} characters"
    return None
