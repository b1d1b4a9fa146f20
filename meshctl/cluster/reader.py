"""Discovery, then the lists: everything diagnose reads, into a LiveState.

Lists are paginated (``limit`` + ``continue``); the first page asks for
``resourceVersion=0`` (any recent state, served from the API server's cache: a
diagnosis does not need a quorum read, and etcd is spared), the next pages carry only
the ``continue`` token, as the API requires. With ``-n`` only those namespaces are read;
with ``-A`` each kind is one list across all namespaces. Cluster-scoped kinds (webhooks,
CRD metadata, GatewayClasses) are always read. Secrets are listed as metadata only; the
TLS Secrets that Gateways name are read in full only with ``--check-certificates``, and
only their certificate and key entries are kept, in memory.

What cannot be read is recorded (``LiveState.skipped``) and the reading goes on: a 403
on one kind or namespace, a kind whose CRD is not installed, a list that kept failing, an
answer that is not a list of Kubernetes objects (``_list_page``: never read as an empty or
partial list), a list whose continue token expired twice or comes back.
Only a cluster that cannot be reached at all, or rejects the credentials, ends the run.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from meshctl.cluster import convert
from meshctl.cluster.access import Access
from meshctl.cluster.api import JSON, METADATA, Api, ApiError, TransportError
from meshctl.cluster.discovery import METADATA_ONLY, Discovery, Resource, discover
from meshctl.cluster.state import LiveState, Skip
from meshctl.errors import InputError

PAGE = 500
# Deeper objects are not read (real ones are a few dozen levels deep at most): the
# conversion to YAML and the checks recurse, and a hostile server could nest thousands.
MAX_DEPTH = 100
TLS_KEYS = ("tls.crt", "tls.key", "cert", "key", "ca.crt", "cacert")
LINKERD_ISSUER = "linkerd-identity-issuer"
LINKERD_TRUST_ROOTS = "linkerd-identity-trust-roots"
ISTIOD_SELECTOR = "app=istiod"
LINKERD_SELECTOR = "linkerd.io/control-plane-component"
# ApiError reasons whose message says what went wrong in full (not a Status from the server)
SELF_EXPLAINED = frozenset({"BadResponse", "Redirect", "ContinueExpired"})
# The order kinds are read in: what the other reads and checks depend on first.
_FIRST = ("/Namespace", "/Service", "/Pod", "discovery.k8s.io/EndpointSlice", "apps/Deployment")


class Unreachable(InputError):
    """The cluster cannot be read at all (exit code 3)."""


Progress = Callable[[str], None]


class Reader:
    def __init__(
        self,
        api: Api,
        access: Access,
        namespaces: tuple[str, ...] | None,
        *,
        channel: str = "experimental",
        check_certificates: bool = False,
        progress: Callable[[int], Any] | None = None,
    ) -> None:
        self.api = api
        self.access = access
        self.namespaces = namespaces
        self.channel = channel
        self.check_certificates = check_certificates
        self.progress = progress
        self.state = LiveState(access.context, access.server, namespaces, check_certificates=check_certificates)
        self.discovery = Discovery()

    # -- the run -----------------------------------------------------------------------
    def read(self) -> LiveState:
        state = self.state
        try:
            self.discovery = discover(self.api, self.channel)
        except (ApiError, TransportError) as exc:
            raise self._unreachable(exc) from None
        state.version = self.discovery.version
        state.served = self.discovery.served
        for missing in self.discovery.not_served:
            for kind in missing.kinds:
                state.skipped.append(
                    Skip(f"{missing.group}/{kind}" if missing.group else kind, f"{missing.group}/{kind}", None,
                         "not served", "not-served")
                )
        resources = sorted(
            self.discovery.resources.values(),
            key=lambda r: (_FIRST.index(r.kind_key) if r.kind_key in _FIRST else len(_FIRST), r.kind_key),
        )
        steps: list[tuple[str, Callable[[], None]]] = [
            (r.display, (lambda r=r: self._read_kind(r))) for r in resources  # type: ignore[misc]
        ]
        steps.append(("control plane", self._read_control_plane))
        if self.check_certificates:
            steps.append(("TLS secrets", self._read_tls_secrets))
        start = self.progress(len(steps)) if self.progress is not None else None
        for label, step in steps:
            if start is not None:
                start(label)
            step()
        return state

    def _unreachable(self, exc: ApiError | TransportError) -> InputError:
        server = self.access.server
        if isinstance(exc, ApiError):
            if exc.status == 401:
                return Unreachable(
                    f"the API server at {server} rejected the credentials of context {self.access.context!r} "
                    f"(401 Unauthorized, {self.access.auth})",
                    hint="check the token or certificate in the kubeconfig, or log in again",
                )
            if exc.reason in SELF_EXPLAINED:
                return Unreachable(f"cannot read the cluster at {server}: {exc.message}")
            detail = exc.message or exc.reason
            return Unreachable(f"cannot read the cluster at {server}: {exc.status} {exc.reason}: {detail}")
        tries = f" ({exc.tries} tries)" if exc.tries > 1 else ""
        return Unreachable(
            f"cannot reach the cluster at {server} (context {self.access.context!r}): {exc.reason}{tries}",
            hint="check the server address and your network, or pass --context",
        )

    # -- listing -----------------------------------------------------------------------
    def _pages(self, res: Resource, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        accept = METADATA if res.kind_key in METADATA_ONLY else JSON
        path = res.path(namespace)
        first: dict[str, Any] = {"limit": PAGE, "resourceVersion": "0"}
        if selector:
            first["labelSelector"] = selector
        query, items, restarted = first, [], False
        tokens: set[str] = set()
        while True:
            try:
                data = self.api.get(path, query, accept)
            except ApiError as exc:
                if exc.status == 410 and "continue" in query and not restarted:
                    # the continue token expired: start again, this time from the latest state
                    restarted, items = True, []
                    tokens.clear()
                    query = {k: v for k, v in first.items() if k != "resourceVersion"}
                    continue
                if exc.status == 410 and "continue" in query:
                    raise ApiError(410, "ContinueExpired", "its continue token expired again after a restart (410 Gone): "
                                   "the list changes faster than it can be read", exc.tries) from None
                raise
            if accept == METADATA and data.get("kind") != "PartialObjectMetadataList":
                raise ApiError(406, "NotAcceptable", "the server did not answer with metadata only")
            page, token = _list_page(data, path)
            items.extend(page)
            if not token:
                return items
            if token in tokens:  # a server paginating in a circle: the list would never end
                raise ApiError(200, "BadResponse", f"the answer to GET {path} repeats an earlier continue token")
            tokens.add(token)
            query = {"limit": PAGE, "continue": token}
            if selector:
                query["labelSelector"] = selector

    def _add(self, res: Resource, items: list[dict[str, Any]]) -> None:
        for item in items:
            obj = convert.clean(item, res.api_version, res.kind)
            doc, text = convert.to_doc(self.access.context, obj)
            self.state.add(doc, text)

    def _read_kind(self, res: Resource) -> None:
        if res.kind_key == "/Namespace" and self.namespaces is not None:
            self._get_namespaces(res)
            return
        scopes: list[str | None] = [None] if (not res.namespaced or self.namespaces is None) else list(self.namespaces)
        complete = True
        for namespace in scopes:
            try:
                self._add(res, self._pages(res, namespace))
            except (ApiError, TransportError) as exc:
                complete = False
                self._skip(res, namespace, exc)
        if complete:
            self.state.listed.add(res.kind_key)

    def _get_namespaces(self, res: Resource) -> None:
        complete = True
        for name in self.namespaces or ():
            try:
                item = _object(self.api.get(res.path(name=name)), res.path(name=name))
            except (ApiError, TransportError) as exc:
                if isinstance(exc, ApiError) and exc.status == 404:
                    self.state.skipped.append(Skip("namespaces", res.kind_key, name, "the namespace does not exist", "missing-namespace"))
                    continue
                complete = False
                self._skip(res, name, exc)
                continue
            self._add(res, [item])
        if complete:
            self.state.listed.add(res.kind_key)

    def _skip(self, res: Resource, namespace: str | None, exc: ApiError | TransportError) -> None:
        if isinstance(exc, ApiError) and exc.status == 401:
            raise self._unreachable(exc)
        if isinstance(exc, ApiError) and exc.status == 403:
            reason, cause = "forbidden", "forbidden"
        elif isinstance(exc, ApiError) and exc.status == 404:
            reason, cause = "not served (was the CRD removed?)", "not-served"
        elif isinstance(exc, ApiError) and exc.reason in SELF_EXPLAINED:
            reason, cause = exc.message, "failed"
        elif isinstance(exc, ApiError):
            times = f" {exc.tries} times" if exc.tries > 1 else ""
            reason, cause = f"the server answered {exc.status} {exc.reason}{times}", "failed"
        else:
            tries = f" after {exc.tries} tries" if exc.tries > 1 else ""
            reason, cause = f"{exc.reason}{tries}", "failed"
        self.state.skipped.append(Skip(res.display, res.kind_key, namespace if res.namespaced else None, reason, cause))

    # -- control plane, mesh config, certificates ----------------------------------------
    def _read_control_plane(self) -> None:
        """istiod and Linkerd's deployments wherever they run, and the ConfigMaps beside them."""
        deployments = self.discovery.get("apps/Deployment")
        families = self.discovery.families_served()
        if deployments is None:
            return
        found_all = True
        for family, selector, fallback in (
            ("istio", ISTIOD_SELECTOR, "istio-system"), ("linkerd", LINKERD_SELECTOR, "linkerd"),
        ):
            if family not in families:
                continue
            if self.namespaces is None and "apps/Deployment" in self.state.listed:
                continue  # every Deployment is read already
            try:
                self._add(deployments, self._pages(deployments, None, selector))
            except (ApiError, TransportError):
                try:  # a namespaced Role may still allow the usual namespace
                    self._add(deployments, self._pages(deployments, fallback, selector))
                except (ApiError, TransportError) as exc:
                    found_all = False
                    self._skip(deployments, fallback, exc)
        if found_all:
            self.state.listed.add("control-plane")
        configmaps = Resource("", "v1", "ConfigMap", "configmaps", True)
        for doc in self.state.objects("apps/Deployment"):
            labels = doc.metadata.get("labels") or {}
            namespace = doc.namespace
            if namespace is None:
                continue
            if labels.get("app") == "istiod":
                revision = labels.get("istio.io/rev") or "default"
                self._get_one(configmaps, namespace, "istio" if revision == "default" else f"istio-{revision}")
            elif labels.get(LINKERD_SELECTOR) == "identity":
                self._get_one(configmaps, namespace, LINKERD_TRUST_ROOTS)
                if self.check_certificates:
                    self._get_secret(namespace, LINKERD_ISSUER, keys=("crt.pem", "tls.crt", "ca.crt"))

    def _get_one(self, res: Resource, namespace: str, name: str) -> None:
        if self.state.find(res.kind_key, namespace, name) is not None:
            return
        try:
            item = _object(self.api.get(res.path(namespace, name)), res.path(namespace, name))
        except (ApiError, TransportError) as exc:
            if isinstance(exc, ApiError) and exc.status == 404:
                return
            self._skip(Resource("", "v1", res.kind, f"{res.plural}/{name}", True), namespace, exc)
            return
        self._add(res, [item])

    def _read_tls_secrets(self) -> None:
        for namespace, name in sorted(set(gateway_credentials(self.state))):
            self._get_secret(namespace, name, TLS_KEYS)

    def _get_secret(self, namespace: str, name: str, keys: tuple[str, ...]) -> None:
        """One Secret in full; only ``keys`` are kept, decoded, in memory (never in a doc)."""
        key = (namespace, name)
        if key in self.state.tls_secrets or key in self.state.tls_secret_problems:
            return
        try:
            item = self.api.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        except (ApiError, TransportError) as exc:
            if isinstance(exc, ApiError) and exc.status == 401:
                raise self._unreachable(exc) from None
            missing = isinstance(exc, ApiError) and exc.status == 404
            self.state.tls_secret_problems[key] = "not found" if missing else str(exc)
            if not missing:  # reported once as a partial view; no other check depends on it
                what = Resource("", "v1", "Secret#data", f"secrets/{name}", True)
                self._skip(what, namespace, exc)
            return
        data = item.get("data") if isinstance(item.get("data"), dict) else {}
        kept: dict[str, bytes] = {}
        for entry in keys:
            value = data.get(entry)
            if isinstance(value, str):
                try:
                    kept[entry] = base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    kept[entry] = b""  # not base64: reported as malformed
        kept["__type__"] = str(item.get("type") or "Opaque").encode()
        self.state.tls_secrets[key] = kept
        del item, data


