"""The fuzzer's seed corpus, built at run time (nothing large is committed).

A few small real manifests from ``../shared/corpus`` (Istio, Gateway API, Linkerd): for
every kind that has value checks, the smallest file holding one, so the fuzzer starts
with inputs that already reach the schema engine and the rules. Then the small hostile
inputs of tests/hostile and a handful of shapes the loader treats specially (JSON, a
List, Helm ``# Source:`` comments, ``# meshctl: ignore`` comments, anchors and merge
keys). Without the corpus checkout, the demo mesh in testdata/ stands in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
DEMO = ROOT / "testdata" / "demo"
MAX_SEED_BYTES = 4096  # libFuzzer's -max_len; larger seeds would be cut anyway

# Where to look, in order; each directory adds at most PER_DIRECTORY of its smallest
# files holding a kind not yet seeded.
DIRECTORIES = (
    "istio/samples/bookinfo/networking",
    "istio/testdata-config",
    "gateway-api/examples/standard",
    "gateway-api/examples/experimental",
    "linkerd/emojivoto",
    "linkerd/website-docs",
    "linkerd/booksapp",
)
PER_DIRECTORY = 6

SYNTHETIC: dict[str, bytes] = {
    "list.yaml": (
        b"apiVersion: v1\nkind: List\nitems:\n"
        b"- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: x}\n  spec: {ports: [{port: 80, name: http}]}\n"
        b"- null\n- 3\n"
    ),
    "helm.yaml": (
        b"---\n# Source: chart/templates/vs.yaml\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        b"metadata:\n  name: r\n  namespace: x\nspec:\n  hosts: [r]\n  http:\n  - timeout: 5x\n"
        b"    route: [{destination: {host: r, subset: v1}, weight: 50}]\n"
    ),
    "ignore-comments.yaml": (
        b"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: h\n  namespace: x\n"
        b"  annotations: {meshctl.io/ignore: \"MSH04*\", galley.istio.io/analyze-suppress: \"*\"}\n"
        b"spec:\n  # meshctl: ignore[MSH011]\n  parentRefs: [{name: gw, sectionName: http}]\n"
        b"  rules:\n  - matches: [{path: {type: RegularExpression, value: \"/a(b\"}}]  # meshctl: ignore\n"
        b"    timeouts: {request: 1s, backendRequest: 2s}\n    backendRefs: [{name: s, port: 8080, weight: 1}]\n"
    ),
    "anchors.yaml": (
        b"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: x}\n"
        b"spec:\n  host: d\n  trafficPolicy: &tp\n    connectionPool: {tcp: {connectTimeout: 30ms}}\n"
        b"  subsets:\n  - name: v1\n    labels: &l {version: v1}\n    trafficPolicy: *tp\n"
        b"  - name: v2\n    labels: {<<: *l, version: v2}\n"
    ),
}


def build(dest: Path) -> list[Path]:
    """Write the seed corpus into ``dest`` (created if needed); return the files written."""
    dest.mkdir(parents=True, exist_ok=True)
    seeds: dict[str, bytes] = {}
    if CORPUS.is_dir():
        seeded: set[str] = set()
        for directory in DIRECTORIES:
            seeds.update(_smallest_by_kind(sorted(_yaml_files(CORPUS / directory)), seeded))
    else:
        seeds.update(_smallest_by_kind(sorted(_yaml_files(DEMO)), set(), per_directory=50))
    from tests.hostile.inputs import HOSTILE

    for name, make in sorted(HOSTILE.items()):
        data = make()
        if len(data) <= MAX_SEED_BYTES:
            seeds[f"hostile-{name}"] = data
    seeds.update(SYNTHETIC)
    first = next((data for name, data in seeds.items() if not name.startswith("hostile-")), None)
    if first is not None:  # the same resources as JSON, with the tabs JSON allows
        docs = [d for d in yaml.safe_load_all(first) if d is not None]
        seeds["as-json.json"] = json.dumps(docs[0] if len(docs) == 1 else docs, indent="\t").encode()
    written = []
    for name, data in seeds.items():
        digest = hashlib.sha1(data).hexdigest()[:12]
        path = dest / f"seed-{digest}-{Path(name).name}"
        path.write_bytes(data)
        written.append(path)
    return written


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
            and p.stat().st_size <= MAX_SEED_BYTES]


def _smallest_by_kind(files: list[Path], seeded: set[str], per_directory: int = PER_DIRECTORY) -> dict[str, bytes]:
    """Up to ``per_directory`` files, smallest first, each holding a kind not seen before."""
    from meshctl.rules.registry import document_checks

    wanted = set(document_checks())
    chosen: dict[str, bytes] = {}
    for path in sorted(files, key=lambda p: (p.stat().st_size, str(p))):
        if len(chosen) >= per_directory:
            break
        data = path.read_bytes()
        try:
            docs = [d for d in yaml.safe_load_all(data) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        kinds = {_kind_key(d) for d in docs} & wanted
        if kinds - seeded:
            seeded |= kinds
            chosen[f"{path.parent.name}-{path.name}"] = data
    return chosen


def _kind_key(doc: dict[str, object]) -> str:
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    return f"{group}/{kind if isinstance(kind, str) else ''}"


if __name__ == "__main__":
    import sys

    for written_path in build(Path(sys.argv[1])):
        print(written_path)
