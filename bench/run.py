"""Run the benchmarks and write docs/performance.md: ``make bench`` or ``python -m bench.run``.

Every comparison is measured side by side in one run, interleaved (A, B, A, B, ...),
and reported as a ratio as well as in seconds, because absolute times on a shared
machine drift. Commands run as subprocesses, the way users and CI run them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import generate

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SMALL = ROOT / "tests" / "schemas" / "cases" / "istio" / "valid" / "virtualservice.yaml"


@dataclass
class Timing:
    name: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """Half the interquartile range, relative to the median."""
        if len(self.samples) < 4:
            return (max(self.samples) - min(self.samples)) / 2 / self.median
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / 2 / self.median


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=ROOT)
    return time.perf_counter() - start


def interleave(commands: dict[str, list[str]], repeats: int) -> dict[str, Timing]:
    timings = {name: Timing(name, []) for name in commands}
    for name, cmd in commands.items():  # warm the file cache and .pyc files once
        _wall(cmd)
    for _ in range(repeats):
        for name, cmd in commands.items():
            timings[name].samples.append(_wall(cmd))
    return timings


def parse_floor(path: Path) -> list[str]:
    code = (
        "import sys, yaml\n"
        "list(yaml.load_all(open(sys.argv[1], encoding='utf-8'), Loader=yaml.CSafeLoader))\n"
    )
    return [PYTHON, "-c", code, str(path)]


def meshctl(*args: str) -> list[str]:
    return [PYTHON, "-m", "meshctl", *args]


def engine_comparison(path: Path) -> dict[str, float]:
    """Per-document schema validation cost: jsonschema (pure Python) vs jsonschema-rs."""
    import jsonschema
    import jsonschema_rs
    import referencing
    import yaml

    from meshctl.validate.catalog import Catalog
    from meshctl.validate.engine import URN, SchemaEngine

    catalog = Catalog.default()
    engine = SchemaEngine(catalog)
    docs = [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
    rels = [catalog.lookup(d["apiVersion"], d["kind"]).entry.schema for d in docs]  # type: ignore[union-attr]
    resources = [(URN + rel, referencing.Resource.from_contents(engine.schema(rel))) for rel in catalog.defs]
    registry = referencing.Registry().with_resources(resources)
    py_validators: dict[str, Callable[[object], bool]] = {}
    rs_validators: dict[str, Callable[[object], bool]] = {}
    for rel in set(rels):
        py_validators[rel] = jsonschema.Draft202012Validator(engine.schema(rel), registry=registry).is_valid
        rs_validators[rel] = jsonschema_rs.validator_for(engine.schema(rel), registry=engine._registry(rel)).is_valid
    out = {}
    for name, table in (("jsonschema", py_validators), ("jsonschema-rs", rs_validators)):
        start = time.perf_counter()
        for doc, rel in zip(docs, rels):
            assert table[rel](doc)
        out[name] = (time.perf_counter() - start) / len(docs)
    return out


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ("PyYAML", "jsonschema-rs", "jsonschema", "typer", "rich", "google-re2")
    return {n: version(n) for n in names}


def _row(t: Timing, base: Timing | None = None, docs: int | None = None) -> str:
    ratio = f"{t.median / base.median:.2f}x" if base else ""
    per_doc = f"{t.median / docs * 1e6:.0f} µs" if docs else ""
    return f"| {t.name} | {t.median * 1000:.0f} ms | ±{t.spread * 100:.0f}% | {ratio} | {per_doc} |"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="run meshctl's benchmarks")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--write", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args(argv)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        start_up = interleave(
            {
                "python -c pass": [PYTHON, "-c", "pass"],
                "meshctl --help": meshctl("--help"),
                "meshctl validate (1 small file)": meshctl("validate", str(SMALL)),
            },
            args.repeats,
        )
        sizes = {}
        for docs_wanted in (100, 2_000, 10_000, 20_000):
            path = Path(tmp) / f"mesh-{docs_wanted}.yaml"  # named by the size asked for
            count = generate.write(path, generate.services_for(docs_wanted), "istio")
            repeats = args.repeats if docs_wanted <= 1000 else max(3, args.repeats // 3)
            commands = {
                f"parse floor ({count} docs)": parse_floor(path),
                f"meshctl validate ({count} docs)": meshctl("validate", str(path)),
                f"meshctl analyze ({count} docs)": meshctl("analyze", str(path)),
            }
            if docs_wanted >= 10_000:  # where --jobs (default: every core) starts to pay
                commands[f"meshctl analyze --jobs 1 ({count} docs)"] = meshctl("analyze", "--jobs", "1", str(path))
            sizes[count] = interleave(commands, repeats)
        engines = engine_comparison(Path(tmp) / "mesh-100.yaml")

    lines.append(_header())
    lines.append("## Start-up\n")
    lines.append("| command | median | spread | vs python start-up | |\n|---|---|---|---|---|")
    base = start_up["python -c pass"]
    for t in start_up.values():
        lines.append(_row(t, base))
    lines.append("\nTargets: `meshctl validate` on one small file under 150 ms; `meshctl --help` under 120 ms.\n")
    lines.append("## Throughput: validate against the parse floor\n")
    lines.append(
        "The floor is PyYAML's C loader parsing the same file "
        "(`yaml.load_all(..., Loader=CSafeLoader)`), start-up included on both sides.\n"
    )
    lines.append("| command | median | spread | vs parse floor | per document |\n|---|---|---|---|---|")
    for count, timings in sizes.items():
        floor, *ours = timings.values()
        lines.append(_row(floor, None, count))
        lines.extend(_row(t, floor, count) for t in ours)
    lines.append(
        "\nTargets at 10,000 documents: validate and analyze each at most 2x the floor "
        "(validation adds at most the parse time).\n"
    )
    lines.append("## Scaling\n")
    lines.append("Per-document cost of `meshctl analyze` as the mesh grows (flat means no pairwise work):\n")
    lines.append("| documents | analyze per document | vs 2,000 documents |\n|---|---|---|")
    per_doc = {count: list(t.values())[2].median / count for count, t in sizes.items()}
    base_count = next((c for c in per_doc if c >= 1500), None)
    for count, cost in per_doc.items():
        if count >= 1500 and base_count is not None:
            lines.append(f"| {count} | {cost * 1e6:.0f} µs | {cost / per_doc[base_count]:.2f}x |")
    lines.append("")
    lines.append("## Schema engine\n")
    lines.append("Per-document `is_valid` on the synthetic mesh, every schema compiled once:\n")
    lines.append("| engine | per document |\n|---|---|")
    for name, seconds in engines.items():
        lines.append(f"| {name} | {seconds * 1e6:.1f} µs |")
    ratio = engines["jsonschema"] / engines["jsonschema-rs"]
    lines.append(f"\njsonschema-rs is {ratio:.0f}x faster, which is why it is a dependency.\n")
    lines.append(_NOTES)
    args.write.write_text("\n".join(lines), encoding="utf-8")
    print(args.write.read_text())
    return 0


def _header() -> str:
    versions = ", ".join(f"{k} {v}" for k, v in _versions().items())
    return (
        "# Performance\n\n"
        "Generated by `make bench` (`python -m bench.run`); the numbers below are from the last run.\n"
        "Re-run it to reproduce them; commit the result only from a quiet machine.\n\n"
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}; {versions}\n"
        f"- input: `bench/generate.py` synthetic Istio mesh (Service, 2 Deployments, VirtualService, "
        "DestinationRule per service; Namespace, PeerAuthentication, AuthorizationPolicy per namespace)\n"
    )


_NOTES = """## Where the time goes, and what was changed

