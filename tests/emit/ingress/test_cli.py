"""``meshctl translate`` of Ingresses as a user runs it: what is written, what is said, exit codes."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.emit.ingress import cases
from tests.emit.ingress.helpers import at

NOISY = cases.MIXED + cases.ingress("noisy", cases.host(
    "noisy.example.com", f"{{path: /, pathType: Prefix, {cases.WEB}}}",
), annotations="    nginx.ingress.kubernetes.io/limit-rps: \"5\"\n")


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "ingress.yaml"
    path.write_text(NOISY)
    return path


def test_from_ingress_to_linkerd_is_a_usage_error(meshctl, tmp_path: Path) -> None:
    run = meshctl("translate", "--to", "linkerd", "--from", "ingress", str(_input(tmp_path)),
                  "-o", str(tmp_path / "out"))
    assert run.code == 2
    assert "--from ingress --to linkerd: Linkerd has no ingress of its own" in run.stderr
    assert not (tmp_path / "out").exists()


def test_to_linkerd_leaves_ingresses_alone(meshctl, tmp_path: Path) -> None:
    run = meshctl("translate", "--to", "linkerd", str(_input(tmp_path)), "-o", str(tmp_path / "out"))
    assert run.code == 0, run.stderr
    assert "retries" in run.stdout  # the VirtualService is translated, with its losses (the report)
    for word in ("Ingress", "nginx.ingress.kubernetes.io", "limit-rps", "ingressClassName"):
        assert word not in run.stdout + run.stderr, word
    written = [d for d in yaml.safe_load_all((tmp_path / "out" / "shop.yaml").read_text()) if d]
    assert [(d["kind"], d["metadata"]["annotations"]["meshctl.io/translated-from"]) for d in written] == [
        ("HTTPRoute", "VirtualService/shop/api-retries")]


def test_to_gateway_api_from_ingress_writes_the_routes_and_reports_at_the_annotation(meshctl, tmp_path: Path) -> None:
    source = _input(tmp_path)
    run = meshctl("translate", "--to", "gateway-api", "--from", "ingress", str(source), "-o", str(tmp_path / "out"))
    assert run.code == 0, run.stderr
    where = at(NOISY, '"5"').replace("ingress.yaml", str(source))
    assert f"{where} warning MSH400 rate limiting" in run.stdout
    assert "VirtualService" not in run.stdout + run.stderr  # --from ingress: the Istio object is not read
    text = (tmp_path / "out" / "shop.yaml").read_text()
    written = [d for d in yaml.safe_load_all(text) if d]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in written) == [
        ("Gateway", "nginx"), ("HTTPRoute", "front-shop-example-com"), ("HTTPRoute", "noisy-noisy-example-com")]
    line = at(NOISY, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: noisy").split(":")[1]
    assert f"# from {source}:{line}:1 (Ingress/shop/noisy)" in text
