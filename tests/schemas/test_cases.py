"""Every case file under tests/schemas/cases/: valid documents stay clean, invalid ones
produce exactly the (code, path) errors their ``# expect:`` lines name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshctl.diagnostics import Severity
from meshctl.load.reader import read_text
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker

CASES = Path(__file__).parent / "cases"
EXPECT = re.compile(r"^\s*#\s*expect:\s*(MSH\d{3})\s+(\S+)\s*$", re.M)
SEPARATOR = re.compile(r"^---\s*$", re.M)


def _files(kind: str) -> list[Path]:
    return sorted(CASES.glob(f"*/{kind}/*.yaml"))


def _id(path: Path) -> str:
    return path.relative_to(CASES).as_posix()


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    return DocumentChecker(Catalog.default())


@pytest.mark.parametrize("path", _files("valid"), ids=_id)
def test_valid_cases_have_no_findings(path: Path, checker: DocumentChecker) -> None:
    read = read_text(path.read_text(encoding="utf-8"), _id(path))
    assert read.findings == []
    assert read.docs, "a case file with no documents tests nothing"
    for doc in read.docs:
        checked = checker.check(doc)
        assert checked.status == "checked", f"document {doc.index} ({doc.kind}) was not checked"
        shown = [f"{f.code} {f.location.path if f.location else ''}: {f.message}" for f in checked.findings]
        assert shown == [], f"document {doc.index} ({doc.kind} {doc.name}) at line {doc.line}"


def _invalid_documents() -> list[tuple[Path, int, str]]:
    out = []
    for path in _files("invalid"):
        for i, chunk in enumerate(SEPARATOR.split(path.read_text(encoding="utf-8"))):
            if chunk.strip() and not all(
                line.strip().startswith("#") or not line.strip() for line in chunk.splitlines()
            ):
                out.append((path, i, chunk))
    return out


@pytest.mark.parametrize(
    "path,index,chunk",
    _invalid_documents(),
    ids=[f"{_id(p)}#{i}" for p, i, _ in _invalid_documents()],
)
def test_invalid_cases_report_exactly_the_expected_errors(
    path: Path, index: int, chunk: str, checker: DocumentChecker
) -> None:
    expected = {(code, "" if path == "-" else path) for code, path in EXPECT.findall(chunk)}
    assert expected, f"{_id(path)} document {index} has no '# expect:' line"
    read = read_text(chunk, _id(path))
    got = {(f.code, "") for f in read.findings}
    for doc in read.docs:
        for f in checker.check(doc).findings:
            if f.severity >= Severity.WARNING:
                got.add((f.code, f.location.path if f.location else ""))
    # Warnings count only when they are expected (deprecations are asserted that way).
    errors_or_expected = {g for g in got if g in expected or _is_error(g[0])}
    assert errors_or_expected == expected


def _is_error(code: str) -> bool:
    from meshctl.rules.registry import by_code

    rule = by_code(code)
    return rule is not None and rule.severity == Severity.ERROR