def _list_page(data: dict[str, Any], path: str) -> tuple[list[dict[str, Any]], str | None]:
    """The items and the continue token of one page, or ApiError BadResponse: a page that is
    not a list of Kubernetes objects is not read as one (an absence must not come from it)."""

    def bad(what: str) -> ApiError:
        return ApiError(200, "BadResponse", f"the answer to GET {path} is not a list of objects: {what}")

    if "items" not in data:
        raise bad("it has no items")
    items = data["items"] if data["items"] is not None else []  # null: Go's empty list
    if not isinstance(items, list):
        raise bad("its items are not a list")
    for index, item in enumerate(items):
        problem = _malformed(item)
        if problem:
            raise bad(f"item {index} {problem}")
    meta = data.get("metadata") if data.get("metadata") is not None else {}
    if not isinstance(meta, dict):
        raise bad("its metadata is not an object")
    token = meta.get("continue")
    if token is not None and not isinstance(token, str):
        raise bad("its continue token is not a string")
    return items, token or None


def _object(item: dict[str, Any], path: str) -> dict[str, Any]:
    problem = _malformed(item)
    if problem:
        raise ApiError(200, "BadResponse", f"the answer to GET {path} is not a Kubernetes object: it {problem}")
    return item


def _malformed(item: Any) -> str | None:
    """What makes ``item`` no Kubernetes object (as far as meshctl relies on ObjectMeta)."""
    if not isinstance(item, dict):
        return "is not a JSON object"
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        return "has no metadata"
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        return "has no name"
    if meta.get("namespace") is not None and not isinstance(meta["namespace"], str):
        return "has a namespace that is not a string"
    for field in ("labels", "annotations"):
        value = meta.get(field)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            return f"has {field} that are not a map of strings"
    if _deeper_than(item, MAX_DEPTH):
        return f"is nested more than {MAX_DEPTH} levels deep"
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    """Is ``value`` nested more than ``limit`` levels deep? (Iterative: no recursion limit.)"""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def gateway_credentials(state: LiveState) -> Iterator[tuple[str, str]]:
    """(namespace, Secret name) of every certificate an Istio or Gateway API Gateway names."""
    for doc in state.objects("networking.istio.io/Gateway"):
        for server in _dicts(_dict(doc.data.get("spec")).get("servers")):
            tls = _dict(server.get("tls"))
            if tls.get("mode") in ("PASSTHROUGH", "ISTIO_MUTUAL", "AUTO_PASSTHROUGH"):
                continue
            names = [tls.get("credentialName")] + list(tls.get("credentialNames") or [])
            for name in names:
                if isinstance(name, str) and name and "://" not in name and doc.namespace:
                    yield doc.namespace, name
    for doc in state.objects("gateway.networking.k8s.io/Gateway"):
        for listener in _dicts(_dict(doc.data.get("spec")).get("listeners")):
            for ref in _dicts(_dict(listener.get("tls")).get("certificateRefs")):
                if ref.get("group", "") in ("", "core") and ref.get("kind", "Secret") == "Secret":
                    namespace = ref.get("namespace") or doc.namespace
                    if isinstance(ref.get("name"), str) and isinstance(namespace, str):
                        yield namespace, ref["name"]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int], Callable[[str], None]] | None]:
    """A rich progress bar on standard error, when it is a terminal (transient)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("reading {task.description:<40}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        console=Console(stderr=True), transient=True,
    )
    with bar:
        task_box: list[Any] = []

        def start(total: int) -> Callable[[str], None]:
            task = bar.add_task("discovery", total=total)
            task_box.append(task)
            first = [True]

            def step(label: str) -> None:
                if not first[0]:
                    bar.advance(task)
                first[0] = False
                bar.update(task, description=label)

            return step

        yield start
