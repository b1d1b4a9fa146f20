"""When one VirtualService match covers another (MSH140, MSH141).

A match *covers* a later one when every request the later one accepts, in every proxy
the later one is applied to, is accepted by the earlier one too: the later match can
then never be the one that selects its rule. The answer is only ``True`` when that is
certain; anything meshctl cannot decide (regexes other than identical ones, mixed
case-sensitivity, inverted presence checks, gateway names it cannot resolve) is
``False``, so the rules built on it report no false positives.

>>> from meshctl.model.objects import MatchType as T, StringMatch as S
>>> string_covers(S(T.PREFIX, "/api"), S(T.EXACT, "/api/v1"), PATH)
True
>>> string_covers(S(T.REGEX, "/api/.*"), S(T.EXACT, "/api/v1"), PATH)
False

How Istio applies a VirtualService (``route.BuildHTTPRoutesForVirtualService``): for
each proxy, a match whose ``gateways`` (or, without gateways, ``sourceLabels`` and
``sourceNamespace``) exclude the proxy, or whose ``port`` is not the listener's, is
dropped; the rest become Envoy routes in order, and the first route that matches wins.
Rules of TCP and TLS routes carry ``destinationSubnets`` and per-match ``sniHosts`` the
model does not keep, so only a TCP/TLS rule without any match is known to take
everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from meshctl.model.objects import MatchType, RequestMatch, Route, RouteRule, StringMatch

MESH = "mesh"
PATH, HEADER, QUERY, CLAIM = "path", "header", "query", "claim"
CLAIM_PREFIX = "@request.auth.claims"
_ANY_REGEX = frozenset({".*", "^.*$", "(.*)"})
_ANY_PATH_REGEX = _ANY_REGEX | {"/.*", "^/.*$"}
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# -- gateways --------------------------------------------------------------------------
def gateway_key(written: str, namespace: str) -> str:
    """Istio's ResolveGatewayName: ``name``, ``./name``, ``ns/name``, legacy ``name.ns[.svc...]``.

    >>> [gateway_key(g, "shop") for g in ("gw", "./gw", "edge/gw", "gw.edge")]
    ['shop/gw', 'shop/gw', 'edge/gw', 'edge/gw']
    """
    if written == MESH:
        return MESH
    if "/" in written:
        ns, _, name = written.partition("/")
        return f"{namespace if ns in ('.', '') else ns}/{name}"
    if "." in written:
        name, _, rest = written.partition(".")
        return f"{rest.partition('.')[0]}/{name}"
    return f"{namespace}/{written}"


@dataclass(frozen=True)
class Scope:
    """The proxies a VirtualService applies to: its gateway keys, or None for a delegate
    (which inherits the gateways of the route that delegates to it)."""

    namespace: str
    gateways: frozenset[str] | None

    @classmethod
    def of(cls, route: Route) -> Scope:
        if not route.hosts:
            return cls(route.namespace, None)
        if not route.parents:
            return cls(route.namespace, frozenset({MESH}))
        # the lowering resolves `spec.gateways` as Istio does; match gateways are kept as written
        keys = {MESH if p.kind == MESH else f"{p.namespace or route.namespace}/{p.name}" for p in route.parents}
        return cls(route.namespace, frozenset(keys))

    def contexts(self, match: RequestMatch) -> frozenset[str] | None:
        """The gateway keys the match applies at; None: wherever the route applies."""
        if not match.gateways:
            return self.gateways
        named = frozenset(gateway_key(g, self.namespace) for g in match.gateways)
        return named if self.gateways is None else named & self.gateways


# -- one condition -----------------------------------------------------------------------
def _lower(value: str) -> str:
    return value.translate(_ASCII_LOWER)


def _case_blind(sm: StringMatch) -> bool:
    """Does the match really ignore case? (``ignoreUriCase`` only affects exact and prefix
    uri matches, and a value without ASCII letters reads the same in any case.)"""
    return sm.ignore_case and sm.type in (MatchType.EXACT, MatchType.PREFIX) and any(
        c.isascii() and c.isalpha() for c in sm.value
    )


def accepts_everything(sm: StringMatch, kind: str) -> bool:
    """Does the condition accept every value (for headers: every request that has the header)?"""
    if sm.invert:
        return False
    if kind == PATH:
        return (sm.type is MatchType.PREFIX and sm.value in ("", "/")) or (
            sm.type is MatchType.REGEX and sm.value in _ANY_PATH_REGEX
        )
    if kind == HEADER:
        # Istio turns `{}` and `prefix: ""` into a present match; `.*` accepts any value
        return sm.type is MatchType.PRESENT or (sm.type is MatchType.PREFIX and sm.value == "") or (
            sm.type is MatchType.REGEX and sm.value in _ANY_REGEX
        )
    if kind == QUERY:
        return sm.type is MatchType.REGEX and sm.value in _ANY_REGEX
    return False  # JWT claims become metadata matchers: no presence shortcut is assumed


def string_covers(earlier: StringMatch, later: StringMatch, kind: str) -> bool:
    """Does every value ``later`` accepts satisfy ``earlier``? Both must be non-inverted.

    ``kind`` is PATH (uri), HEADER (headers, method, authority, scheme), QUERY or CLAIM
    (an ``@request.auth.claims`` pseudo-header).
    """
    if earlier.invert or later.invert:
        return False
    if accepts_everything(earlier, kind):
        # every later header condition requires the header; Istio's query prefix and
        # present matches have no documented meaning, so they are not judged
        return kind != QUERY or later.type in (MatchType.EXACT, MatchType.REGEX)
    identical_only = (MatchType.REGEX, MatchType.PRESENT)
    if earlier.type in identical_only or later.type in identical_only:
        return earlier.type is later.type and earlier.value == later.value
    if kind == QUERY and MatchType.PREFIX in (earlier.type, later.type):
        return False  # Istio does not support prefix query matches: unknown semantics
    if earlier.type is MatchType.EXACT and later.type is not MatchType.EXACT:
        return False
    e_blind, l_blind = _case_blind(earlier), _case_blind(later)
    if l_blind and not e_blind:
        return False
    e_value, l_value = earlier.value, later.value
    if e_blind:
        e_value, l_value = _lower(e_value), _lower(l_value)
    if earlier.type is MatchType.EXACT:
        return l_value == e_value
    return l_value.startswith(e_value)


def _presence_only(sm: StringMatch) -> bool:
    return accepts_everything(_positive(sm), HEADER)


def _positive(sm: StringMatch) -> StringMatch:
    return StringMatch(sm.type, sm.value, sm.ignore_case, False)


def _implied(name: str, cond: StringMatch, later: Sequence[tuple[str, StringMatch]], kind: str) -> bool:
    """Do the later match's conditions imply the earlier condition ``cond`` on ``name``?"""
    same = [sm for n, sm in later if n == name]
    if not cond.invert:
        return any(string_covers(cond, sm, kind) for sm in same if not sm.invert)
    # `withoutHeaders`: implied by a later inverted condition that rejects at least as
    # much, or by a later exact value different from the one the earlier one rejects
    bad = _positive(cond)
    for sm in same:
        if sm.invert:
            if kind != HEADER or _presence_only(bad) or _presence_only(sm):
                if sm.key() == cond.key():
                    return True
            elif string_covers(_positive(sm), bad, kind):
                return True
        elif (
            kind == HEADER  # a JWT claim may be a list: `groups` can hold both values
            and sm.type is MatchType.EXACT and bad.type is MatchType.EXACT
            and not _case_blind(sm) and not _case_blind(bad) and sm.value != bad.value
        ):
            return True
    return False


