"""The Reporter protocol and what every reporter needs to know about the run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from meshctl.pipeline import RunResult

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class ReportContext:
    command: str  # "validate", "analyze", ...
    version: str
    color: bool = False
    width: int = 100


class Reporter(Protocol):
    name: str

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        """The whole report as text (written to stdout or atomically to a file)."""
        ...


def sanitize(text: str) -> str:
    """Make input-derived text safe for a terminal: control characters become escapes.

    An annotation holding ``\\x1b[2J`` must not clear the user's screen, and bidi
    overrides must not reorder what they read.
    """
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
