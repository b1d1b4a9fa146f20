"""What the Kubernetes Ingress value checks (MSH072-MSH079) share.

Shape-safe walkers over both Ingress shapes (``networking.k8s.io/v1``: ``defaultBackend``,
``backend.service.{name,port}``; ``v1beta1`` and ``extensions/v1beta1``: ``backend``,
``serviceName``/``servicePort``), and the name formats the API server checks::

    dns_subdomain_problem("Shop.example.com") -> "must be lower case: ..."
    wildcard_subdomain_problem("*.example.com") -> None
    port_name_problem("http--2") -> "must not contain '--'"
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath
from meshctl.load.document import SourceDoc

GROUP = "networking.k8s.io"
INGRESS_KINDS = frozenset({f"{GROUP}/Ingress", "extensions/Ingress"})
CLASS_KINDS = frozenset({f"{GROUP}/IngressClass"})
V1 = f"{GROUP}/v1"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_WILDCARD = re.compile(rf"\*\.{_LABEL}(\.{_LABEL})*")
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_SUBDOMAIN = 253
MAX_LABEL = 63
MAX_PORT_NAME = 15


# -- shape-safe readers -----------------------------------------------------------------------
def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def entries(value: object) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def spec(doc: SourceDoc) -> dict[str, Any]:
    return mapping(doc.data.get("spec"))


def is_v1(doc: SourceDoc) -> bool:
    return doc.api_version == V1


def default_backend_key(doc: SourceDoc) -> str:
    return "defaultBackend" if is_v1(doc) else "backend"


def rules(doc: SourceDoc) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for i, rule in entries(spec(doc).get("rules")):
        yield ("spec", "rules", i), rule


def paths(doc: SourceDoc) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every ``spec.rules[i].http.paths[j]`` mapping."""
    for where, rule in rules(doc):
        for j, item in entries(mapping(rule.get("http")).get("paths")):
            yield (*where, "http", "paths", j), item


def path_type(doc: SourceDoc, item: dict[str, Any]) -> str | None:
    """The pathType as written; v1beta1 defaults a missing one to ImplementationSpecific."""
    value = item.get("pathType")
    if isinstance(value, str):
        return value
    return None if is_v1(doc) else "ImplementationSpecific"


def backends(doc: SourceDoc) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """The default backend, then every path's backend."""
    key = default_backend_key(doc)
    default = spec(doc).get(key)
    if isinstance(default, dict):
        yield ("spec", key), default
    for where, item in paths(doc):
        backend = item.get("backend")
        if isinstance(backend, dict):
            yield (*where, "backend"), backend


def class_written(doc: SourceDoc) -> str | None:
    """The class the Ingress names: the annotation (controllers read it first), else the field."""
    annotation = doc.annotations.get(CLASS_ANNOTATION)
    if isinstance(annotation, str):
        return annotation
    value = spec(doc).get("ingressClassName")
    return value if isinstance(value, str) else None


# -- name formats (k8s.io/apimachinery validation) ----------------------------------------------
def dns_subdomain_problem(value: str) -> str | None:
    """Why ``value`` is not a DNS-1123 subdomain (lower case labels joined by dots), or None."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_SUBDOMAIN:
        return f"is {len(value)} characters long (at most {MAX_SUBDOMAIN})"
    if _SUBDOMAIN.fullmatch(value):
        return None
    if _SUBDOMAIN.fullmatch(value.lower()):
        return "must be lower case"
    return ("must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', each label starting "
            "and ending with a letter or digit")


def wildcard_subdomain_problem(value: str) -> str | None:
    """Why ``value`` is not ``*.`` followed by a DNS-1123 subdomain, or None."""
    if value == "*":
        return "'*' alone is not a host: leave the host out to match every host"
    if not value.startswith("*."):
        return "a wildcard must be the whole first label, as in '*.example.com'"
    if "*" in value[2:]:
        return "a wildcard '*' may only be the first label"
    if len(value) > MAX_SUBDOMAIN:
        return f"is {len(value)} characters long (at most {MAX_SUBDOMAIN})"
    if _WILDCARD.fullmatch(value):
        return None
    if _WILDCARD.fullmatch(value.lower()):
        return "must be lower case"
    return "after '*.' must come a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')"


def dns1035_label_problem(value: str) -> str | None:
    """A Service name: a DNS-1035 label (starts with a letter, at most 63)."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_LABEL:
        return f"is {len(value)} characters long (at most {MAX_LABEL})"
    if _DNS1035.fullmatch(value):
        return None
    return "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter"


def port_name_problem(value: str) -> str | None:
    """An IANA service name, as a Service port name must be."""
    if len(value) > MAX_PORT_NAME:
        return f"is {len(value)} characters long (at most {MAX_PORT_NAME})"
    if not _PORT_NAME.fullmatch(value):
        return "must be lower-case letters, digits and '-', starting and ending with a letter or digit"
    if "--" in value:
        return "must not contain '--'"
    if not any("a" <= c <= "z" for c in value):
        return "must contain at least one letter (a number belongs in port.number)"
    return None
