"""Which hosts overlap (equal, or a wildcard covering the other), found by index.

Two hosts overlap when one matches the other (``meshctl.model.hosts.overlap``). Instead of
comparing every pair, each host looks up the wildcards that would cover it (``*.b.c``,
``*.c`` and ``*`` for ``a.b.c``), and each wildcard learns the hosts it covers that way.

>>> covering("api.example.com")
['*.example.com', '*.com', '*']
>>> covering("*.example.com")
['*.com', '*']
>>> overlapping(["*.example.com", "api.example.com", "example.com"])["*.example.com"]
['*.example.com', 'api.example.com']
>>> overlapping(["*.example.com", "api.example.com", "example.com"])["example.com"]
['example.com']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


def covering(host: str) -> list[str]:
    """The wildcards, other than ``host`` itself, that match ``host``."""
    if host == "*":
        return []
    labels = host.split(".")
    out = ["*." + ".".join(labels[i:]) for i in range(1, len(labels))]
    return [w for w in out if w != host] + ["*"]


def overlapping(hosts: Iterable[str]) -> dict[str, list[str]]:
    """Each distinct (lower-cased) host -> the given hosts it overlaps, itself first."""
    keys = list(dict.fromkeys(h.lower() for h in hosts))
    present = set(keys)
    covers: dict[str, list[str]] = defaultdict(list)  # wildcard -> the hosts it covers
    for host in keys:
        for wildcard in covering(host):
            if wildcard in present:
                covers[wildcard].append(host)
    return {
        host: [host, *(w for w in covering(host) if w in present), *covers.get(host, ())]
        for host in keys
    }
