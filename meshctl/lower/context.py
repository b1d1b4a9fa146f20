"""What every lowerer shares: the model being built, and typed access to raw fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshctl.load.document import SourceDoc
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.origin import Origin


@dataclass
class Lowering:
    model: MeshModel

    def namespace(self, doc: SourceDoc) -> str:
        """A namespaced object without metadata.namespace lands in ``default``."""
        return doc.namespace or "default"

    def fqdn(self, host: str, namespace: str) -> str:
        return hosts.fqdn(host, namespace, self.model.domain)


def origin(doc: SourceDoc, *path: str | int) -> Origin:
    return Origin(doc, tuple(path))


def dct(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def lst(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The mapping items of a list, with their indexes."""
    return [(i, v) for i, v in enumerate(lst(value)) if isinstance(v, dict)]


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def texts(value: Any) -> tuple[str, ...]:
    return tuple(v for v in lst(value) if isinstance(v, str))


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dct(value).items() if v is not None}


def selector(value: Any) -> dict[str, str] | None:
    """``{matchLabels: {...}}`` -> labels; absent -> None."""
    if not isinstance(value, dict):
        return None
    return labels(value.get("matchLabels"))
