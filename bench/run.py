"""Run the benchmarks and write docs/performance.md: ``make bench`` or ``python -m bench.run``.

Every comparison is measured side by side in one run, interleaved (A, B, A, B, ...),
and reported as a ratio as well as in seconds, because absolute times on a shared
machine drift. Commands run as subprocesses, the way users and CI run them, and each
run's peak memory is read from the kernel (``os.wait4``: the largest resident set of any
one process of the command's tree).

The alternatives (kubernetes-validate, check-jsonschema, yamllint) are installed on
demand into their own virtual environment, bench/.peers-venv, at the versions pinned
in pyproject.toml's ``bench`` extra. A peer that cannot be installed or run is reported
as "not measured" with the reason; nothing is estimated in its place.

``--quick`` (or MESHCTL_BENCH_QUICK=1) is a smoke run: 1 and 100 documents, one round,
printed rather than written unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import pickle
import platform
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import generate

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SMALL = ROOT / "tests" / "schemas" / "cases" / "istio" / "valid" / "virtualservice.yaml"
SCHEMAS = ROOT / "schemas"
PEERS_VENV = Path(__file__).resolve().parent / ".peers-venv"
LAST_RESULTS = Path(__file__).resolve().parent / ".last-results.pickle"  # for --report-only
FULL_SIZES = (1, 100, 10_000, 50_000)
QUICK_SIZES = (1, 100)
PEER_MAX_DOCS = 10_000  # one round of the three peers at 10,000 documents takes about 2.5 minutes
PROFILE_DOCS = 10_000
COMMAND_BUDGET = 60.0  # seconds per command and size above 100 documents: fewer runs of slow ones
RUN_TIMEOUT = 420.0  # one run longer than this is stopped and reported as not measured
CORE_KINDS = ("Service", "Deployment")  # what kubernetes-validate is compared on
YAMLLINT_CONFIG = "rules: {}"  # no rule enabled: yamllint still reports syntax errors
TRANSLATE_TARGETS = ("envoy", "linkerd")
GIB = 1024**3
FALLBACK_PEERS = ("kubernetes-validate==1.37.0", "check-jsonschema==0.39.0", "yamllint==1.38.0")


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Command:
    name: str
    argvs: list[list[str]]  # run one after another; timed and measured together
    docs: int
    rounds: int | None = None  # None: every round of its size (slow peers run fewer)


@dataclass
class Timing:
    name: str
    docs: int
    samples: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # bytes, one per sample
    failure: str | None = None  # why it is not measured
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the whole tree, one per sample

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def per_doc(self) -> float:
        return self.median / self.docs

    @property
    def cpu_per_doc(self) -> float | None:
        cpu = getattr(self, "cpu", None)  # absent from results pickled before it was measured
        return statistics.median(cpu) / self.docs if cpu else None

    @property
    def max_rss(self) -> int:
        return max(self.rss)

    @property
    def spread(self) -> float:
        """Half the interquartile range, relative to the median."""
        if len(self.samples) < 4:
            return (max(self.samples) - min(self.samples)) / 2 / self.median
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / 2 / self.median


@dataclass
class Run:
    seconds: float
    max_rss: int  # bytes
    code: int
    stderr: str
    timed_out: float | None = None  # the limit it was stopped at
    cpu: float = 0.0  # user + system seconds of the process and the descendants it waited for


def run_once(argvs: list[list[str]], cwd: Path, timeout: float | None = None) -> Run:
    """Run the commands in turn; wall time, the largest RSS and the first failing exit code.

    ``os.wait4`` gives the rusage of the child and of the descendants it waited for, so
    ``ru_maxrss`` is the largest single process of the tree (the main process or one of
    the ``--jobs`` workers), in KiB on Linux. A run past ``timeout`` seconds is stopped,
    its whole process group with it, and reported as such.
    """
    seconds = 0.0
    cpu = 0.0
    peak = 0
    code = 0
    err = ""
    for argv in argvs:
        with tempfile.TemporaryFile() as stderr:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, cwd=cwd, start_new_session=True)
            stopped = threading.Event()

            def stop(pid: int = proc.pid, stopped: threading.Event = stopped) -> None:
                stopped.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)

            timer = threading.Timer(timeout, stop) if timeout else None
            if timer is not None:
                timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                if timer is not None:
                    timer.cancel()
            seconds += time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak = max(peak, usage.ru_maxrss * 1024)
            cpu += usage.ru_utime + usage.ru_stime
            if stopped.is_set():
                return Run(seconds, peak, proc.returncode, "", timeout, cpu)
            if proc.returncode != 0 and code == 0:
                code = proc.returncode
                stderr.seek(0)
                err = stderr.read().decode("utf-8", "replace")
    return Run(seconds, peak, code, err, None, cpu)


def _reason(run: Run) -> str:
    if run.timed_out is not None:
        return f"one run took longer than {run.timed_out:.0f} s, the limit of a run here; it was stopped"
    lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    tail = lines[-1][:160] if lines else "no message"
    return f"exited {run.code}: {tail}"


def interleave(
    commands: list[Command],
    rounds: int,
    cwd: Path,
    warm: bool = True,
    budget: float | None = None,
    timeout: float | None = None,
) -> dict[str, Timing]:
    """A, B, C, A, B, C, ...: every command in every round, interleaved.

    A slow command runs in only the first few rounds: its own ``rounds``, and no more than
    ``budget`` seconds' worth (judged by its first run; at least one run).
    """
    timings = {c.name: Timing(c.name, c.docs) for c in commands}
    allowed = {c.name: min(c.rounds or rounds, rounds) for c in commands}
    if warm:  # warm the file cache and .pyc files once
        for c in commands:
            run_once(c.argvs, cwd, timeout)
    for r in range(rounds):
        for c in commands:
            timing = timings[c.name]
            if timing.failure is not None or r >= allowed[c.name]:
                continue
            run = run_once(c.argvs, cwd, timeout)
            if run.code != 0 or run.timed_out is not None:
                timing.failure = _reason(run)
                continue
            timing.samples.append(run.seconds)
            timing.rss.append(run.max_rss)
            timing.cpu.append(run.cpu)
            if r == 0 and budget is not None:
                allowed[c.name] = min(allowed[c.name], max(1, int(budget // run.seconds)))
    return timings


def tree_peak(argv: list[str], cwd: Path, interval: float = 0.02) -> int:
    """Peak of the summed RSS of a command's whole process tree, sampled from /proc.

    An upper bound: pages a forked worker shares with its parent count twice.
    """
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_rss(pid) for pid in _tree(proc.pid)))
        time.sleep(interval)
    return peak


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                for child in f.read().split():
                    pids.extend(_tree(int(child)))
    except OSError:
        pass
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def compile_bytecode() -> None:
    """Write meshctl's .pyc files before anything is timed. Installed packages have them; a
    checkout edited since its last run, with PYTHONDONTWRITEBYTECODE set, would compile the
    changed modules again on every run and time that instead of start-up."""
    compileall.compile_dir(ROOT / "meshctl", quiet=1)


def import_times(argv: list[str], cwd: Path, runs: int) -> dict[str, float]:
    """Median import time (seconds) of a command, by the package that asked for it.

    From ``python -X importtime``: each module's own time goes to the nearest package on
    its import chain that is not the standard library (meshctl by subpackage), so what
    typer or jsonschema-rs import counts as theirs; the standard library imported by
    nothing else (Python's own start-up, say) is a group of its own.
    """
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        proc = subprocess.run(
            [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, cwd=cwd, check=False
        )
        totals: dict[str, float] = {}
        chain: list[str] = []  # the module's importers, outermost first
        for line in reversed(proc.stderr.splitlines()):  # a parent is printed after its children
            match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|( +)(\S+)", line)
            if match is None:
                continue
            depth = (len(match.group(2)) - 1) // 2
            chain[depth:] = [match.group(3)]
            packages = [p for p in map(_package, reversed(chain)) if p is not None]
            group = packages[0] if packages else "Python standard library"
            totals[group] = totals.get(group, 0.0) + int(match.group(1)) / 1e6
        for group, seconds in totals.items():
            samples.setdefault(group, []).append(seconds)
    medians = {g: statistics.median(v + [0.0] * (runs - len(v))) for g, v in samples.items()}
    return dict(sorted(medians.items(), key=lambda kv: kv[1], reverse=True))


def _package(module: str) -> str | None:
    """``meshctl.load`` for meshctl's modules, the top-level name for others; None for the standard library."""
    parts = module.split(".")
    if parts[0] == "meshctl":
        return ".".join(parts[:2])
    if parts[0] in sys.stdlib_module_names or parts[0].startswith("_"):
        return None
    return parts[0]


MEMORY_PROBE = """
import gc, json, sys, tracemalloc
gc.disable()
tracemalloc.start()
from meshctl.options import Options
from meshctl.pipeline import run_analyze
result = run_analyze(Options(paths=(sys.argv[1],), jobs=1))
live = [(s.traceback[0].filename, s.size) for s in tracemalloc.take_snapshot().statistics("filename")]
print(json.dumps({"live": live, "peak": tracemalloc.get_traced_memory()[1]}))
"""


@dataclass
class MemoryBreakdown:
    docs: int
    peak: int  # bytes traced at the peak
    groups: list[tuple[str, int]]  # live bytes after the run, by where they were allocated


def memory_breakdown(path: Path, docs: int, cwd: Path) -> MemoryBreakdown | None:
    """What the memory of ``analyze --jobs 1`` holds when the run is done (tracemalloc)."""
    proc = subprocess.run(
        [PYTHON, "-c", MEMORY_PROBE, str(path)], capture_output=True, text=True, cwd=cwd, check=False
    )
    if proc.returncode != 0:
        _log(f"memory breakdown failed: {proc.stderr.strip()[-300:]}")
        return None
    found = json.loads(proc.stdout)
    groups: dict[str, int] = {}
    for filename, size in found["live"]:
        name = _group(filename, "")
        groups[name] = groups.get(name, 0) + size
    return MemoryBreakdown(docs, found["peak"], sorted(groups.items(), key=lambda kv: kv[1], reverse=True))


# -- commands ----------------------------------------------------------------------------


def parse_floor(path: Path) -> list[str]:
    code = (
        "import sys, yaml\n"
        "list(yaml.load_all(open(sys.argv[1], encoding='utf-8'), Loader=yaml.CSafeLoader))\n"
    )
    return [PYTHON, "-c", code, str(path)]


def meshctl(*args: str) -> list[str]:
    return [PYTHON, "-m", "meshctl", *args]


def translate(target: str, path: Path, cwd: Path, output_dir: bool) -> list[str]:
    """``meshctl translate --to TARGET PATH``, writing into a scratch folder when it takes one."""
    out = ["-o", str(cwd / f"translate-{target}-{path.stem}")] if output_dir else []
    return meshctl("translate", "--to", target, *out, str(path))


def translate_status(target: str, cwd: Path) -> tuple[str | None, bool]:
    """Whether this build has ``meshctl translate --to TARGET``: (None, or why it is not
    measured; whether it takes an output folder). A build that has it but fails on the
    benchmark's input is reported per size, with the exit code and message."""
    helped = subprocess.run(
        meshctl("translate", "--help"), capture_output=True, text=True, cwd=cwd, check=False
    )
    if helped.returncode != 0:
        return "command not available in this build", False
    if not re.search(rf"\b{re.escape(target)}\b", helped.stdout):
        return f"command not available in this build (`meshctl translate --help` offers no `--to {target}`)", False
    return None, "--output-dir" in helped.stdout


# -- the peers ---------------------------------------------------------------------------


@dataclass
class Peers:
    bin: Path | None
    versions: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # name -> why not measured

    def has(self, name: str) -> bool:
        return name in self.versions


def peer_requirements() -> list[str]:
    """The ``bench`` extra of pyproject.toml: the peers and their pinned versions."""
    try:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        return list(project["optional-dependencies"]["bench"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return list(FALLBACK_PEERS)


def _name(requirement: str) -> str:
    for sep in ("==", ">=", "<=", "~=", ">", "<", "["):
        requirement = requirement.split(sep)[0]
    return requirement.strip()


def install_peers(venv: Path) -> Peers:
    """Create ``venv`` and install the peers into it, once per set of pins."""
    requirements = peer_requirements()
    names = [_name(r) for r in requirements]
    stamp = venv / "bench-requirements.txt"
    python = venv / "bin" / "python"
    wanted = "\n".join(requirements) + "\n"
    try:
        if not python.exists():
            _log(f"creating {venv}")
            subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        if not stamp.exists() or stamp.read_text(encoding="utf-8") != wanted:
            _log(f"installing {', '.join(requirements)} into {venv}")
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            done = subprocess.run([*pip, *requirements], capture_output=True, text=True, check=False)
            if done.returncode != 0:  # one at a time, so that one failure does not hide the rest
                for requirement in requirements:
                    subprocess.run([*pip, requirement], capture_output=True, text=True, check=False)
            else:
                stamp.write_text(wanted, encoding="utf-8")
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        reason = f"could not create {venv.name}: {detail.strip().splitlines()[-1][:160]}"
        return Peers(None, missing={n: reason for n in names})
    peers = Peers(venv / "bin")
    for name in names:
        exe = venv / "bin" / name
        if not exe.exists():
            peers.missing[name] = f"`pip install {name}` failed in {venv.name}"
            continue
        shown = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
        if shown.returncode != 0:
            peers.missing[name] = f"`{name} --version` exited {shown.returncode}"
            continue
        peers.versions[name] = (shown.stdout + shown.stderr).strip().splitlines()[0]
    return peers


def peer_commands(peers: Peers, data: Inputs, schema_copy: Path | None, rounds: int) -> list[Command]:
    """The alternatives at one size, and the meshctl run the kubernetes-validate one is compared with."""
    assert peers.bin is not None
    exe = {name: str(peers.bin / name) for name in peers.versions}
    commands = []
    if "kubernetes-validate" in exe:
        core = str(data.core)
        commands.append(Command("meshctl validate (core kinds)", [meshctl("validate", core)], data.core_count))
        commands.append(
            Command("kubernetes-validate (core kinds)", [[exe["kubernetes-validate"], core]], data.core_count, rounds)
        )
    if "check-jsonschema" in exe and schema_copy is not None:
        argvs = [
            [exe["check-jsonschema"], "--schemafile", str(schema_copy / rel), *map(str, files)]
            for rel, files in sorted(data.per_schema.items())
        ]
        commands.append(Command("check-jsonschema", argvs, data.count, rounds))
    if "yamllint" in exe:
        argv = [exe["yamllint"], "-d", YAMLLINT_CONFIG, str(data.mesh)]
        commands.append(Command("yamllint (syntax only)", [argv], data.count, rounds))
    return commands


def jsonschema_copy(out: Path) -> Path:
    """meshctl's schemas, with their ``urn:meshctl:`` ids and references made file URIs.

    check-jsonschema cannot resolve meshctl's URNs (meshctl registers them itself); the
    copy is the same schemas, only with references it can follow.
    """
    shutil.copytree(SCHEMAS, out)
    base = out.resolve().as_uri() + "/"
    for path in out.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        if "urn:meshctl:" in text:
            path.write_text(text.replace("urn:meshctl:", base), encoding="utf-8")
    return out


def schema_of(api_version: str, kind: str, index: dict[str, dict[str, dict[str, str]]]) -> str:
    group, _, version = api_version.rpartition("/")
    return index[f"{group}/{kind}"][version]["schema"]


# -- inputs ------------------------------------------------------------------------------


@dataclass
class Inputs:
    count: int
    mesh: Path
    core: Path  # only the Service and Deployment documents
    core_count: int
    size: int  # bytes
    per_schema: dict[str, list[Path]] = field(default_factory=dict)  # one file per document


def prepare(tmp: Path, count: int, split_for_peers: bool, index: dict[str, dict[str, dict[str, str]]]) -> Inputs:
    docs = generate.exactly(count, "istio")
    mesh = tmp / f"mesh-{count}.yaml"
    mesh.write_text("---\n".join(docs), encoding="utf-8")
    core_docs = [d for d in docs if generate.type_of(d)[1] in CORE_KINDS]
    core = tmp / f"core-{count}.yaml"
    core.write_text("---\n".join(core_docs), encoding="utf-8")
    inputs = Inputs(count, mesh, core, len(core_docs), mesh.stat().st_size)
    if split_for_peers:
        folder = tmp / f"split-{count}"
        folder.mkdir()
        for i, doc in enumerate(docs):
            rel = schema_of(*generate.type_of(doc), index)
            path = folder / f"{i:06d}.yaml"
            path.write_text(doc, encoding="utf-8")
            inputs.per_schema.setdefault(rel, []).append(path)
    return inputs


# -- profile -----------------------------------------------------------------------------


# The stages of ``meshctl analyze`` the profile is summed up by: (label, file, function).
STAGES = (
    ("the whole pipeline (after start-up)", "meshctl/pipeline.py", "run_analyze"),
    ("read: parse and construct YAML", "meshctl/load/reader.py", "read_documents"),
    ("check: schemas and value checks", "meshctl/validate/checker.py", "check"),
    ("lower into the mesh model", "meshctl/lower/__init__.py", "lower"),
    ("build the service graph", "meshctl/graph/__init__.py", "build"),
    ("order, select and suppress findings", "meshctl/pipeline.py", "finish"),
    ("imports (wherever they happen)", "<frozen importlib._bootstrap>", "_find_and_load"),
)


@dataclass
class Profile:
    docs: int
    total: float
    stages: list[tuple[str, float]]
    groups: list[tuple[str, float]]
    top_self: list[tuple[str, float]]
    top_cumulative: list[tuple[str, float]]


def _group(filename: str, function: str) -> str:
    path = filename.replace("\\", "/")
    if path == "~":
        if "_yaml" in function:
            return "PyYAML C parser"
        if "jsonschema_rs" in function:
            return "jsonschema-rs"
        if "re2" in function:
            return "google-re2"
        if "marshal" in function or "_imp." in function or "builtins.exec" in function:
            return "imports (unmarshal, module code)"
        return "other built-ins (dict, str, list, re ...)"
    if "/meshctl/" in path:
        parts = path.split("/meshctl/", 1)[1].split("/")
        return "meshctl." + parts[0] if len(parts) > 1 else "meshctl (" + parts[0] + ")"
    if path.startswith("<frozen"):
        return "imports (unmarshal, module code)"
    for package, label in (
        ("/yaml/", "PyYAML (Python part)"),
        ("/networkx/", "networkx"),
        ("/typer/", "typer, click, rich"),
        ("/click/", "typer, click, rich"),
        ("/rich/", "typer, click, rich"),
    ):
        if package in path:
            return label
    if "site-packages" in path:
        return path.split("site-packages/", 1)[1].split("/")[0]
    return "Python standard library"


def _label(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    path = filename.replace("\\", "/")
    short = path.split("/meshctl/", 1)[1] if "/meshctl/" in path else path.split("/")[-1]
    prefix = "meshctl/" if "/meshctl/" in path else ""
    return f"{function} ({prefix}{short}:{line})"


def profile_analyze(path: Path, docs: int, tmp: Path) -> Profile:
    out = tmp / "analyze.prof"
    argv = [PYTHON, "-m", "cProfile", "-o", str(out), "-m", "meshctl", "analyze", "--jobs", "1", str(path)]
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=tmp)
    stats = pstats.Stats(str(out))
    raw = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    for (filename, _, function), (_, _, self_time, _, _) in raw.items():
        name = _group(filename, function)
        groups[name] = groups.get(name, 0.0) + self_time
    by_self = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    ours = [(k, v) for k, v in raw.items() if "/meshctl/" in k[0].replace("\\", "/")]
    by_cum = sorted(ours, key=lambda kv: kv[1][3], reverse=True)
    top_cumulative = [(_label(k), v[3]) for k, v in by_cum if v[3] < 0.9 * total and k[2] != "<module>"][:15]
    stages = []
    for label, file, function in STAGES:
        found = [v[3] for k, v in raw.items() if k[0].replace("\\", "/").endswith(file) and k[2] == function]
        if found:
            stages.append((label, max(found)))
    return Profile(
        docs,
        total,
        stages,
        sorted(groups.items(), key=lambda kv: kv[1], reverse=True),
        [(_label(k), v[2]) for k, v in by_self],
        top_cumulative,
    )


# -- schema engines (in process) -------------------------------------------------------


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


# -- the run -----------------------------------------------------------------------------


@dataclass
class Results:
    quick: bool
    sizes: tuple[int, ...]
    start_up: dict[str, Timing]
    by_size: dict[int, dict[str, Timing]]
    inputs: dict[int, Inputs]
    peers: Peers
    peer_max_docs: int
    peer_round_seconds: dict[int, float]  # one round of every peer at a size
    translate: dict[str, str | None]  # target -> None (measured) or why not
    tree_peaks: dict[str, int]  # at the largest size
    profile: Profile | None
    profile_note: str
    engines: dict[str, float]
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end
    imports: dict[str, float] = field(default_factory=dict)  # `validate` on one small file, by package
    memory: MemoryBreakdown | None = None


MESHCTL_ROWS = ("validate", "analyze", "analyze --jobs 1", "graph", "translate --to envoy", "translate --to linkerd")


def _rounds(count: int, repeats: int, quick: bool) -> int:
    if quick:
        return 1
    if count <= 100:
        return repeats
    if count <= 10_000:
        return max(3, repeats // 3)
    return max(2, repeats // 5)


def measure(args: argparse.Namespace) -> Results:
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    quick: bool = args.quick
    sizes: tuple[int, ...] = tuple(args.sizes) if args.sizes else (QUICK_SIZES if quick else FULL_SIZES)
    index = json.loads((SCHEMAS / "index.json").read_text(encoding="utf-8"))["kinds"]
    if args.no_peers:
        names = [_name(r) for r in peer_requirements()]
        peers = Peers(None, missing={n: "disabled (--no-peers)" for n in names})
    else:
        peers = install_peers(args.peers_venv)
    for name, reason in peers.missing.items():
        _log(f"{name}: not measured: {reason}")
    with tempfile.TemporaryDirectory(prefix="meshctl-bench-") as tmp_name:
        tmp = Path(tmp_name)
        schema_copy = jsonschema_copy(tmp / "schemas") if peers.has("check-jsonschema") else None
        compile_bytecode()
        _log("start-up")
        start_up_commands = [
            Command("python -c pass", [[PYTHON, "-c", "pass"]], 1),
            Command("meshctl --help", [meshctl("--help")], 1),
            Command("meshctl validate (1 small file)", [meshctl("validate", str(SMALL))], 1),
        ]
        start_up = interleave(start_up_commands, 3 if quick else args.repeats, tmp, warm=not quick)
        imports = import_times(meshctl("validate", str(SMALL)), tmp, 3 if quick else 9)

        translations: dict[str, str | None] = {}
        output_dirs: dict[str, bool] = {}
        for target in TRANSLATE_TARGETS:
            translations[target], output_dirs[target] = translate_status(target, tmp)
            _log(f"translate --to {target}: {translations[target] or 'available'}")

        by_size: dict[int, dict[str, Timing]] = {}
        inputs: dict[int, Inputs] = {}
        round_seconds: dict[int, float] = {}
        for count in sizes:
            with_peers = count <= args.peer_max_docs and bool(peers.versions)
            data = prepare(tmp, count, with_peers and peers.has("check-jsonschema"), index)
            inputs[count] = data
            mesh = str(data.mesh)
            rounds = _rounds(count, args.repeats, quick)
            commands = [
                Command("parse floor", [parse_floor(data.mesh)], count),
                Command("meshctl validate", [meshctl("validate", mesh)], count),
                Command("meshctl analyze", [meshctl("analyze", mesh)], count),
            ]
            if count >= 10_000:  # where --jobs (default: every core) starts to pay
                commands.append(Command("meshctl analyze --jobs 1", [meshctl("analyze", "--jobs", "1", mesh)], count))
            commands.append(Command("meshctl graph", [meshctl("graph", mesh)], count))
            for target, why in translations.items():
                if why is None:
                    argv = translate(target, data.mesh, tmp, output_dirs[target])
                    commands.append(Command(f"meshctl translate --to {target}", [argv], count))
            if with_peers:
                # check-jsonschema starts once per schema, kubernetes-validate reloads its schema
                # for every document: they are slow, so they run in fewer of the rounds
                peer_rounds = rounds if count <= 1 else max(2, rounds // 5) if count <= 100 else 2
                commands.extend(peer_commands(peers, data, schema_copy, peer_rounds))
            _log(f"{count} documents: {len(commands)} commands, {rounds} rounds")
            budget = None if count <= 100 else COMMAND_BUDGET
            timings = interleave(commands, rounds, tmp, warm=count <= 100 and not quick, budget=budget,
                                 timeout=RUN_TIMEOUT)
            by_size[count] = timings
            peer_time = [t.median for n, t in timings.items() if _is_peer(n) and t.ok]
            if peer_time:
                round_seconds[count] = sum(peer_time)
            for t in timings.values():
                if t.ok:
                    _log(f"  {t.name}: {t.median:.3f} s, {t.max_rss / 2**20:.0f} MiB")
                else:
                    _log(f"  {t.name}: not measured: {t.failure}")

        tree_peaks: dict[str, int] = {}
        largest = max(sizes)
        if largest >= 10_000:
            _log(f"process-tree memory at {largest} documents")
            mesh = str(inputs[largest].mesh)
            for name in ("validate", "analyze", "graph"):
                tree_peaks[f"meshctl {name}"] = tree_peak(meshctl(name, mesh), tmp)

        profile: Profile | None = None
        profile_size = PROFILE_DOCS if PROFILE_DOCS in inputs else max(inputs)
        if args.no_profile:
            profile_note = "not profiled in this run (--no-profile)"
        else:
            _log(f"profiling analyze on {profile_size} documents")
            profile = profile_analyze(inputs[profile_size].mesh, profile_size, tmp)
            profile_note = ""
        engine_input = inputs[100].mesh if 100 in inputs else inputs[max(inputs)].mesh
        engines = engine_comparison(engine_input)
        _log(f"memory breakdown of analyze --jobs 1 on {profile_size} documents")
        memory = memory_breakdown(inputs[profile_size].mesh, profile_size, tmp)
    return Results(
        quick, sizes, start_up, by_size, inputs, peers, args.peer_max_docs, round_seconds, translations,
        tree_peaks, profile, profile_note, engines, time.perf_counter() - began, (load_before, os.getloadavg()[0]),
        imports, memory,
    )


def _is_peer(name: str) -> bool:
    return not name.startswith(("meshctl", "parse floor"))


# -- the report --------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1000:,.1f} ms"


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def _docs(count: int) -> str:
    return f"{count:,} document{'s' if count != 1 else ''}"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("PyYAML", "jsonschema-rs", "jsonschema", "typer", "rich", "networkx", "google-re2"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _version_in(shown: str) -> str:
    """The version number in what ``TOOL --version`` printed."""
    found = re.search(r"\d+(?:\.\d+)+", shown)
    return found.group(0) if found else shown


def _header(results: Results) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in _versions().items())
    peers = ", ".join(f"{n} {_version_in(v)}" for n, v in results.peers.versions.items()) or "none measured"
    mode = "quick smoke run (`--quick`): one round, small sizes only; " if results.quick else ""
    return (
        "# Performance\n\n"
        "Generated by `make bench` (`python -m bench.run`); the numbers below are from the last run.\n"
        "Reproduce everything with one command:\n\n"
        "```sh\nmake bench        # = .venv/bin/python -m bench.run: 10 to 15 minutes on 2 cores\n```\n\n"
        "`python -m bench.run --quick` (or `MESHCTL_BENCH_QUICK=1`) is a smoke run of a few seconds "
        "that prints its report instead of writing this file; `--no-peers` leaves the alternatives out. "
        "The alternatives are installed on demand into `bench/.peers-venv` (git-ignored) at the versions "
        "pinned in pyproject.toml's `bench` extra. `--report-only` writes this file again from the last "
        "full run's measurements (kept in `bench/.last-results.pickle`) without measuring. Commit the "
        "result only from a quiet machine.\n\n"
        f"- this run: {mode}{results.seconds / 60:.1f} minutes; load average {results.load[0]:.2f} before, "
        f"{results.load[1]:.2f} after (anything else running shows here)\n"
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}; {versions}\n"
        f"- alternatives: {peers}\n"
        "- input: `bench/generate.py` synthetic Istio mesh (Service, 2 Deployments, VirtualService, "
        "DestinationRule per service; Namespace, PeerAuthentication, AuthorizationPolicy per namespace "
        "of 20 services), cut to exactly 1, 100, 10,000 and 50,000 documents (the 1-document mesh is one "
        "Service). Every input validates and analyzes clean.\n"
        "- method: each command is a subprocess, as users and CI run it, interleaved with the others of "
        "its size (A, B, C, A, B, C, ...); medians, with the spread as half the interquartile range. "
        "Peak memory is the child's `ru_maxrss` from `os.wait4`: the largest single process of the "
        "command's tree (with `--jobs`, the main process or one worker).\n"
    )


def _get(results: Results, count: int, name: str) -> Timing | None:
    t = results.by_size.get(count, {}).get(name)
    return t if t is not None and t.ok else None


def _targets(results: Results) -> list[str]:
    rows = ["## Targets\n", "| target | measured | verdict |", "|---|---|---|"]

    def row(target: str, measured: str, ok: bool | None) -> None:
        verdict = "not measured" if ok is None else ("met" if ok else "**missed**")
        rows.append(f"| {target} | {measured} | {verdict} |")

    small = results.start_up["meshctl validate (1 small file)"]
    row("`meshctl validate` on one small file under 150 ms", _ms(small.median), small.median < 0.150)
    helped = results.start_up["meshctl --help"]
    row("`meshctl --help` under 120 ms", _ms(helped.median), helped.median < 0.120)
    for command in ("validate", "analyze"):
        t, floor = _get(results, 10_000, f"meshctl {command}"), _get(results, 10_000, "parse floor")
        if t and floor:
            row(f"`{command}` at most 2x the parse floor at 10,000 documents", f"{t.median / floor.median:.2f}x",
                t.median <= 2 * floor.median)
        else:
            row(f"`{command}` at most 2x the parse floor at 10,000 documents", "size not in this run", None)
    kv = _kv_ratio(results)
    if kv is None:
        missing = results.peers.missing.get("kubernetes-validate", "no size with both measured")
        row(KV_TARGET, f"not measured: {missing}", None)
    else:
        count, ratio = kv
        core = _docs(results.inputs[count].core_count)
        smaller = ", ".join(f"{r:.1f}x at {_docs(c)}" for c, r in _kv_ratios(results) if c != count)
        also = f"; {smaller} (start-up weighs more there)" if smaller else ""
        row(KV_TARGET, f"**{ratio:.1f}x** at {_docs(count)} (its {core} of kinds Service, Deployment){also}",
            ratio >= 20)
    for name in MESHCTL_ROWS:
        growth = _growth(results, f"meshctl {name}")
        cpu = _cpu_growth(results, f"meshctl {name}")
        if growth is not None:
            a, b, raw, relative = growth
            wall = f"wall {_us(a)} → {_us(b)} ({raw:.2f}x; {relative:.2f}x against the parse floor)"
            if cpu is not None:
                row(f"`{name}`: per-document cost flat within 25% from 10,000 to 50,000 documents",
                    f"CPU {_us(cpu[0])} → {_us(cpu[1])}: **{cpu[2]:.2f}x**; {wall}", cpu[2] <= 1.25)
            else:
                row(f"`{name}`: per-document cost flat within 25% from 10,000 to 50,000 documents",
                    f"{wall}: **{relative:.2f}x**", relative <= 1.25)
    for name in MESHCTL_ROWS:
        largest = _get(results, 50_000, f"meshctl {name}")
        if largest:
            row(f"`{name}`: peak memory under 1 GiB at 50,000 documents", _mib(largest.max_rss),
                largest.max_rss < GIB)
    if 50_000 not in results.by_size:
        row("per-document cost flat from 10,000 to 50,000; under 1 GiB at 50,000", "50,000 not in this run", None)
    for target, why in results.translate.items():
        name = f"meshctl translate --to {target}"
        if why is None:
            failed = [(c, t.failure) for c, ts in results.by_size.items() if (t := ts.get(name)) and t.failure]
            if failed:
                sizes = ", ".join(f"{c:,}" for c, _ in failed)
                why = f"{failed[0][1]} (at {sizes} documents)"
        if why is not None:
            rows.append(f"| `{name}`: all of the above | not measured: {why} | not measured |")
    drift = _growth(results, "parse floor")
    moved = f"; in this run it went {drift[2]:.2f}x" if drift else ""
    rows.append(
        "\n\"Flat within 25%\" is read as: the cost per document at 50,000 is at most 1.25x the cost at "
        "10,000. The verdict uses CPU time (user + system of the command and its workers, from "
        "`os.wait4`): it measures the work done, and the two sizes are measured minutes apart, when "
        "wall time can drift with whatever else the machine runs. Wall time is shown too, raw and "
        "against the parse floor of the same rounds (linear C code: its per-document time moves only "
        f"with the machine's load{moved}). A lower cost at 50,000 is start-up spread over more "
        "documents, not a failure to scale.\n"
    )
    return rows


def _growth(results: Results, name: str) -> tuple[float, float, float, float] | None:
    """Per-document cost at 10,000 and 50,000; their ratio, raw and relative to the parse floor."""
    a, b = _get(results, 10_000, name), _get(results, 50_000, name)
    fa, fb = _get(results, 10_000, "parse floor"), _get(results, 50_000, "parse floor")
    if not (a and b and fa and fb):
        return None
    raw = b.per_doc / a.per_doc
    return a.per_doc, b.per_doc, raw, raw / (fb.per_doc / fa.per_doc)


def _cpu_growth(results: Results, name: str) -> tuple[float, float, float] | None:
    """CPU time per document at 10,000 and 50,000, and their ratio: what the work itself does."""
    a, b = _get(results, 10_000, name), _get(results, 50_000, name)
    if not (a and b and a.cpu_per_doc and b.cpu_per_doc):
        return None
    return a.cpu_per_doc, b.cpu_per_doc, b.cpu_per_doc / a.cpu_per_doc


KV_TARGET = "at least 20x the throughput of kubernetes-validate on the core kinds it checks"


def _kv_ratio(results: Results) -> tuple[int, float] | None:
    """The kubernetes-validate comparison at the largest size where both ran: throughput."""
    ratios = _kv_ratios(results)
    return ratios[-1] if ratios else None


def _kv_ratios(results: Results) -> list[tuple[int, float]]:
    out = []
    for count in sorted(results.by_size):
        ours = _get(results, count, "meshctl validate (core kinds)")
        theirs = _get(results, count, "kubernetes-validate (core kinds)")
        if ours and theirs:
            out.append((count, theirs.median / ours.median))
    return out


def _spread(t: Timing) -> str:
    return f"±{t.spread * 100:.0f}%" if len(t.samples) > 1 else "one run"


def _start_up(results: Results) -> list[str]:
    rows = ["## Start-up\n", "| command | median | spread | vs python start-up | max RSS |", "|---|---|---|---|---|"]
    base = results.start_up["python -c pass"]
    for t in results.start_up.values():
        ratio = t.median / base.median
        rows.append(f"| {t.name} | {_ms(t.median)} | ±{t.spread * 100:.0f}% | {ratio:.2f}x | {_mib(t.max_rss)} |")
    rows.append("\n`python -c pass` is the floor: no Python command line starts faster.\n")
    imports = getattr(results, "imports", {})  # absent from results pickled before it was measured
    if imports:
        total = sum(imports.values())
        small = results.start_up["meshctl validate (1 small file)"].median
        rows.append(
            f"Where the start-up of `meshctl validate` on one small file goes: the modules it imports, "
            f"by the package that imports them (median of the runs of `python -X importtime`, which "
            f"inflates them a little). Imports take {_ms(total)} of the {_ms(small)}; the rest is the "
            "interpreter itself, building the command line, and the run (compiling the schema of the "
            "file's kind, reading and checking it, the report).\n"
        )
        rows.append("| package | import time | share of the command |\n|---|---|---|")
        shown = [(name, seconds) for name, seconds in imports.items() if seconds >= 0.001]
        for name, seconds in shown:
            rows.append(f"| {name} | {seconds * 1000:.1f} ms | {seconds / small * 100:.0f}% |")
        rest = total - sum(seconds for _, seconds in shown)
        rows.append(f"| everything else (under 1 ms each) | {rest * 1000:.1f} ms | {rest / small * 100:.0f}% |\n")
    return rows


def _throughput(results: Results) -> list[str]:
    rows = [
        "## Throughput and memory, by size\n",
        ("The parse floor is PyYAML's C loader parsing the same file "
        "(`yaml.load_all(..., Loader=CSafeLoader)`), start-up included on both sides. "
        "`analyze` and `graph` run validation too. Rows marked (core kinds) read only the file's "
        "Service and Deployment documents, for the kubernetes-validate comparison. Above 100 documents "
        f"a command runs in as many rounds as fit in {COMMAND_BUDGET:.0f} s (at least one), so the slow "
        "ones have fewer runs; with one or two runs the spread is the half-range.\n"),
    ]
    for count, timings in results.by_size.items():
        rows.append(f"### {_docs(count)} ({results.inputs[count].size / 2**20:,.2f} MiB)\n")
        rows.append("| command | documents | runs | median | spread | per document | vs parse floor | max RSS |")
        rows.append("|---|---|---|---|---|---|---|---|")
        floor = _get(results, count, "parse floor")
        for t in timings.values():
            if not t.ok:
                rows.append(f"| {t.name} | {t.docs:,} | | not measured: {t.failure} | | | | |")
                continue
            same_input = t.docs == count and t.name != "parse floor"  # the (core kinds) rows read less
            ratio = f"{t.median / floor.median:.2f}x" if floor and same_input else ""
            rows.append(
                f"| {t.name} | {t.docs:,} | {len(t.samples)} | {_ms(t.median)} | {_spread(t)} "
                f"| {_us(t.per_doc)} | {ratio} "
                f"| {_mib(t.max_rss)} |"
            )
        for target, why in results.translate.items():
            if why is not None:
                rows.append(f"| meshctl translate --to {target} | {count:,} | | not measured: {why} | | | | |")
        rows.append("")
    return rows


def _side_by_side(results: Results) -> list[str]:
    rows = [
        "## Side by side with the alternatives\n",
        ("Measured in the same interleaved rounds as meshctl (the rows above), on the same files. "
        "The last column is the alternative's time divided by the compared command's, on the same "
        "documents: meshctl's throughput relative to the alternative (above 1x: the compared command "
        "is faster).\n"),
        ("- **kubernetes-validate** checks core Kubernetes kinds against the Kubernetes OpenAPI schemas "
        "(its default version). It is compared on what it checks: the Service and Deployment documents, "
        "extracted into their own file, against `meshctl validate` on that same file."),
        ("- **check-jsonschema** runs with meshctl's own schemas (schemas/, their `urn:meshctl:` "
        "references rewritten to file URIs it can resolve), one `--schemafile` run per schema over the "
        "documents that schema covers (by schemas/index.json). It reads one document per file, so each "
        "document is its own file. Compared with `meshctl validate` on the whole mesh."),
        (f"- **yamllint** with the minimal configuration `-d \"{YAMLLINT_CONFIG}\"`: no rule enabled, so it "
        "checks YAML syntax only (it still reports syntax errors). Compared with the parse floor and "
        "with `meshctl validate`.\n"),
    ]
    for name, why in results.peers.missing.items():
        rows.append(f"- {name}: not measured: {why}")
    if results.peers.missing:
        rows.append("")
    rows.append(
        "| documents | alternative | its median | per document | compared with | its median | ratio |"
    )
    rows.append("|---|---|---|---|---|---|---|")
    pairs = (
        ("kubernetes-validate (core kinds)", "meshctl validate (core kinds)"),
        ("check-jsonschema", "meshctl validate"),
        ("yamllint (syntax only)", "meshctl validate"),
        ("yamllint (syntax only)", "parse floor"),
    )
    skipped: list[int] = []
    for count, timings in results.by_size.items():
        if not any(_is_peer(n) for n in timings):
            if results.peers.versions:
                skipped.append(count)
            continue
        for peer, ours in pairs:
            theirs = timings.get(peer)
            mine = _get(results, count, ours)
            if theirs is None:
                continue
            if not theirs.ok:
                rows.append(f"| {count:,} | {peer} | not measured: {theirs.failure} | | {ours} | | |")
                continue
            if mine is None:
                continue
            rows.append(
                f"| {count:,} | {peer} | {_ms(theirs.median)} | {_us(theirs.per_doc)} | {ours} | {_ms(mine.median)} | "
                f"{theirs.median / mine.median:.1f}x |"
            )
    for count in skipped:
        last = max((c for c in results.peer_round_seconds if c < count), default=None)
        seconds = results.peer_round_seconds[last] if last else 0.0
        cost = (
            f"one run of each of the three at {_docs(last)} took {seconds:,.0f} s together, and their "
            f"cost per document does not fall with size (the table above), so a single run of each at "
            f"{count // last}x the documents would add more than {count // last * seconds / 60:.0f} minutes "
            "to a bench meant to take 15"
            if last else "too slow for `make bench`'s 15-minute budget"
        )
        rows.append(
            f"\nAt {_docs(count)} the alternatives are not measured: {cost}. "
            f"`python -m bench.run --peer-max-docs {count}` measures them there."
        )
    rows.append("")
    return rows


def _scaling(results: Results) -> list[str]:
    rows = ["## Scaling\n"]
    sizes = [c for c in results.by_size if c >= 100]
    if 10_000 not in results.by_size or 50_000 not in results.by_size:
        rows.append("Not measured in this run: it needs the 10,000 and 50,000 document sizes (`make bench`).\n")
    rows.append(
        "Per-document wall time of each meshctl command as the mesh grows (flat means no pairwise work), "
        "and the CPU time per document the verdict uses:\n"
    )
    columns = " | ".join(_docs(c) for c in sizes)
    rows.append(
        f"| command | {columns} | 50,000 vs 10,000 | the same, against the floor | marginal, 10,000 → 50,000 "
        "| CPU per document, 10,000 → 50,000 |"
    )
    rows.append("|---|" + "---|" * len(sizes) + "---|---|---|---|")
    for name in ("parse floor", *(f"meshctl {n}" for n in MESHCTL_ROWS)):
        cells = []
        for c in sizes:
            t = _get(results, c, name)
            cells.append(_us(t.per_doc) if t else "")
        if not any(cells):
            continue
        a, b = _get(results, 10_000, name), _get(results, 50_000, name)
        growth = _growth(results, name)
        ratio = f"{growth[2]:.2f}x" if growth else ""
        relative = f"{growth[3]:.2f}x" if growth and name != "parse floor" else ""
        marginal = _us((b.median - a.median) / (b.docs - a.docs)) if a and b else ""
        cpu = _cpu_growth(results, name)
        cpu_cell = f"{_us(cpu[0])} → {_us(cpu[1])} ({cpu[2]:.2f}x)" if cpu else ""
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {ratio} | {relative} | {marginal} | {cpu_cell} |")
    rows.append(
        "\nThe marginal cost (extra time over extra documents) leaves start-up out: it is what one more "
        "document costs in a large run.\n"
    )
    return rows


def _memory(results: Results) -> list[str]:
    rows = ["## Peak memory\n"]
    sizes = list(results.by_size)
    rows.append(
        "Largest resident set of any process of the command (`ru_maxrss` from `os.wait4`), the highest of "
        "its runs. Target: under 1 GiB at 50,000 documents.\n"
    )
    rows.append("| command | " + " | ".join(_docs(c) for c in sizes) + " |")
    rows.append("|---|" + "---|" * len(sizes))
    for name in ("parse floor", *(f"meshctl {n}" for n in MESHCTL_ROWS)):
        cells = [(_mib(t.max_rss) if (t := _get(results, c, name)) else "") for c in sizes]
        if any(cells):
            rows.append(f"| {name} | " + " | ".join(cells) + " |")
    if results.tree_peaks:
        largest = max(results.sizes)
        rows.append(
            f"\nWith `--jobs` (default: one worker per core) the workers run beside the main process. "
            f"Their sum at {_docs(largest)}, sampled from /proc every 20 ms in one extra, untimed run "
            "(an upper bound: pages a forked worker shares with its parent count twice):\n"
        )
        rows.append("| command | peak RSS, whole process tree |\n|---|---|")
        for name, peak in results.tree_peaks.items():
            rows.append(f"| {name} | {_mib(peak)} |")
    memory = getattr(results, "memory", None)  # absent from results pickled before it was measured
    if memory is not None:
        live = sum(size for _, size in memory.groups)
        rows.append(
            f"\nWhat `meshctl analyze --jobs 1` holds on {_docs(memory.docs)} when the run is done "
            f"(tracemalloc, by the file that allocated it; Python objects only, no interpreter overhead): "
            f"{_mib(live)} live, {_mib(memory.peak)} at the traced peak. The documents' dicts and lists are "
            "allocated by PyYAML's constructor, their strings by the C parser called from meshctl.load, "
            "which also holds the SourceDocs; meshctl.lower and meshctl.model are the mesh model, networkx "
            "and meshctl.graph the service graph.\n"
        )
        rows.append("| allocated by | live | share |\n|---|---|---|")
        for name, size in memory.groups:
            if size / live >= 0.01:
                rows.append(f"| {name} | {size / 2**20:,.1f} MiB | {size / live * 100:.0f}% |")
    rows.append("")
    return rows


def _engines(results: Results) -> list[str]:
    rows = ["## Schema engine\n", "Per-document `is_valid` on the synthetic mesh, every schema compiled once:\n",
            "| engine | per document |", "|---|---|"]
    for name, seconds in results.engines.items():
        rows.append(f"| {name} | {seconds * 1e6:.1f} µs |")
    ratio = results.engines["jsonschema"] / results.engines["jsonschema-rs"]
    rows.append(f"\njsonschema-rs is {ratio:.0f}x faster, which is why it is a dependency.\n")
    return rows


def _where(results: Results) -> list[str]:
    rows = ["## Where the time goes\n"]
    p = results.profile
    if p is None:
        rows.append(f"Profile {results.profile_note}.\n")
        return rows
    total = max([p.total, *(seconds for _, seconds in p.stages)])
    rows.append(
        f"cProfile of `meshctl analyze --jobs 1` on {_docs(p.docs)}, taken by this run (one process, "
        f"so the profile sees all of it; cProfile's overhead inflates Python-heavy code, so read the "
        f"shares, not the seconds). Total under the profiler: {total:.1f} s.\n"
    )
    stages = dict(p.stages)
    parts = ("read: parse and construct YAML", "check: schemas and value checks", "lower into the mesh model",
             "order, select and suppress findings")
    whole = stages.get(STAGES[0][0])
    if whole is not None and all(part in stages for part in parts):
        rest = whole - sum(stages[part] for part in parts)
        stages = {**{k: v for k, v in stages.items() if not k.startswith("imports")},
                  "analysis: the graph, shared views and rules (the rest)": rest,
                  **{k: v for k, v in stages.items() if k.startswith("imports")}}
    rows.append("The stages (time including everything they call; imports overlap the others):\n")
    rows.append("| stage | time | share |\n|---|---|---|")
    for name, seconds in stages.items():
        rows.append(f"| {name} | {seconds:.2f} s | {seconds / total * 100:.0f}% |")
    rows.append(
        "\nThe analysis row is the whole pipeline less reading, checking, lowering and ordering: the "
        "service graph (its own row counts it again), the shared views (mTLS, authorization) and the rules.\n"
    )
    rows.append("Own time by component:\n\n| component | own time | share |\n|---|---|---|")
    for name, seconds in p.groups:
        if seconds / total >= 0.005:
            rows.append(f"| {name} | {seconds:.2f} s | {seconds / total * 100:.0f}% |")
    rows.append("\nmeshctl functions by time including callees (the pipeline's stages):\n")
    rows.append("| function | cumulative | share |\n|---|---|---|")
    for name, seconds in p.top_cumulative:
        rows.append(f"| {name} | {seconds:.2f} s | {seconds / total * 100:.0f}% |")
    rows.append("\nFunctions by own time:\n\n| function | own time | share |\n|---|---|---|")
    for name, seconds in p.top_self:
        rows.append(f"| {name} | {seconds:.2f} s | {seconds / total * 100:.0f}% |")
    if any(name.startswith("_read_stream ") for name, _ in p.top_self):
        rows.append(
            "\ncProfile does not see inside PyYAML's C parser (`CParser.get_node`, a Cython method): "
            "parsing the text into nodes shows up as the own time of meshctl's `_read_stream`, which "
            "calls it. `resolve` is the loader's tag resolver (it remembers PyYAML's answer for each "
            "distinct plain scalar), which the C parser calls back for every node."
        )
    rows.append("")
    return rows


def report(results: Results) -> str:
    lines = [_header(results)]
    lines += _targets(results)
    lines += _start_up(results)
    lines += _throughput(results)
    lines += _side_by_side(results)
    lines += _scaling(results)
    lines += _memory(results)
    lines += _engines(results)
    lines += _where(results)
    lines.append(_NOTES)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="run meshctl's benchmarks and write docs/performance.md")
    parser.add_argument("--repeats", type=int, default=15, help="rounds at 1 and 100 documents (fewer above)")
    parser.add_argument("--write", type=Path, default=None,
                        help="report file (default: docs/performance.md; --quick only prints)")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("MESHCTL_BENCH_QUICK", "") not in ("", "0"),
                        help="smoke run: 1 and 100 documents, one round (also MESHCTL_BENCH_QUICK=1)")
    parser.add_argument("--no-peers", action="store_true", help="leave the alternatives out")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--peers-venv", type=Path, default=PEERS_VENV, help="where the alternatives are installed")
    parser.add_argument("--peer-max-docs", type=int, default=PEER_MAX_DOCS,
                        help="the largest size the alternatives run at")
    parser.add_argument("--sizes", type=int, nargs="+", help="document counts (default: 1 100 10000 50000)")
    parser.add_argument("--report-only", action="store_true",
                        help=f"measure nothing: write the report again from the last run's {LAST_RESULTS.name}")
    args = parser.parse_args(argv)
    if args.report_only:
        results = pickle.loads(LAST_RESULTS.read_bytes())
    else:
        results = measure(args)
        if not results.quick:
            LAST_RESULTS.write_bytes(pickle.dumps(results))
    text = report(results)
    quick = results.quick
    out = args.write if args.write is not None else (None if quick else ROOT / "docs" / "performance.md")
    if out is not None:
        out.write_text(text, encoding="utf-8")
        _log(f"wrote {out}")
    print(text)
    return 0


_NOTES = """## What was changed, and why (history)

### Memory, start-up and line counting (second round)

Measured on this machine with `bench/generate.py` inputs, before and after each change
(start-up: interleaved A/B runs of the old and new code, 21 each; memory: `ru_maxrss` of
one run, and tracemalloc for what is live):

- **Where the memory went: YAML node trees.** tracemalloc of `analyze --jobs 1` on 10,000
  documents: of the 281 MiB live after the run, 176 MiB had been allocated by the C
  parser's `get_node`: the node trees, kept so that a finding could point at its line.
  Every node is a Python object with a `__dict__` and two `Mark` objects, about 18 KiB
  a document, several times its data; at 50,000 documents `analyze --jobs 1` peaked at
  1,422 MiB. The `--jobs` path did not keep them, yet `translate` (which runs with
  `--jobs`) peaked at 1.5 GiB as well: each loss finding composed its document's tree
  again and kept it (20,874 trees for the 128,148 losses of `--to linkerd`), writing the
  translation asked for the first line of every document (composing all 50,000), and the
  main process split each file into a list of lines to compose from (about 1 million
  strings).
- **What changed.** The reader yields one document at a time (`read_documents`) and the
  pipeline drops each tree as soon as the document is checked. A document keeps a
  `TextSpan` instead: the file's text (kept anyway for the source lines of reports), where
  its first line starts and where it ends, and the line and column of its own node. A
  later finding composes that slice again with PyYAML's C parser (about 55 µs a
  document: no tag regexes, since positions need none), with the same lines and columns;
  at most 256 composed trees stay alive, the least recently composed are dropped. A
  document's own position (its first line: `doc.line`, `locate(())`, the source comments
  of translations) comes from the span without composing. `--jobs` uses the same spans
  instead of lists of lines. The loader also shares the strings of mappings, one object
  per distinct text (keys repeat in every document). tests/test_memory.py checks by weak
  reference that no tree outlives its check, and that a composed tree gives exactly the
  positions of the one it replaces (CRLF, CR, NEL and LS line breaks, a byte-order mark,
  non-ASCII text, Lists, anchors and merge keys, documents on the `---` line, syntax
  errors, JSON with tabs, one process and `--jobs`). Reports and translations were
  compared byte for byte with the old code on every input in tests/, testdata/ and
  ../shared/corpus and on generated meshes: identical (but for the line-break fix
  below). At 50,000 documents (the tables above): `analyze --jobs 1` 1,422 -> 493 MiB,
  `analyze` 691 -> 517 MiB, `translate --to linkerd` 1,526 -> 881 MiB, and `validate
  --jobs 1` 224 MiB, less than the parse floor's 232 (the same data, without shared
  strings). It is faster too: `analyze --jobs 1` on 10,000 documents 4.2 -> 3.3 s in an
  A/B run (fewer allocations).
- **`translate --to envoy`: the writer, not the pipeline.** After the pipeline changes it
  still peaked at 1,330 MiB: after the translation the process holds 701 MiB (346 MiB of
  it the bootstrap itself, the sidecar's view of 10,000 services), and writing the 123 MB
  `envoy.yaml` added 530 MiB: `emit/yaml_out.dump` built a list of about 4 million line
  strings, joined them and added a newline (two more copies), `targets.py` prepended the
  header (another), and the file was written from that one string. The bootstrap is now
  written as it is formatted (`yaml_out.dump_into` spills every 8,192 lines into the
  temporary file `outputs.write_atomic_with` renames at the end): the same bytes
  (tests/emit/test_yaml_out.py checks `dump_into` against `dump` on generated documents),
  800 MiB at 50,000 documents measured with `/usr/bin/time -v`.
- **Tag resolution.** PyYAML's C parser calls the Python resolver (regular expressions of
  the implicit tags) for every scalar, mapping and sequence. The loader answers
  containers and quoted scalars directly and remembers the tag of each distinct plain
  text: `read_text` on 10,000 documents 1.16 -> 1.05 s. (The -21% a previous session
  suggested for this did not reproduce on this input.)
- **Quadratic line counting.** A file with a Helm `# Source:` comment, or with a syntax
  error, had the line of every `---` counted from the start of the file, once per
  separator: `validate --jobs 1` on a 4 MB mesh with one Helm comment took 11.5 s, now
  1.9 s. Those lines (and the first line of each `--jobs` chunk) are now counted as YAML
  counts lines, so NEL, LS, PS and lone CR line breaks give the same positions after a
  syntax error, and with `--jobs`, as `\\n` does (they did not before).
- **Where start-up went.** `meshctl validate` on one small VirtualService, about 122 ms
  after the interpreter's own 12 ms (perf_counter checkpoints in the command's path):
  importing the command line 51 ms (typer 43 ms), typer building the click commands of
  all eight commands 15 ms (`inspect.signature` and `get_type_hints` of every
  parameter), importing the pipeline 26 ms (PyYAML 11.6 ms, 4 of them compiling one large
  Unicode regex in its pure-Python reader, which `import yaml` always loads), importing
  every validate rule 15 ms (61 modules), jsonschema-rs 8 ms (its extension imports
  `email.utils`, `socket`, `decimal`, `random` when it loads), compiling the file's
  schema 2.5 ms, reading, checking and the report 4 ms.
- **What changed.** The value checks are imported per kind the run meets: 8 modules for a
  VirtualService instead of 61 (`meshctl/validate/rule_index.py`; the index
  `_rule_index.py` is generated from the rules' own `kinds`, a test fails when it is
  stale, and a rule module the index does not know makes the checker import them all, as
  before). `--jobs` (multiprocessing, the chunking) is imported only for inputs of 2 MiB
  and more. The catalog's records, input files and text spans are NamedTuples: a frozen
  slotted dataclass costs 0.6 ms to define, a NamedTuple 0.25. A/B: 147 -> 135 ms
  (`--help` unchanged, 85 ms). `make bench` now compiles meshctl's bytecode before it
  times anything: this machine sets `PYTHONDONTWRITEBYTECODE`, so a module edited since
  its last `.pyc` was compiled again on every run and timed as start-up (likely part of
  the 158 ms the previous report measured). The start-up table above breaks down what
  is left: mostly typer and PyYAML, then jsonschema-rs, then meshctl.diagnostics (3.4 ms
  to define its dataclasses).

### Earlier rounds

Earlier profiles (cProfile, 10,000 documents) and what they led to:

- **Garbage collector.** With the cyclic collector running, each generation-2 pass
  rescanned every object the run had built (then: the documents with their node trees):
  reading 10,000 documents took 10.3 s instead of 1.8 s. The pipeline pauses the
  collector while it runs (nothing it builds relies on it), and the command line never
  turns it back on (re-enabling it at the end cost a last 0.6 s full pass).
- **Loader.** PyYAML's C parser builds the nodes; construction is Python. meshctl's
  constructor builds plain string keys and values directly (what the safe constructor
  returns for them) and keeps the slow path only for merge keys and other tags: reading
  got 0.4 s faster than the stock constructor on 10,000 documents, below the floor's cost.
- **Value checks.** They walk field patterns (`spec.http[].route[].weight`) on every
  document. Recursive generators made that 1 s of the run; a flat frontier walk, and one
  shared walk for the many duration fields of a DestinationRule, cut it to about 0.2 s.
- **Positions on demand.** A position is computed only when a finding needs one, so valid
  documents pay nothing for positions (since the second round, not even the memory of
  their node trees).
- **analyze.** Every lookup of the rules goes through an index by host, namespace or
  label, and scans several rules share are built once per run, so no rule does pairwise
  work (the Scaling section checks it).
- **`--jobs`.** Inputs of 2 MB and more are read and checked by forked worker processes
  (default: one per core), large files cut into chunks of about 512 KB at `---` lines.
  Workers send back data and findings, not node trees: the main process composes a
  document's nodes again from the text only when a finding needs its position. While the
  workers run, the main process imports the analysis (rules, networkx). Reports are
  byte-identical to `--jobs 1` (tests/test_jobs.py). Below 2 MB forking costs more than
  it saves, so small runs and pre-commit hooks stay in one process.
- **Fast path.** A valid document costs one compiled `is_valid` call; errors are collected
  and translated only for the documents that fail.
- **JSON reports.** `json.dumps(indent=2)` encodes in Python generators (its C encoder
  serves only unindented output): 4.3 s for a report of 200,000 findings.
  `meshctl/report/json_text.py` writes the same bytes in 2.2 s, leaving the strings to the
  C escaper; the report, SARIF, the graph's JSON and Envoy's xDS files use it.
- **Start-up.** typer 0.29 imports pydantic at start-up (+60 ms on every run); meshctl
  requires typer < 0.29. Rule modules, reporters other than the one used, jsonschema-rs and
  rich are imported only when needed.
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
