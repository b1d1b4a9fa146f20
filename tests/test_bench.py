"""bench/: the synthetic mesh is deterministic and clean, and the runner's smoke mode works.

The benchmark itself (`make bench`, about 13 minutes) is not run here; `--quick --no-peers`
exercises the same code on 1 and 100 documents, with no network and no peer install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import generate, run
from tests.conftest import ROOT, run_meshctl

FLAVOURS = ("istio", "linkerd", "gateway-api")


def _generate(out: Path, services: int, flavour: str, hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-m", "bench.generate", str(out), "--services", str(services), "--flavour", flavour],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=60,
    )
    return out.read_bytes()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_same_arguments_give_the_same_bytes_in_any_process(tmp_path: Path, flavour: str) -> None:
    first = _generate(tmp_path / "a.yaml", 25, flavour, "1")
    second = _generate(tmp_path / "b.yaml", 25, flavour, "2")  # another hash seed: no set/dict order leaks
    assert first == second
    assert first == "---\n".join(generate.documents(25, flavour)).encode()
    assert generate.exactly(100, flavour) == generate.exactly(100, flavour)


@pytest.mark.parametrize("count", [1, 2, 8, 100, 1234])
def test_exactly_gives_that_many_documents(count: int) -> None:
    docs = generate.exactly(count)
    assert len(docs) == count
    if count == 1:
        assert generate.type_of(docs[0]) == ("v1", "Service")
    else:
        assert docs == list(generate.documents(generate.services_for(count) + 2))[:count]


def test_type_of_reads_the_top_level_lines() -> None:
    kinds = {generate.type_of(d) for d in generate.documents(20, "istio")}
    assert ("networking.istio.io/v1", "VirtualService") in kinds
    assert ("apps/v1", "Deployment") in kinds


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_generated_mesh_validates_clean(tmp_path: Path, flavour: str) -> None:
    path = tmp_path / "mesh.yaml"
    generate.write(path, 30, flavour)
    result = run_meshctl("validate", "-f", "json", str(path))
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == []


def test_the_benchmark_sizes_validate_clean(tmp_path: Path) -> None:
    paths = []
    for count in (1, 100):
        paths.append(tmp_path / f"mesh-{count}.yaml")
        generate.write_exactly(paths[-1], count)
    result = run_meshctl("validate", *map(str, paths))
    assert result.code == 0, result.stdout + result.stderr
    assert "101 resources checked" in result.stdout


def test_every_generated_document_has_a_schema_check_jsonschema_can_resolve(tmp_path: Path) -> None:
    index = json.loads((ROOT / "schemas" / "index.json").read_text())["kinds"]
    rels = {run.schema_of(*generate.type_of(d), index) for f in FLAVOURS for d in generate.documents(21, f)}
    copy = run.jsonschema_copy(tmp_path / "schemas")
    for rel in rels:
        text = (copy / rel).read_text()
        assert "urn:meshctl:" not in text
        assert (copy / rel).is_file()
    assert "urn:meshctl:" in (ROOT / "schemas" / "core" / "service.json").read_text()  # the original is untouched


def test_run_once_reports_time_memory_and_exit_code(tmp_path: Path) -> None:
    touch_64_mib = "x = bytearray(64 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"
    ok = run.run_once([[sys.executable, "-c", touch_64_mib]], tmp_path)
    assert ok.code == 0 and ok.seconds > 0
    assert ok.max_rss >= 64 * 1024 * 1024
    assert 0 < ok.cpu < 60
    failed = run.run_once([[sys.executable, "-c", "import sys; sys.exit('boom')"]], tmp_path)
    assert failed.code == 1 and "boom" in run._reason(failed)


def test_a_failing_command_is_reported_not_timed(tmp_path: Path) -> None:
    commands = [
        run.Command("fine", [[sys.executable, "-c", "pass"]], 1),
        run.Command("broken", [[sys.executable, "-c", "import sys; sys.exit(3)"]], 1),
    ]
    timings = run.interleave(commands, 2, tmp_path, warm=False)
    assert len(timings["fine"].samples) == 2 and timings["fine"].ok
    assert not timings["broken"].ok and timings["broken"].failure.startswith("exited 3")


def test_a_run_past_its_limit_is_stopped_and_reported(tmp_path: Path) -> None:
    started = run.run_once([[sys.executable, "-c", "import time; time.sleep(30)"]], tmp_path, timeout=0.5)
    assert started.timed_out == 0.5 and started.seconds < 10
    assert "longer than" in run._reason(started)


def test_slow_commands_run_in_fewer_rounds(tmp_path: Path) -> None:
    commands = [
        run.Command("quick", [[sys.executable, "-c", "pass"]], 1),
        run.Command("slow", [[sys.executable, "-c", "import time; time.sleep(0.3)"]], 1),
    ]
    timings = run.interleave(commands, 3, tmp_path, warm=False, budget=0.5)
    assert len(timings["quick"].samples) == 3
    assert len(timings["slow"].samples) == 1


def test_peer_pins_come_from_the_bench_extra() -> None:
    names = [run._name(r) for r in run.peer_requirements()]
    assert names == ["kubernetes-validate", "check-jsonschema", "yamllint"]


@pytest.mark.slow
def test_quick_smoke_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--no-peers", "--write", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    for heading in (
        "# Performance", "## Targets", "## Start-up", "## Throughput and memory, by size",
        "### 1 document", "### 100 documents", "## Side by side with the alternatives", "## Scaling",
        "## Peak memory", "## Schema engine", "## Where the time goes",
    ):
        assert f"\n{heading}" in "\n" + text, heading
    assert "kubernetes-validate: not measured: disabled (--no-peers)" in text
    assert "at least 20x the throughput of kubernetes-validate" in text
    assert "| meshctl validate | 100 |" in text and "| meshctl analyze | 100 |" in text
    assert "| meshctl graph | 100 |" in text
    assert "translate --to envoy" in text and "translate --to linkerd" in text  # measured, or why not
    assert "python -m bench.run" in text and "make bench" in text
    assert "cProfile of `meshctl analyze --jobs 1` on 100 documents" in text
