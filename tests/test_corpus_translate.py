"""`translate --to envoy` on real public meshes: what it compiles, a real Envoy accepts.

Each corpus unit (as in test_corpus_analyze) is compiled for a client sidecar in the
first namespace its routes and Services live in, for its first gateway and for the
inbound side of its first workload (EACH raises that; one of each keeps CI time down);
each bootstrap goes through `envoy --mode validate`. The translation must never fail,
and what it reports is losses and approximations, never an error.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from meshctl.diagnostics import Severity
from meshctl.emit.envoy import EnvoyOptions, translate
from meshctl.lower import lower
from meshctl.options import Options
from meshctl.pipeline import run_validate
from tests.conftest import CORPUS, requires_corpus
from tests.envoy.harness import validate
from tests.test_corpus_analyze import UNITS, _depends

pytestmark = [requires_corpus(), pytest.mark.slow]
EACH = 1  # bounded (CI time): the first namespace, gateway and workload of each unit are compiled


def _proxies(mesh: Any) -> list[EnvoyOptions]:
    namespaces = sorted({r.namespace for r in mesh.routes} | {s.namespace for s in mesh.services}) or ["default"]
    out = [EnvoyOptions(namespace=ns) for ns in namespaces[:EACH]]
    out += [EnvoyOptions(proxy="gateway", target=(g.name, g.namespace)) for g in mesh.gateways[:EACH]]
    out += [EnvoyOptions(proxy="inbound", target=(w.name, w.namespace)) for w in mesh.workloads[:EACH]]
    return out


@pytest.mark.parametrize("unit", UNITS)
def test_every_proxy_of_the_unit_translates_into_config_envoy_accepts(unit: str, tmp_path: Path) -> None:
    paths = tuple(str(CORPUS / u) for u in (*_depends(unit), unit))
    result = run_validate(Options(paths=paths))
    mesh = lower(result.checked)
    outputs = []
    for options in _proxies(mesh):
        out = translate(mesh, options)
        assert all(f.severity < Severity.ERROR for f in out.findings), (options, out.findings)
        assert all(f.location is not None for f in out.findings), options
        outputs.append((options, out.bootstrap))
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(lambda item: (item[0], validate(item[1])), outputs))
    rejected = [(options, verdict.collapsed[-600:]) for options, verdict in verdicts if not verdict.ok]
    assert rejected == []
