"""A route names the same parent twice without telling the attachments apart.

## Why it matters
A route may attach to several listeners of one Gateway by naming it more than once,
each time with a different `sectionName` (listener name) or `port`. The API server
rejects the route when the references to one parent do not all set the same of
these fields (one with `sectionName`, one without: does the second mean every
listener?) or when two of them select the same section.

## Example
```yaml
parentRefs:
- name: prod-web
- name: prod-web
  sectionName: https   # the first reference already attaches to every listener
```

## Fix
Name the parent once to attach to all its listeners, or set `sectionName` (or `port`)
on every reference to it, with a different value on each.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import Finding, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import (
    DEFAULT_PARENT_GROUP,
    DEFAULT_PARENT_KIND,
    ROUTES,
    Scalar,
    entries,
    repeated,
    same_target_conflicts,
    scalar,
    spec,
    text,
    value_or,
)

RULE = Rule("MSH046", "conflicting-parent-refs", Severity.ERROR, __doc__, kinds=ROUTES)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    refs = list(entries(spec(doc).get("parentRefs")))
    by_index = dict(refs)
    keyed = [(index, _target(ref), _sections(ref)) for index, ref in refs]
    for index, first, field in same_target_conflicts(keyed):
        path = ("spec", "parentRefs", index)
        first_path = ("spec", "parentRefs", first)
        ref = by_index[index]
        if field is None:
            message = (
                f"{_describe(ref)}{_selection(ref)} is already referenced by "
                f"{format_path(first_path)}; remove one of the two"
            )
        else:
            message = (
                f"{_describe(ref)} is referenced more than once, so every reference to it must "
                f"set {field} or none may; this one and {format_path(first_path)} disagree"
            )
        yield repeated(RULE, doc, path, message, first_path)


def _target(ref: dict[str, Any]) -> tuple[Scalar, Scalar, Scalar, Scalar]:
    return (
        value_or(ref, "group", DEFAULT_PARENT_GROUP),
        value_or(ref, "kind", DEFAULT_PARENT_KIND),
        scalar(ref.get("namespace")) or None,
        scalar(ref.get("name")),
    )


def _sections(ref: dict[str, Any]) -> tuple[tuple[str, Scalar], ...]:
    """sectionName and port, with the CRD rule's unset values ("" and 0) as None."""
    return (
        ("sectionName", scalar(ref.get("sectionName")) or None),
        ("port", scalar(ref.get("port")) or None),
    )


def _selection(ref: dict[str, Any]) -> str:
    chosen = [f"{name} {value!r}" for name, value in _sections(ref) if value is not None]
    return " with " + " and ".join(chosen) if chosen else ""


def _describe(ref: dict[str, Any]) -> str:
    kind = text(ref.get("kind"), DEFAULT_PARENT_KIND)
    name = text(ref.get("name"), "?")
    namespace = text(ref.get("namespace"))
    return f"{kind} {name!r}" + (f" in namespace {namespace!r}" if namespace else "")
