"""A controller reports a failing status condition on a Gateway, route or policy.

## Why it matters
Gateway API and mesh controllers write what they made of a resource into its status:
`Accepted: False` (the controller refused it), `Programmed: False` (the data plane
does not have it), `ResolvedRefs: False` (a backend or certificate could not be
resolved), `Conflicted: True`. Such a resource is silently not in effect, whatever
its manifest says; the files alone cannot show it. This is `istioctl analyze`'s
IST0171 (NegativeConditionStatus).

Conditions older than the resource's current generation (`observedGeneration` below
`metadata.generation`) are not judged: the controller has not seen the last change.

## Example
```yaml
status:
  parents:
  - parentRef: {name: web}
    conditions:
    - {type: Accepted, status: "False", reason: NotAllowedByListeners,
       message: "hostname does not match any listener"}
```

## Fix
Read the condition's reason and message (`kubectl describe`), fix what they name, and
check the status again after the controller has reconciled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, dct, dicts, live_check

RULE = Rule("MSH513", "negative-status-condition", Severity.ERROR, __doc__, istio_code="IST0171")
POSITIVE = frozenset({"Accepted", "Programmed", "ResolvedRefs", "Ready", "Reconciled", "Attached", "Resolved"})
NEGATIVE = frozenset({"Conflicted", "Degraded", "PartiallyInvalid"})
GROUPS = ("gateway.networking.k8s.io", "networking.istio.io", "security.istio.io", "telemetry.istio.io",
          "extensions.istio.io", "policy.linkerd.io", "linkerd.io")


@live_check(RULE, needs=())
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    for doc in ctx.state.docs:
        if doc.group not in GROUPS:
            continue
        status = dct(doc.data.get("status"))
        generation = dct(doc.data.get("metadata")).get("generation")
        for path, scope, conditions in _condition_lists(status):
            for i, cond in dicts(conditions):
                kind, value = cond.get("type"), cond.get("status")
                if not isinstance(kind, str):  # a malformed condition says nothing
                    continue
                bad = (kind in POSITIVE and value == "False") or (kind in NEGATIVE and value == "True")
                if not bad or _stale(cond, generation):
                    continue
                reason = f" ({cond['reason']})" if cond.get("reason") else ""
                message = f": {str(cond['message'])[:300]}" if cond.get("message") else ""
                yield RULE.at(
                    doc, ("status",) + path + (i, "status"),
                    f"{doc.kind} {doc.name}{scope}: condition {kind} is {value}{reason}{message}",
                )


def _condition_lists(status: dict[str, Any]) -> Iterator[tuple[FieldPath, str, Any]]:
    yield ("conditions",), "", status.get("conditions")
    for key, label in (("listeners", "listener"), ("parents", "parent"), ("ancestors", "ancestor")):
        for i, entry in dicts(status.get(key)):
            yield (key, i, "conditions"), f", {label} {_name(key, entry)}", entry.get("conditions")


def _name(key: str, entry: dict[str, Any]) -> str:
    if key == "listeners":
        return repr(entry.get("name"))
    ref = dct(entry.get("parentRef") or entry.get("ancestorRef"))
    return str(ref.get("name") or "?")


def _stale(condition: dict[str, Any], generation: Any) -> bool:
    observed = condition.get("observedGeneration")
    return isinstance(observed, int) and isinstance(generation, int) and observed < generation


