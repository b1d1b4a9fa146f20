"""A BackendTLSPolicy targets the same object twice without telling the sections apart.

## Why it matters
A policy may target several ports of one Service by naming it more than once, each
time with a different `sectionName` (the Service port name). The API server rejects
the policy when the references to one target do not all set `sectionName` (one
without it already covers every port) or when two of them name the same section.

## Example
```yaml
targetRefs:
- {group: "", kind: Service, name: auth}
- {group: "", kind: Service, name: auth, sectionName: https}
```

## Fix
Name the target once to cover all its ports, or set a different `sectionName` on
every reference to it.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import Finding, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import (
    Scalar,
    entries,
    kinds,
    repeated,
    same_target_conflicts,
    scalar,
    spec,
    text,
)

RULE = Rule(
    "MSH052",
    "conflicting-target-refs",
    Severity.ERROR,
    __doc__,
    kinds=kinds("BackendTLSPolicy"),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    refs = list(entries(spec(doc).get("targetRefs")))
    by_index = dict(refs)
    keyed = [(index, _target(ref), _section(ref)) for index, ref in refs]
    for index, first, field in same_target_conflicts(keyed):
        ref = by_index[index]
        first_path = ("spec", "targetRefs", first)
        target = f"{text(ref.get('kind'), '?')} {text(ref.get('name'), '?')!r}"
        if field is None:
            section = text(ref.get("sectionName"))
            shown = f" section {section!r}" if section else ""
            message = (
                f"{target}{shown} is already targeted by {format_path(first_path)}; "
                "remove one of the two"
            )
        else:
            message = (
                f"{target} is targeted more than once, so every reference to it must set "
                f"sectionName; this one and {format_path(first_path)} disagree"
            )
        yield repeated(RULE, doc, ("spec", "targetRefs", index), message, first_path)


def _target(ref: dict[str, Any]) -> tuple[Scalar, Scalar, Scalar]:
    return scalar(ref.get("group")), scalar(ref.get("kind")), scalar(ref.get("name"))


def _section(ref: dict[str, Any]) -> tuple[tuple[str, Scalar], ...]:
    return (("sectionName", scalar(ref.get("sectionName")) or None),)
