"""Read-only HTTP to the API server, through the official client's REST layer.

Every call is a GET (there is no other method here), carries the credential the
kubeconfig gave, and is bounded by ``--timeout`` as a whole (headers and body, however
slowly they trickle in). Redirects are never followed: a 3xx is an error that says where
it pointed (scheme, host and port only). Throttling (429), server errors (5xx)
and timeouts are retried with exponential backoff (``Retry-After`` honoured, capped),
then raised as ApiError / TransportError for the reader to report. After a call has
timed out on every try, the server is taken as gone: later calls fail at once instead of
each waiting out its own timeouts.

Nothing about credentials is logged: ``--debug`` lines name the method, the path and
query, the status and the time; text from the server is made printable, shortened, and
stripped of the bearer token should the server echo it.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from meshctl import __version__
from meshctl.cluster.access import Access

JSON = "application/json"
# Metadata only (no spec, no data): how Secrets are listed. No plain-JSON fallback, so a
# server that cannot do it answers 406 instead of sending the Secrets' contents.
METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 4.0
JOIN_GRACE = 0.2  # past --timeout, for urllib3's own timeouts to say what timed out


class ApiError(Exception):
    """The server answered with an error status (after retries, for retried ones)."""

    def __init__(self, status: int, reason: str, message: str, tries: int = 1) -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message
        self.tries = tries


class TransportError(Exception):
    """No answer: refused, timed out, TLS failure, reset (after retries)."""

    def __init__(self, reason: str, tries: int = 1, *, timeout: bool = False, tls: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tries = tries
        self.timeout = timeout
        self.tls = tls


class Api:
    def __init__(
        self,
        access: Access,
        timeout: float,
        *,
        retries: int = 3,
        backoff: float = 0.25,
        debug: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from kubernetes.client import ApiClient

        self.access = access
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.debug = debug
        self.sleep = sleep
        self.requests = 0
        self.gone: TransportError | None = None  # set once the server stopped answering
        self._client = ApiClient(access.configuration)
        self._rest = self._client.rest_client

    def close(self) -> None:
        try:
            self._rest.pool_manager.clear()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def get(self, path: str, query: dict[str, Any] | None = None, accept: str = JSON) -> dict[str, Any]:
        """GET ``path`` as JSON; raises ApiError or TransportError."""
        if self.gone is not None:
            raise TransportError(f"not tried: {self.gone.reason} earlier", 0, timeout=self.gone.timeout)
        shown = path + ("?" + urlencode(query) if query else "")
        url = self.access.server.rstrip("/") + shown
        tries = 0
        while True:
            tries += 1
            try:
                status, headers, body = self._once(url, accept, shown)
            except TransportError as exc:
                retriable = not exc.tls and "refused" not in exc.reason
                if tries > self.retries or not retriable:
                    exc.tries = tries
                    if exc.timeout and tries > self.retries:
                        self.gone = exc
                    raise
                self._wait(tries, None)
                continue
            if 200 <= status < 300:
                try:
                    data = json.loads(body)
                except ValueError:
                    raise ApiError(status, "BadResponse", f"the answer to GET {path} is not JSON", tries) from None
                except RecursionError:
                    raise ApiError(status, "BadResponse", f"the answer to GET {path} is nested too deeply", tries) from None
                if not isinstance(data, dict):
                    raise ApiError(status, "BadResponse", f"the answer to GET {path} is not a JSON object", tries)
                return data
            if 300 <= status < 400:  # never followed (configuration.retries = False): said, not obeyed
                target = _origin(headers.get("Location") if hasattr(headers, "get") else None)
                raise ApiError(status, "Redirect", f"GET {path} was redirected ({status}) to {target}, "
                               "and meshctl does not follow redirects", tries)
            reason, message = (self._clean(t) for t in _status_text(status, body))
            if status in RETRIED_STATUSES and tries <= self.retries:
                self._wait(tries, _retry_after(headers))
                continue
            raise ApiError(status, reason, message, tries)

    def _clean(self, text: str) -> str:
        """Server-written text as meshctl may print it: one line, printable, short, and
        without the credential should the server echo it back."""
        auth = self._headers(JSON).get("Authorization", "")
        for secret in {auth, auth.partition(" ")[2]}:
            if len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
        text = "".join(c if c.isprintable() else " " for c in text)
        return text[:300] + ("..." if len(text) > 300 else "")

    def _wait(self, tries: int, retry_after: float | None) -> None:
        delay = self.backoff * (2 ** (tries - 1)) * (0.8 + 0.4 * random.random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.sleep(min(delay, MAX_BACKOFF, max(self.timeout, 0.1)))

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": f"meshctl/{__version__} (diagnose, read-only)"}
        auth = self.access.configuration.auth_settings().get("BearerToken")
        if auth and auth.get("value"):
            headers["Authorization"] = auth["value"]
        return headers

    def _once(self, url: str, accept: str, shown: str) -> tuple[int, Any, bytes]:
        from kubernetes.client.exceptions import ApiException

        started = time.monotonic()
        self.requests += 1
        try:
            status, headers, body = self._bounded(url, accept, started)
        except ApiException as exc:  # older clients raise on every non-2xx; TLS failures as status 0
            if not exc.status:
                raise TransportError(_tls_reason(str(exc.reason)), tls=True) from None
            status, headers, body = int(exc.status), exc.headers or {}, exc.body or b""
        except Exception as exc:  # noqa: BLE001 - urllib3's errors, told apart by class (no direct import)
            kinds = {c.__name__ for c in type(exc).__mro__}
            if not (isinstance(exc, OSError) or type(exc).__module__.startswith("urllib3")):
                raise
            if "SSLError" in kinds and "NewConnectionError" not in kinds:
                raise TransportError(_tls_reason(str(exc)), tls=True) from None
            timed_out = ("ReadTimeoutError" in kinds or "TimeoutError" in kinds or _is_timeout(exc)) and not (
                "NewConnectionError" in kinds and not _is_timeout(exc)
            )
            self._log(shown, "timed out" if timed_out else "failed", started)
            if isinstance(exc, _BodyTimeout):
                raise TransportError(f"the answer was still incomplete after {self.timeout:g} s", timeout=True) from None
            if timed_out:
                raise TransportError(f"no answer within {self.timeout:g} s", timeout=True) from None
            raise TransportError(_connection_reason(exc)) from None
        if isinstance(body, str):
            body = body.encode()
        self._log(shown, str(status), started)
        return status, headers, body

    def _bounded(self, url: str, accept: str, started: float) -> tuple[int, Any, Any]:
        """The exchange, given up after --timeout in all. urllib3's timeouts bound each
        read from the socket, not their sum: a server that sends its headers (or its
        body) a byte at a time would otherwise never time out. The exchange runs in a
        daemon thread that is left behind if it overruns (it ends with its own timeouts,
        or with the process)."""
        box: list[tuple[bool, Any]] = []

        def exchange() -> None:
            try:
                response = self._rest.request("GET", url, headers=self._headers(accept), _request_timeout=self.timeout)
                status = int(response.status)
                headers = response.getheaders() if hasattr(response, "getheaders") else {}
                box.append((True, (status, headers, _read_body(response, started + self.timeout))))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box.append((False, exc))

        worker = threading.Thread(target=exchange, name="meshctl-get", daemon=True)
        worker.start()
        worker.join(max(started + self.timeout + JOIN_GRACE - time.monotonic(), 0.0))
        if not box:
            raise _CallTimeout("no answer in time")
        ok, value = box[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def _log(self, shown: str, outcome: str, started: float) -> None:
        if self.debug is not None:
            self.debug(f"GET {shown} -> {outcome} ({(time.monotonic() - started) * 1000:.0f} ms)")


class _CallTimeout(TimeoutError):
    """The status line and headers had not all come when the call's time was up."""


