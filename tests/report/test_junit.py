"""``--format junit``: well-formed XML; a suite per file, a case per finding and clean resource."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from meshctl.diagnostics import Finding, Location, Severity
from meshctl.pipeline import RunResult
from meshctl.report.base import ReportContext, sanitize
from meshctl.report.junit import REPORTER
from tests.report.conftest import BROKEN, NASTY, SHOP, UNUSED


def parse(result: RunResult, ctx: ReportContext) -> ET.Element:
    return ET.fromstring(REPORTER.render(result, ctx))


def cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def test_one_suite_per_file_with_the_right_counts(result: RunResult, ctx: ReportContext) -> None:
    root = parse(result, ctx)
    assert root.tag == "testsuites"
    assert root.get("name") == "meshctl validate"
    counts = {
        s.get("name"): (s.get("tests"), s.get("failures"), s.get("errors"))
        for s in root.iter("testsuite")
    }
    assert counts == {
        SHOP: ("4", "2", "0"),  # two findings, the clean Service and DestinationRule
        BROKEN: ("1", "1", "0"),
        "(no file)": ("1", "0", "0"),  # the unused suppression is info: a pass
    }
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "3", "0")
    for suite in root.iter("testsuite"):
        listed = suite.findall("testcase")
        assert suite.get("tests") == str(len(listed))
        assert suite.get("failures") == str(sum(c.find("failure") is not None for c in listed))


def test_a_finding_is_a_failing_testcase_with_position_and_message(
    result: RunResult, ctx: ReportContext
) -> None:
    shop = next(s for s in parse(result, ctx).iter("testsuite") if s.get("name") == SHOP)
    case = cases(shop)["MSH011 shop/reviews spec.http[0].rout"]
    assert case.get("classname") == "VirtualService@networking.istio.io/v1"
    assert (case.get("file"), case.get("line")) == (SHOP, "9")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "MSH011"
    assert failure.get("message") == "unknown field 'rout'; did you mean 'route'?"
    assert failure.text is not None
    assert failure.text.startswith(f"{SHOP}:9:5 error MSH011 unknown field 'rout'")
    assert "[VirtualService reviews.shop] spec.http[0].rout" in failure.text


def test_clean_resources_are_passing_testcases(result: RunResult, ctx: ReportContext) -> None:
    shop = next(s for s in parse(result, ctx).iter("testsuite") if s.get("name") == SHOP)
    named = cases(shop)
    service = named["shop/reviews"]
    assert service.get("classname") == "Service@v1"
    assert service.get("line") == "13"
    assert list(service) == []
    rule = named["reviews"]  # cluster-scoped form: no namespace
    assert rule.get("classname") == "DestinationRule@networking.istio.io/v1"
    # The VirtualService has findings, so it is not listed as a pass as well.
    assert [c.get("classname") for c in shop if not c.get("name", "").startswith("MSH")] == [
        "Service@v1",
        "DestinationRule@networking.istio.io/v1",
    ]


def test_findings_on_no_resource_use_the_file_as_classname(
    result: RunResult, ctx: ReportContext
) -> None:
    broken = next(s for s in parse(result, ctx).iter("testsuite") if s.get("name") == BROKEN)
    (case,) = broken
    assert (case.get("classname"), case.get("name")) == (BROKEN, f"MSH001 {BROKEN}:3:10")


def test_info_findings_pass_and_say_why_in_system_out(
    result: RunResult, ctx: ReportContext
) -> None:
    run = next(s for s in parse(result, ctx).iter("testsuite") if s.get("name") == "(no file)")
    (case,) = run
    assert case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and out.text == f"info MSH006 {UNUSED.message}"


def test_markup_is_escaped_and_control_characters_sanitised(
    result: RunResult, ctx: ReportContext
) -> None:
    text = REPORTER.render(result, ctx)
    assert "\x1b" not in text  # not allowed in XML 1.0 at all
    assert "timeout &lt;&amp;&gt;" in text
    failure = next(f for f in ET.fromstring(text).iter("failure") if f.get("type") == "MSH010")
    assert failure.get("message") == sanitize(NASTY)  # newline kept, escape made visible
    assert failure.text is not None and sanitize(NASTY) in failure.text


def test_characters_xml_cannot_hold_do_not_break_the_document(ctx: ReportContext) -> None:
    odd = Finding(
        "MSH001",
        "yaml-syntax-error",
        Severity.ERROR,
        "bad \x00 \ufffe \x08 \x7f",
        Location("x.yaml", 1, 1),
    )
    failure = parse(RunResult(findings=[odd]), ctx).find(".//failure")
    assert failure is not None
    assert failure.get("message") == "bad \\u0000 \\ufffe \\u0008 \\u007f"


def test_a_clean_run_is_still_a_valid_document(clean: RunResult, ctx: ReportContext) -> None:
    root = parse(clean, ctx)
    assert (root.get("tests"), root.get("failures")) == ("3", "0")
    assert [s.get("name") for s in root] == [SHOP]


def test_an_empty_run_is_an_empty_testsuites_element(ctx: ReportContext) -> None:
    text = REPORTER.render(RunResult(), ctx)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), len(root)) == ("0", "0", 0)