def _optional_covers(earlier: StringMatch | None, later: StringMatch | None, kind: str) -> bool:
    if earlier is None:
        return True
    if kind == PATH and accepts_everything(earlier, PATH):
        return True
    return later is not None and string_covers(earlier, later, kind)


# -- one match -------------------------------------------------------------------------
def request_covers(earlier: RequestMatch, later: RequestMatch) -> bool:
    """The request part: uri, method, authority, scheme, headers and query parameters."""
    return (
        _optional_covers(earlier.path, later.path, PATH)
        and _optional_covers(earlier.method, later.method, HEADER)
        and _optional_covers(earlier.authority, later.authority, HEADER)
        and _optional_covers(earlier.scheme, later.scheme, HEADER)
        and all(_implied(n, sm, later.headers, CLAIM if n.startswith(CLAIM_PREFIX) else HEADER)
                for n, sm in earlier.headers)
        and all(_implied(n, sm, later.query_params, QUERY) for n, sm in earlier.query_params)
    )


def scope_covers(
    earlier: RequestMatch, later: RequestMatch, scope: Scope, at: str | None = None
) -> bool:
    """Is the earlier match applied wherever the later one is (gateways, port, sources)?

    With ``at``, only the later match's application at that gateway is asked about.
    """
    if earlier.port is not None and earlier.port != later.port:
        return False
    e_ctx, l_ctx = scope.contexts(earlier), scope.contexts(later)
    if at is not None:
        l_ctx = frozenset({at}) & (l_ctx or frozenset())
    if l_ctx is not None and not l_ctx:
        return False  # the later match applies nowhere we can name: not ours to judge
    if e_ctx is not None and (l_ctx is None or not l_ctx <= e_ctx):
        return False
    if earlier.source_labels or earlier.source_namespace is not None:
        # Istio ignores sourceLabels/sourceNamespace of a match that names gateways,
        # so the later match then applies to every source
        if later.gateways:
            return False
        if any(later.source_labels.get(k) != v for k, v in earlier.source_labels.items()):
            return False
        if earlier.source_namespace is not None and earlier.source_namespace != later.source_namespace:
            return False
    return True


