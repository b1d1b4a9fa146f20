"""What the Istio back-end tests share: a model from YAML, look-ups in the output, losses by
line, the checks that the output validates and analyses clean, and a small evaluator of
VirtualService routing used to compare translations with hand-written Istio by meaning
(which pods and port a request reaches), not by form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshctl.diagnostics import Severity
from meshctl.emit.istio import translate
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


def run(text: str, **options: Any) -> Manifests:
    return translate(model(text), MeshOptions(**options))


def find(out: Manifests, kind: str, name: str, namespace: str | None = None) -> Json:
    for item in out.resources:
        meta = item["metadata"]
        if item["kind"] == kind and meta["name"] == name and (namespace is None or meta.get("namespace") == namespace):
            return item
    raise AssertionError(f"no {kind} {name} in {[(r['kind'], r['metadata']['name']) for r in out.resources]}")


def spec(out: Manifests, kind: str, name: str, namespace: str | None = None) -> Json:
    return dict(find(out, kind, name, namespace)["spec"])


def kinds(out: Manifests) -> list[tuple[str, str]]:
    return sorted((r["kind"], r["metadata"]["name"]) for r in out.resources)


def losses(out: Manifests) -> list[tuple[str, int, str]]:
    """(code, 1-based line, message) of every loss."""
    return sorted((f.code, f.location.line if f.location else 0, f.message) for f in out.findings)


def has_loss(out: Manifests, code: str, line: int | None, text: str) -> bool:
    return any(c == code and (line is None or ln == line) and text in msg for c, ln, msg in losses(out))


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing ``needle`` (positions in fixtures)."""
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the fixture")


# -- validating the output -------------------------------------------------------------------
KUBERNETES = ("v1", "apps/v1", "batch/v1")


def kubernetes_docs(text: str) -> list[Json]:
    return [d.data for d in read_text(text, "mesh.yaml").docs if d.api_version in KUBERNETES]


def check_clean(tmp_path: Path, out: Manifests, inputs: list[Json]) -> None:
    """The output validates with no finding at all, and analysed together with the input's
    Kubernetes objects (those the output replaces left out) has no error."""
    rendered = tmp_path / "istio.yaml"
    rendered.write_text(render(out.resources, "translated"))
    checked = run_validate(Options(paths=(str(rendered),)))
    assert [(f.code, f.location.line if f.location else 0, f.message) for f in checked.findings] == []
    replaced = {(r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]) for r in out.resources}
    kept = [d for d in inputs if (d.get("kind"), d.get("metadata", {}).get("namespace"),
                                  d.get("metadata", {}).get("name")) not in replaced]
    context = tmp_path / "kubernetes.yaml"
    context.write_text(yaml.safe_dump_all(kept, sort_keys=False))
    analysed = run_analyze(Options(paths=(str(context), str(rendered))))
    errors = [(f.code, f.location.file if f.location else "", f.location.line if f.location else 0, f.message)
              for f in analysed.findings if f.severity >= Severity.ERROR]
    assert errors == []


# -- what a VirtualService does with a request -------------------------------------------------
@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()


def _string(match: Json, value: str | None) -> bool:
    if value is None:
        return False
    if "exact" in match:
        return value == match["exact"]
    if "prefix" in match:
        return value.startswith(match["prefix"])
    if "regex" in match:
        return re.fullmatch(match["regex"], value) is not None
    return True


def _matches(match: Json, request: Request) -> bool:
    if "uri" in match and not _string(match["uri"], request.path):
        return False
    if "method" in match and not _string(match["method"], request.method):
        return False
    headers = dict(request.headers)
    return all(_string(m, headers.get(name)) for name, m in match.get("headers", {}).items())


def rule_for(vs: Json, request: Request) -> Json | None:
    for rule in vs.get("http", []):
        if not rule.get("match") or any(_matches(m, request) for m in rule["match"]):
            return rule
    return None


def fqdn(host: str, namespace: str) -> str:
    return host if "." in host else f"{host}.{namespace}.svc.cluster.local"


@dataclass
class Cluster:
    """Services (selectors and ports) and DestinationRule subsets, to resolve destinations."""

    services: dict[str, Json]
    subsets: dict[tuple[str, str], dict[str, str]]

    @classmethod
    def of(cls, docs: list[Json]) -> Cluster:
        services, subsets = {}, {}
        for doc in docs:
            ns = doc.get("metadata", {}).get("namespace", "default")
            if doc.get("kind") == "Service" and doc.get("apiVersion") == "v1":
                services[fqdn(doc["metadata"]["name"], ns)] = doc["spec"]
            if doc.get("kind") == "DestinationRule":
                host = fqdn(doc["spec"]["host"], ns)
                for subset in doc["spec"].get("subsets", []):
                    subsets[(host, subset["name"])] = subset.get("labels", {})
        return cls(services, subsets)

    def pods(self, destination: Json, namespace: str) -> tuple[frozenset[tuple[str, str]], Any]:
        """The pod selector and target port a destination reaches."""
        host = fqdn(destination["host"], namespace)
        service = self.services[host]
        labels = dict(service.get("selector", {}))
        if "subset" in destination:
            labels.update(self.subsets[(host, destination["subset"])])
        ports = service.get("ports", [])
        number = destination.get("port", {}).get("number") or (ports[0]["port"] if len(ports) == 1 else None)
        port = next(p for p in ports if p["port"] == number)
        return frozenset(labels.items()), port.get("targetPort", port["port"])

    def outcome(self, vs: Json, request: Request, namespace: str) -> dict[Any, int] | str | None:
        """Where a request goes: {(pods, port): weight}, or "redirect"/"status N", or None."""
        rule = rule_for(vs, request)
        if rule is None:
            return None
        if "redirect" in rule:
            return "redirect"
        if "directResponse" in rule:
            return f"status {rule['directResponse']['status']}"
        routes = rule["route"]
        total = sum(r.get("weight", 100) for r in routes)
        return {self.pods(r["destination"], namespace): round(100 * r.get("weight", 100) / total) for r in routes}


def load_docs(*paths: Path) -> list[Json]:
    docs: list[Json] = []
    for path in paths:
        docs += [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    return docs
