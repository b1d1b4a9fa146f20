"""`meshctl graph` as users run it: formats, -o, --focus, errors, determinism."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TESTDATA, run_meshctl

DEMO = str(TESTDATA / "demo")


def test_every_format_on_the_demo() -> None:
    for fmt, start in (("mermaid", "%% meshctl graph"), ("dot", 'digraph "meshctl" {'), ("json", "{"),
                       ("html", "<!DOCTYPE html>")):
        run = run_meshctl("graph", "-f", fmt, DEMO)
        assert run.code == 0, run.stderr
        assert run.stdout.startswith(start), fmt
    assert run_meshctl("graph", DEMO).stdout.startswith("%% meshctl graph")  # mermaid by default


def test_findings_are_on_the_graph_and_do_not_fail_the_command() -> None:
    run = run_meshctl("graph", "-f", "json", DEMO)
    assert run.code == 0  # analyze exits 1 on the same inputs
    graph = json.loads(run.stdout)
    codes = {f["code"] for f in graph["findings"]}
    assert {"MSH102", "MSH120", "MSH140", "MSH031"} <= codes
    mirror = next(f for f in graph["findings"] if f["code"] == "MSH102")
    assert mirror["nodes"] == ["route:VirtualService:shop/cart"]
    assert [graph["edges"][i]["kind"] for i in mirror["edges"]] == ["mirrors"]


def test_output_file_and_notes_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "mesh.html"
    run = run_meshctl("graph", "-f", "html", "-o", str(out), DEMO)
    assert run.code == 0 and run.stdout == ""
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert f"wrote {out}" in run.stderr


def test_focus(tmp_path: Path) -> None:
    run = run_meshctl("graph", "-f", "json", "--focus", "cart.shop", "--radius", "1", DEMO)
    assert run.code == 0, run.stderr
    graph = json.loads(run.stdout)
    assert graph["focus"] == {"node": "service:cart.shop.svc.cluster.local", "radius": 1}
    ids = {n["id"] for n in graph["nodes"]}
    assert "service:cart.shop.svc.cluster.local" in ids
    assert "service:payments.payments.svc.cluster.local" not in ids
    assert "route:VirtualService:shop/cart" in ids


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    unknown = run_meshctl("graph", "-f", "png", DEMO)
    assert unknown.code == 2 and "unknown graph format 'png'" in unknown.stderr
    nowhere = run_meshctl("graph", "--focus", "crat.shop", DEMO)
    assert nowhere.code == 2 and "no such service" in nowhere.stderr and "cart.shop" in nowhere.stderr
    mesh = tmp_path / "mesh.yaml"
    shutil.copy(TESTDATA / "demo" / "shop" / "cart.yaml", mesh)
    over = run_meshctl("graph", "-o", str(mesh), str(mesh))
    assert over.code == 2 and "refusing to write over an input" in over.stderr
    assert run_meshctl("graph", "--radius", "-1", DEMO).code == 2


def test_missing_input_exits_3(tmp_path: Path) -> None:
    assert run_meshctl("graph", str(tmp_path / "nope")).code == 3


@pytest.mark.slow
def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(TESTDATA / "demo", copy)
    for fmt in ("mermaid", "dot", "json", "html"):
        first = run_meshctl("graph", "-f", fmt, "demo", cwd=tmp_path).stdout
        assert run_meshctl("graph", "-f", fmt, "demo", cwd=tmp_path).stdout == first, fmt
