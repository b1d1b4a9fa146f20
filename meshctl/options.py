"""What one run was asked to do, after the command line and ``.meshctl.yaml`` are merged."""

from __future__ import annotations

from dataclasses import dataclass, field

from meshctl.diagnostics import Severity


@dataclass(frozen=True)
class Suppression:
    """``--suppress "MSH101=VirtualService reviews.*"``: a code glob and a resource glob."""

    code: str
    resource: str
    text: str


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...]
    fail_on: Severity | None = Severity.ERROR  # None: never fail on findings
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    suppress: tuple[Suppression, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_unknown_fields: bool = False
    strict_kinds: bool = False
    config_file: str | None = None
    verbose: bool = False
    closed_world: bool = False
    gateway_api_channel: str = "experimental"  # or "standard": what the clusters serve
    jobs: int = 1  # worker processes for reading and checking large inputs
    mesh_config: str | None = None
    notes: tuple[str, ...] = field(default=())
