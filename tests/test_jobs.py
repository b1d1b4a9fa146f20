"""--jobs: worker processes give byte-identical reports to a single process.

The input is big enough to be split (a generated 2,000-service mesh, several MB) and
holds every kind of finding: validation findings made in the workers, analysis findings
whose positions the main process composes again from the text, a syntax error in the
middle (reading resumes at the next document), a List, and Helm source comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import generate
from meshctl.validate import parallel
from tests.conftest import run_meshctl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_mesh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = list(generate.documents(2000, "istio"))
    for i in range(0, len(docs), 997):
        docs[i] = docs[i].replace("weight: 80", "weight: 70").replace("timeout: 10s", "timout: 10s")
    for i in range(3, len(docs), 1499):
        docs[i] = docs[i].replace("subset: v2}", "subset: v3}")
    docs.insert(4000, "apiVersion: v1\nkind: Service\nmetadata: {name: broken\n  bad: [\n")
    docs.insert(6000, "# Source: shop/templates/list.yaml\napiVersion: v1\nkind: List\nitems:\n"
                      "- apiVersion: v1\n  kind: Service\n  metadata: {name: in-list, namespace: team-0001}\n"
                      "  spec: {ports: [{port: 70000}]}\n")
    path = tmp_path_factory.mktemp("big") / "mesh.yaml"
    path.write_text("---\n".join(docs))
    assert path.stat().st_size > parallel.MIN_PARALLEL_BYTES
    return path


def test_analyze_with_workers_reports_exactly_what_one_process_reports(big_mesh: Path) -> None:
    one = run_meshctl("analyze", "-f", "json", "--jobs", "1", str(big_mesh))
    two = run_meshctl("analyze", "-f", "json", "--jobs", "2", str(big_mesh))
    assert one.code == two.code == 1
    assert one.stdout == two.stdout
    report = json.loads(one.stdout)
    codes = {f["code"] for f in report["findings"]}
    assert {"MSH001", "MSH011", "MSH031", "MSH102", "MSH010"} <= codes
    in_list = [f for f in report["findings"] if f["resource"] and f["resource"]["name"] == "in-list"]
    assert in_list and in_list[0]["location"]["template"] == "shop/templates/list.yaml"


def test_text_output_with_source_lines_is_identical_too(big_mesh: Path) -> None:
    one = run_meshctl("analyze", "--jobs", "1", str(big_mesh))
    two = run_meshctl("analyze", "--jobs", "2", str(big_mesh))
    assert one.stdout == two.stdout
    assert "subset: v3" in one.stdout  # the source line under an analysis finding


def test_small_inputs_stay_in_one_process() -> None:
    assert not parallel.worth_it(8, parallel.MIN_PARALLEL_BYTES - 1)
    assert parallel.worth_it(2, parallel.MIN_PARALLEL_BYTES)
    assert not parallel.worth_it(1, 10 * parallel.MIN_PARALLEL_BYTES)


def test_chunks_cut_at_separators_and_keep_line_numbers() -> None:
    text = "".join(f"---\nkind: K{i}\nmetadata: {{name: n{i}}}\n" for i in range(60000))
    tasks = parallel.split("x.yaml", text, False)
    assert len(tasks) > 2
    assert all(t.text.lstrip("\n").startswith("---") for t in tasks)
    assert sum(t.text.count("kind:") for t in tasks) == 60000
    assert sum(len(t.text.lstrip("\n")) for t in tasks) == len(text)
