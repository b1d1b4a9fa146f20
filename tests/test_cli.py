"""The command line as users and CI meet it: exit codes, formats, filters, configuration."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_meshctl

GOOD = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
"""
BAD = GOOD.replace("  - route:", "  - rout:")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "notes.txt").write_text("not yaml")
    return tmp_path


def test_clean_input_exits_0_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    run = run_meshctl("validate", str(tmp_path / "good.yaml"))
    assert run.code == 0, run.stderr
    assert "0 errors, 0 warnings, 0 info in 1 file (1 resources checked, 0 skipped)" in run.stdout


def test_findings_exit_1_with_position_source_line_and_suggestion(tree: Path) -> None:
    run = run_meshctl("validate", str(tree), cwd=tree)
    assert run.code == 1
    assert "bad.yaml:9:5 error MSH011 unknown field 'rout'; did you mean 'route'?" in run.stdout
    assert "    9 |   - rout:" in run.stdout
    assert "[VirtualService reviews.bookinfo] spec.http[0].rout" in run.stdout
    assert "skipped 1 file that is not .yaml, .yml or .json (-v lists them)" in run.stderr
    verbose = run_meshctl("validate", "-v", str(tree), cwd=tree)
    assert "notes.txt: skipped, not a .yaml, .yml or .json file" in verbose.stderr
    assert "Traceback" not in run.stderr


def test_json_report_has_the_documented_shape(tree: Path) -> None:
    run = run_meshctl("validate", "-f", "json", ".", cwd=tree)
    assert run.code == 1
    report = json.loads(run.stdout)
    assert report["version"] == 1
    assert report["summary"] == {
        "files": 2, "resources": 2, "skipped": 0, "suppressed": 0,
        "error": 1, "warning": 0, "info": 0,
    }
    (finding,) = report["findings"]
    assert finding["code"] == "MSH011"
    assert finding["rule"] == "unknown-field"
    assert finding["istio_code"] == "IST0106"
    assert finding["resource"] == {
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "name": "reviews", "namespace": "bookinfo",
    }
    assert finding["location"] == {
        "file": "bad.yaml", "line": 9, "column": 5, "path": "spec.http[0].rout", "template": None,
    }


def test_fail_on_sets_the_threshold_and_never_reports_only(tree: Path) -> None:
    assert run_meshctl("validate", "--fail-on", "never", str(tree)).code == 0
    warn_only = tree / "old.yaml"
    warn_only.write_text(GOOD.replace("networking.istio.io/v1", "policy.linkerd.io/v1beta1")
                         .replace("VirtualService", "Server").split("spec:")[0]
                         + "spec:\n  podSelector: {matchLabels: {app: web}}\n  port: 8080\n")
    assert run_meshctl("validate", str(warn_only)).code == 0
    assert run_meshctl("validate", "--fail-on", "warning", str(warn_only)).code == 1


def test_select_and_ignore_filter_by_code_prefix(tree: Path) -> None:
    assert run_meshctl("validate", "--ignore", "MSH011", str(tree)).code == 0
    assert run_meshctl("validate", "--select", "MSH01", str(tree)).code == 1
    assert run_meshctl("validate", "--select", "MSH02", str(tree)).code == 0
    unknown = run_meshctl("validate", "--select", "XYZ", str(tree))
    assert unknown.code == 2
    assert "no code starts with it" in unknown.stderr


def test_suppress_matches_the_printed_resource_form_and_reports_unused_ones(tree: Path) -> None:
    run = run_meshctl(
        "validate", "-f", "json", str(tree),
        "--suppress", "MSH011=VirtualService reviews.*",
        "--suppress", "MSH010=Gateway nothing.*",
    )
    assert run.code == 0
    report = json.loads(run.stdout)
    assert report["summary"]["suppressed"] == 1
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("MSH006", "info")]
    assert "MSH010=Gateway nothing.*" in report["findings"][0]["message"]
    assert run_meshctl("validate", "--suppress", "no-equals-sign", str(tree)).code == 2


def test_resource_annotations_suppress_their_own_findings(tmp_path: Path) -> None:
    ours = BAD.replace("  namespace: bookinfo\n", "  namespace: bookinfo\n  annotations:\n    meshctl.io/ignore: MSH01*\n")
    istio = BAD.replace("  namespace: bookinfo\n", "  namespace: bookinfo\n  annotations:\n    galley.istio.io/analyze-suppress: IST0106\n")
    (tmp_path / "ours.yaml").write_text(ours)
    (tmp_path / "istio.yaml").write_text(istio)
    assert run_meshctl("validate", str(tmp_path)).code == 0


