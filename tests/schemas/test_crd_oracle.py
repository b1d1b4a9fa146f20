"""Our schemas against the official CRDs, as the API server's structural schema sees them.

For every valid case document of a kind that has a CRD, and for a deterministic
sample of mutations of it (an unknown field at every level, a value of the wrong
type, an invalid enum-like string, a field removed), meshctl's verdict must equal the
oracle's (tests/oracle.py), and when both reject, meshctl must point at the mutated
path. Where meshctl is deliberately stricter than the structural schema (it also
enforces what Istio's webhook and the CRDs' CEL rules do), the difference must be one
of the kinds listed in STRICTER.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from meshctl.diagnostics import FieldPath, format_path
from meshctl.load.document import SourceDoc
from meshctl.load.reader import read_text
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker
from tests.conftest import CRDS
from tests.oracle import crd_errors, has_crd

pytestmark = pytest.mark.skipif(not CRDS.is_dir(), reason="../shared/reference/crds is not beside the checkout")

CASES = Path(__file__).parent / "cases"
SCHEMA_CODES = {"MSH010", "MSH011", "MSH021"}
PER_DOC = 10  # mutations of each class sampled per document
BOGUS = "meshctlBogusField"
BAD_VALUE = "NOT_A_VALID_VALUE"
# Codes that may reject a mutation the structural schema accepts, and why that is right.
STRICTER = {
    "MSH021": "durations: the CRDs check them with CEL (duration(self)), not in the structural schema",
    "MSH010": "value formats the API server enforces outside the structural schema "
    "(webhook and CEL): hostnames, ports, header names, URL schemes",
}


@dataclass(frozen=True)
class Mutation:
    what: str  # unknown-field | wrong-type | bad-value | removed
    path: FieldPath
    data: dict[str, Any]


def _docs() -> list[tuple[str, SourceDoc]]:
    out = []
    for path in sorted(CASES.glob("*/valid/*.yaml")):
        for doc in read_text(path.read_text(), path.name).docs:
            if has_crd(doc.api_version, doc.kind):
                out.append((f"{path.parent.parent.name}/{path.name}#{doc.index}", doc))
    return out


def _set(data: Any, path: FieldPath, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _delete(data: Any, path: FieldPath) -> None:
    for part in path[:-1]:
        data = data[part]
    del data[path[-1]]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _walk(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            if path == () and k in ("apiVersion", "kind", "metadata", "status"):
                continue
            yield from _walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, i))


def _mutations(label: str, doc: SourceDoc) -> list[Mutation]:
    rng = random.Random(zlib.crc32(label.encode()))
    nodes = list(_walk(doc.data))
    objects = [p for p, v in nodes if isinstance(v, dict)]
    strings = [p for p, v in nodes if isinstance(v, str) and p]
    keys = [p for p, v in nodes if p and isinstance(p[-1], str)]
    out: list[Mutation] = []

    def sample(paths: list[FieldPath]) -> list[FieldPath]:
        return rng.sample(paths, min(PER_DOC, len(paths)))

    for p in sample(objects):
        data = _copy(doc.data)
        _set(data, (*p, BOGUS), "x") if p else data.__setitem__(BOGUS, "x")
        out.append(Mutation("unknown-field", (*p, BOGUS), data))
    for p in sample(strings):
        data = _copy(doc.data)
        _set(data, p, [{"wrong": "type"}])
        out.append(Mutation("wrong-type", p, data))
        data = _copy(doc.data)
        _set(data, p, BAD_VALUE)
        out.append(Mutation("bad-value", p, data))
    for p in sample(keys):
        data = _copy(doc.data)
        _delete(data, p)
        out.append(Mutation("removed", p, data))
    return out


@pytest.fixture(scope="module")
def checker() -> DocumentChecker:
    return DocumentChecker(Catalog.default())


def _ours(checker: DocumentChecker, doc: SourceDoc, data: dict[str, Any]) -> list[tuple[str, str]]:
    mutated = SourceDoc(doc.file, doc.index, data, doc.node)
    return sorted(
        (f.code, f.location.path if f.location else "")
        for f in checker.check(mutated).findings
        if f.code in SCHEMA_CODES
    )


DOCS = _docs()


def test_the_oracle_covers_every_family() -> None:
    families = {label.split("/")[0] for label, _ in DOCS}
    assert {"istio", "istio-security", "gateway-api", "linkerd"} <= families


@pytest.mark.parametrize("label,doc", DOCS, ids=[label for label, _ in DOCS])
def test_valid_documents_are_valid_for_the_crd_too(label: str, doc: SourceDoc) -> None:
    assert crd_errors(doc.data) == []


@pytest.mark.parametrize("label,doc", DOCS, ids=[label for label, _ in DOCS])
def test_verdicts_agree_with_the_crd_on_mutations(label: str, doc: SourceDoc, checker: DocumentChecker) -> None:
    disagreements = []
    for m in _mutations(label, doc):
        oracle = crd_errors(m.data)
        ours = _ours(checker, doc, m.data)
        where = format_path(m.path)
        if oracle and not ours:
            disagreements.append(f"{m.what} at {where}: CRD rejects ({oracle[0]}), meshctl accepts")
        elif ours and not oracle:
            if m.what == "unknown-field":
                # Stricter where the CRD keeps unknown fields (recursive types it cannot
                # spell out): a made-up field is still a mistake.
                if ("MSH011", where) not in ours:
                    disagreements.append(f"{m.what} at {where}: meshctl rejects elsewhere: {ours}")
            elif not {code for code, _ in ours} <= set(STRICTER):
                disagreements.append(f"{m.what} at {where}: meshctl rejects {ours}, CRD accepts")
        elif ours and oracle:
            parent = format_path(m.path[:-1])
            expected_paths = {where} if m.what != "removed" else {where, parent}
            if not any(path in expected_paths or path.startswith(where) for _, path in ours):
                disagreements.append(f"{m.what} at {where}: meshctl reports elsewhere: {ours}")
    assert disagreements == []
