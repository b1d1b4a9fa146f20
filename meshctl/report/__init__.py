"""Stage last: a RunResult rendered for people or machines. One module per format."""

from __future__ import annotations

import importlib

from meshctl.report.base import Reporter

FORMATS = {
    "text": "meshctl.report.text",
    "json": "meshctl.report.json",
    "sarif": "meshctl.report.sarif",
    "github": "meshctl.report.github",
    "junit": "meshctl.report.junit",
}


def reporter(name: str) -> Reporter:
    """The reporter for a format name; modules are imported only when used."""
    module = importlib.import_module(FORMATS[name])
    return module.REPORTER  # type: ignore[no-any-return]
