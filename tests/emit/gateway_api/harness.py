"""Shared by the Gateway API back-end tests: build a model from YAML, translate it, check the output.

``translated(yaml)`` runs the back-end; ``validated(out)`` renders the output and runs
meshctl's own ``validate`` on it (schemas and value checks, the channel as translated);
``analyzed(out, yaml)`` runs ``analyze`` on the output plus the input's Kubernetes objects.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from meshctl.diagnostics import Finding, Severity
from meshctl.emit.gateway_api import translate
from meshctl.emit.manifests import Manifests, render
from meshctl.emit.mesh_options import MeshOptions
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.model.mesh import MeshModel
from meshctl.options import Options
from meshctl.pipeline import run_analyze, run_validate

Json = dict[str, Any]


def model(text: str) -> MeshModel:
    return lower(read_text(text, "mesh.yaml").docs)


def translated(text: str, channel: str = "standard", **options: Any) -> Manifests:
    return translate(model(text), MeshOptions(gateway_api_channel=channel, **options))


def find(out: Manifests, kind: str, name: str | None = None, namespace: str | None = None) -> Json:
    found = resources(out, kind, name, namespace)
    assert len(found) == 1, (kind, name, [r["metadata"]["name"] for r in out.resources if r["kind"] == kind])
    return found[0]


def resources(out: Manifests, kind: str, name: str | None = None, namespace: str | None = None) -> list[Json]:
    return [
        r for r in out.resources
        if r["kind"] == kind and (name is None or r["metadata"]["name"] == name)
        and (namespace is None or r["metadata"].get("namespace") == namespace)
    ]


def spec(out: Manifests, kind: str, name: str | None = None, namespace: str | None = None) -> Json:
    return find(out, kind, name, namespace)["spec"]  # type: ignore[no-any-return]


def messages(out: Manifests, code: str | None = None) -> list[str]:
    return [f.message for f in out.findings if code is None or f.code == code]


def has_loss(out: Manifests, code: str, *words: str) -> bool:
    """A finding of ``code`` whose message holds every word."""
    return any(all(w in m for w in words) for m in messages(out, code))


def validated(out: Manifests, channel: str = "standard") -> list[Finding]:
    """meshctl validate on the rendered output: every finding (none expected)."""
    text = render(out.resources, "test output")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.yaml"
        path.write_text(text)
        result = run_validate(Options(paths=(str(path),), gateway_api_channel=channel))
    return result.findings


def analyzed(out: Manifests, text: str, channel: str = "standard") -> list[Finding]:
    """meshctl analyze on the output plus the Kubernetes objects of the input: its errors."""
    docs = read_text(text, "mesh.yaml").docs
    kube = [d.data for d in docs if "." not in d.api_version.rpartition("/")[0]]
    rendered = render(out.resources, "test output")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "out.yaml").write_text(rendered)
        (Path(tmp) / "kube.yaml").write_text(yaml.safe_dump_all(kube))
        result = run_analyze(Options(paths=(tmp,), gateway_api_channel=channel))
    return [f for f in result.findings if f.severity >= Severity.ERROR]