def match_covers(
    earlier: RequestMatch, later: RequestMatch, scope: Scope, at: str | None = None
) -> bool:
    """Does ``earlier`` take every request ``later`` would take, wherever ``later`` applies
    (or, with ``at``, where it applies at that gateway)?"""
    return request_covers(earlier, later) and scope_covers(earlier, later, scope, at)


def takes_everything(match: RequestMatch) -> bool:
    """Does the match accept every request where it applies (it may still be scoped)?"""
    return (
        (match.path is None or accepts_everything(match.path, PATH))
        and match.method is None and match.authority is None and match.scheme is None
        and not match.headers and not match.query_params
    )


def whole_rule(rule: RouteRule) -> RequestMatch:
    """A rule without matches behaves as one match without any condition."""
    return RequestMatch(
        path=None, method=None, authority=None, scheme=None, headers=(), query_params=(), port=None,
        source_labels={}, source_namespace=None, gateways=(), origin=rule.origin,
    )


# -- a whole route ---------------------------------------------------------------------
@dataclass(frozen=True)
class Cover:
    """``match`` (of ``rule``) is covered by ``by_match`` of ``by_rule`` (and, when the
    earlier matches each cover it at some of its gateways only, by ``others`` too)."""

    rule: RouteRule
    match: RequestMatch
    by_rule: RouteRule
    by_match: RequestMatch
    others: tuple[tuple[RouteRule, RequestMatch], ...] = ()


@dataclass(frozen=True)
class Unreachable:
    """Every match of ``rule`` is covered by earlier rules (``covers``, one per match)."""

    rule: RouteRule
    covers: tuple[Cover, ...]

    @property
    def by(self) -> tuple[tuple[RouteRule, RequestMatch], ...]:
        """The earlier (rule, match) pairs that take the rule's traffic, in order."""
        pairs = (p for c in self.covers for p in ((c.by_rule, c.by_match), *c.others))
        return tuple(dict.fromkeys(p for p in pairs if p[0] is not self.rule))

    @property
    def by_rules(self) -> tuple[RouteRule, ...]:
        return tuple(dict.fromkeys(r for r, _ in self.by))


@dataclass(frozen=True)
class Shadows:
    unreachable: tuple[Unreachable, ...]
    ineffective: tuple[Cover, ...]  # matches of reachable rules that never select them


def shadows(route: Route) -> Shadows:
    """Unreachable rules and ineffective matches of a VirtualService (MSH140 and MSH141
    both ask; routes are immutable, so the answer is kept while the route lives)."""
    known = _SHADOWS.get(route)
    if known is None:
        known = _SHADOWS[route] = _shadows(route)
    return known


_SHADOWS: WeakKeyDictionary[Route, Shadows] = WeakKeyDictionary()


def _shadows(route: Route) -> Shadows:
    scope = Scope.of(route)
    unreachable: list[Unreachable] = []
    ineffective: list[Cover] = []
    for protocol in ("http", "tcp", "tls"):
        rules = [r for r in route.rules if r.protocol == protocol]
        if protocol == "http":
            _http(rules, scope, unreachable, ineffective)
        else:
            _l4(rules, unreachable)
    return Shadows(tuple(unreachable), tuple(ineffective))


