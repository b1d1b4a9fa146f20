"""`translate --to istio` on the public demo apps: Linkerd's (booksapp, emojivoto with its
policies, ServiceProfiles and TrafficSplits) and Istio's bookinfo in its Gateway API form.

Each unit translates without an error, every loss has a position, and the output validates
and analyses clean beside the unit's Services and Deployments. The bookinfo Gateway API
samples must mean what Istio's own VirtualService versions of them
(``samples/bookinfo/networking``) mean: the same pods and ports, in the same shares, for
every sample request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshctl.diagnostics import Severity
from meshctl.emit.istio import translate
from meshctl.emit.mesh_options import MeshOptions
from meshctl.lower import lower
from meshctl.options import Options
from meshctl.pipeline import run_validate
from tests.conftest import CORPUS, requires_corpus
from tests.emit.istio.helpers import Cluster, Request, check_clean, fqdn, load_docs

pytestmark = requires_corpus()

EMOJIVOTO = "linkerd/emojivoto"
WEBSITE = "linkerd/website/run.linkerd.io/public"
KUSTOMIZE = [f"{EMOJIVOTO}/kustomize/deployment/{f}.yml" for f in ("ns", "web", "emoji", "voting", "vote-bot")]
PROFILES = f"{EMOJIVOTO}/training/service-profiles"
SPLITS = f"{EMOJIVOTO}/training/traffic-split"
UNITS = {
    "booksapp": ["linkerd/booksapp/booksapp.yml"],
    "booksapp-trafficsplit": ["linkerd/booksapp/booksapp-trafficsplit.yml"],
    "emojivoto-policy": [f"{WEBSITE}/emojivoto.yml", f"{WEBSITE}/emojivoto-policy.yml"],
    "emojivoto-daemonset": [f"{WEBSITE}/emojivoto-daemonset.yml"],
    "nodevoto": [f"{WEBSITE}/nodevoto.yml"],
    "emojivoto-profiles": [*KUSTOMIZE, f"{PROFILES}/web-service-profile-with-retry-budget.yml",
                           f"{PROFILES}/emoji-svc-profile.yml", f"{PROFILES}/voting-svc-profile.yml"],
    "emojivoto-profile-timeout": [*KUSTOMIZE, f"{PROFILES}/web-service-profile-with-timeout.yml"],
    **{f"emojivoto-split-{name}": [*KUSTOMIZE, f"{SPLITS}/web-apex.yml", f"{SPLITS}/web-svc-2.yml",
                                   f"{SPLITS}/{name}.yml"] for name in ("web-svc-ts", "75-25", "100-0")},
}


def _translate(paths: list[str], tmp_path: Path) -> None:
    result = run_validate(Options(paths=tuple(str(CORPUS / p) for p in paths)))
    out = translate(lower(result.checked), MeshOptions())
    assert all(f.severity < Severity.ERROR for f in out.findings)
    assert all(f.location is not None for f in out.findings)
    inputs = [d.data for d in result.checked if d.api_version in ("v1", "apps/v1", "batch/v1")]
    check_clean(tmp_path, out, inputs)


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_linkerd_demo_apps_translate_and_validate_clean(unit: str, tmp_path: Path) -> None:
    _translate(UNITS[unit], tmp_path)


def test_the_emojivoto_policies_become_istio_policies() -> None:
    result = run_validate(Options(paths=tuple(str(CORPUS / p) for p in UNITS["emojivoto-policy"])))
    out = translate(lower(result.checked), MeshOptions())
    names = sorted(r["metadata"]["name"] for r in out.resources if r["kind"] == "AuthorizationPolicy")
    assert names == ["emoji-grpc", "prom-1", "prom-2", "prom-3", "voting-grpc", "web-http"]
    emoji = next(r for r in out.resources if r["metadata"]["name"] == "emoji-grpc")["spec"]
    assert emoji["rules"][0] == {"from": [{"source": {"principals": ["cluster.local/ns/emojivoto/sa/web"]}}],
                                 "to": [{"operation": {"ports": ["8080"]}}]}


# -- bookinfo: the Gateway API samples against Istio's VirtualService versions ----------------------
BOOKINFO = CORPUS / "istio" / "samples" / "bookinfo"
PLATFORM = [BOOKINFO / "platform/kube/bookinfo.yaml", BOOKINFO / "platform/kube/bookinfo-versions.yaml"]
SAMPLES = {
    "bookinfo-gateway.yaml": ["bookinfo-gateway.yaml"],
    "route-all-v1.yaml": ["virtual-service-all-v1.yaml"],
    "route-reviews-v1.yaml": ["virtual-service-all-v1.yaml"],
    "route-reviews-50-v3.yaml": ["virtual-service-reviews-50-v3.yaml"],
    "route-reviews-90-10.yaml": ["virtual-service-reviews-90-10.yaml"],
    "route-reviews-v3.yaml": ["virtual-service-reviews-v3.yaml"],
}
PATHS = ["/productpage", "/login", "/logout", "/static/css/x.css", "/static", "/api/v1/products",
         "/api/v1/products/1/reviews", "/reviews/0", "/ratings/0", "/details/0", "/"]


def _key(vs: dict, namespace: str) -> tuple[str, ...]:
    return tuple(sorted(h if h == "*" else fqdn(h, namespace) for h in vs["spec"]["hosts"]))


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_bookinfo_gateway_api_means_what_the_virtual_services_mean(sample: str, tmp_path: Path) -> None:
    paths = (*PLATFORM, BOOKINFO / "gateway-api" / sample)
    result = run_validate(Options(paths=tuple(map(str, paths))))
    out = translate(lower(result.checked), MeshOptions())
    check_clean(tmp_path, out, [d.data for d in result.checked if d.api_version in ("v1", "apps/v1")])
    theirs = load_docs(*(BOOKINFO / "networking" / f for f in SAMPLES[sample]))
    cluster = Cluster.of(load_docs(*PLATFORM, BOOKINFO / "networking" / "destination-rule-all.yaml") + out.resources)
    ours = {_key(r, "default"): r["spec"] for r in out.resources if r["kind"] == "VirtualService"}
    compared = 0
    for vs in (d for d in theirs if d.get("kind") == "VirtualService"):
        key = _key(vs, "default")
        if key not in ours:
            assert sample == "route-reviews-v1.yaml"  # only the reviews part of all-v1
            continue
        for path in PATHS:
            request = Request(path)
            assert cluster.outcome(ours[key], request, "default") == cluster.outcome(vs["spec"], request, "default"), \
                (key, path)
            compared += 1
    assert compared >= len(PATHS)


def test_a_path_prefix_is_a_segment_prefix_where_istios_sample_is_a_string_prefix() -> None:
    paths = (*PLATFORM, BOOKINFO / "gateway-api" / "bookinfo-gateway.yaml")
    out = translate(lower(run_validate(Options(paths=tuple(map(str, paths)))).checked), MeshOptions())
    ours = next(r["spec"] for r in out.resources if r["kind"] == "VirtualService")
    theirs = next(d["spec"] for d in load_docs(BOOKINFO / "networking" / "bookinfo-gateway.yaml")
                  if d.get("kind") == "VirtualService")
    cluster = Cluster.of(load_docs(*PLATFORM))
    request = Request("/staticfiles")  # PathPrefix /static does not match it; Istio's prefix /static does
    assert cluster.outcome(ours, request, "default") is None
    assert cluster.outcome(theirs, request, "default") is not None
