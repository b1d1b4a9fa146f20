"""Small conversions the Istio back-end shares: durations, quantities, weights, status codes.

Linkerd's annotations write a duration as one integer and a unit (``ms s m h d``); Istio
takes Go durations, which have no ``d``. Weights (Gateway API integers, Linkerd
quantities) are relative; Istio's are written here as shares of 100, largest remainder
first, so a 1:1:1 split reads 34/33/33.

>>> istio_duration("1d"), istio_duration("1500ms"), istio_duration("1m30s"), istio_duration("soon")
('24h', '1500ms', '1m30s', None)
>>> quantity("250m"), quantity("1"), quantity("1k"), quantity("x")
(Decimal('0.250'), Decimal('1'), Decimal('1000'), None)
>>> shares([Decimal(1), Decimal(1), Decimal(1)])
[34, 33, 33]
>>> status_text(set(range(500, 600))), status_text({502, 503, 504}), status_text({429, *range(500, 600)})
('5xx', '502,503,504', '429,5xx')
>>> port_tokens("3306, 4000-4100,mysql")
([(3306, 3306), (4000, 4100)], ['mysql'])
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_GO_DURATION = re.compile(r"([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+")
_LINKERD_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_QUANTITY = re.compile(r"([+-]?[0-9]*\.?[0-9]+)([a-zA-Z]*)")
_SUFFIXES = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9),
    "T": Decimal(10**12), "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
}
ALL_5XX = frozenset(range(500, 600))


def istio_duration(text: str | None) -> str | None:
    """A Linkerd or Gateway API duration as a Go duration Istio accepts; None if invalid."""
    if text is None:
        return None
    text = text.strip()
    if _GO_DURATION.fullmatch(text):
        return text
    found = _LINKERD_DURATION.fullmatch(text)
    if found and found.group(2) == "d":
        return f"{int(found.group(1)) * 24}h"
    return None


def quantity(text: str) -> Decimal | None:
    """A Kubernetes quantity (``500m``, ``1``, ``2k``) as a number; None if it is not one."""
    found = _QUANTITY.fullmatch(text.strip())
    if not found or found.group(2) not in _SUFFIXES:
        return None
    try:
        return Decimal(found.group(1)) * _SUFFIXES[found.group(2)]
    except InvalidOperation:
        return None


def shares(weights: list[Decimal]) -> list[int]:
    """Relative weights as integers summing to 100 (largest remainder; ties keep the order)."""
    total = sum(weights, Decimal(0))
    if total <= 0:
        return [0 for _ in weights]
    exact = [w * 100 / total for w in weights]
    out = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: 100 - sum(out)]:
        out[i] += 1
    return out


def proportional(weights: list[Decimal], rounded: list[int]) -> bool:
    """Do the integer shares keep the exact ratios of the weights?"""
    total = sum(weights, Decimal(0))
    return total > 0 and all(w * 100 / total == r for w, r in zip(weights, rounded))


def status_text(codes: set[int]) -> str:
    """Status codes as an Istio ``retryOn`` list: ``5xx`` for the whole class, else the codes."""
    words = [str(c) for c in sorted(codes - ALL_5XX if codes >= ALL_5XX else codes)]
    return ",".join(words + ["5xx"] if codes >= ALL_5XX else words)


def port_tokens(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """``"3306,4000-4100,mysql"`` -> ``([(3306, 3306), (4000, 4100)], ["mysql"])``."""
    ranges, names = [], []
    for token in (t.strip() for t in text.split(",")):
        low, _, high = token.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            ranges.append((int(low), int(high or low)))
        elif token:
            names.append(token)
    return ranges, names
