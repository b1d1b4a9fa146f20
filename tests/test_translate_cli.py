"""`meshctl translate --to envoy` as a user runs it: files written, refusals, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from meshctl.emit.envoy import check
from tests.conftest import ROOT

MESH = ROOT / "tests" / "envoy" / "meshes" / "traffic.yaml"

GATEWAY = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [public]
  http:
  - route: [{destination: {host: web, port: {number: 9080}}}]
"""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_writes_a_bootstrap_and_says_what_it_wrote(meshctl, tmp_path: Path) -> None:
    before = _digest(MESH)
    run = meshctl("translate", "--to", "envoy", str(MESH), "-o", str(tmp_path / "out"))
    assert run.code == 0, run.stderr
    written = tmp_path / "out" / "envoy.yaml"
    assert f"wrote {written}" in run.stderr
    assert "outbound sidecar view of namespace shop" in run.stderr
    config = yaml.safe_load(written.read_text())
    names = [listener["name"] for listener in config["static_resources"]["listeners"]]
    assert names == ["0.0.0.0_9080"]
    assert _digest(MESH) == before
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["envoy.yaml"]  # no temporary file left


def test_output_is_deterministic(meshctl, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert meshctl("translate", "--to", "envoy", str(MESH), "-o", str(tmp_path / name)).code == 0
    assert (tmp_path / "a" / "envoy.yaml").read_bytes() == (tmp_path / "b" / "envoy.yaml").read_bytes()


def test_xds_format_lists_listeners_routes_and_clusters(meshctl, tmp_path: Path) -> None:
    run = meshctl("translate", "--to", "envoy", "--format", "xds", str(MESH), "-o", str(tmp_path))
    assert run.code == 0, run.stderr
    listeners = json.loads((tmp_path / "listeners.json").read_text())
    routes = json.loads((tmp_path / "routes.json").read_text())
    clusters = json.loads((tmp_path / "clusters.json").read_text())
    hcm = listeners[0]["filter_chains"][0]["filters"][0]["typed_config"]
    assert "route_config" not in hcm
    assert hcm["rds"]["route_config_name"] == "9080"
    assert [r["name"] for r in routes] == ["9080"]
    assert "outbound|9080|v1|reviews.shop.svc.cluster.local" in [c["name"] for c in clusters]


def test_check_runs_a_real_envoy(meshctl, tmp_path: Path) -> None:
    run = meshctl("translate", "--to", "envoy", "--check", str(MESH), "-o", str(tmp_path))
    assert run.code == 0, run.stderr
    assert "--check: envoy accepts the configuration" in run.stderr


def test_check_says_so_when_there_is_no_envoy(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(check.shutil, "which", lambda name: None)
    monkeypatch.setattr(check.sys, "executable", str(tmp_path / "python"))
    assert check.envoy_binary() is None


def test_check_reports_envoys_reason(tmp_path: Path) -> None:
    binary = check.envoy_binary()
    assert binary is not None
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"static_resources": {"clusters": [
        {"name": "c", "type": "STATIC", "lb_policy": "LEAST_CONN", "connect_timeout": "1s"}]}}))
    verdict = check.validate(binary, config)
    assert not verdict.ok and "LEAST_CONN" in verdict.message


def test_strict_fails_on_a_loss_and_writes_nothing(meshctl, tmp_path: Path) -> None:
    lossy = tmp_path / "lossy.yaml"
    lossy.write_text(MESH.read_text() + """---
apiVersion: v1
kind: Service
metadata: {name: extra, namespace: shop}
spec:
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: extra, namespace: shop}
spec:
  hosts: [extra]
  http:
  - fault:
      delay: {exponentialDelay: 1s, percentage: {value: 5}}
    route: [{destination: {host: web}}]
""")
    out = tmp_path / "out"
    relaxed = meshctl("translate", "--to", "envoy", str(lossy), "-o", str(out))
    assert relaxed.code == 0, relaxed.stderr
    assert "MSH400" in relaxed.stdout and "exponential delay" in relaxed.stdout
    strict_out = tmp_path / "strict"
    strict = meshctl("translate", "--to", "envoy", "--strict", str(lossy), "-o", str(strict_out))
    assert strict.code == 1
    assert "nothing written" in strict.stderr
    assert not strict_out.exists()


