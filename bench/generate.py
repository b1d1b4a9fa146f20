"""A deterministic synthetic mesh: ``python -m bench.generate --services N --flavour istio OUT``.

Per service (istio flavour): a Service, Deployments v1 and v2, a VirtualService with a
header route and an 80/20 split with retries and a timeout, a DestinationRule with
subsets, a connection pool and outlier detection. Per namespace: a Namespace, a
PeerAuthentication and an AuthorizationPolicy. That is 5 documents per service plus 3
per namespace. The linkerd flavour swaps the Istio objects for Server,
AuthorizationPolicy, MeshTLSAuthentication and an HTTPRoute; gateway-api for an
HTTPRoute splitting across per-version Services.
The same arguments always give byte-identical output.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

SERVICES_PER_NAMESPACE = 20


def _namespace(i: int) -> str:
    return f"team-{i // SERVICES_PER_NAMESPACE:04d}"


def _service(ns: str, name: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}}}
spec:
  selector: {{app: {name}}}
  ports:
  - name: http
    port: 8080
    targetPort: 8080
"""


def _deployment(ns: str, name: str, version: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}-{version}
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}, version: {version}}}
  template:
    metadata:
      labels: {{app: {name}, version: {version}}}
    spec:
      serviceAccountName: {name}
      containers:
      - name: app
        image: registry.example.com/{name}:{version}
        ports:
        - name: http
          containerPort: 8080
"""


def _virtual_service(ns: str, name: str) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {name}
  namespace: {ns}
spec:
  hosts: [{name}]
  http:
  - name: canary-testers
    match:
    - headers:
        x-canary: {{exact: "true"}}
    route:
    - destination: {{host: {name}, subset: v2}}
  - name: default
    route:
    - destination: {{host: {name}, subset: v1}}
      weight: 80
    - destination: {{host: {name}, subset: v2}}
      weight: 20
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: 5xx,reset,connect-failure
    timeout: 10s
"""


def _destination_rule(ns: str, name: str) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {name}
  namespace: {ns}
spec:
  host: {name}
  trafficPolicy:
    connectionPool:
      tcp: {{maxConnections: 100, connectTimeout: 3s}}
      http: {{http1MaxPendingRequests: 64, maxRequestsPerConnection: 10}}
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
  subsets:
  - name: v1
    labels: {{version: v1}}
  - name: v2
    labels: {{version: v2}}
"""


def _namespace_docs(ns: str, flavour: str) -> Iterator[str]:
    yield f"""apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels: {{istio-injection: enabled}}
"""
    if flavour == "istio":
        yield f"""apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: {ns}
spec:
  mtls: {{mode: STRICT}}
"""
        yield f"""apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-same-namespace
  namespace: {ns}
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: [{ns}]
    to:
    - operation:
        methods: [GET, POST]
        paths: [/api/*]
"""


def _linkerd_docs(ns: str, name: str) -> Iterator[str]:
    yield f"""apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata:
  name: {name}-http
  namespace: {ns}
spec:
  podSelector:
    matchLabels: {{app: {name}}}
  port: http
  proxyProtocol: HTTP/1
"""
    yield f"""apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata:
  name: {name}
  namespace: {ns}
  annotations:
    retry.linkerd.io/http: 5xx
    timeout.linkerd.io/request: 10s
spec:
  parentRefs:
  - name: {name}
    kind: Service
    group: core
    port: 8080
  rules:
  - backendRefs:
    - name: {name}
      port: 8080
"""


def _gateway_api_docs(ns: str, name: str) -> Iterator[str]:
    yield f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
  namespace: {ns}
spec:
  parentRefs:
  - name: {name}
    kind: Service
    group: ""
    port: 8080
  rules:
  - matches:
    - headers:
      - name: x-canary
        value: "true"
    backendRefs:
    - name: {name}-v2
      port: 8080
  - backendRefs:
    - name: {name}-v1
      port: 8080
      weight: 80
    - name: {name}-v2
      port: 8080
      weight: 20
    timeouts:
      request: 10s
"""


def documents(services: int, flavour: str = "istio") -> Iterator[str]:
    for i in range(services):
        ns = _namespace(i)
        if i % SERVICES_PER_NAMESPACE == 0:
            yield from _namespace_docs(ns, flavour)
        name = f"svc-{i:05d}"
        yield _service(ns, name)
        yield _deployment(ns, name, "v1")
        yield _deployment(ns, name, "v2")
        if flavour == "istio":
            yield _virtual_service(ns, name)
            yield _destination_rule(ns, name)
        elif flavour == "linkerd":
            yield from _linkerd_docs(ns, name)
        else:
            yield from _gateway_api_docs(ns, name)
            for version in ("v1", "v2"):  # the per-version Services the HTTPRoute splits across
                yield _service(ns, f"{name}-{version}").replace(
                    f"selector: {{app: {name}-{version}}}", f"selector: {{app: {name}, version: {version}}}"
                )


def services_for(documents_wanted: int, flavour: str = "istio") -> int:
    """How many services give about ``documents_wanted`` documents."""
    per_service = {"istio": 5, "linkerd": 5, "gateway-api": 6}[flavour]
    per_namespace = 3 if flavour == "istio" else 1
    return max(1, round(documents_wanted / (per_service + per_namespace / SERVICES_PER_NAMESPACE)))


def write(path: Path, services: int, flavour: str) -> int:
    docs = list(documents(services, flavour))
    path.write_text("---\n".join(docs), encoding="utf-8")
    return len(docs)


def exactly(count: int, flavour: str = "istio") -> list[str]:
    """Exactly ``count`` documents: the first ``count`` of the stream.

    One document is the first Service rather than the stream's opening Namespace, so a
    one-document mesh is a resource every tool compared in bench/run.py checks.
    """
    if count == 1:
        return [_service(_namespace(0), "svc-00000")]
    services = services_for(count, flavour) + 2
    docs = list(itertools.islice(documents(services, flavour), count))
    if len(docs) != count:  # services_for is an estimate; it is never more than one short
        raise AssertionError(f"asked for {count} documents, generated {len(docs)}")
    return docs


def write_exactly(path: Path, count: int, flavour: str = "istio") -> int:
    path.write_text("---\n".join(exactly(count, flavour)), encoding="utf-8")
    return count


_KIND = re.compile(r"^kind: (\S+)$", re.MULTILINE)
_API_VERSION = re.compile(r"^apiVersion: (\S+)$", re.MULTILINE)


def type_of(doc: str) -> tuple[str, str]:
    """(apiVersion, kind) of one generated document (its top-level lines)."""
    api = _API_VERSION.search(doc)
    kind = _KIND.search(doc)
    if api is None or kind is None:
        raise ValueError("not a generated document")
    return api.group(1), kind.group(1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--flavour", choices=("istio", "linkerd", "gateway-api"), default="istio")
    args = parser.parse_args(argv)
    count = write(args.out, args.services, args.flavour)
    print(f"{args.out}: {count} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
