"""Injection and proxy settings (§2.8, §1.6)."""

from __future__ import annotations

import pytest

from tests.emit.linkerd.helpers import has_loss, linkerd_annotations, of_kind, run


def namespace(labels: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {labels}, annotations: {{owner: a}}}}\n"


def deployment(labels: str = "{app: web}", annotations: str = "{}") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {labels}, annotations: {annotations}}}
    spec: {{containers: [{{name: web, image: web}}]}}
"""


@pytest.mark.parametrize("labels, value, note", [
    ("{istio-injection: enabled, team: a}", "enabled", "kubectl label namespace shop istio-injection-"),
    ("{istio-injection: disabled}", "disabled", None),
    ("{istio.io/rev: canary}", "enabled", "no control-plane revisions"),
    ("{istio.io/dataplane-mode: ambient}", "enabled", "sidecar proxy instead"),
])
def test_namespace_injection(labels: str, value: str, note: str | None) -> None:
    out = run(namespace(labels))
    [ns] = of_kind(out, "Namespace")
    assert linkerd_annotations(ns) == {"owner": "a", "linkerd.io/inject": value}
    assert not any(k.startswith("istio") for k in ns["metadata"].get("labels", {}))
    if note:
        assert has_loss(out, "MSH401", note)


def test_no_istio_injection_no_namespace() -> None:
    out = run(namespace("{team: a}"))
    assert out.resources == [] and out.findings == []


def test_pod_injection_override_is_reported_only_when_it_differs() -> None:
    fired = run(namespace("{istio-injection: enabled}"), deployment("{app: web, sidecar.istio.io/inject: 'false'}"))
    assert has_loss(fired, "MSH400", "linkerd.io/inject: disabled",
                    'spec.template.metadata.labels["sidecar.istio.io/inject"]')
    same = run(namespace("{istio-injection: enabled}"), deployment("{app: web, sidecar.istio.io/inject: 'true'}"))
    assert not has_loss(same, "MSH400", "linkerd.io/inject")
    opt_in = run(namespace("{team: a}"), deployment(annotations="{sidecar.istio.io/inject: 'true'}"))
    assert has_loss(opt_in, "MSH400", "linkerd.io/inject: enabled")


def test_proxy_annotations_are_named_for_the_pod_template() -> None:
    out = run(deployment(annotations="{sidecar.istio.io/proxyCPU: 100m, "
                                     "traffic.sidecar.istio.io/excludeOutboundPorts: '5432'}"))
    assert has_loss(out, "MSH400", 'config.linkerd.io/proxy-cpu-request: "100m"')
    assert has_loss(out, "MSH400", 'config.linkerd.io/skip-outbound-ports: "5432"')
    assert run(deployment()).findings == []


def test_linkerd_as_the_only_source_leaves_kubernetes_labels_alone() -> None:
    assert run(namespace("{istio-injection: enabled}"), source="linkerd").resources == []
