"""Istio's first-match order vs Gateway API's precedence, within one emitted HTTPRoute.

Istio tries a VirtualService's rules in order and the first match wins. Gateway API
picks the most specific match: an Exact path, then the longest PathPrefix, then a
RegularExpression (Istio's implementation ranks regexes last; the spec leaves it to the
implementation), then a method match, then the most header and the most query matches;
ties go to the earlier rule. So a later, more specific rule takes requests that an
earlier, broader rule took in Istio::

    http:
    - match: [{headers: {x-canary: {exact: "1"}}}]   # Istio: every canary request
      route: [{destination: {host: cart, subset: v2}}]
    - match: [{uri: {prefix: /api}}]                  # Gateway API: /api wins (longer prefix)
      route: [{destination: {host: cart, subset: v1}}]

Where the two matches can be combined into one (here ``/api`` with the header), the
combination is added to the earlier rule: it is at least as specific as the later match
and, on a tie, the earlier rule wins, so requests matching both go where Istio sent them::

    - matches: [{headers: [{name: x-canary, value: "1"}]},
                {path: {type: PathPrefix, value: /api}, headers: [{name: x-canary, value: "1"}]}]

Otherwise (a regex against a prefix, two different conditions on one header) the
difference is reported at the later match. Matches that only ever see the same action
are not compared; neither are matches that can never both hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from meshctl.emit.gateway_api.context import Build
from meshctl.emit.gateway_api.matches import EXACT, PREFIX, REGEX, Condition, HttpMatch
from meshctl.emit.gateway_api.rules import HttpRule
from meshctl.emit.gateway_api.values import regex_matches

MAX_MATCHES_PER_RULE = 64
MAX_MATCHES_PER_ROUTE = 128
MAX_ROUNDS = 8
_REASONS = ("its path kind ranks higher (Exact, then PathPrefix, then RegularExpression)",
            "its path is longer", "it matches the method", "it has more header matches",
            "it has more query parameter matches")


def keep_istio_order(build: Build, rules: Sequence[HttpRule]) -> int:
    """Add combined matches to earlier rules where that keeps Istio's order, report where it
    cannot; returns how many matches were added."""
    added = 0
    reported: set[tuple[int, int]] = set()
    for _ in range(MAX_ROUNDS):
        changed = False
        for j, later in enumerate(rules):
            for b in _matches(later):
                for earlier in rules[:j]:
                    if earlier.action() == later.action():
                        continue
                    for a in list(_matches(earlier)):
                        if b.precedence <= a.precedence or not overlap(a, b):
                            continue
                        both = conjunction(a, b)
                        if _settled(earlier, both, b):
                            continue
                        if both is not None and both.precedence >= b.precedence and _room(rules, earlier):
                            if not earlier.matches:
                                earlier.matches.append(HttpMatch(earlier.source.origin, PREFIX, "/"))
                            earlier.matches.append(both)
                            added += 1
                            changed = True
                            continue
                        key = (id(a), id(b))
                        if key not in reported:
                            reported.add(key)
                            _report(build, earlier, a, later, b)
        if not changed:
            break
    return added


def _matches(rule: HttpRule) -> list[HttpMatch]:
    return rule.matches or [HttpMatch(rule.source.origin)]


def _settled(rule: HttpRule, both: HttpMatch | None, later: HttpMatch) -> bool:
    """Does a match of ``rule`` already take every request of ``both`` ahead of ``later``?"""
    if both is None:
        return False
    return any(covers(x, both) and x.precedence >= later.precedence for x in _matches(rule))


def _room(rules: Sequence[HttpRule], rule: HttpRule) -> bool:
    """May ``rule`` take one more match? Not past the API's limits, and not when it rewrites a
    matched prefix (that needs exactly one match, and the prefix it replaces is its own)."""
    if any(f.get("urlRewrite", {}).get("path", {}).get("type") == "ReplacePrefixMatch" for f in rule.filters):
        return False
    total = sum(max(len(r.matches), 1) for r in rules)
    return len(rule.matches) + 2 <= MAX_MATCHES_PER_RULE and total + 2 <= MAX_MATCHES_PER_ROUTE


def _report(build: Build, earlier: HttpRule, a: HttpMatch, later: HttpRule, b: HttpMatch) -> None:
    reason = next(text for x, y, text in zip(b.precedence, a.precedence, _REASONS) if x != y)
    if b.path_type != REGEX and a.path_type == REGEX:
        reason += "; Istio ranks regular expressions below every prefix (the spec leaves it to implementations)"
    first, second = _label(earlier), _label(later)
    build.losses.approximated(
        b.origin,
        f"rule order: Istio sends requests matching both {first} ({a.describe()}) and {second} "
        f"({b.describe()}) to {first}, the first match; Gateway API sends them to {second}, because {reason}",
    )


def _label(rule: HttpRule) -> str:
    source = rule.source
    label = f"{source.protocol}[{source.index}]"
    return f'{label} ("{source.name}")' if source.name else label


# -- match algebra (Gateway API semantics) ----------------------------------------------------------
def _under(prefix: str, path: str) -> bool:
    """Does PathPrefix ``prefix`` take ``path`` (an exact path or another prefix)? Whole segments."""
    base = prefix.rstrip("/")
    return not base or path == base or path.startswith(base + "/") or path == prefix


def _path_covers(x: HttpMatch, y: HttpMatch) -> bool:
    if x.path_type is None:
        return True
    if y.path_type is None:
        return False
    assert x.path is not None and y.path is not None
    if x.path_type == PREFIX:
        return y.path_type in (EXACT, PREFIX) and _under(x.path, y.path)
    if x.path_type == EXACT:
        return y.path_type == EXACT and x.path == y.path
    if y.path_type == REGEX:
        return x.path == y.path
    return y.path_type == EXACT and regex_matches(x.path, y.path) is True


def _literal(pattern: str) -> tuple[str, bool] | None:
    """The literal text every match of a regex starts with, and whether it ignores case;
    None when that is not obvious (alternation)."""
    fold = pattern.startswith("(?i)")
    body = pattern[4:] if fold else pattern
    body = body.removeprefix("^")
    if "|" in body:
        return None
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and not body[i + 1].isalnum():
            out.append(body[i + 1])
            i += 2
            continue
        if c in "\\.+*?()[]{}^$":
            if c in "?*{" and out:
                out.pop()  # the previous character may be absent or repeated
            break
        out.append(c)
        i += 1
    text = "".join(out)
    return (text.lower() if fold else text), fold


def _starts_compatible(x: str, y: str, fold: bool) -> bool:
    if fold:
        x, y = x.lower(), y.lower()
    return x.startswith(y) or y.startswith(x)


def _paths_overlap(x: HttpMatch, y: HttpMatch) -> bool:
    if x.path_type is None or y.path_type is None:
        return True
    assert x.path is not None and y.path is not None
    if REGEX in (x.path_type, y.path_type):
        regex, other = (x, y) if x.path_type == REGEX else (y, x)
        assert regex.path is not None and other.path is not None
        if other.path_type == EXACT:
            return regex_matches(regex.path, other.path) is not False
        literal = _literal(regex.path)
        if literal is None:
            return True
        if other.path_type == PREFIX:
            return _starts_compatible(literal[0], other.path.rstrip("/") or "/", literal[1])
        theirs = _literal(other.path)
        return theirs is None or _starts_compatible(literal[0], theirs[0], literal[1] or theirs[1])
    if x.path_type == EXACT and y.path_type == EXACT:
        return x.path == y.path
    if x.path_type == PREFIX and y.path_type == PREFIX:
        return _under(x.path, y.path) or _under(y.path, x.path)
    prefix, exact = (x, y) if x.path_type == PREFIX else (y, x)
    assert prefix.path is not None and exact.path is not None
    return _under(prefix.path, exact.path)


def _condition_covers(x: Condition, y: Condition) -> bool:
    """Does every value ``y`` accepts satisfy ``x`` (same name)?"""
    if x == y or (x.type == REGEX and x.value == ".*"):
        return True
    return x.type == REGEX and y.type == EXACT and regex_matches(x.value, y.value) is True


def _conditions_overlap(x: Condition, y: Condition) -> bool:
    if x.type == EXACT and y.type == EXACT:
        return x.value == y.value
    if EXACT in (x.type, y.type):
        regex, exact = (x, y) if x.type == REGEX else (y, x)
        return regex_matches(regex.value, exact.value) is not False
    return True


def _by_name(conditions: tuple[Condition, ...], fold: bool) -> dict[str, Condition]:
    return {(c.name.lower() if fold else c.name): c for c in conditions}


def overlap(x: HttpMatch, y: HttpMatch) -> bool:
    """Can one request satisfy both matches? True unless they provably exclude each other."""
    if not _paths_overlap(x, y):
        return False
    if x.method and y.method and x.method != y.method:
        return False
    for fold, xs, ys in ((True, x.headers, y.headers), (False, x.query, y.query)):
        mine, theirs = _by_name(xs, fold), _by_name(ys, fold)
        if any(not _conditions_overlap(c, theirs[n]) for n, c in mine.items() if n in theirs):
            return False
    return True


def covers(x: HttpMatch, y: HttpMatch) -> bool:
    """Does every request ``y`` takes satisfy ``x``?"""
    if not _path_covers(x, y) or (x.method and x.method != y.method):
        return False
    for fold, xs, ys in ((True, x.headers, y.headers), (False, x.query, y.query)):
        theirs = _by_name(ys, fold)
        if any(n not in theirs or not _condition_covers(c, theirs[n]) for n, c in _by_name(xs, fold).items()):
            return False
    return True


def conjunction(x: HttpMatch, y: HttpMatch) -> HttpMatch | None:
    """One match taking exactly the requests both take (``x``'s origin), or None when
    Gateway API cannot say it in one match."""
    if _path_covers(x, y):
        path_type, path = y.path_type, y.path
    elif _path_covers(y, x):
        path_type, path = x.path_type, x.path
    else:
        return None
    merged = []
    for fold, xs, ys in ((True, x.headers, y.headers), (False, x.query, y.query)):
        mine, theirs = _by_name(xs, fold), _by_name(ys, fold)
        out: dict[str, Condition] = dict(mine)
        for name, condition in theirs.items():
            if name not in out or _condition_covers(out[name], condition):
                out[name] = condition
            elif not _condition_covers(condition, out[name]):
                return None
        merged.append(tuple(sorted(out.values(), key=lambda c: c.name.lower())))
    return replace(x, path_type=path_type, path=path, method=x.method or y.method,
                   headers=merged[0], query=merged[1])
