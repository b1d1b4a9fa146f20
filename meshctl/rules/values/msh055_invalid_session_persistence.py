"""A route rule's session persistence settings contradict each other.

## Why it matters
`cookieConfig` describes the session cookie, so it only applies with `type: Cookie`
(the default); with `type: Header` it has nothing to configure. A cookie with
`lifetimeType: Permanent` is written with an expiry taken from `absoluteTimeout`, so
it needs one. The API server rejects both mistakes.

## Example
```yaml
sessionPersistence:
  sessionName: session
  type: Cookie
  cookieConfig:
    lifetimeType: Permanent   # expires when? no absoluteTimeout
```

## Fix
Set `absoluteTimeout` (`absoluteTimeout: 24h`) for permanent cookies, or use
`lifetimeType: Session`; remove `cookieConfig` from header-based persistence.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import has, kinds, mapping, rules, text

RULE = Rule(
    "MSH055",
    "invalid-session-persistence",
    Severity.ERROR,
    __doc__,
    kinds=kinds("HTTPRoute", "GRPCRoute"),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for rule_path, rule in rules(doc):
        persistence = rule.get("sessionPersistence")
        if not isinstance(persistence, dict) or not has(persistence, "cookieConfig"):
            continue
        path = (*rule_path, "sessionPersistence")
        kind = text(persistence.get("type"), "Cookie")
        if kind != "Cookie":
            yield RULE.at(
                doc,
                (*path, "cookieConfig"),
                f"cookieConfig only applies to type Cookie, not {kind}; remove it",
                key=True,
            )
        lifetime = mapping(persistence.get("cookieConfig")).get("lifetimeType")
        if lifetime == "Permanent" and not has(persistence, "absoluteTimeout"):
            yield RULE.at(
                doc,
                (*path, "cookieConfig", "lifetimeType"),
                "a Permanent cookie needs absoluteTimeout to set its expiry",
            )
