"""Small conversions the Gateway API back-end shares: durations, names, header values, regexes.

Gateway API durations are up to four ``<1-5 digits><h|m|s|ms>`` parts, so a Go duration
is rounded up to the millisecond; names are DNS labels or subdomains; header values are
printable ASCII with single inner spaces.

>>> gateway_duration("1.5s"), gateway_duration("90s"), gateway_duration("250us")
('1500ms', '90s', '1ms')
>>> exact_duration("250us"), exact_duration("2s")
(False, True)
>>> dns_label("Reviews_V1.x"), section_name("HTTPS 443")
('reviews-v1-x', 'https-443')
>>> escape("/a.b+c"), mirror_share(12.5), mirror_share(50.0)
('/a\\\\.b\\\\+c', {'fraction': {'numerator': 125, 'denominator': 1000}}, {'percent': 50})
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NANOS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))
_DNS_INVALID = re.compile(r"[^a-z0-9-]+")
_SECTION = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PRECISE_HOSTNAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
HEADER_VALUE = re.compile(r"^[!-~]+([\t ]?[!-~]+)*$")
_IP = re.compile(r"^(\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-fA-F:]*:[0-9a-fA-F:.]*\]?)$")
_ENVOY_FORMATTER = re.compile(r"%[A-Z][A-Z0-9_]*(\([^)]*\))?(:[0-9]+)?%")
_REGEX_META = set("\\.+*?()|[]{}^$")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")


# -- durations -----------------------------------------------------------------------------
def _nanos(text: str) -> int | None:
    text = text.strip()
    if not text or _PART.sub("", text):
        return None
    return int(sum((Fraction(number) * _NANOS[unit] for number, unit in _PART.findall(text)), Fraction(0)))


def millis(text: str) -> int | None:
    """A Go duration in milliseconds, rounded up; None when it is not one."""
    nanos = _nanos(text)
    return None if nanos is None else -(-nanos // 1_000_000)


def exact_duration(text: str) -> bool:
    """Is the duration a whole number of milliseconds (so it converts without rounding)?"""
    nanos = _nanos(text)
    return nanos is not None and nanos % 1_000_000 == 0


def duration_of(ms: int) -> str:
    """Milliseconds as a Gateway API duration: one unit when it fits in 5 digits, else h/m/s/ms."""
    for unit, size in _UNITS:
        if ms >= size and ms % size == 0 and ms // size < 100_000:
            return f"{ms // size}{unit}"
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


MAX_MILLIS = 99_999 * 3_600_000  # the largest Gateway API duration: 99999h


def gateway_duration(text: str) -> str | None:
    """A Go duration (``1.5s``, ``1m30s``) as a Gateway API duration; None when it is not one
    (or is longer than Gateway API can say)."""
    ms = millis(text)
    return None if ms is None or ms > MAX_MILLIS else duration_of(ms)


def weight(value: int | None) -> int:
    """An Istio weight as a Gateway API one (0 to 1,000,000); unset is 0."""
    return max(0, min(value or 0, 1_000_000))


def seconds_up(text: str) -> int | None:
    """A Go duration in whole seconds, rounded up (CORS ``maxAge``)."""
    ms = millis(text)
    return None if ms is None else -(-ms // 1000)


# -- names -----------------------------------------------------------------------------------
def dns_label(text: str, limit: int = 63) -> str:
    """A valid DNS-1035 label (what Service names need): lower case, ``-`` for anything else,
    a leading letter."""
    label = _DNS_INVALID.sub("-", text.lower()).strip("-") or "x"
    if not label[0].isalpha():
        label = "x" + label
    return label[:limit].rstrip("-")


def section_name(text: str) -> str:
    """A listener or rule name (a DNS subdomain): ``HTTPS 443`` -> ``https-443``."""
    name = re.sub(r"[^a-z0-9.-]+", "-", text.lower())
    name = re.sub(r"\.{2,}", ".", name)
    name = "-".join(part for part in name.split("-") if part)
    name = ".".join(part.strip("-") for part in name.split(".") if part.strip("-"))
    return name[:253].rstrip("-.") or "x"


def is_section_name(text: str) -> bool:
    return len(text) <= 253 and bool(_SECTION.match(text))


def is_namespace(text: str) -> bool:
    """A DNS label, as namespace names are."""
    return len(text) <= 63 and "." not in text and bool(_SECTION.match(text))


def is_object_name(text: str) -> bool:
    """A DNS subdomain, as most object names are."""
    return is_section_name(text)


def is_hostname(text: str) -> bool:
    """A Gateway API Hostname: a lower-case DNS name, maybe with a leading ``*.`` label."""
    return len(text) <= 253 and bool(_HOSTNAME.match(text))


def is_precise_hostname(text: str) -> bool:
    """A Gateway API PreciseHostname: a lower-case DNS name without wildcard."""
    return len(text) <= 253 and bool(_PRECISE_HOSTNAME.match(text))


def port_ok(number: int | None) -> bool:
    return number is not None and 1 <= number <= 65535


def is_ip(text: str) -> bool:
    return bool(_IP.match(text))


# -- headers and regexes -----------------------------------------------------------------------
def header_value_ok(value: str) -> bool:
    return len(value) <= 4096 and bool(HEADER_VALUE.match(value))


def header_name_ok(name: str) -> bool:
    return len(name) <= 256 and bool(HEADER_NAME.match(name))


def envoy_formatter(value: str) -> bool:
    """Does a header value use an Envoy substitution such as ``%DOWNSTREAM_REMOTE_ADDRESS%``?"""
    return bool(_ENVOY_FORMATTER.search(value))


def escape(text: str) -> str:
    """``text`` as an RE2 literal: only the metacharacters are escaped (spaces stay, so header
    values keep the form Gateway API accepts)."""
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


def regex_matches(pattern: str, value: str) -> bool | None:
    """Does ``pattern`` match all of ``value``? None when Python cannot read the pattern."""
    try:
        return re.fullmatch(pattern, value) is not None
    except (re.error, RecursionError):
        return None


# -- shares ------------------------------------------------------------------------------------
def mirror_share(percent: float) -> dict[str, Any]:
    """An Istio mirror percentage (a double) as RequestMirror ``percent`` or ``fraction``."""
    value = Decimal(str(percent))
    if value == value.to_integral_value():
        return {"percent": int(value)}
    exponent = min(int(-value.normalize().as_tuple().exponent), 6)  # type: ignore[operator]
    scale = 10**exponent
    return {"fraction": {"numerator": int((value * scale).to_integral_value()), "denominator": 100 * scale}}
