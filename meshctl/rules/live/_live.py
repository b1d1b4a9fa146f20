"""What the live checks share: their context, registration, and readings of live objects.

A live check is ``check(ctx: LiveAnalysis) -> Iterator[Finding]``. ``ctx`` is the analysis
context ``analyze`` rules get (the mesh model of the live objects, the graph) plus
``ctx.live``, the LiveState: every object read, by kind, as SourceDocs with positions.
``needs`` names the kinds (``group/Kind``) the check reads: when one of them could not be
read completely (RBAC, a failed list) the check is skipped and the partial-view finding
(MSH518) names it, so an absence caused by a forbidden list is never reported as a fact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from meshctl.cluster.state import LiveState
from meshctl.diagnostics import Finding
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

INJECTOR_SUFFIX = "sidecar-injector.istio.io"
PROXY = "istio-proxy"
LINKERD_PROXY = "linkerd-proxy"
STATUS_ANNOTATION = "sidecar.istio.io/status"
INJECT = "sidecar.istio.io/inject"
REVISION = "istio.io/rev"
INJECTION = "istio-injection"
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})


@dataclass
class LiveAnalysis(Analysis):
    live: LiveState | None = field(default=None, repr=False)

    @property
    def state(self) -> LiveState:
        assert self.live is not None
        return self.live


LiveCheck = Callable[[LiveAnalysis], Iterator[Finding]]


@dataclass(frozen=True)
class Registered:
    rule: Rule
    fn: LiveCheck
    needs: tuple[str, ...]


CHECKS: dict[str, Registered] = {}


def live_check(rule: Rule, needs: tuple[str, ...] = ()) -> Callable[[LiveCheck], LiveCheck]:
    def register(fn: LiveCheck) -> LiveCheck:
        CHECKS[rule.code] = Registered(rule, fn, needs)
        return fn

    return register


def live_rules() -> list[Registered]:
    from meshctl.rules.registry import all_rules

    codes = {r.code for r in all_rules()}  # imports every rule module, live ones included
    return [CHECKS[c] for c in sorted(CHECKS) if c in codes]


# -- readings --------------------------------------------------------------------------
def dct(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def lst(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, v) for i, v in enumerate(lst(value)) if isinstance(v, dict)]


def labels(doc: SourceDoc) -> dict[str, str]:
    return {str(k): str(v) for k, v in dct(doc.metadata.get("labels")).items()}


def spec(doc: SourceDoc) -> dict[str, Any]:
    return dct(doc.data.get("spec"))


def status(doc: SourceDoc) -> dict[str, Any]:
    return dct(doc.data.get("status"))


def selects(selector: Any, values: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions); None or {} selects all."""
    if not isinstance(selector, dict):
        return True
    for key, value in dct(selector.get("matchLabels")).items():
        if values.get(str(key)) != str(value):
            return False
    for _, expr in dicts(selector.get("matchExpressions")):
        key, op = str(expr.get("key")), expr.get("operator")
        wanted = {str(v) for v in lst(expr.get("values"))}
        if op == "In" and values.get(key) not in wanted:
            return False
        if op == "NotIn" and key in values and values[key] in wanted:
            return False
        if op == "Exists" and key not in values:
            return False
        if op == "DoesNotExist" and key in values:
            return False
    return True


def pod_running(doc: SourceDoc) -> bool:
    return status(doc).get("phase") == "Running" and not doc.metadata.get("deletionTimestamp")


def pod_ready(doc: SourceDoc) -> bool:
    if not pod_running(doc):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for _, c in dicts(status(doc).get("conditions")))


def containers(doc: SourceDoc) -> list[tuple[str, int, dict[str, Any]]]:
    """("containers" | "initContainers", index, container) of a Pod."""
    out = []
    for key in ("containers", "initContainers"):
        out.extend((key, i, c) for i, c in dicts(spec(doc).get(key)))
    return out


def proxy_container(doc: SourceDoc, name: str = PROXY) -> tuple[str, int, dict[str, Any]] | None:
    return next((c for c in containers(doc) if c[2].get("name") == name), None)


def injected(doc: SourceDoc) -> bool:
    """The pod got its istio-proxy from the injector (gateways run it as their main container)."""
    return proxy_container(doc) is not None and STATUS_ANNOTATION in dct(doc.metadata.get("annotations"))


_DIGEST = re.compile(r"@sha256:[0-9a-f]+$")


def image_tag(image: str) -> str:
    """``docker.io/istio/proxyv2:1.22.3-distroless`` -> ``1.22.3``; no tag -> ``latest``."""
    image = _DIGEST.sub("", image)
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    for suffix in ("-distroless", "-debug"):
        if tag.endswith(suffix):
            tag = tag[: -len(suffix)]
    return tag


def minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def namespace_labels(state: LiveState, namespace: str | None) -> dict[str, str] | None:
    if namespace is None:
        return None
    doc = state.find("/Namespace", None, namespace)
    return labels(doc) if doc is not None else None


def istiods(state: LiveState) -> list[SourceDoc]:
    return [d for d in state.objects("apps/Deployment") if labels(d).get("app") == "istiod"]


def revision_of(doc: SourceDoc) -> str:
    return labels(doc).get(REVISION) or "default"


def container_image(doc: SourceDoc, name: str) -> tuple[tuple[str | int, ...], str] | None:
    """(field path, image) of the named container of a Deployment's pod template."""
    for i, c in dicts(dct(dct(spec(doc).get("template")).get("spec")).get("containers")):
        if c.get("name") == name and isinstance(c.get("image"), str):
            return ("spec", "template", "spec", "containers", i, "image"), c["image"]
    return None


@dataclass(frozen=True)
class Webhook:
    config: SourceDoc  # the MutatingWebhookConfiguration or ValidatingWebhookConfiguration
    index: int  # in its ``webhooks``
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name") or "")

    @property
    def path(self) -> tuple[str | int, ...]:
        return ("webhooks", self.index)


def webhooks(state: LiveState, kind: str = "MutatingWebhookConfiguration") -> list[Webhook]:
    out = []
    for doc in state.objects(f"admissionregistration.k8s.io/{kind}"):
        out.extend(Webhook(doc, i, w) for i, w in dicts(doc.data.get("webhooks")))
    return out


def injectors(state: LiveState) -> list[Webhook]:
    """Istio's sidecar injector webhooks (every revision and tag)."""
    return [w for w in webhooks(state) if w.name.endswith(INJECTOR_SUFFIX)]


def injector_selects(webhook: Webhook, namespace: dict[str, str], pod: dict[str, str]) -> bool:
    """Would this webhook see a pod with ``pod`` labels created in a namespace with ``namespace`` labels?"""
    return selects(webhook.data.get("namespaceSelector"), namespace) and selects(webhook.data.get("objectSelector"), pod)
