"""The catalog of kinds: generated index current, every kind covered by cases, wheel-ready."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshctl.load.reader import read_text
from meshctl.validate import catalog as catalog_module
from meshctl.validate.catalog import Catalog

CASES = Path(__file__).parent / "cases"


def test_index_is_generated_from_the_schema_files() -> None:
    assert catalog_module.main([]) == 0, "run: python -m meshctl.validate.catalog --write"


def _kinds_in(kind: str) -> set[tuple[str, str]]:
    found = set()
    for path in CASES.glob(f"*/{kind}/*.yaml"):
        for doc in read_text(path.read_text(), path.name).docs:
            found.add((doc.api_version, doc.kind))
    return found


def test_every_kind_and_version_has_valid_and_invalid_cases() -> None:
    cat = Catalog.default()
    valid, invalid = _kinds_in("valid"), _kinds_in("invalid")
    entries = {(f"{e.group}/{e.version}" if e.group else e.version, e.kind) for e in cat.entries()}
    missing_valid = {e for e in entries if e not in valid and e not in invalid}
    missing_invalid = {(a, k) for a, k in entries if not any(k == k2 and a.split("/")[0] == a2.split("/")[0] for a2, k2 in invalid)}
    assert missing_valid == set(), "kinds with no case document at all"
    assert missing_invalid == set(), "kinds with no invalid case"


@pytest.mark.parametrize(
    "api_version,kind,problem",
    [
        ("networking.istio.io/v1", "VirtualSevice", "did you mean 'VirtualService'"),
        ("networking.istio.io/v2", "VirtualService", "served: v1beta1, v1alpha3, v1"),
        ("gateway.networking.k8s.io/v1", "HTTPRoutes", "did you mean 'HTTPRoute'"),
        ("policy.linkerd.io/v1", "Server", "not a served version of Server"),
    ],
)
def test_lookups_in_known_groups_explain_what_exists(api_version: str, kind: str, problem: str) -> None:
    lookup = Catalog.default().lookup(api_version, kind)
    assert lookup.entry is None and lookup.known_group
    assert problem in (lookup.problem or "")


def test_kinds_outside_the_mesh_are_simply_unknown() -> None:
    for api_version, kind in (("cert-manager.io/v1", "Certificate"), ("v1", "PersistentVolume"), ("rbac.authorization.k8s.io/v1", "Role")):
        lookup = Catalog.default().lookup(api_version, kind)
        assert lookup.entry is None and lookup.problem is None


def test_deprecated_versions_name_their_replacement() -> None:
    entry = Catalog.default().lookup("policy.linkerd.io/v1beta1", "Server").entry
    assert entry is not None and entry.deprecated == "policy.linkerd.io/v1beta3"
