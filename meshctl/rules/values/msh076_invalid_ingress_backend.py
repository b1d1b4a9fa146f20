"""An Ingress backend names no Service port, or names both a service and a resource.

## Why it matters
Every backend is either a Service port or a resource (an object of another kind a
controller understands, such as a storage bucket), never both, and a Service port is
either a `number` or a `name`, never both or neither. A Service name must be a DNS-1035
label and a port name a Service port name. The API server rejects the Ingress otherwise,
and also when it has neither `rules` nor a `defaultBackend`. In `v1beta1` the same
holds for `serviceName`/`servicePort` and `backend`.

## Example
```yaml
kind: Ingress
spec:
  defaultBackend:
    service: {name: web}                      # which port?
  rules:
  - http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service: {name: api, port: {name: http, number: 8080}}   # both
```

## Fix
Give each service backend one `port`: `number: 8080` or `name: http` (a name is
resolved against the Service's port names). Use `resource` only for a controller-specific
backend, without `service`.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._ingress import (
    INGRESS_KINDS,
    backends,
    default_backend_key,
    dns1035_label_problem,
    mapping,
    port_name_problem,
    spec,
)

RULE = Rule("MSH076", "invalid-ingress-backend", Severity.ERROR, __doc__, kinds=INGRESS_KINDS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    data = spec(doc)
    key = default_backend_key(doc)
    if isinstance(doc.data.get("spec"), dict) and not data.get("rules") and not isinstance(data.get(key), dict):
        yield RULE.at(doc, ("spec",), f"the Ingress has neither rules nor a {key}: it routes nothing")
    for where, backend in backends(doc):
        if "serviceName" in backend or "servicePort" in backend:
            yield from _v1beta1(doc, where, backend)
        else:
            yield from _v1(doc, where, backend)


def _v1(doc: SourceDoc, where: FieldPath, backend: dict[str, Any]) -> Iterator[Finding]:
    service, resource = backend.get("service"), backend.get("resource")
    if isinstance(service, dict) and isinstance(resource, dict):
        yield RULE.at(doc, where, "the backend sets both service and resource; it must be one of them")
        return
    if isinstance(resource, dict):
        return
    if not isinstance(service, dict):
        yield RULE.at(doc, where, "the backend names neither a service nor a resource")
        return
    name = service.get("name")
    if isinstance(name, str):
        problem = dns1035_label_problem(name)
        if problem:
            yield RULE.at(doc, (*where, "service", "name"), f"service name {name!r} {problem}")
    port = mapping(service.get("port"))
    number, port_name = port.get("number"), port.get("name")
    has_number = isinstance(number, int) and not isinstance(number, bool) and number != 0
    has_name = isinstance(port_name, str) and port_name != ""
    if has_number and has_name:
        yield RULE.at(doc, (*where, "service", "port"), "the port sets both name and number; set one of them")
    elif has_name:
        assert isinstance(port_name, str)
        problem = port_name_problem(port_name)
        if problem:
            yield RULE.at(doc, (*where, "service", "port", "name"), f"port name {port_name!r} {problem}")
    elif not has_number:
        yield RULE.at(doc, (*where, "service"), f"service {name!r} has no port: set port.number or port.name")


def _v1beta1(doc: SourceDoc, where: FieldPath, backend: dict[str, Any]) -> Iterator[Finding]:
    if isinstance(backend.get("resource"), dict):
        yield RULE.at(doc, where, "the backend sets both serviceName and resource; it must be one of them")
        return
    name, port = backend.get("serviceName"), backend.get("servicePort")
    if isinstance(name, str):
        problem = dns1035_label_problem(name)
        if problem:
            yield RULE.at(doc, (*where, "serviceName"), f"serviceName {name!r} {problem}")
    if port is None or port == 0 or port == "":
        yield RULE.at(doc, where, f"service {name!r} has no servicePort: set a port number or name")
    elif isinstance(port, str):
        problem = port_name_problem(port)
        if problem:
            yield RULE.at(doc, (*where, "servicePort"), f"servicePort {port!r} {problem}")
