"""Meta-tests over the rule catalog: one declaration per code, docs complete and current,
and a fixture where every check fires plus one where it must not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshctl import docsgen
from meshctl.rules.base import DOC_SECTIONS
from meshctl.rules.registry import all_rules

RULES = all_rules()
CASES = Path(__file__).resolve().parent.parent / "schemas" / "cases"
TESTS = Path(__file__).resolve().parent.parent


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    assert codes == sorted(codes)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_rule_documents_what_why_example_and_fix(rule) -> None:
    assert rule.summary.endswith("."), "the summary is one sentence"
    positions = [rule.body.find(section) for section in DOC_SECTIONS]
    assert all(p >= 0 for p in positions), f"missing sections in {rule.code}"
    assert positions == sorted(positions), "sections out of order"
    example = rule.body.split("## Example", 1)[1].split("## Fix", 1)[0]
    assert example.strip(), "empty example"


def test_istio_codes_are_well_formed() -> None:
    for rule in RULES:
        if rule.istio_code is not None:
            assert re.fullmatch(r"IST\d{4}", rule.istio_code), rule.code


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.check_fn is not None], ids=lambda r: r.code
)
def test_every_value_check_has_a_firing_and_a_near_miss_fixture(rule) -> None:
    fires = [
        p for p in CASES.glob("*/invalid/*.yaml")
        if re.search(rf"#\s*expect:\s*{rule.code}\b", p.read_text())
    ]
    assert fires, f"no invalid case expects {rule.code}"
    near_miss = [p for p in CASES.glob("*/valid/*.yaml") if p.stem.upper().startswith(rule.code)]
    assert near_miss, f"no valid/{rule.code.lower()}.yaml with documents it must not fire on"
    assert rule.kinds, "a check must declare the kinds it reads"


def test_every_code_is_exercised_by_some_test() -> None:
    text = "\n".join(p.read_text() for p in TESTS.rglob("*.py")) + "\n".join(
        p.read_text() for p in CASES.rglob("*.yaml")
    ) + "\n".join(p.name for p in (TESTS / "rules" / "fixtures").iterdir())
    missing = [r.code for r in RULES if r.code not in text]
    assert missing == []


def test_rule_docs_are_generated_and_current() -> None:
    assert docsgen.main(["--check"]) == 0, "run: python -m meshctl.docsgen"