def test_allow_unknown_fields_downgrades_to_warnings(tree: Path) -> None:
    run = run_meshctl("validate", "--allow-unknown-fields", str(tree))
    assert run.code == 0
    assert "warning MSH011" in run.stdout


def test_unknown_kinds_are_skipped_unless_strict(tmp_path: Path) -> None:
    (tmp_path / "cert.yaml").write_text("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\n")
    run = run_meshctl("validate", str(tmp_path))
    assert run.code == 0
    assert "(0 resources checked, 1 skipped)" in run.stdout
    strict = run_meshctl("validate", "--strict-kinds", str(tmp_path))
    assert strict.code == 1
    assert "MSH005" in strict.stdout


def test_typo_in_a_mesh_kind_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text(GOOD.replace("kind: VirtualService", "kind: VirtualSevice"))
    run = run_meshctl("validate", str(tmp_path))
    assert run.code == 1
    assert "MSH014 networking.istio.io has no kind 'VirtualSevice'; did you mean 'VirtualService'?" in run.stdout


def test_stdin_is_read_with_dash() -> None:
    run = run_meshctl("validate", "-", stdin=BAD)
    assert run.code == 1
    assert "<stdin>:9:5 error MSH011" in run.stdout


def test_missing_path_exits_3_with_a_clear_message(tmp_path: Path) -> None:
    run = run_meshctl("validate", str(tmp_path / "nope.yaml"))
    assert run.code == 3
    assert "nope.yaml: no such file or directory" in run.stderr
    assert "Traceback" not in run.stderr


def test_usage_errors_exit_2() -> None:
    assert run_meshctl("validate").code == 2
    assert run_meshctl("validate", "--format", "xml", ".").code == 2
    assert run_meshctl("validate", "--fail-on", "sometimes", ".").code == 2
    assert run_meshctl("validate", "--no-such-flag", ".").code == 2
    assert run_meshctl("explain", "MSH999").code == 2


def test_an_output_over_an_input_is_refused(tree: Path) -> None:
    target = tree / "good.yaml"
    before = target.read_text()
    run = run_meshctl("validate", str(target), "--output", f"json={target}")
    assert run.code == 2
    assert "refusing to write over an input file" in run.stderr
    assert target.read_text() == before


def test_several_reports_in_one_run(tree: Path) -> None:
    out = tree / "reports"
    run = run_meshctl("validate", str(tree / "bad.yaml"), "--output", f"json={out}/r.json")
    assert run.code == 1
    assert "error MSH011" in run.stdout
    assert json.loads((out / "r.json").read_text())["summary"]["error"] == 1
    assert [p.name for p in out.iterdir()] == ["r.json"]  # no temporary file left behind


def test_configuration_is_found_upward_and_the_command_line_wins(tree: Path) -> None:
    sub = tree / "sub"
    sub.mkdir()
    (tree / ".meshctl.yaml").write_text("fail-on: never\nignore: [MSH011]\n")
    assert run_meshctl("validate", "-f", "json", "..", cwd=sub).code == 0
    report = json.loads(run_meshctl("validate", "-f", "json", "..", cwd=sub).stdout)
    assert report["findings"] == []
    assert run_meshctl("validate", "--fail-on", "error", "--ignore", "MSH010", "..", cwd=sub).code == 1
    assert run_meshctl("validate", "--no-config", "..", cwd=sub).code == 1


def test_configuration_excludes_paths(tree: Path) -> None:
    (tree / ".meshctl.yaml").write_text("exclude: ['bad.yaml']\n")
    assert run_meshctl("validate", ".", cwd=tree).code == 0


def test_a_bad_configuration_is_a_usage_error_naming_the_key(tree: Path) -> None:
    (tree / ".meshctl.yaml").write_text("fail_on: warning\n")
    run = run_meshctl("validate", ".", cwd=tree)
    assert run.code == 2
    assert "unknown option 'fail_on'" in run.stderr
    assert "fail-on" in run.stderr


def test_rules_and_explain() -> None:
    listing = run_meshctl("rules")
    assert listing.code == 0
    assert "MSH011  unknown-field" in listing.stdout
    rows = json.loads(run_meshctl("rules", "-f", "json").stdout)
    assert {"code": "MSH010", "name": "schema-violation"}.items() <= rows[[r["code"] for r in rows].index("MSH010")].items()
    doc = run_meshctl("explain", "unknown-field")
    assert doc.code == 0
    assert doc.stdout.startswith("MSH011 unknown-field (istioctl: IST0106): error")
    for section in ("## Why it matters", "## Example", "## Fix"):
        assert section in doc.stdout