class _BodyTimeout(TimeoutError):
    """The body was still coming when the call's time was up."""


def _read_body(response: Any, deadline: float) -> bytes:
    """The whole body by ``deadline``: urllib3's timeout bounds each read from the socket,
    not their sum, so a server trickling a byte at a time would otherwise never time out."""
    if getattr(response, "data", None) is not None:  # read already (older clients preload)
        return response.data  # type: ignore[no-any-return]
    raw = getattr(response, "response", None)  # the urllib3 HTTPResponse (preload_content=False)
    if raw is None or not hasattr(raw, "read1"):  # urllib3 1.x: bounded per read only
        return response.read()  # type: ignore[no-any-return]
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    chunks: list[bytes] = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _BodyTimeout("timed out reading the body")
            if sock is not None:
                sock.settimeout(remaining)
            chunk = raw.read1(1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except BaseException as exc:
        raw.close()  # never hand a half-read connection back to the pool
        kinds = {c.__name__ for c in type(exc).__mro__}
        if "ReadTimeoutError" in kinds or "TimeoutError" in kinds:
            raise _BodyTimeout("timed out reading the body") from None
        raise


def _origin(location: object) -> str:
    """scheme://host:port of a redirect's target (no credentials, path or query), printable."""
    from urllib.parse import urlsplit

    if not isinstance(location, str) or not location.strip():
        return "nowhere (no Location header)"
    try:
        parts = urlsplit(location.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "an unparsable Location"
    if not parts.scheme:
        return "a path on the same server"
    scheme, host = ("".join(c if c.isalnum() or c in ".-:[]" else "?" for c in part) for part in (parts.scheme, host))
    return f"{scheme}://{host}"[:200] + (f":{port}" if port else "")


def _is_timeout(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "timed out" in text or "timeout" in text


def _connection_reason(exc: BaseException) -> str:
    text = str(exc)
    lowered = text.lower()
    kinds = {c.__name__ for c in type(exc).__mro__}
    if "DecodeError" in kinds:
        encoding = re.search(r"content-encoding: ([\w-]+)", text)
        return f"the answer could not be decoded (it says Content-Encoding: {encoding.group(1) if encoding else '?'})"
    incomplete = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)", text)
    if incomplete:
        got, more = int(incomplete.group(1)), int(incomplete.group(2))
        return f"the server closed the connection after {got} of the {got + more} bytes it announced"
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "resolution" in lowered:
        return "the host name does not resolve"
    if "reset" in lowered:
        return "connection reset by the server"
    if "remotedisconnected" in lowered or "closed connection" in lowered or "remote end closed" in lowered:
        return "the server closed the connection without answering"
    if "unreachable" in lowered:
        return "network unreachable"
    return text.split(": ", 1)[-1][:200] or type(exc).__name__


def _tls_reason(text: str) -> str:
    lowered = text.lower()
    if "certificate verify failed" in lowered:
        detail = text.split("certificate verify failed", 1)[1].strip(" :()'\"\n")
        detail = detail.split(")", 1)[0].strip(" :('\"")
        return f"TLS: the server's certificate is not trusted ({detail or 'verify failed'})"
    if "hostname" in lowered and "match" in lowered:
        return "TLS: the server's certificate does not name this host"
    first = text.strip().splitlines()[-1] if text.strip() else "handshake failed"
    return f"TLS: {first[:200]}"


def _status_text(status: int, body: bytes) -> tuple[str, str]:
    """The reason and message of a Kubernetes Status object (or of a plain error page)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("kind") == "Status":
        return str(data.get("reason") or _REASONS.get(status, "Error")), str(data.get("message") or "")
    return _REASONS.get(status, "Error"), ""


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 406: "NotAcceptable",
    410: "Expired", 429: "TooManyRequests", 500: "InternalError", 502: "BadGateway",
    503: "ServiceUnavailable", 504: "Timeout",
}
