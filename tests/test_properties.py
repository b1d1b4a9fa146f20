"""Property tests: whatever the input, meshctl reports findings and never crashes.

Arbitrary text through the loader, and line-level mutations of real manifests (the demo
mesh and the corpus) through the whole validate and analyze pipelines. A crash would be
an exception here; the CLI would turn it into exit code 70.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshctl.load.reader import read_text
from meshctl.options import Options
from meshctl.pipeline import run_analyze, run_validate
from tests.conftest import CORPUS, ROOT

SOURCES = sorted((ROOT / "testdata" / "demo").rglob("*.yaml"))
if CORPUS.is_dir():
    SOURCES += sorted((CORPUS / "istio" / "samples" / "bookinfo" / "networking").glob("*.yaml"))[:20]
    SOURCES += sorted((CORPUS / "linkerd" / "emojivoto").rglob("*.yml"))[:5]
    SOURCES += sorted((CORPUS / "gateway-api" / "examples" / "standard").glob("*.yaml"))[:20]
YAMLISH = st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#\n\t ,.0123456789%@`?~\\")), max_size=300)
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(YAMLISH)
def test_the_loader_takes_any_text(text: str) -> None:
    read = read_text(text, "fuzz.yaml")
    for finding in read.findings:
        assert finding.location is not None and finding.location.line >= 1


@st.composite
def mutated_manifest(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from(SOURCES))
    lines = source.read_text().splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "retype", "truncate"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif action == "indent":
            lines[i] = "  " + lines[i]
        elif action == "dedent":
            lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
        elif action == "retype" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = key + ": " + draw(st.sampled_from(["[]", "{}", "1", "true", "null", "~", "'x'", "[1, {a: b}]"]))
        elif action == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_manifest())
def test_mutated_real_manifests_give_findings_not_crashes(tmp_path_factory, manifest: str) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "mesh.yaml"
    path.write_text(manifest)
    result = run_analyze(Options(paths=(str(path),), closed_world=True))
    assert result.files == 1
    for finding in result.findings:
        assert finding.location is None or finding.location.line >= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted((ROOT / "testdata" / "demo").rglob("*.yaml"))), mutated_manifest())
def test_a_mutated_file_in_the_demo_mesh_never_crashes_the_analysis(tmp_path_factory, target: Path, manifest: str) -> None:
    import shutil

    demo = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(ROOT / "testdata" / "demo", demo)
    (demo / target.relative_to(ROOT / "testdata" / "demo")).write_text(manifest)
    result = run_analyze(Options(paths=(str(demo),)))
    assert result.files >= 10


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted((ROOT / "testdata" / "demo").rglob("*.yaml"))), mutated_manifest())
def test_a_mutated_file_in_the_demo_mesh_never_crashes_a_translation(tmp_path_factory, target: Path, manifest: str) -> None:
    import shutil

    from meshctl.emit.envoy import EnvoyOptions, translate
    from meshctl.lower import lower

    demo = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(ROOT / "testdata" / "demo", demo)
    (demo / target.relative_to(ROOT / "testdata" / "demo")).write_text(manifest)
    result = run_validate(Options(paths=(str(demo),)))
    mesh = lower(result.checked)
    for options in (EnvoyOptions(), *(EnvoyOptions(proxy="gateway", target=(g.name, g.namespace)) for g in mesh.gateways),
                    *(EnvoyOptions(proxy="inbound", target=(w.name, w.namespace)) for w in mesh.workloads[:3])):
        out = translate(mesh, options)
        assert all(f.location is not None and f.location.line >= 1 for f in out.findings)
