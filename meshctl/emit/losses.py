"""What a translation could not carry over, as findings at the source position.

Emitters call ``losses.dropped(origin, "...")`` or ``losses.approximated(...)``; the same
loss reported twice at the same field is kept once.
"""

from __future__ import annotations

from meshctl.diagnostics import Finding
from meshctl.model.origin import Origin
from meshctl.rules.translate import (
    msh400_not_translated,
    msh401_translated_approximately,
    msh402_envoy_filter_not_applied,
)

RULES = {r.code: r for r in (msh400_not_translated.RULE, msh401_translated_approximately.RULE,
                             msh402_envoy_filter_not_applied.RULE)}


class Losses:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, Origin | None, str]] = set()

    def dropped(self, origin: Origin, message: str) -> None:
        """Behaviour the target cannot express was left out (MSH400)."""
        self._add(msh400_not_translated.RULE.code, origin, message)

    def approximated(self, origin: Origin, message: str) -> None:
        """Behaviour was carried over with different semantics (MSH401)."""
        self._add(msh401_translated_approximately.RULE.code, origin, message)

    def envoy_filter(self, origin: Origin, message: str) -> None:
        """An EnvoyFilter patch was not applied (MSH402)."""
        self._add(msh402_envoy_filter_not_applied.RULE.code, origin, message)

    def _add(self, code: str, origin: Origin, message: str) -> None:
        key = (code, origin, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(RULES[code].on(origin, message))
