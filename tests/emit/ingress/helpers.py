"""What the Ingress translation tests share: translate a fixture to either target, find
resources in the output, list the losses by code and ``file:line:column``, and compute
where in a fixture a finding must point.

``at(text, needle)`` is the position of the first character of ``needle`` in the fixture,
which must occur exactly once: a finding about a field points at the field's value, so the
needle is the value as written (``'"30"'`` for an annotation, ``"/api, pathType"`` for a
path in a flow mapping).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml

from meshctl.diagnostics import Finding, Severity
from meshctl.emit import gateway_api, istio
from meshctl.emit.manifests import Manifests, labelled, render
from meshctl.emit.mesh_options import MeshOptions
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.options import Options
from meshctl.pipeline import run_analyze, run_validate
from tests.oracle import _apply_defaults, _convert, _crds, crd_errors, has_crd

Json = dict[str, Any]
FILE = "ingress.yaml"
BACKENDS = {"gateway-api": gateway_api, "istio": istio}


def translate(text: str, target: str, **options: Any) -> Manifests:
    return BACKENDS[target].translate(lower(read_text(text, FILE).docs), MeshOptions(**options))


def gateway_api_out(text: str, **options: Any) -> Manifests:
    return translate(text, "gateway-api", **options)


def istio_out(text: str, **options: Any) -> Manifests:
    return translate(text, "istio", **options)


# -- looking things up ---------------------------------------------------------------------
def names(out: Manifests, kind: str | None = None) -> list[str]:
    return sorted(r["metadata"]["name"] for r in out.resources if kind is None or r["kind"] == kind)


def find(out: Manifests, kind: str, name: str, namespace: str = "shop") -> Json:
    found = [r for r in out.resources if r["kind"] == kind and r["metadata"]["name"] == name
             and r["metadata"].get("namespace") == namespace]
    assert len(found) == 1, (kind, name, [(r["kind"], r["metadata"]["name"]) for r in out.resources])
    return found[0]


def spec(out: Manifests, kind: str, name: str, namespace: str = "shop") -> Json:
    return find(out, kind, name, namespace)["spec"]  # type: ignore[no-any-return]


# -- positions and losses --------------------------------------------------------------------
def at(text: str, needle: str, nth: int | None = None) -> str:
    """``ingress.yaml:line:column`` of ``needle``, which occurs once in the fixture (or of its
    ``nth`` occurrence, counting from 1)."""
    if nth is None:
        assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times in the fixture"
        nth = 1
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    before = text[:index]
    return f"{FILE}:{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"


def value_at(text: str, key: str, nth: int = 1) -> str:
    """The position of the value of the ``nth`` ``key: value`` written as ``key``
    (``"ingressClassName: nginx"``)."""
    name = key.partition(": ")[0]
    position = at(text, key, nth)
    file, line, column = position.rsplit(":", 2)
    return f"{file}:{line}:{int(column) + len(name) + 2}"


def losses(out: Manifests) -> list[tuple[str, str]]:
    """(code, file:line:column) of every finding, sorted."""
    return sorted((f.code, f.location.short() if f.location else "") for f in out.findings)


def loss(out: Manifests, code: str, where: str, *words: str) -> Finding:
    """The one finding of ``code`` at ``where``; each of ``words`` is in its message."""
    found = [f for f in out.findings if f.code == code and f.location and f.location.short() == where
             and all(w in f.message for w in words)]
    assert len(found) == 1, (code, where, words, [(f.code, f.location.short() if f.location else "", f.message)
                                                  for f in out.findings])
    return found[0]


def no_loss_mentions(out: Manifests, word: str) -> None:
    assert [f.message for f in out.findings if word in f.message] == []


# -- is the output valid? --------------------------------------------------------------------
def validate_findings(out: Manifests, channel: str = "standard") -> list[tuple[str, int, str]]:
    """meshctl validate on the rendered output: (code, line, message) of every finding."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.yaml"
        path.write_text(render(out.resources, "translated"))
        result = run_validate(Options(paths=(str(path),), gateway_api_channel=channel))
    return [(f.code, f.location.line if f.location else 0, f.message) for f in result.findings]


def crd_problems(out: Manifests, channel: str = "experimental") -> list[tuple[str, str, list[str]]]:
    """Resources the official CRD structural schemas of ``channel`` reject (Gateway API's
    standard CRDs also reject experimental fields). Every resource has a CRD."""
    problems = []
    for item in out.resources:
        assert has_crd(item["apiVersion"], item["kind"]), item["kind"]
        errors = crd_errors(labelled(item)) if channel == "experimental" else _standard_errors(labelled(item))
        if errors:
            problems.append((item["kind"], item["metadata"]["name"], errors[:3]))
    return problems


def _standard_errors(doc: Json) -> list[str]:
    """As ``tests.oracle.crd_errors``, with Gateway API's standard channel CRDs."""
    import jsonschema

    group, _, version = doc["apiVersion"].rpartition("/")
    raw = _crds("standard").get((group, version, doc["kind"]))
    assert raw is not None, f"{doc['kind']} {doc['apiVersion']} is not in the standard channel"
    schema = _convert(raw, True)
    schema["properties"]["metadata"] = {"type": "object"}
    data = _apply_defaults(raw, copy.deepcopy(doc))
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(data)]


def analysis_findings(out: Manifests, inputs: str | list[Path],
                      channel: str = "standard") -> list[tuple[str, str, str, str]]:
    """meshctl analyze on the inputs (a fixture, or files) and the output (``out.yaml``)
    together: (file name, code, severity, message) of every warning and error."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "out.yaml"]
        paths[0].write_text(render(out.resources, "translated"))
        if isinstance(inputs, str):
            paths.append(Path(tmp) / FILE)
            paths[1].write_text(inputs)
        else:
            paths += inputs
        result = run_analyze(Options(paths=tuple(str(p) for p in paths), gateway_api_channel=channel))
    return sorted((Path(f.location.file).name if f.location else "", f.code, f.severity.label, f.message)
                  for f in result.findings if f.severity >= Severity.WARNING)


def documents(text: str) -> list[Json]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