Profiled with cProfile on the 10,000-document mesh (`python -m bench.generate`).

- **Garbage collector.** Every document keeps its YAML node tree so findings can point at
  a line. With the cyclic collector running, each generation-2 pass rescanned every tree:
  reading 10,000 documents took 10.3 s instead of 1.8 s. The pipeline pauses the collector
  while it runs (the trees hold no cycles), and the command line never turns it back on
  (re-enabling it at the end cost a last 0.6 s full pass).
- **Loader.** PyYAML's C parser builds the nodes; construction is Python. meshctl's
  constructor builds plain string keys and values directly (what the safe constructor
  returns for them) and keeps the slow path only for merge keys and other tags: reading
  got 0.4 s faster than the stock constructor on 10,000 documents, below the floor's cost.
- **Value checks.** They walk field patterns (`spec.http[].route[].weight`) on every
  document. Recursive generators made that 1 s of the run; a flat frontier walk, and one
  shared walk for the many duration fields of a DestinationRule, cut it to about 0.2 s.
- **Positions on demand.** The loader keeps nodes but computes a position only when a
  finding needs one, so valid documents pay nothing for positions.
- **analyze.** On 10,000 documents, after validation: imports 0.4 s (networkx 0.17 s:
  its package init loads every algorithm and scans backend entry points; the rule modules
  and their dataclasses 0.23 s), lowering 0.3 s, the graph 0.1 s, the 90 rules 0.9 s
  together (the mTLS view 0.18 s, no other rule above 0.08 s: every lookup goes through an
  index by host, namespace or label, and scans several rules share are built once per
  run). In one process that is 2.5x the floor (the `--jobs 1` rows).
- **`--jobs`.** Inputs of 2 MB and more are read and checked by forked worker processes
  (default: one per core), large files cut into chunks of about 512 KB at `---` lines.
  Workers send back data and findings, not node trees: the main process composes a
  document's nodes again from the text only when a finding needs its position. While the
  workers run, the main process imports the analysis (rules, networkx). Reports are
  byte-identical to `--jobs 1` (tests/test_jobs.py). Below 2 MB forking costs more than
  it saves, so small runs and pre-commit hooks stay in one process.
- **Fast path.** A valid document costs one compiled `is_valid` call; errors are collected
  and translated only for the documents that fail.
- **Start-up.** typer 0.29 imports pydantic at start-up (+60 ms on every run); meshctl
  requires typer < 0.29. Rule modules, reporters other than the one used, jsonschema-rs and
  rich are imported only when needed.
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
