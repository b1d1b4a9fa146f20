"""The vocabulary every stage speaks: severities, positions, resources and findings.

A finding is data. Rules decide *what* is wrong; the driver decides how severe it is in
this run (options may downgrade a code) and the reporters decide how it looks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Union

PathPart = Union[str, int]
FieldPath = tuple[PathPart, ...]


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


def format_path(path: FieldPath) -> str:
    """Render a field path the way users write it: ``spec.http[0].route[1].destination``.

    Keys that are not plain identifiers (annotation names, port numbers) are quoted:
    ``metadata.annotations["sidecar.istio.io/inject"]``.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part and all(c.isalnum() or c in "_-$" for c in part):
            out.append(f".{part}" if out else part)
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'["{escaped}"]')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based position in an input file, with the field path it belongs to."""

    file: str
    line: int
    column: int
    path: str = ""
    template: str | None = None  # Helm `# Source:` template the document was rendered from

    def short(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    api_version: str
    kind: str
    name: str
    namespace: str | None

    def display(self) -> str:
        """The form `--suppress` matches and istioctl prints: ``Kind name.namespace``."""
        if self.namespace:
            return f"{self.kind} {self.name}.{self.namespace}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a finding refers to (the other half of a conflict, say)."""

    message: str
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    rule: str
    severity: Severity
    message: str
    location: Location | None = None
    resource: ResourceRef | None = None
    istio_code: str | None = None
    related: tuple[Related, ...] = field(default=())
    # A reference to something outside the inputs (open world): the driver reports it as
    # info unless --closed-world says the inputs are the whole mesh.
    unresolved: bool = False

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.code, self.message)
        return (loc.file, loc.line, loc.column, self.code, self.message)