def _http(
    rules: Iterable[RouteRule], scope: Scope, unreachable: list[Unreachable], ineffective: list[Cover]
) -> None:
    earlier = _Earlier()
    for rule in rules:
        own = rule.matches or (whole_rule(rule),)
        covers: list[Cover | None] = []
        dead: dict[int, bool] = {}  # covered by an earlier rule, directly or via a dead sibling
        before = _Earlier()  # the earlier matches of the same rule
        for match in own:
            found = _covering(earlier.candidates(match), match, scope)
            if found:
                covers.append(Cover(rule, match, *found[0], others=tuple(found[1:])))
                dead[id(match)] = True
            else:
                siblings = [m for _, m in before.candidates(match) if match_covers(m, match, scope)]
                sibling = next((m for m in siblings if dead[id(m)]), siblings[0] if siblings else None)
                covers.append(None if sibling is None else Cover(rule, match, rule, sibling))
                dead[id(match)] = sibling is not None and dead[id(sibling)]
            before.add(rule, match)
        if all(dead.values()):
            unreachable.append(Unreachable(rule, tuple(c for c in covers if c is not None)))
        else:
            ineffective.extend(c for c in covers if c is not None)
        if rule.delegate is None:  # a delegating rule falls through when no delegate rule matches
            for match in own:
                earlier.add(rule, match)


Key = tuple[str, str, str, str]


def _fields(match: RequestMatch) -> Iterator[tuple[str, str, StringMatch, str]]:
    """The positive conditions besides the uri: (field, name, condition, kind), the ones
    with many distinct values in practice first (matches are filed under the first)."""
    for name, sm in match.headers:
        if not sm.invert:
            yield "header", name, sm, CLAIM if name.startswith(CLAIM_PREFIX) else HEADER
    for name, sm in match.query_params:
        yield "query", name, sm, QUERY
    for label, pseudo in _pseudo_headers(match)[1:]:
        if pseudo is not None and not pseudo.invert:
            yield label, "", pseudo, HEADER


def _required(match: RequestMatch) -> Iterator[Key]:
    """Conditions a later match must share (or, for ``^``, extend) to be covered by ``match``."""
    fields = list(_fields(match))
    for label, name, sm, kind in fields:
        if sm.type in (MatchType.EXACT, MatchType.REGEX) and not accepts_everything(sm, kind):
            yield ("=", label, name, f"{sm.type.value}:{sm.value}")
    for label, name, sm, kind in fields:
        if sm.type is MatchType.PREFIX and kind != QUERY and not accepts_everything(sm, kind):
            yield ("^", label, name, sm.value)
    if match.port is not None:
        yield ("port", "", "", str(match.port))
    for key, value in sorted(match.source_labels.items()):
        yield ("source", key, "", value)
    if match.source_namespace is not None:
        yield ("source-namespace", "", "", match.source_namespace)


def _offered(match: RequestMatch) -> Iterator[Key]:
    """Every key of ``_required`` an earlier match covering ``match`` could have filed under."""
    for label, name, sm, kind in _fields(match):
        if sm.type in (MatchType.EXACT, MatchType.REGEX):
            yield ("=", label, name, f"{sm.type.value}:{sm.value}")
        if sm.type in (MatchType.EXACT, MatchType.PREFIX) and kind != QUERY:
            for end in range(len(sm.value) + 1):
                yield ("^", label, name, sm.value[:end])
    if match.port is not None:
        yield ("port", "", "", str(match.port))
    if not match.gateways:  # Istio ignores the sources of a match that names gateways
        for key, value in match.source_labels.items():
            yield ("source", key, "", value)
        if match.source_namespace is not None:
            yield ("source-namespace", "", "", match.source_namespace)


class _Earlier:
    """The matches of the earlier rules, filed by one required condition and by uri, so
    that a later match is compared only with those that could cover it: a route with
    hundreds of paths or header values stays fast. Uri values are filed ASCII-lowercased
    (``ignoreUriCase``); the final word is always ``match_covers``."""

    def __init__(self) -> None:
        self.items: list[tuple[RouteRule, RequestMatch]] = []
        self.by_key: dict[Key | None, _ByPath] = defaultdict(_ByPath)

    def add(self, rule: RouteRule, match: RequestMatch) -> None:
        self.by_key[next(_required(match), None)].add(len(self.items), match)
        self.items.append((rule, match))

    def candidates(self, match: RequestMatch) -> list[tuple[RouteRule, RequestMatch]]:
        """The earlier matches that may cover ``match``, in order."""
        found: list[int] = []
        for key in (None, *set(_offered(match))):
            if key in self.by_key:
                found += self.by_key[key].candidates(match)
        return [self.items[i] for i in sorted(found)]


