"""One live object -> one SourceDoc, so the file pipeline runs on it unchanged.

Before: a Pod as the API server lists it (JSON, no ``apiVersion``/``kind`` on list items,
``managedFields``, the ``last-applied-configuration`` annotation).
After: ``SourceDoc(file="cluster:prod/shop/Pod/cart-7d9f8", data={...})`` whose text is
generated block YAML (``meshctl.emit.yaml_out``): a finding on ``spec.containers[1]``
points at ``cluster:prod/shop/Pod/cart-7d9f8:23:5`` and the report shows that line.

The node tree behind positions is composed from the text only when a finding asks for a
position (``SourceDoc.deferred``), so reading ten thousand objects parses no YAML at all.
Nothing of a Secret but its metadata ever enters a SourceDoc.
"""

from __future__ import annotations

from typing import Any

from meshctl.emit.yaml_out import dump
from meshctl.load.document import SourceDoc

PREFIX = "cluster:"
# Server-side bookkeeping that says nothing about the mesh and only costs memory.
_DROPPED_METADATA = ("managedFields", "selfLink")
# Annotations that repeat the whole object (for a Secret applied with kubectl: its data).
REDACTED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
_SECRET_FIELDS = ("data", "stringData")


def display(context: str, namespace: str | None, kind: str, name: str) -> str:
    """``cluster:<context>/<namespace>/<Kind>/<name>`` (no namespace part when cluster-scoped)."""
    if namespace:
        return f"{PREFIX}{context}/{namespace}/{kind}/{name}"
    return f"{PREFIX}{context}/{kind}/{name}"


def is_live(file: str) -> bool:
    return file.startswith(PREFIX)


def clean(item: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """The object as meshctl keeps it: apiVersion and kind first, noise and secrets dropped."""
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    meta = item.get("metadata")
    if isinstance(meta, dict):
        meta = {k: v for k, v in meta.items() if k not in _DROPPED_METADATA}
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and REDACTED_ANNOTATIONS.intersection(annotations):
            meta["annotations"] = {k: v for k, v in annotations.items() if k not in REDACTED_ANNOTATIONS}
        out["metadata"] = meta
    for key, value in item.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        if kind == "Secret" and key in _SECRET_FIELDS:
            continue  # never kept, whatever was read (metadata-only lists have none anyway)
        out[key] = value
    return out


def to_doc(context: str, obj: dict[str, Any]) -> tuple[SourceDoc, str]:
    """The SourceDoc of a cleaned object, and its generated text (for source lines)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    file = display(context, namespace, str(obj.get("kind", "")), name)
    text = dump(obj)
    lines = text.split("\n")
    doc = SourceDoc(file, 0, obj, None, lines=(0, max(len(lines) - 2, 0)), deferred=lines)
    return doc, text
