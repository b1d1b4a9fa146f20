"""Istio durations (Go / protobuf strings) -> what Linkerd and Gateway API accept.

Linkerd's annotations take one integer and a unit (``ms``, ``s``, ``m``, ``h``, ``d``);
Gateway API's ``Duration`` takes up to four ``<1-5 digits><h|m|s|ms>`` parts. Both have a
millisecond resolution, so anything finer is rounded up (and reported by the caller).

>>> to_millis("1.5s"), to_millis("1m30s"), to_millis("250ms"), to_millis("bad")
(1500, 90000, 250, None)
>>> linkerd_duration(1500), linkerd_duration(3000), linkerd_duration(7_200_000)
('1500ms', '3s', '2h')
>>> gateway_duration(100_000_000)
'27h46m40s'
"""

from __future__ import annotations

import re
from fractions import Fraction

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NANOS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def to_nanos(text: str) -> int | None:
    """A Go duration (``1h2m3.5s``) in nanoseconds; None when it is not one."""
    text = text.strip()
    if not text or _PART.sub("", text):
        return None
    total = Fraction(0)
    for number, unit in _PART.findall(text):
        total += Fraction(number) * _NANOS[unit]
    return int(total)


def to_millis(text: str) -> int | None:
    """Milliseconds, rounded up (Linkerd and Gateway API have no finer unit)."""
    nanos = to_nanos(text)
    if nanos is None:
        return None
    return -(-nanos // 1_000_000)


def exact_millis(text: str) -> bool:
    nanos = to_nanos(text)
    return nanos is not None and nanos % 1_000_000 == 0


def linkerd_duration(millis: int) -> str:
    """One integer and the largest unit that divides it."""
    for unit, size in _UNITS:
        if millis % size == 0 and millis >= size:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def gateway_duration(millis: int) -> str:
    """The single-unit form when it fits in 5 digits, else hours, minutes, seconds, ms."""
    single = linkerd_duration(millis)
    if len(re.sub(r"\D", "", single)) <= 5:
        return single
    parts = []
    for unit, size in _UNITS:
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
