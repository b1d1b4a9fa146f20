"""A small Kubernetes API server for tests: real HTTPS on 127.0.0.1, fixture objects.

It follows the API conventions the client and kubectl rely on:

- discovery: ``/version``, ``/api`` (APIVersions), ``/api/v1`` and ``/apis/<g>/<v>``
  (APIResourceList, subresources included), ``/apis`` (APIGroupList with the preferred
  version), only for the groups that are installed;
- lists (``/api/v1/pods``, ``/api/v1/namespaces/<ns>/pods``, ``/apis/<g>/<v>/...``) with
  ``limit`` + ``continue`` (an opaque token; 410 Expired for a bad one; a ``continue``
  together with a non-empty ``resourceVersion`` is a 400), ``labelSelector``,
  ``resourceVersion`` recorded, and metadata-only lists for
  ``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1``;
- single GETs; every error as a ``Status`` object (401, 403 with RBAC's wording, 404,
  405 for any other verb, 406, 410, 429 with Retry-After, 500);
- authentication by bearer token and/or client certificate (CN is the user), and
  per-user forbidden (resource, namespace) pairs;
- injected faults: a status sequence per path pattern (``429`` then success), or a
  path that never answers (the handler waits until the server stops, bounded);
- hostile answers (``FakeCluster.respond`` with a responder made by ``raw``,
  ``trickle``, ``delay``, ``close_delimited``, ``redirect`` or ``status``): bytes as
  they go on the wire (garbage, lying Content-Length, gzip that is not gzip, HTTP/1.0
  closed by the server), a body trickled slowly, an answer delayed, redirects, an error
  status on some requests only (a ``when`` test on the query, ``times`` to stop);
- ``SilentListener``: a TCP port that accepts connections and never sends a byte (a
  TLS handshake that stalls).

Every request is recorded (method, path, query, Accept, user). The server runs in
daemon threads and ``stop()`` ends them all; certificates are made with the ``openssl``
command at test time (``make_pki``).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

# kind -> (group, versions served (preferred first), plural, namespaced, family)
KINDS: dict[str, tuple[str, tuple[str, ...], str, bool, str]] = {
    "Namespace": ("", ("v1",), "namespaces", False, "core"),
    "Service": ("", ("v1",), "services", True, "core"),
    "Pod": ("", ("v1",), "pods", True, "core"),
    "ServiceAccount": ("", ("v1",), "serviceaccounts", True, "core"),
    "Secret": ("", ("v1",), "secrets", True, "core"),
    "ConfigMap": ("", ("v1",), "configmaps", True, "core"),
    "Endpoints": ("", ("v1",), "endpoints", True, "core"),
    "Deployment": ("apps", ("v1",), "deployments", True, "core"),
    "StatefulSet": ("apps", ("v1",), "statefulsets", True, "core"),
    "DaemonSet": ("apps", ("v1",), "daemonsets", True, "core"),
    "ReplicaSet": ("apps", ("v1",), "replicasets", True, "core"),
    "Job": ("batch", ("v1",), "jobs", True, "core"),
    "CronJob": ("batch", ("v1",), "cronjobs", True, "core"),
    "EndpointSlice": ("discovery.k8s.io", ("v1",), "endpointslices", True, "core"),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io", ("v1",), "mutatingwebhookconfigurations", False, "core"),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io", ("v1",), "validatingwebhookconfigurations", False, "core"),
    "CustomResourceDefinition": ("apiextensions.k8s.io", ("v1",), "customresourcedefinitions", False, "core"),
    "Ingress": ("networking.k8s.io", ("v1",), "ingresses", True, "core"),
    "IngressClass": ("networking.k8s.io", ("v1",), "ingressclasses", False, "core"),
    "VirtualService": ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "virtualservices", True, "istio"),
    "DestinationRule": ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "destinationrules", True, "istio"),
    "Gateway.istio": ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "gateways", True, "istio"),
    "ServiceEntry": ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "serviceentries", True, "istio"),
    "Sidecar": ("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars", True, "istio"),
    "PeerAuthentication": ("security.istio.io", ("v1", "v1beta1"), "peerauthentications", True, "istio"),
    "AuthorizationPolicy.istio": ("security.istio.io", ("v1", "v1beta1"), "authorizationpolicies", True, "istio"),
    "Gateway": ("gateway.networking.k8s.io", ("v1", "v1beta1"), "gateways", True, "gateway-api"),
    "GatewayClass": ("gateway.networking.k8s.io", ("v1", "v1beta1"), "gatewayclasses", False, "gateway-api"),
    "HTTPRoute": ("gateway.networking.k8s.io", ("v1", "v1beta1"), "httproutes", True, "gateway-api"),
    "GRPCRoute": ("gateway.networking.k8s.io", ("v1",), "grpcroutes", True, "gateway-api"),
    "ReferenceGrant": ("gateway.networking.k8s.io", ("v1beta1",), "referencegrants", True, "gateway-api"),
    "Server": ("policy.linkerd.io", ("v1beta3", "v1beta2", "v1beta1"), "servers", True, "linkerd"),
    "AuthorizationPolicy.linkerd": ("policy.linkerd.io", ("v1alpha1",), "authorizationpolicies", True, "linkerd"),
    "ServiceProfile": ("linkerd.io", ("v1alpha2",), "serviceprofiles", True, "linkerd"),
}
SHORT_NAMES = {
    ("", "namespaces"): ["ns"], ("", "services"): ["svc"], ("", "pods"): ["po"], ("", "serviceaccounts"): ["sa"],
    ("", "configmaps"): ["cm"], ("", "endpoints"): ["ep"], ("apps", "deployments"): ["deploy"],
    ("apps", "daemonsets"): ["ds"], ("apps", "replicasets"): ["rs"], ("apps", "statefulsets"): ["sts"],
    ("batch", "cronjobs"): ["cj"], ("networking.k8s.io", "ingresses"): ["ing"],
    ("apiextensions.k8s.io", "customresourcedefinitions"): ["crd", "crds"],
    ("networking.istio.io", "virtualservices"): ["vs"], ("networking.istio.io", "destinationrules"): ["dr"],
    ("networking.istio.io", "gateways"): ["gw"], ("networking.istio.io", "serviceentries"): ["se"],
    ("security.istio.io", "peerauthentications"): ["pa"], ("security.istio.io", "authorizationpolicies"): ["ap"],
    ("gateway.networking.k8s.io", "gateways"): ["gtw"], ("gateway.networking.k8s.io", "gatewayclasses"): ["gc"],
    ("linkerd.io", "serviceprofiles"): ["sp"], ("policy.linkerd.io", "servers"): ["srv"],
}
FAMILY_GROUPS = {
    "istio": ("networking.istio.io", "security.istio.io"),
    "gateway-api": ("gateway.networking.k8s.io",),
    "linkerd": ("policy.linkerd.io", "linkerd.io"),
}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
METADATA_ACCEPT = "as=PartialObjectMetadataList"
HANG_LIMIT = 30.0  # a never-answering handler gives up after this, even if stop() is not called


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    accept: str
    user: str | None


@dataclass
class Pki:
    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def text(self, which: str) -> str:
        return getattr(self, which).read_text()

    def b64(self, which: str) -> str:
        return base64.b64encode(getattr(self, which).read_bytes()).decode()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_pki(directory: Path, client_cn: str = "alice") -> Pki:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate (EC P-256)."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=fake-apiserver-ca",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
    )
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n")
    for name, subject in (("server", "/CN=127.0.0.1"), ("client", f"/O=system:masters/CN={client_cn}")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=directory)
    return Pki(directory, directory / "ca.crt", directory / "server.crt", directory / "server.key",
               directory / "client.crt", directory / "client.key")


# (handler, path, query) -> True when it answered (or dropped) the request itself, False
# to let the request be answered normally (after a delay, or in another framing).
Responder = Callable[["_Handler", str, dict[str, str]], bool]


@dataclass
class Fault:
    pattern: re.Pattern[str]
    statuses: list[int]  # consumed in order, 0 answering normally; the last one repeats when `repeat`
    repeat: bool = True
    hang: bool = False
    retry_after: str | None = "0"
    respond: Responder | None = None
    when: Callable[[dict[str, str]], bool] | None = None  # on the query; None: every request
    times: int | None = None  # how many requests `respond` takes; None: all of them


@dataclass
class FakeCluster:
    objects: list[dict[str, Any]] = field(default_factory=list)
    installed: tuple[str, ...] = ("istio", "gateway-api", "linkerd")
    tokens: dict[str, str] = field(default_factory=dict)  # bearer token -> user
    client_certs: bool = False  # accept client certificates (CN = user)
    anonymous: bool = True  # with no token or certificate required
    forbidden: set[tuple[str, str, str]] = field(default_factory=set)  # (user|*, resource, namespace|*|"")
    faults: list[Fault] = field(default_factory=list)
    version: str = "v1.30.2"
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- configuration helpers --------------------------------------------------------
    def fail(self, pattern: str, *statuses: int, repeat: bool = True) -> None:
        self.faults.append(Fault(re.compile(pattern), list(statuses), repeat=repeat))

    def hang(self, pattern: str) -> None:
        self.faults.append(Fault(re.compile(pattern), [], hang=True))

    def respond(
        self, pattern: str, responder: Responder, *, when: Callable[[dict[str, str]], bool] | None = None,
        times: int | None = None,
    ) -> None:
        """Requests whose path matches (and whose query passes ``when``) go to ``responder``."""
        self.faults.append(Fault(re.compile(pattern), [], respond=responder, when=when, times=times))

    def forbid(self, resource: str, namespace: str = "*", user: str = "*") -> None:
        """``namespace`` "" forbids only the cluster-wide list; "*" every namespace too."""
        self.forbidden.add((user, resource, namespace))

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    # -- the model -----------------------------------------------------------------------
    def kinds(self) -> dict[str, tuple[str, tuple[str, ...], str, bool, str]]:
        return {k: v for k, v in KINDS.items() if v[4] == "core" or v[4] in self.installed}

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for group, versions, _, _, _ in self.kinds().values():
            if group:
                for v in versions:
                    if v not in out.setdefault(group, []):
                        out[group].append(v)
        return out

    def resource(self, group: str, version: str, plural: str) -> tuple[str, tuple[str, ...], str, bool, str] | None:
        for key, value in self.kinds().items():
            if value[0] == group and value[2] == plural and version in value[1]:
                return value
        return None

    def items(self, group: str, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        out = []
        for obj in self.objects:
            api_version = obj.get("apiVersion", "")
            obj_group = api_version.rpartition("/")[0]
            spec = _KIND_BY_NAME_AND_GROUP.get((obj.get("kind"), obj_group))
            if spec is None or obj_group != group or spec[2] != plural:
                continue
            meta = obj.get("metadata", {})
            if namespace is not None and meta.get("namespace") != namespace:
                continue
            out.append(obj)
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


# (kind, group) -> its KINDS entry (the first one, as a scan of KINDS would find it)
_KIND_BY_NAME_AND_GROUP: dict[tuple[str, str], tuple[str, tuple[str, ...], str, bool, str]] = {}
for _key, _value in KINDS.items():
    _KIND_BY_NAME_AND_GROUP.setdefault((_key.split(".")[0], _value[0]), _value)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cluster: FakeCluster, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cluster = cluster
        self.ssl_context = context
        self.stopping = threading.Event()

    def finish_request(self, request: Any, client_address: Any) -> None:  # runs in the request's thread
        try:
            request.settimeout(10)
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # every verb is recorded; only GET is served
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing ------------------------------------------------------------------------
    close_delimited = False  # set by the close_delimited() responder: HTTP/1.0, no Content-Length

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        if self.close_delimited:
            self.protocol_version = "HTTP/1.0"
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if not self.close_delimited:
            self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> None:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}
        if details:
            body["details"] = details
        self._send(code, body, headers)

    def _user(self) -> tuple[bool, str | None]:
        cluster = self.server.cluster
        auth = self.headers.get("Authorization", "")
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() == "bearer" and credential:  # the scheme is case-insensitive, as in the API server
            user = cluster.tokens.get(credential.strip())
            return (user is not None), user
        if cluster.client_certs:
            try:
                cert = self.connection.getpeercert()  # type: ignore[attr-defined]
            except (AttributeError, ValueError):
                cert = None
            if cert:
                for rdn in cert.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            return True, value
        return cluster.anonymous, None

    def _handle(self, method: str) -> None:
        cluster = self.server.cluster
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))  # a body left unread would be parsed as the next request
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        ok, user = self._user()
        with cluster.lock:
            cluster.requests.append(Request(method, url.path, query, self.headers.get("Accept", ""), user))
        if not ok:
            self._status(401, "Unauthorized", "Unauthorized")
            return
        if method != "GET":
            self._status(405, "MethodNotAllowed", f"the fake API server is read-only ({method} refused)")
            return
        for fault in cluster.faults:
            if fault.pattern.search(url.path):
                if fault.respond is not None:
                    if fault.when is not None and not fault.when(query):
                        continue
                    with cluster.lock:
                        if fault.times is not None:
                            if fault.times <= 0:
                                continue
                            fault.times -= 1
                    if fault.respond(self, url.path, query):
                        return
                    continue
                if fault.hang:
                    self.server.stopping.wait(HANG_LIMIT)
                    self.close_connection = True
                    return
                with cluster.lock:
                    status = fault.statuses[0] if fault.statuses else None
                    if fault.statuses and (len(fault.statuses) > 1 or not fault.repeat):
                        fault.statuses.pop(0)
                if status:  # 0 (or an exhausted sequence): answer normally
                    reason = {403: "Forbidden", 404: "NotFound", 429: "TooManyRequests", 500: "InternalError",
                              503: "ServiceUnavailable"}.get(status, "Error")
                    headers = {"Retry-After": fault.retry_after} if status == 429 and fault.retry_after else None
                    self._status(status, reason, f"injected {status}", headers=headers)
                    return
        try:
            self._route(url.path, query, user)
        except _Reply as reply:
            self._status(reply.code, reply.reason, reply.message, reply.details)

    def _route(self, path: str, query: dict[str, str], user: str | None) -> None:
        cluster = self.server.cluster
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            major, minor = cluster.version.lstrip("v").split(".")[:2]
            self._send(200, {"major": major, "minor": minor, "gitVersion": cluster.version, "platform": "linux/amd64"})
            return
        if parts == ["api"]:
            host = f"127.0.0.1:{self.server.server_address[1]}"
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})
            return
        if parts == ["apis"]:
            groups = [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                for g, vs in cluster.groups().items()
            ]
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            return
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _Reply(404, "NotFound", "the server could not find the requested resource")
        if group and version not in cluster.groups().get(group, []):
            raise _Reply(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            self._send(200, self._resource_list(group, version))
            return
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name = rest[0], (rest[1] if len(rest) > 1 else None)
        spec = cluster.resource(group, version, plural)
        if spec is None or len(rest) > 2:
            raise _Reply(404, "NotFound", "the server could not find the requested resource")
        verb = "get" if name else "list"
        self._authorize(user, verb, group, plural, namespace)
        if name is not None:
            found = [o for o in cluster.items(group, plural, namespace if spec[3] else None) if o["metadata"]["name"] == name]
            if not found:
                raise _Reply(404, "NotFound", f'{plural} "{name}" not found', {"name": name, "kind": plural, "group": group})
            self._send(200, self._versioned(found[0], group, version))
            return
        self._list(group, version, spec, namespace, query)

    def _authorize(self, user: str | None, verb: str, group: str, plural: str, namespace: str | None) -> None:
        cluster = self.server.cluster
        for who, resource, ns in cluster.forbidden:
            if who not in ("*", user or "system:anonymous") or resource != plural:
                continue
            if ns == "*" or (ns == "" and namespace is None) or ns == namespace:
                scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                raise _Reply(
                    403, "Forbidden",
                    f'{plural} is forbidden: User "{user or "system:anonymous"}" cannot {verb} resource "{plural}" '
                    f'in API group "{group}" {scope}',
                    {"kind": plural, "group": group},
                )

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources = []
        for kind_key, (g, versions, plural, namespaced, _) in self.server.cluster.kinds().items():
            if g != group or version not in versions:
                continue
            kind = kind_key.split(".")[0]
            entry = {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind, "verbs": VERBS}
            if (group, plural) in SHORT_NAMES:
                entry["shortNames"] = SHORT_NAMES[(group, plural)]
            resources.append(entry)
            if group:
                resources.append({"name": f"{plural}/status", "singularName": "", "namespaced": namespaced, "kind": kind,
                                  "verbs": ["get", "patch", "update"]})
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

    def _versioned(self, obj: dict[str, Any], group: str, version: str) -> dict[str, Any]:
        out = json.loads(json.dumps(obj))
        out["apiVersion"] = f"{group}/{version}" if group else version
        out["metadata"].setdefault("resourceVersion", "1000")
        out["metadata"].setdefault("uid", f"uid-{out['metadata']['name']}")
        return out

    def _list(self, group: str, version: str, spec: Any, namespace: str | None, query: dict[str, str]) -> None:
        cluster = self.server.cluster
        items = cluster.items(group, spec[2], namespace if spec[3] else None)
        selector = query.get("labelSelector")
        if selector:
            items = [o for o in items if _selects(selector, o["metadata"].get("labels") or {})]
        offset = 0
        token = query.get("continue")
        if token:
            if query.get("resourceVersion"):
                raise _Reply(400, "BadRequest", "specifying resource version is not allowed when using continue")
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(token))["offset"])
            except (ValueError, KeyError, TypeError):
                raise _Reply(410, "Expired", "The provided continue parameter is too old to display a consistent list result.")
        limit = int(query["limit"]) if query.get("limit", "").isdigit() and int(query["limit"]) > 0 else None
        page = items[offset : offset + limit] if limit else items[offset:]
        meta: dict[str, Any] = {"resourceVersion": "1000"}
        if limit and offset + limit < len(items):
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit, "rv": 1000}).encode()).decode()
            meta["remainingItemCount"] = len(items) - offset - limit
        kind = spec[2]
        kind_name = next(k for k, v in cluster.kinds().items() if v is spec).split(".")[0]
        if METADATA_ACCEPT in self.headers.get("Accept", ""):
            body = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                    "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                               "metadata": self._versioned(o, group, version)["metadata"]} for o in page]}
        else:
            body = {"kind": f"{kind_name}List", "apiVersion": f"{group}/{version}" if group else version, "metadata": meta,
                    "items": [_without_type(self._versioned(o, group, version)) if not group else self._versioned(o, group, version)
                              for o in page]}
        del kind
        self._send(200, body)


# -- hostile answers, for FakeCluster.respond ------------------------------------------------
_PHRASES = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
            308: "Permanent Redirect", 401: "Unauthorized", 410: "Gone"}


def _head(status: int, headers: dict[str, str], version: str = "HTTP/1.1") -> bytes:
    lines = [f"{version} {status} {_PHRASES.get(status, 'Status')}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def raw(
    body: bytes | str = b"", status: int = 200, headers: dict[str, str] | None = None, *,
    content_length: int | None | str = "exact", version: str = "HTTP/1.1",
) -> Responder:
    """These bytes as the answer. ``content_length``: "exact", a number (a lie), or None
    (no header: the body ends when the server closes the connection, which it then does)."""
    data = body.encode() if isinstance(body, str) else body

    def respond(handler: _Handler, path: str, query: dict[str, str]) -> bool:
        head = {"Content-Type": "application/json", **(headers or {})}
        if content_length == "exact":
            head["Content-Length"] = str(len(data))
        elif content_length is not None:
            head["Content-Length"] = str(content_length)
        handler.wfile.write(_head(status, head, version) + data)
        handler.wfile.flush()
        if content_length != "exact" or version != "HTTP/1.1":
            handler.close_connection = True  # what was promised is never sent: close
        return True

    return respond


def trickle(body: bytes | str, interval: float, chunk: int = 1) -> Responder:
    """A 200 whose headers come at once and whose body comes ``chunk`` bytes per ``interval``."""
    data = body.encode() if isinstance(body, str) else body

    def respond(handler: _Handler, path: str, query: dict[str, str]) -> bool:
        handler.close_connection = True
        try:
            handler.wfile.write(_head(200, {"Content-Type": "application/json", "Content-Length": str(len(data))}))
            handler.wfile.flush()
            for start in range(0, len(data), chunk):
                if handler.server.stopping.wait(interval):
                    return True
                handler.wfile.write(data[start : start + chunk])
                handler.wfile.flush()
        except OSError:  # the client gave up
            pass
        return True

    return respond


def delay(seconds: float) -> Responder:
    """Wait, then answer normally."""

    def respond(handler: _Handler, path: str, query: dict[str, str]) -> bool:
        handler.server.stopping.wait(seconds)
        return False

    return respond


def close_delimited() -> Responder:
    """Answer normally, but as HTTP/1.0 without Content-Length, closing the connection."""

    def respond(handler: _Handler, path: str, query: dict[str, str]) -> bool:
        handler.close_delimited = True
        return False

    return respond


def redirect(location: str, status: int = 302) -> Responder:
    """A redirect (``location`` may use ``{path}``), with a small JSON body."""

    def respond(handler: _Handler, path: str, query: dict[str, str]) -> bool:
        target = location.format(path=path)
        return raw(json.dumps({"kind": "Status", "code": status, "message": "moved"}), status,
                   {"Location": target})(handler, path, query)

    return respond


def status(code: int, reason: str, message: str) -> Responder:
    """A Kubernetes Status error."""

    def respond(handler: _Handler, path: str, query: dict[str, str]) -> bool:
        handler._status(code, reason, message)  # noqa: SLF001 - the handler's own helper
        return True

    return respond


class SilentListener:
    """A TCP port on 127.0.0.1 that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self.connections = 0
        self.received = 0  # bytes the clients sent (a TLS ClientHello, say)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        deadline = time.monotonic() + HANG_LIMIT
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self._socket.accept()
            except (TimeoutError, socket.timeout):
                pass
            except OSError:
                break
            else:
                conn.setblocking(False)
                self._held.append(conn)
                self.connections += 1
            for conn in list(self._held):
                try:
                    self.received += len(conn.recv(65536))
                except (BlockingIOError, OSError):
                    pass

    def start(self) -> SilentListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for conn in self._held:
            conn.close()
        self._socket.close()

    def __enter__(self) -> SilentListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _without_type(obj: dict[str, Any]) -> dict[str, Any]:
    """Built-in kinds' list items carry no apiVersion/kind, as the real server sends them."""
    obj.pop("apiVersion", None)
    obj.pop("kind", None)
    return obj


def _selects(selector: str, labels: dict[str, str]) -> bool:
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term and term not in labels:
            return False
    return True


class _Reply(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


class FakeApiServer:
    """``with FakeApiServer(cluster, pki) as server: server.url``"""

    def __init__(self, cluster: FakeCluster, pki: Pki) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        if cluster.client_certs:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(pki.ca)
        self.cluster = cluster
        self.pki = pki
        self._server = _Server(cluster, context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
