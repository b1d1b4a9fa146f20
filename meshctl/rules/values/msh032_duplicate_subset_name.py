"""A DestinationRule defines the same subset name twice.

## Why it matters
Istio's validation webhook rejects the DestinationRule ("duplicate subset names"), so
none of it applies: not the subsets, not the traffic policy. Usually a subset was
copied to make a new version and its name was not changed.

## Example
```yaml
kind: DestinationRule
spec:
  host: cart
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v1              # copied, should be v2
    labels: {version: v2}
```

## Fix
Give every subset its own name.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule

RULE = Rule(
    "MSH032", "duplicate-subset-name", Severity.ERROR, __doc__, istio_code="IST0106",
    kinds=frozenset({"networking.istio.io/DestinationRule"}),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    spec = doc.data.get("spec")
    subsets = spec.get("subsets") if isinstance(spec, dict) else None
    if not isinstance(subsets, list):
        return
    first: dict[str, int] = {}
    for i, subset in enumerate(subsets):
        name = subset.get("name") if isinstance(subset, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            yield RULE.at(
                doc, ("spec", "subsets", i, "name"),
                f"subset name {name!r} is already used by subsets[{first[name]}]",
            )
        else:
            first[name] = i
