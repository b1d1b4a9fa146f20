"""The Ingresses of the shared corpus (Istio's bookinfo Ingress, the Linkerd docs' nginx,
Traefik, GCE, Kong, HAProxy and ngrok examples, emojivoto's extensions/v1beta1 one)
translate to Gateway API and to Istio: no error, every loss at a position in the input,
every Ingress in some output resource, the outputs valid (``meshctl validate``, the official
CRDs), and ``meshctl analyze`` of input and output finds no error and nothing in the output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from meshctl.diagnostics import Severity
from meshctl.emit.manifests import Manifests
from meshctl.emit.mesh_options import MeshOptions
from meshctl.lower import lower
from meshctl.options import Options
from meshctl.pipeline import run_validate
from tests.conftest import CORPUS
from tests.emit.ingress.helpers import BACKENDS, analysis_findings, crd_problems, validate_findings

FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.y*ml")
               if re.search(r"^kind: Ingress$", p.read_text(encoding="utf-8"), re.MULTILINE))
# a placeholder the page asks the reader to replace: filled in as the reader would
PLACEHOLDERS = {"linkerd/website-docs/2-edge/tasks/using-ingress.yaml":
                ("[YOUR STATIC DOMAIN.ngrok-free.app]", "emojivoto.ngrok-free.app")}
INPUT_WARNINGS = {"MSH012", "MSH013", "MSH346"}  # deprecated Ingress versions and annotation; Ingress + Gateway


def test_the_corpus_has_ingresses() -> None:
    assert {"istio/samples/bookinfo/platform/kube/bookinfo-ingress.yaml",
            "linkerd/emojivoto/training/traffic-split/nginx-ing.yml",
            "linkerd/website-docs/2-edge/tasks/exposing-dashboard.yaml",
            "linkerd/website-docs/2-edge/tasks/using-ingress.yaml"} <= set(FILES)


def test_the_only_input_error_is_the_placeholder() -> None:
    (name, (placeholder, _)), = PLACEHOLDERS.items()
    result = run_validate(Options(paths=(str(CORPUS / name),)))
    errors = [f for f in result.findings if f.severity >= Severity.ERROR]
    assert [f.code for f in errors] == ["MSH010"]
    assert placeholder.strip("[]") in errors[0].message


def _input(name: str, tmp: Path) -> Path:
    text = (CORPUS / name).read_text(encoding="utf-8")
    old, new = PLACEHOLDERS.get(name, ("", ""))
    path = tmp / Path(name).name
    path.write_text(text.replace(old, new) if old else text, encoding="utf-8")
    return path


def _translate(path: Path, target: str) -> Manifests:
    result = run_validate(Options(paths=(str(path),)))
    assert [f.message for f in result.findings if f.severity >= Severity.ERROR] == []
    return BACKENDS[target].translate(lower(result.checked), MeshOptions())


def _ingresses(path: Path) -> set[str]:
    return {f"Ingress/{d['metadata'].get('namespace', 'default')}/{d['metadata']['name']}"
            for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)
            and d.get("kind") == "Ingress"}


@pytest.mark.parametrize("target", sorted(BACKENDS))
@pytest.mark.parametrize("name", FILES)
def test_corpus_ingresses_translate_and_validate_clean(name: str, target: str, tmp_path: Path) -> None:
    path = _input(name, tmp_path)
    out = _translate(path, target)
    assert [f.message for f in out.findings if f.severity >= Severity.ERROR] == []
    assert all(f.location is not None and f.location.file == str(path) for f in out.findings)
    translated_from = {source for r in out.resources
                       for source in r["metadata"]["annotations"]["meshctl.io/translated-from"].split(",")}
    assert _ingresses(path) <= translated_from
    assert validate_findings(out) == []
    assert crd_problems(out) == []
    if target == "gateway-api":
        assert validate_findings(out, "experimental") == []
        assert crd_problems(out, "standard") == []
    found = analysis_findings(out, [path])
    assert [(code, message) for _, code, severity, message in found if severity == "error"] == []
    assert [(code, message) for where, code, _, message in found if where == "out.yaml"] == []
    assert {code for _, code, _, _ in found} <= INPUT_WARNINGS