def test_no_colour_unless_asked(tree: Path) -> None:
    plain = run_meshctl("validate", str(tree))
    assert "\x1b[" not in plain.stdout
    forced = run_meshctl("validate", "--color", str(tree))
    assert "\x1b[" in forced.stdout


def test_helm_template_is_reported_beside_the_rendered_line(tmp_path: Path) -> None:
    rendered = "---\n# Source: shop/templates/vs.yaml\n" + BAD
    (tmp_path / "rendered.yaml").write_text(rendered)
    run = run_meshctl("validate", "-f", "json", str(tmp_path))
    (finding,) = json.loads(run.stdout)["findings"]
    assert finding["location"]["template"] == "shop/templates/vs.yaml"
    assert finding["location"]["line"] == 11
    text = run_meshctl("validate", str(tmp_path))
    assert "(rendered from shop/templates/vs.yaml)" in text.stdout


def _audited(command: str, tree: Path) -> list[str]:
    if command == "translate":
        return ["translate", "--to", "envoy", "--check", "--report", "json", "-o", str(tree / "out")]
    return [command, "-f", "json"]


GUARD = textwrap.dedent(
    """
    import sys, os
    touched = []
    def hook(event, args):
        if event.startswith("socket."):
            raise RuntimeError("network access during validate: " + event)
        if event == "open" and isinstance(args[0], str) and (".kube" in args[0] or args[0] == os.environ["KUBECONFIG"]):
            raise RuntimeError("kubeconfig read during validate: " + args[0])
    sys.addaudithook(hook)
    sys.argv = ["meshctl", *sys.argv[1:]]
    from meshctl.cli import main
    main()
    """
)


@pytest.mark.parametrize("command", ["validate", "analyze", "graph", "translate"])
def test_no_command_but_diagnose_touches_the_network_or_a_kubeconfig(tree: Path, command: str) -> None:
    import subprocess
    import sys

    kube = tree / ".kube"
    kube.mkdir(exist_ok=True)
    (kube / "config").write_text("apiVersion: v1\nkind: Config\n")
    env = {"HOME": str(tree), "KUBECONFIG": str(kube / "config"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", GUARD, *_audited(command, tree), "--debug", str(tree / "bad.yaml"), str(tree / "good.yaml")],
        capture_output=True, text=True, env=env, timeout=60, cwd=Path(__file__).parent.parent,
    )
    assert proc.returncode == (0 if command == "graph" else 1), proc.stderr
    assert "network access" not in proc.stderr and "kubeconfig" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["findings"] if command == "graph" else report["summary"]["error"] == 1


def test_comment_directives_ignore_findings_on_their_line_or_the_next(tmp_path: Path) -> None:
    same_line = BAD.replace("  - rout:", "  - rout:  # meshctl: ignore[MSH011]")
    line_above = BAD.replace("  - rout:", "  # meshctl: ignore[MSH0*]\n  - rout:")
    other_code = BAD.replace("  - rout:", "  - rout:  # meshctl: ignore[MSH021]")
    (tmp_path / "a.yaml").write_text(same_line)
    assert run_meshctl("validate", str(tmp_path / "a.yaml")).code == 0
    (tmp_path / "b.yaml").write_text(line_above)
    assert run_meshctl("validate", str(tmp_path / "b.yaml")).code == 0
    (tmp_path / "c.yaml").write_text(other_code)
    assert run_meshctl("validate", str(tmp_path / "c.yaml")).code == 1


EXPERIMENTAL = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  rules:
  - retry: {attempts: 3}
    filters:
    - type: ExternalAuth
      externalAuth: {protocol: HTTP, backendRef: {name: auth, port: 80}, http: {}}
    backendRefs: [{name: a, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: t, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: a, port: 80}]
"""


def test_gateway_api_standard_channel_rejects_experimental_fields_values_and_versions(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(EXPERIMENTAL)
    assert run_meshctl("validate", str(tmp_path)).code == 0  # the experimental superset by default
    run = run_meshctl("validate", "-f", "json", "--gateway-api-channel", "standard", str(tmp_path))
    assert run.code == 1
    found = sorted((f["code"], f["location"]["line"]) for f in json.loads(run.stdout)["findings"])
    assert found == [("MSH015", 7), ("MSH015", 9), ("MSH015", 10), ("MSH015", 13)]
    (tmp_path / ".meshctl.yaml").write_text("gateway-api-channel: standard\n")
    assert run_meshctl("validate", ".", cwd=tmp_path).code == 1
    assert run_meshctl("validate", "--gateway-api-channel", "beta", str(tmp_path)).code == 2
