"""Istio's bookinfo sample translates, validates and analyzes clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CORPUS, requires_corpus
from tests.emit.linkerd.helpers import check_output, of_kind, run

BOOKINFO = CORPUS / "istio" / "samples" / "bookinfo"
FILES = (
    "platform/kube/bookinfo.yaml", "platform/kube/bookinfo-versions.yaml", "networking/destination-rule-all.yaml",
    "networking/virtual-service-reviews-jason-v2-v3.yaml", "networking/virtual-service-ratings-test-abort.yaml",
    "networking/bookinfo-gateway.yaml",
)


@requires_corpus()
@pytest.mark.parametrize("version", ["2.16", "2.20"])
@pytest.mark.parametrize("profile", [False, True])
def test_bookinfo(tmp_path: Path, version: str, profile: bool) -> None:
    texts = [(BOOKINFO / name).read_text() for name in FILES]
    out = run(*texts, linkerd_version=version, profile=profile)
    assert of_kind(out, "ServiceProfile" if profile else "HTTPRoute")
    assert any("Linkerd has no ingress" in f.message for f in out.findings)
    assert check_output(tmp_path, out, *texts) == []


@requires_corpus()
def test_every_bookinfo_networking_file_translates(tmp_path: Path) -> None:
    base = [(BOOKINFO / name).read_text() for name in FILES[:3]]
    for path in sorted((BOOKINFO / "networking").glob("*.yaml")):
        folder = tmp_path / path.stem
        folder.mkdir()
        texts = [*base, path.read_text()]
        out = run(*texts)
        assert check_output(folder, out, *texts) == [], path.name
