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
