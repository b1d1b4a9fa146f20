"""Errors that end a run, and the exit codes they map to.

They are raised anywhere and caught once, in ``cli.py``. Problems *inside* inputs are
findings, not errors: a file that will not parse is reported and the others still run.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # bad flag, bad configuration
    INPUT = 3  # an input could not be read at all (missing path, permission)
    INTERNAL = 70  # a bug in meshctl (EX_SOFTWARE)
    INTERRUPTED = 130


class MeshctlError(Exception):
    exit_code = ExitCode.INTERNAL
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class UsageError(MeshctlError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A bad ``.meshctl.yaml``."""


class InputError(MeshctlError):
    exit_code = ExitCode.INPUT
