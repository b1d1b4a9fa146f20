"""Pairs of hosts that overlap (equal, or a wildcard covering the other), found by index.

Two hosts overlap when one matches the other (``meshctl.model.hosts.overlap``). Instead of
comparing every pair, each host looks up itself and the wildcards that would cover it
(``*.b.c``, ``*.c`` and ``*`` for ``a.b.c``), so every overlapping pair is found exactly once.

>>> covering("api.example.com")
['*.example.com', '*.com', '*']
>>> covering("*.example.com")
['*.com', '*']
>>> sorted(pairs([("*.example.com", 1), ("api.example.com", 2), ("example.com", 3)]))
[(2, 1)]
>>> sorted(between([("api.example.com", 1), ("*", 2)], [("*.example.com", 3), ("example.org", 4)]))
[(1, 3), (2, 3), (2, 4)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def covering(host: str) -> list[str]:
    """The wildcards, other than ``host`` itself, that match ``host``."""
    if host == "*":
        return []
    labels = host.split(".")
    out = ["*." + ".".join(labels[i:]) for i in range(1, len(labels))]
    return [w for w in out if w != host] + ["*"]


def pairs(entries: Sequence[tuple[str, T]]) -> Iterator[tuple[T, T]]:
    """Every unordered pair of entries whose hosts overlap, once (case-insensitive)."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for i, (host, _) in enumerate(entries):
        by_host[host.lower()].append(i)
    for i, (host, value) in enumerate(entries):
        host = host.lower()
        for j in by_host[host]:
            if j > i:
                yield value, entries[j][1]
        for wildcard in covering(host):
            for j in by_host.get(wildcard, ()):
                yield value, entries[j][1]


def between(left: Sequence[tuple[str, T]], right: Sequence[tuple[str, T]]) -> Iterator[tuple[T, T]]:
    """Every pair (a from ``left``, b from ``right``) whose hosts overlap, once."""
    right_hosts: dict[str, list[int]] = defaultdict(list)
    for j, (host, _) in enumerate(right):
        right_hosts[host.lower()].append(j)
    left_hosts: dict[str, list[int]] = defaultdict(list)
    for i, (host, _) in enumerate(left):
        left_hosts[host.lower()].append(i)
    for host, value in left:
        host = host.lower()
        for candidate in (host, *covering(host)):
            for j in right_hosts.get(candidate, ()):
                yield value, right[j][1]
    for host, value in right:
        for wildcard in covering(host.lower()):
            for i in left_hosts.get(wildcard, ()):
                yield left[i][1], value
