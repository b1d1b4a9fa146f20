"""What diagnose read from the cluster, as the live checks see it (no I/O here).

Every object is a SourceDoc (``convert.py``); the live checks ask for them by kind
(``state.objects("/Pod")``) and must ask ``state.complete(kind)`` before concluding
anything from an absence: a kind that was forbidden, not served or failed in part of the
scope is not complete, and a check that needs it stays silent (the partial view is
reported once, as MSH518/MSH519).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from meshctl.load.document import SourceDoc


@dataclass(frozen=True)
class Skip:
    """Something that was not read, and why."""

    what: str  # kubectl's name for it: "secrets", "gateways.gateway.networking.k8s.io"
    kind_key: str  # "/Secret"
    namespace: str | None  # None: across all namespaces (or cluster-scoped)
    reason: str  # "forbidden", "the server answered 503 ServiceUnavailable 4 times", ...
    cause: str  # "forbidden" | "failed" | "not-served"


@dataclass
class LiveState:
    context: str
    server: str
    namespaces: tuple[str, ...] | None  # the scope; None: all namespaces
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    version: dict[str, Any] = field(default_factory=dict)  # GET /version
    served: dict[str, list[str]] = field(default_factory=dict)  # group -> versions
    docs: list[SourceDoc] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # display path -> generated YAML
    listed: set[str] = field(default_factory=set)  # kind keys read completely in scope
    skipped: list[Skip] = field(default_factory=list)
    check_certificates: bool = False
    # (namespace, name) -> {data key: bytes}; only Secrets a Gateway or Linkerd's identity
    # names, only with --check-certificates; never in a SourceDoc, text or message.
    tls_secrets: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict, repr=False)
    tls_secret_problems: dict[tuple[str, str], str] = field(default_factory=dict)  # why one is not there
    _by_kind: dict[str, list[SourceDoc]] = field(default_factory=lambda: defaultdict(list), repr=False)
    _by_key: dict[tuple[str, str | None, str], SourceDoc] = field(default_factory=dict, repr=False)

    def add(self, doc: SourceDoc, text: str) -> None:
        key = (doc.kind_key, doc.namespace, doc.name)
        if key in self._by_key:
            return  # listed twice (a control-plane Deployment inside the scope, say)
        self._by_key[key] = doc
        self._by_kind[doc.kind_key].append(doc)
        self.docs.append(doc)
        self.texts[doc.file] = text

    def objects(self, kind_key: str) -> list[SourceDoc]:
        return self._by_kind.get(kind_key, [])

    def find(self, kind_key: str, namespace: str | None, name: str) -> SourceDoc | None:
        return self._by_key.get((kind_key, namespace, name))

    def complete(self, *kind_keys: str) -> bool:
        """Were all these kinds read in the whole scope (nothing forbidden, failed or missing)?"""
        return all(k in self.listed for k in kind_keys)

    def in_scope(self, namespace: str | None) -> bool:
        return namespace is None or self.namespaces is None or namespace in self.namespaces

    @property
    def all_namespaces(self) -> bool:
        return self.namespaces is None