def test_invalid_input_writes_nothing_and_keeps_the_old_output(meshctl, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert meshctl("translate", "--to", "envoy", str(MESH), "-o", str(out)).code == 0
    before = (out / "envoy.yaml").read_bytes()
    broken = tmp_path / "broken.yaml"
    broken.write_text(MESH.read_text() + "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
                      "metadata: {name: bad, namespace: shop}\nspec: {hosts: [web], http: [{route: 5}]}\n")
    run = meshctl("translate", "--to", "envoy", str(broken), "-o", str(out))
    assert run.code == 1
    assert "MSH010" in run.stdout
    assert (out / "envoy.yaml").read_bytes() == before


def test_refuses_to_write_over_an_input(meshctl, tmp_path: Path) -> None:
    target = tmp_path / "envoy.yaml"
    target.write_text(MESH.read_text())
    run = meshctl("translate", "--to", "envoy", str(target), "-o", str(tmp_path))
    assert run.code == 2
    assert "refusing to write over an input file" in run.stderr
    assert target.read_text() == MESH.read_text()


def test_usage_errors(meshctl, tmp_path: Path) -> None:
    cases = [
        (["--to", "nginx", str(MESH), "-o", str(tmp_path)], "unknown target 'nginx'"),
        (["--to", "envoy", str(MESH)], "needs --output-dir"),
        (["--to", "envoy", "--proxy", "gateway", str(MESH), "-o", str(tmp_path)], "needs NAME.NAMESPACE"),
        (["--to", "envoy", "--proxy", "router", str(MESH), "-o", str(tmp_path)], "--proxy must be one of"),
        (["--to", "envoy", "--listen-address", "localhost", str(MESH), "-o", str(tmp_path)], "must be an IP address"),
        (["--to", "envoy", "--format", "json", str(MESH), "-o", str(tmp_path)], "--format must be yaml or xds"),
    ]
    for args, message in cases:
        run = meshctl("translate", *args)
        assert run.code == 2, (args, run.stderr)
        assert message in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr


def test_gateway_by_two_words_and_a_missing_gateway(meshctl, tmp_path: Path) -> None:
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text(MESH.read_text() + "---\n" + GATEWAY)
    run = meshctl("translate", "--to", "envoy", "--proxy", "gateway", "public.shop", str(mesh), "-o", str(tmp_path / "gw"))
    assert run.code == 0, run.stderr
    config = yaml.safe_load((tmp_path / "gw" / "envoy.yaml").read_text())
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    assert hcm["route_config"]["name"] == "http.80"
    missing = meshctl("translate", "--to", "envoy", "--proxy", "gateway=nope.shop", str(mesh), "-o", str(tmp_path / "x"))
    assert missing.code == 2
    assert "gateway nope.shop is not in the inputs" in missing.stderr
    assert "public.shop" in missing.stderr


def test_report_formats_work_for_translate(meshctl, tmp_path: Path) -> None:
    run = meshctl("translate", "--to", "envoy", "--report", "json", str(MESH), "-o", str(tmp_path))
    assert run.code == 0
    assert isinstance(json.loads(run.stdout), (dict, list))



def test_an_output_directory_that_cannot_be_made_is_exit_code_3(meshctl, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    run = meshctl("translate", "--to", "envoy", str(MESH), "-o", str(blocker / "out"))
    assert run.code == 3, run.stderr
    assert "cannot create output directory" in run.stderr
    assert "Traceback" not in run.stderr
    assert blocker.read_text() == "not a directory\n"


def test_to_linkerd_writes_resources_that_validate_clean(meshctl, tmp_path: Path) -> None:
    run = meshctl("translate", "--to", "linkerd", "--linkerd-version", "2.16", str(MESH), "-o", str(tmp_path))
    assert run.code == 0, run.stderr
    written = tmp_path / "shop.yaml"  # one file per namespace
    assert [p.name for p in tmp_path.iterdir()] == ["shop.yaml"]
    text = written.read_text()
    assert "Linkerd 2.16" in text.splitlines()[0]
    assert f"# from {MESH.relative_to(ROOT)}:" in text  # every resource names the input it came from
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert "HTTPRoute" in {d["kind"] for d in docs}
    assert all(d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshctl" for d in docs)
    assert meshctl("validate", str(written)).code == 0


def test_mesh_target_usage_errors(meshctl, tmp_path: Path) -> None:
    cases = [
        (["--to", "linkerd", "--linkerd-version", "2.9"], "--linkerd-version must be one of"),
        (["--to", "linkerd", "--from", "cilium"], "--from must be one of"),
        (["--to", "linkerd", "--from", "linkerd"], "has nothing to translate"),
        (["--to", "envoy", "--profile"], "--profile applies to --to istio, linkerd or gateway-api only"),
        (["--to", "linkerd", "--proxy", "gateway"], "--proxy applies to --to envoy only"),
        (["--to", "linkerd", "--check"], "--check applies to --to envoy only"),
    ]
    for args, message in cases:
        run = meshctl("translate", *args, str(MESH), "-o", str(tmp_path / "x"))
        assert run.code == 2, (args, run.stderr)
        assert message in run.stderr


def test_to_istio_from_gateway_api(meshctl, tmp_path: Path) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text(MESH.read_text() + """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-split, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: catalog, port: 9080}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: catalog, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  selector: {app: catalog}
  ports: [{name: http, port: 9080}]
""")
    run = meshctl("translate", "--to", "istio", "--from", "gateway-api", str(routes), "-o", str(tmp_path / "out"))
    assert run.code == 0, run.stderr
    docs = [d for d in yaml.safe_load_all((tmp_path / "out" / "shop.yaml").read_text()) if d]
    (vs,) = [d for d in docs if d["kind"] == "VirtualService"]
    assert vs["spec"]["hosts"] == ["catalog.shop.svc.cluster.local"]
    assert meshctl("validate", str(tmp_path / "out" / "shop.yaml")).code == 0
