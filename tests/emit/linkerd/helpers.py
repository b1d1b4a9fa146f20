"""Shared helpers: translate YAML text, look resources up, and check the output with meshctl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshctl.diagnostics import Finding, Severity
from meshctl.emit.linkerd import translate
from meshctl.emit.manifests import Manifests, render
from meshctl.emit.mesh_options import MeshOptions
from meshctl.emit.yaml_out import dump
from meshctl.load.reader import read_text
from meshctl.lower import lower
from meshctl.options import Options
from meshctl.pipeline import run_analyze, run_validate

Json = dict[str, Any]

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
"""

SUBSETS = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""


def run(*texts: str, **options: Any) -> Manifests:
    docs = read_text("\n---\n".join(texts), "mesh.yaml").docs
    return translate(lower(docs), MeshOptions(**options))


def vs(http: str, hosts: str = "[reviews]", extra: str = "") -> str:
    """A VirtualService reviews.shop with the given ``http`` list (YAML, indented 2)."""
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: shop}}
spec:
  hosts: {hosts}
{extra}  http:
{http}"""


def of_kind(out: Manifests, kind: str, api_version: str | None = None) -> list[Json]:
    return [r for r in out.resources if r["kind"] == kind and (api_version is None or r["apiVersion"] == api_version)]


def named(out: Manifests, kind: str, name: str) -> Json:
    found = [r for r in of_kind(out, kind) if r["metadata"]["name"] == name]
    assert len(found) == 1, [r["metadata"]["name"] for r in of_kind(out, kind)]
    return found[0]


def linkerd_annotations(item: Json) -> dict[str, str]:
    """The annotations Linkerd reads (meshctl's provenance left out)."""
    return {k: v for k, v in item["metadata"].get("annotations", {}).items() if not k.startswith("meshctl.io/")}


def losses(out: Manifests, code: str | None = None) -> list[Finding]:
    return [f for f in out.findings if code is None or f.code == code]


def messages(out: Manifests, code: str | None = None) -> list[str]:
    return [f.message for f in losses(out, code)]


def has_loss(out: Manifests, code: str, text: str, path: str | None = None) -> bool:
    return any(text in f.message and (path is None or (f.location is not None and f.location.path == path))
               for f in losses(out, code))


def check_output(tmp: Path, out: Manifests, *inputs: str) -> list[Finding]:
    """Validate the rendered output with meshctl's schemas, then analyze it together with
    the Kubernetes objects of the inputs it does not replace; the errors of both."""
    rendered = tmp / "linkerd.yaml"
    rendered.write_text(render(out.resources, out.summary))
    problems = [f for f in run_validate(Options(paths=(str(rendered),))).findings]
    replaced = {(r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]) for r in out.resources}
    kept = [
        doc.data for doc in read_text("\n---\n".join(inputs), "in.yaml").docs
        if doc.api_version in ("v1", "apps/v1") and (doc.kind, doc.namespace, doc.name) not in replaced
        and (doc.kind, None, doc.name) not in replaced
    ]
    (tmp / "k8s.yaml").write_text("".join("---\n" + dump(d) for d in kept))
    analysis = run_analyze(Options(paths=(str(tmp),))).findings
    return problems + [f for f in analysis if f.severity is Severity.ERROR]
