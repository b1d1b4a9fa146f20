"""Golden outputs of `translate --to envoy` for the bookinfo sample, reviewed by hand.

Each case's output was read against envoy-translation.md (names, defaults, route order,
cluster policies) before it was committed; a change in the output fails here and must
be reviewed the same way. To see the new output after an intended change:
``MESHCTL_UPDATE_GOLDEN=1 pytest tests/emit/envoy/test_golden.py``, then read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CORPUS, requires_corpus, run_meshctl

pytestmark = requires_corpus()

GOLDEN = Path(__file__).parent / "golden"
BOOKINFO = CORPUS / "istio" / "samples" / "bookinfo"
PLATFORM = "platform/kube/bookinfo.yaml"

CASES = {
    # the jason header route to reviews v2, the 7s delay for jason on ratings
    "bookinfo-sidecar": (
        ["--namespace", "default"],
        [PLATFORM, "networking/destination-rule-all.yaml", "networking/virtual-service-reviews-jason-v2-v3.yaml",
         "networking/virtual-service-ratings-test-delay.yaml"],
    ),
    # ISTIO_MUTUAL subsets and an 80/20 split, as xDS lists for diffing with istioctl proxy-config
    "bookinfo-mtls-80-20": (
        ["--namespace", "default", "--format", "xds"],
        [PLATFORM, "networking/destination-rule-all-mtls.yaml", "networking/virtual-service-reviews-80-20.yaml"],
    ),
    # Istio's ingress sample: the server port (no gateway Service among the inputs), five routes
    "bookinfo-gateway": (
        ["--proxy", "gateway", "bookinfo-gateway.default"],
        [PLATFORM, "networking/bookinfo-gateway.yaml", "networking/destination-rule-all.yaml"],
    ),
    # the same with Gateway API: precedence order, segment-aware prefixes
    "bookinfo-gateway-api": (
        ["--proxy", "gateway", "bookinfo-gateway.default"],
        [PLATFORM, "platform/kube/bookinfo-versions.yaml", "gateway-api/bookinfo-gateway.yaml"],
    ),
    # a GAMMA route: HTTPRoute with a Service parent splitting reviews 90/10 across per-version Services
    "bookinfo-gamma": (
        ["--namespace", "default"],
        [PLATFORM, "platform/kube/bookinfo-versions.yaml", "gateway-api/route-reviews-90-10.yaml"],
    ),
    # the inbound side of reviews-v1: STRICT mTLS, an ALLOW policy and a DENY policy
    "bookinfo-inbound": (
        ["--proxy", "inbound", "reviews-v1.default"],
        [PLATFORM, str(GOLDEN / "bookinfo-policies.yaml")],
    ),
}


def _outputs(directory: Path) -> dict[str, str]:
    """Output files by name, without the header line that names meshctl's version."""
    out = {}
    for path in sorted(directory.iterdir()):
        text = path.read_text()
        out[path.name] = text.split("\n", 1)[1] if text.startswith("#") else text
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, tmp_path: Path) -> None:
    flags, inputs = CASES[case]
    paths = [p if p.startswith("/") else str(BOOKINFO / p) for p in inputs]
    run = run_meshctl("translate", "--to", "envoy", "--check", *flags, *paths, "-o", str(tmp_path))
    assert run.code == 0, run.stderr
    assert "--check: envoy accepts the configuration" in run.stderr
    expected_dir = GOLDEN / case
    if os.environ.get("MESHCTL_UPDATE_GOLDEN"):
        expected_dir.mkdir(exist_ok=True)
        for name, text in _outputs(tmp_path).items():
            (expected_dir / name).write_text(text)
    assert _outputs(tmp_path) == _outputs(expected_dir)

