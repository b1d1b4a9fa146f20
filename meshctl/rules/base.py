"""The one declaration each code has: code, name, default severity, docs, Istio twin.

A rule module looks like this::

    \"\"\"Route weights do not add up to 100.

    ## Why it matters
    ...
    ## Example
    ...
    ## Fix
    ...
    \"\"\"
    RULE = Rule("MSH020", "invalid-route-weights", Severity.ERROR, __doc__,
                kinds=frozenset({"networking.istio.io/VirtualService"}))

    @RULE.check
    def check(doc: SourceDoc) -> Iterator[Finding]:
        ...
        yield RULE.at(doc, ("spec", "http", 0, "route"), "weights add up to 90")

The docstring is the user documentation (`meshctl explain`, docs/rules/). Rules only
yield findings; the driver applies the configured severity and filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshctl.diagnostics import FieldPath, Finding, Location, Related, Severity

if TYPE_CHECKING:
    from meshctl.load.document import SourceDoc
    from meshctl.model.origin import Origin
    from meshctl.rules.context import Analysis

CODE_RE = re.compile(r"^MSH\d{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOC_SECTIONS = ("## Why it matters", "## Example", "## Fix")

DocCheck = Callable[["SourceDoc"], Iterator[Finding]]
AnalysisCheck = Callable[["Analysis"], Iterator[Finding]]


@dataclass(eq=False)
class Rule:
    code: str
    name: str
    severity: Severity
    doc: str | None
    istio_code: str | None = None
    # apiVersion-group/Kind strings ("networking.istio.io/VirtualService", "/Service" for core)
    # a document check applies to; empty means the rule is raised by the loader or engine.
    kinds: frozenset[str] = field(default_factory=frozenset)
    default_enabled: bool = True
    # Model collections an analysis rule reads (MeshModel attribute names); the driver
    # skips a rule when all of them are empty, and a meta-test checks the declaration.
    reads: frozenset[str] = field(default_factory=frozenset)
    check_fn: DocCheck | None = None
    analyze_fn: AnalysisCheck | None = None

    def __post_init__(self) -> None:
        if not CODE_RE.match(self.code):
            raise ValueError(f"bad rule code {self.code!r}")
        if not NAME_RE.match(self.name):
            raise ValueError(f"bad rule name {self.name!r}")

    @property
    def summary(self) -> str:
        return (self.doc or "").strip().splitlines()[0] if self.doc else self.name

    @property
    def body(self) -> str:
        """The docs without the summary line."""
        lines = (self.doc or "").strip().splitlines()
        return "\n".join(lines[1:]).strip()

    def check(self, fn: DocCheck) -> DocCheck:
        self.check_fn = fn
        return fn

    def analysis(self, fn: AnalysisCheck) -> AnalysisCheck:
        self.analyze_fn = fn
        return fn

    def finding(
        self,
        message: str,
        location: Location | None = None,
        resource: Any = None,
        related: tuple[Related, ...] = (),
    ) -> Finding:
        return Finding(
            code=self.code,
            rule=self.name,
            severity=self.severity,
            message=message,
            location=location,
            resource=resource,
            istio_code=self.istio_code,
            related=related,
        )

    def at(self, doc: SourceDoc, path: FieldPath, message: str, *, key: bool = False) -> Finding:
        """A finding on the field at ``path`` of ``doc`` (its value, or its key with ``key=True``)."""
        return self.finding(message, doc.locate(path, key=key), doc.ref)

    def on(
        self,
        origin: Origin,
        message: str,
        *,
        key: bool = False,
        related: tuple[Related, ...] = (),
        unresolved: bool = False,
    ) -> Finding:
        """A finding on a model object's origin (the exact field it came from)."""
        return Finding(
            code=self.code,
            rule=self.name,
            severity=self.severity,
            message=message,
            location=origin.location(key=key),
            resource=origin.ref,
            istio_code=self.istio_code,
            related=related,
            unresolved=unresolved,
        )
