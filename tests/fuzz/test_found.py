"""Crashes and hangs the fuzzer found (tests/fuzz/fuzz_load_validate.py), minimised.

Each test is the contract of issue 9 on one input: findings or a clean result, never an
exception, in bounded time. The comment above each group gives the cause and the fix.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from meshctl.load.reader import read_text
from meshctl.options import Options
from meshctl.pipeline import run_validate
from tests.conftest import ROOT, run_meshctl

# --- 1. An explicit YAML 1.1 tag whose value does not parse --------------------------
# PyYAML's safe constructors for !!int, !!float and !!bool raise ValueError, IndexError
# or KeyError (not ConstructorError) on a bad value; reader._read_stream catches only
# ConstructorError, so the exception escapes and the CLI exits 70 ("internal error").
# Found by the fuzzer as `name: !!float c` inside a ConfigMap's metadata. Fixed by
# reader._checked, which turns those errors into a ConstructorError (MSH001).
BAD_TAGGED_SCALARS = {
    "float-word": "a: !!float c\n",  # ValueError: could not convert string to float
    "float-empty": "a: !!float\n",  # IndexError: string index out of range
    "int-word": "a: !!int x\n",  # ValueError: invalid literal for int()
    "int-octal-digit": "a: !!int 0o8\n",  # ValueError
    "int-empty": "a: !!int ''\n",  # IndexError
    "bool-word": "a: !!bool maybe\n",  # KeyError: 'maybe'
}


@pytest.mark.parametrize("text", BAD_TAGGED_SCALARS.values(), ids=BAD_TAGGED_SCALARS.keys())
def test_a_tagged_scalar_that_does_not_parse_is_a_finding(text: str) -> None:
    read = read_text(text, "tagged.yaml")
    assert not read.docs
    assert [(f.location.line if f.location else None) for f in read.findings] == [1]


def test_a_bad_tagged_value_in_one_document_leaves_the_others_checked(tmp_path: Path) -> None:
    path = tmp_path / "mesh.yaml"
    path.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: x}\n"
        "spec:\n  hosts: [r]\n  http:\n  - route: [{destination: {host: r}, weight: !!int fifty}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {ports: [{port: 80, name: http}]}\n"
    )
    result = run_validate(Options(paths=(str(path),)))
    assert any(f.location is not None and f.location.line == 7 for f in result.findings), result.findings
    assert [d.kind for d in result.docs] == ["Service"]


def test_the_cli_reports_a_bad_tagged_value_instead_of_an_internal_error(tmp_path: Path) -> None:
    path = tmp_path / "tagged.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: !!float c}\n")
    run = run_meshctl("validate", "-f", "json", str(path))
    assert run.code in (0, 1), run.stderr
    json.loads(run.stdout)


# --- 2. A recursive alias: an anchor used inside its own node ----------------------------
# `a: &a [*a]` composes to a node that contains itself. reader._too_large (the alias-bomb
# guard, run whenever the text holds '&') walks children with an explicit stack and
# memoises only *finished* nodes, so a cycle is pushed again forever: the run never ends
# and memory grows by ~60 MB/s until the machine's limit. (Were the guard to pass it,
# construct_document would build a self-referencing list that the schema engine and
# every rule would then walk forever.) Kubernetes' own YAML reader refuses such a
# document ("anchor 'a' value contains itself"). The test bounds it with a subprocess.
RECURSIVE = {
    "sequence": "a: &a [*a]\n",
    "mapping": "a: &a {b: *a}\n",
    "deeper": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &d {k: [x, {y: *d}]}\n",
}
RECURSION_TIME_LIMIT = 10  # seconds; the fixed reader answers in milliseconds
_READ_ONE = (
    "import json, sys\n"
    "from meshctl.load.reader import read_text\n"
    "read = read_text(sys.stdin.read(), 'recursive.yaml')\n"
    "print(json.dumps({'docs': len(read.docs), 'findings': [f.code for f in read.findings]}))\n"
)


def _limit_memory() -> None:
    limit = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("text", RECURSIVE.values(), ids=RECURSIVE.keys())
def test_a_recursive_alias_is_a_finding_not_a_hang(text: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _READ_ONE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=_limit_memory)
    try:
        out, err = proc.communicate(text, timeout=RECURSION_TIME_LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {text!r} did not finish in {RECURSION_TIME_LIMIT} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    read = json.loads(out)
    assert read["docs"] == 0 and read["findings"], read


# --- 3. A List with two `items` keys -------------------------------------------------------
# The constructed dict keeps the *last* `items` (and MSH002 reports the duplicate), but
# reader._child returns the *first* `items` node, and _add_document indexes that node with
# the positions of the last list: an IndexError when the first list is shorter (exit 70),
# and wrong line numbers for every finding in the items when it is not. The --jobs path
# has the same first-wins lookup in document._compose. Found by the fuzzer from the
# List seed with a line duplicated.
DUPLICATE_ITEMS = (
    "kind: List\n"
    "items: []\n"
    "items: [{apiVersion: v1, kind: Service, metadata: {name: a}}]\n"
)


def test_a_list_with_a_duplicate_items_key_reads_the_last_items() -> None:
    read = read_text(DUPLICATE_ITEMS, "list.yaml")
    assert [d.name for d in read.docs] == ["a"]
    assert [f.code for f in read.findings] == ["MSH002"]


def test_findings_in_a_duplicated_items_list_point_at_the_items_that_count() -> None:
    text = (
        "kind: List\n"
        "items: [{apiVersion: v1, kind: Service, metadata: {name: first}}]\n"
        "items: [{apiVersion: v1, kind: Service, metadata: {name: 3}}]\n"
    )
    (doc,) = read_text(text, "list.yaml").docs
    assert doc.locate(("metadata", "name")).line == 3


def test_a_document_composed_again_for_jobs_takes_the_last_items_too() -> None:
    from meshctl.load.document import SourceDoc

    lines = DUPLICATE_ITEMS.split("\n")
    data = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}
    doc = SourceDoc("list.yaml", 0, data, None, item=0, lines=(0, 2), deferred=lines)
    assert doc.line == 3
