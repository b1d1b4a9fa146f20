"""Host names as Istio's webhook reads them: DNS labels, a wildcard first label, IPs.

Pure functions over strings, shared by the host and port checks::

    wildcard_domain_problem("*.example.com") -> None
    wildcard_domain_problem("api.*.com")     -> "label '*' is not a valid DNS label ..."
    matches("*.example.com", "a.example.com") -> True
"""

from __future__ import annotations

import ipaddress

MAX_DOMAIN = 255
MAX_LABEL = 63
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def is_dns1123_label(text: str) -> bool:
    """Letters, digits and '-', 1 to 63 long, starting and ending with a letter or digit.

    Istio allows upper case here (Kubernetes object names do not).
    """
    return (
        0 < len(text) <= MAX_LABEL
        and set(text) <= _LABEL_CHARS
        and text[0] != "-"
        and text[-1] != "-"
    )


def is_wildcard_label(text: str) -> bool:
    """A first label Istio accepts: ``*``, ``*foo``, ``*-foo`` or a plain DNS label."""
    if len(text) > MAX_LABEL:
        return False
    if text == "*" or is_dns1123_label(text):
        return True
    return (text.startswith("*-") and is_dns1123_label(text[2:])) or (
        text.startswith("*") and is_dns1123_label(text[1:])
    )


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _preconditions(domain: str) -> str | None:
    if not domain:
        return "it is empty"
    if len(domain) > MAX_DOMAIN:
        return f"it is {len(domain)} characters long (at most {MAX_DOMAIN})"
    return None


def _labels_problem(domain: str) -> str | None:
    labels = domain.split(".")
    top = labels[-1]
    if top and all("0" <= c <= "9" for c in top):
        return f"its last label {top!r} is all digits"
    for index, label in enumerate(labels):
        if index == len(labels) - 1 and label == "":
            return None  # a trailing dot: "example.com."
        if not is_dns1123_label(label):
            return f"label {label!r} is not a DNS label ({_LABEL_RULE})"
    return None


_LABEL_RULE = "letters, digits and '-', at most 63, starting and ending with a letter or digit"


def wildcard_domain_problem(domain: str) -> str | None:
    """Why ``domain`` is not a domain name with an optional wildcard first label, or None."""
    problem = _preconditions(domain)
    if problem:
        return problem
    first, dot, rest = domain.partition(".")
    if not is_wildcard_label(first):
        if "*" in first:
            return f"first label {first!r}: a wildcard must be '*' or start the label ('*' or '*-' prefix)"
        return f"label {first!r} is not a DNS label ({_LABEL_RULE})"
    if dot:
        if "*" in rest:
            return "a wildcard '*' may only appear in the first label"
        return _labels_problem(rest)
    return None


def fqdn_problem(domain: str) -> str | None:
    """Why ``domain`` is not a plain domain name (no wildcard), or None."""
    problem = _preconditions(domain)
    if problem:
        return problem
    if "*" in domain:
        return "it has a wildcard"
    return _labels_problem(domain)


def is_wildcarded(host: str) -> bool:
    return host.startswith("*")


def matches(a: str, b: str) -> bool:
    """Whether two hosts overlap: equal, or one wildcard covers the other (Istio's rules)."""
    if is_wildcarded(a):
        if is_wildcarded(b):
            shorter, longer = (a, b) if len(a) < len(b) else (b, a)
            return longer[1:].endswith(shorter[1:])
        return b.endswith(a[1:])
    if is_wildcarded(b):
        return a.endswith(b[1:])
    return a == b


def subset_of(host: str, other: str) -> bool:
    """Whether every name ``host`` covers is covered by ``other``."""
    if is_wildcarded(host):
        if is_wildcarded(other):
            return len(host) >= len(other) and host[1:].endswith(other[1:])
        return False
    if is_wildcarded(other):
        return host.endswith(other[1:])
    return host == other
