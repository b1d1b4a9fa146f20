"""Every output of the row fixtures is valid: ``meshctl validate`` finds nothing in it (both
Gateway API channels), the official CRD structural schemas accept every resource (Gateway
API's standard and experimental CRDs, Istio's), every regular expression compiles with
RE2 (what Envoy runs), and ``meshctl analyze`` of input and output together finds nothing
wrong in the output and no error beyond the ones the fixture's input carries on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
import re2

from meshctl.emit.manifests import Manifests
from tests.emit.ingress import cases
from tests.emit.ingress.helpers import (
    FILE,
    analysis_findings,
    crd_problems,
    translate,
    validate_findings,
)

TARGETS = ("gateway-api", "istio")
# what the inputs say about themselves, not about the translation
INPUT_ERRORS = {"backends": [("MSH340", "backend port name 'grpc'")]}
# what analysis says about an output, with the translation's own finding about it
OUTPUT_WARNINGS = {("regex_behind_catch_all", "istio"): ["MSH140"]}  # the MSH401 "comes first in Istio"


@cache
def translated(case: str, target: str, channel: str = "standard") -> Manifests:
    """The translation of a fixture (pure: computed once for the checks below)."""
    return translate(cases.CASES[case], target, gateway_api_channel=channel)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_output_validates_clean(case: str, target: str) -> None:
    out = translated(case, target)
    assert out.resources
    assert validate_findings(out) == []
    if target == "gateway-api":
        assert validate_findings(out, "experimental") == []


@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_gateway_api_output_passes_both_channels_crds(case: str) -> None:
    out = translated(case, "gateway-api")
    assert crd_problems(out, "standard") == []
    assert crd_problems(out, "experimental") == []
    experimental = translated(case, "gateway-api", "experimental")  # may use experimental fields
    assert validate_findings(experimental, "experimental") == []
    assert crd_problems(experimental, "experimental") == []


@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_istio_output_passes_the_istio_crds(case: str) -> None:
    assert crd_problems(translated(case, "istio")) == []


def _expressions(item: Any, key: str = "") -> Iterator[str]:
    if isinstance(item, dict):
        if item.get("type") == "RegularExpression":
            yield item["value"]
        for name, value in item.items():
            yield from _expressions(value, name)
    elif isinstance(item, list):
        for value in item:
            yield from _expressions(value, key)
    elif key in ("regex", "match") and isinstance(item, str):
        yield item


def _regexes(out: Manifests) -> list[str]:
    return [e for r in out.resources for e in _expressions(r["spec"])]


@pytest.mark.parametrize("target", TARGETS)
def test_every_regular_expression_written_compiles_with_re2(target: str) -> None:
    written = [e for case in cases.CASES for e in _regexes(translated(case, target))]
    assert len(written) >= 7  # paths, header patterns, cookies (and rewrites for Istio)
    for expression in written:
        re2.compile(expression)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", sorted(cases.CASES))
def test_analysis_of_input_and_output_finds_nothing_wrong_in_the_output(case: str, target: str) -> None:
    text = cases.CASES[case]
    found = analysis_findings(translated(case, target), text)
    in_output = sorted(code for where, code, _, _ in found if where != FILE)
    assert in_output == OUTPUT_WARNINGS.get((case, target), [])
    errors = [(code, message) for where, code, severity, message in found if where == FILE and severity == "error"]
    expected = INPUT_ERRORS.get(case, [])
    assert [code for code, _ in errors] == [code for code, _ in expected]
    assert all(gist in message for (_, message), (_, gist) in zip(errors, expected))