class _ByPath:
    def __init__(self) -> None:
        self.anywhere: list[int] = []  # no uri, or one that accepts every path
        self.exact: dict[str, list[int]] = defaultdict(list)
        self.prefix: dict[str, list[int]] = defaultdict(list)
        self.same: dict[tuple[str, str], list[int]] = defaultdict(list)  # regex, `{}`: identical

    def add(self, index: int, match: RequestMatch) -> None:
        path = match.path
        if path is None or accepts_everything(path, PATH):
            self.anywhere.append(index)
        elif path.type is MatchType.EXACT:
            self.exact[_lower(path.value)].append(index)
        elif path.type is MatchType.PREFIX:
            self.prefix[_lower(path.value)].append(index)
        else:
            self.same[(path.type.value, path.value)].append(index)

    def candidates(self, match: RequestMatch) -> list[int]:
        found = list(self.anywhere)
        path = match.path
        if path is not None and not path.invert:
            if path.type in (MatchType.EXACT, MatchType.PREFIX):
                value = _lower(path.value)
                if path.type is MatchType.EXACT:
                    found += self.exact.get(value, ())
                for end in range(len(value) + 1):
                    found += self.prefix.get(value[:end], ())
            else:
                found += self.same.get((path.type.value, path.value), ())
        return found


def _covering(
    earlier: Sequence[tuple[RouteRule, RequestMatch]], match: RequestMatch, scope: Scope
) -> list[tuple[RouteRule, RequestMatch]]:
    """The earlier match that covers ``match``; failing one, an earlier match per gateway."""
    first = next(((r, e) for r, e in earlier if match_covers(e, match, scope)), None)
    if first is not None:
        return [first]
    contexts = scope.contexts(match)
    if not contexts or len(contexts) < 2:
        return []
    found: list[tuple[RouteRule, RequestMatch]] = []
    for gateway in sorted(contexts):
        one = next(((r, e) for r, e in earlier if match_covers(e, match, scope, gateway)), None)
        if one is None:
            return []
        if one not in found:
            found.append(one)
    return found


def _l4(rules: Iterable[RouteRule], unreachable: list[Unreachable]) -> None:
    catch_all: RouteRule | None = None
    for rule in rules:
        if catch_all is not None:
            everything = whole_rule(catch_all)
            own = rule.matches or (whole_rule(rule),)
            covers = tuple(Cover(rule, m, catch_all, everything) for m in own)
            unreachable.append(Unreachable(rule, covers))
        elif not rule.matches:
            catch_all = rule


# -- words -----------------------------------------------------------------------------
def rule_label(rule: RouteRule) -> str:
    """``http[2] ("reviews-v3")``."""
    label = f"{rule.protocol}[{rule.index}]"
    return f'{label} ("{rule.name}")' if rule.name else label


def match_label(rule: RouteRule, match: RequestMatch) -> str:
    if not rule.matches:
        return rule_label(rule)
    index = next((i for i, m in enumerate(rule.matches) if m is match), 0)
    return f"{rule_label(rule)} match[{index}]"


def _condition(sm: StringMatch) -> str:
    if sm.type is MatchType.PRESENT:
        text = "present"
    else:
        text = f"{sm.type.value} {sm.value!r}" + (" (any case)" if sm.ignore_case else "")
    return text


def describe(match: RequestMatch) -> str:
    """The conditions of a match as a phrase: ``uri prefix '/api', header x-user exact 'jason'``."""
    return ", ".join(_conditions(match)) or "every request"


def _pseudo_headers(match: RequestMatch) -> tuple[tuple[str, StringMatch | None], ...]:
    """The uri, then the conditions Istio turns into pseudo-header matches."""
    return (
        ("uri", match.path), ("authority", match.authority),
        ("method", match.method), ("scheme", match.scheme),
    )


def _conditions(match: RequestMatch) -> Iterator[str]:
    for label, sm in _pseudo_headers(match):
        if sm is not None:
            yield f"{label} {_condition(sm)}"
    for name, sm in match.headers:
        yield f"{'without header' if sm.invert else 'header'} {name} {_condition(sm)}"
    for name, sm in match.query_params:
        yield f"query {name} {_condition(sm)}"
    if match.port is not None:
        yield f"port {match.port}"
    if match.source_labels:
        yield "sourceLabels " + ",".join(f"{k}={v}" for k, v in sorted(match.source_labels.items()))
    if match.source_namespace is not None:
        yield f"sourceNamespace {match.source_namespace}"
    if match.gateways:
        yield "gateways " + ",".join(match.gateways)


def scope_phrase(match: RequestMatch) -> str:
    """Where a catch-all applies, when not everywhere: `` (for gateway x; port 80)``."""
    parts = []
    if match.gateways:
        parts.append(f"gateway{'s' if len(match.gateways) > 1 else ''} {', '.join(match.gateways)}")
    if match.port is not None:
        parts.append(f"port {match.port}")
    if match.source_labels or match.source_namespace is not None:
        parts.append("its sources")
    return f" (for {'; '.join(parts)})" if parts else ""
