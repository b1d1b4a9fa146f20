"""A duration is not in the syntax its field accepts.

## Why it matters
Istio and Linkerd fields take Go durations (`1.5s`, `300ms`, `1h2m`); Gateway API
takes a stricter form (`10s`, `1h30m`: units h, m, s and ms, integers only). A
plain number (`timeout: 5`) or an unknown unit (`5sec`) is rejected by the API
server or the webhook, so the timeout or retry you meant never applies.

## Example
```yaml
http:
- route:
  - destination: {host: reviews}
  timeout: 5        # no unit
```

## Fix
Write the number with a unit: `timeout: 5s`.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH021", "invalid-duration", Severity.ERROR, __doc__, istio_code="IST0106")


def describe(value: object, where: str) -> str:
    """The message for a value that failed a Duration or GatewayDuration definition."""
    shown = repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
    if "GatewayDuration" in where:
        return (
            f"invalid duration {shown}: Gateway API durations are integers with units "
            "h, m, s or ms, like 10s or 1h30m"
        )
    return f"invalid duration {shown}: expected a Go duration like 1s, 500ms or 1h30m"
