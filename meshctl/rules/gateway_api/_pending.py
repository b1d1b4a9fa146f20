"""Fields the model does not carry yet, read from the lowered object's own document.

A stopgap: each function here stands for a model field the lowering should fill
(``meshctl/lower/gateway_api.py``), named in its docstring. Nothing else in the rules
reads a document; when the field lands, the function becomes a one-line accessor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from meshctl.model.objects import Backend, Route, RouteRule
from meshctl.model.origin import Origin


def _at(origin: Origin) -> Any:
    value: Any = origin.doc.data
    for part in origin.path:
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and 0 <= part < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def created(route: Route) -> str | None:
    """``Route.created``: ``metadata.creationTimestamp`` as an RFC 3339 string, or None."""
    value = route.origin.doc.metadata.get("creationTimestamp")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo is None else value.isoformat()
    return value if isinstance(value, str) and value else None


def backend_request_timeout(rule: RouteRule) -> str | None:
    """``RouteRule.backend_request_timeout``: ``timeouts.backendRequest`` of a Gateway API rule."""
    value = _mapping(_mapping(_at(rule.origin)).get("timeouts")).get("backendRequest")
    return value if isinstance(value, str) else None


def has_retry(rule: RouteRule) -> bool:
    """``RouteRule.retry`` for a Gateway API rule (its ``retry`` stanza, experimental channel)."""
    return isinstance(_mapping(_at(rule.origin)).get("retry"), dict)


def has_session_persistence(rule: RouteRule) -> bool:
    """``RouteRule.session_persistence``: the rule sets ``sessionPersistence``."""
    return isinstance(_mapping(_at(rule.origin)).get("sessionPersistence"), dict)


def backend_filters(backend: Backend) -> tuple[str, ...]:
    """``Backend.filters``: the filter types of a backendRef's own ``filters``."""
    items = _mapping(_at(backend.origin)).get("filters")
    if not isinstance(items, list):
        return ()
    return tuple(f["type"] for f in items if isinstance(f, dict) and isinstance(f.get("type"), str))


def backend_namespace(backend: Backend, route: Route) -> str:
    """``Backend.namespace``: the backendRef's namespace (the route's when unset), any kind."""
    value = _mapping(_at(backend.origin)).get("namespace")
    return value if isinstance(value, str) and value else route.namespace


def redirect_status(rule: RouteRule) -> tuple[int, int] | None:
    """``RouteRule.redirect_status``: (filter index, ``requestRedirect.statusCode``) when set."""
    items = _mapping(_at(rule.origin)).get("filters")
    if not isinstance(items, list):
        return None
    for index, item in enumerate(items):
        code = _mapping(_mapping(item).get("requestRedirect")).get("statusCode")
        if isinstance(code, int) and not isinstance(code, bool):
            return index, code
    return None
