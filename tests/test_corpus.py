"""Real public mesh configs validate clean: no false errors on what people actually ship.

The corpus (../shared/corpus: Istio samples and test data, Gateway API examples and
conformance manifests, Linkerd's apps, fixtures and docs) is meant to be valid. The
table below is every error meshctl reports on it, each a genuine upstream oddity; the
test fails on any other error, and also when one of these stops being found.
"""

from __future__ import annotations

from collections import Counter

import pytest

from meshctl.diagnostics import Severity
from meshctl.options import Options
from meshctl.pipeline import RunResult, run_validate
from tests.conftest import CORPUS, requires_corpus

pytestmark = requires_corpus()

# (file relative to the corpus, code, line): why it is right to report it.
KNOWN = {
    ("gateway-api/conformance/tests/gatewayclass-observed-generation-bump.yaml", "MSH010", 6):
        "the conformance suite's {GATEWAY_CONTROLLER_NAME} placeholder is not a controller name",
    ("istio/testdata-config/rule-websocket-route.yaml", "MSH011", 56):
        "websocketUpgrade was removed from VirtualService (websockets are always on)",
    ("istio/testdata-config/rule-websocket-route.yaml", "MSH011", 79):
        "websocketUpgrade was removed from VirtualService (websockets are always on)",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH002", 149):
        "a Server and an AuthorizationPolicy pasted without '---': the Server is lost",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH002", 150):
        "same document: kind repeated",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH002", 151):
        "same document: metadata repeated",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH002", 154):
        "same document: spec repeated",
    ("linkerd/website-docs/2-edge/tasks/configuring-proxy-concurrency.yaml", "MSH010", 5):
        "a docs excerpt that elides metadata with '# ...': metadata is null",
    ("linkerd/website-docs/2-edge/tasks/configuring-proxy-concurrency.yaml", "MSH010", 18):
        "the same excerpt, second block",
    ("gateway-api/conformance/tests/gateway-static-addresses.yaml", "MSH050", 20):
        "conformance placeholder PLACEHOLDER_UNUSABLE_ADDRS in an IPAddress field (substituted at test time)",
    ("gateway-api/conformance/tests/gateway-static-addresses.yaml", "MSH050", 23):
        "conformance placeholder PLACEHOLDER_USABLE_ADDRS in an IPAddress field (substituted at test time)",
    ("linkerd/linkerd2/cli-inject/inject_gettest_deployment.good.golden.yml", "MSH071", 6):
        "a linkerd-inject fixture: apps/v1 Deployment without spec.selector (the API server rejects it)",
    ("linkerd/linkerd2/cli-inject/inject_gettest_deployment.good.golden.yml", "MSH071", 275):
        "the same fixture, second Deployment",
    ("linkerd/linkerd2/cli-inject/inject_gettest_deployment.good.input.yml", "MSH071", 6):
        "the fixture's input: Deployment without spec.selector",
    ("linkerd/linkerd2/cli-inject/inject_gettest_deployment.good.input.yml", "MSH071", 28):
        "the fixture's input, second Deployment",
    ("linkerd/website-docs/2-edge/tasks/adding-non-kubernetes-workloads.yaml", "MSH062", 17):
        "docs placeholder `ip: $machine_IP` where an IP address belongs",
    ("linkerd/website-docs/2-edge/tasks/using-ingress.yaml", "MSH010", 246):
        "docs placeholder `host: [YOUR STATIC DOMAIN.ngrok-free.app]`: YAML reads the brackets as a list",
}
# Warnings the corpus earns: deprecated API versions and fields it really uses.
ALLOWED_WARNINGS = {"MSH012", "MSH013"}


@pytest.fixture(scope="module")
def corpus_run() -> RunResult:
    return run_validate(Options(paths=(str(CORPUS),)))


def _rel(path: str) -> str:
    return path.split("corpus/", 1)[1]


def test_the_whole_corpus_is_read(corpus_run: RunResult) -> None:
    assert corpus_run.files > 550
    assert corpus_run.resources > 1500


def test_no_false_errors_on_real_configs(corpus_run: RunResult) -> None:
    errors = {
        (_rel(f.location.file), f.code, f.location.line): f.message
        for f in corpus_run.findings
        if f.severity == Severity.ERROR and f.location is not None
    }
    unexpected = {k: v for k, v in errors.items() if k not in KNOWN}
    missing = set(KNOWN) - set(errors)
    assert unexpected == {}, "errors on real configs"
    assert missing == set(), "known upstream problems no longer found"


def test_only_deprecation_warnings(corpus_run: RunResult) -> None:
    warnings = Counter(f.code for f in corpus_run.findings if f.severity == Severity.WARNING)
    assert set(warnings) <= ALLOWED_WARNINGS, warnings
