"""Where the order a controller tries paths in differs from the translation's, reported.

Gateway API (and so the translation) picks the exact path, else the longest prefix. Istio's
ingress controller sorts a host's paths by written length instead (``istio_shadowed``: the
paths it never reaches are left out, to keep its routing), and Istio tries every PathPrefix
before a regular expression (``regex_behind_prefixes``: the expressions a prefix takes
requests from are named).
"""

from __future__ import annotations

from meshctl.emit.ingress.reading import Reading
from meshctl.emit.ingress.rules import REGEX_CHARS, is_https_redirect
from meshctl.emit.losses import Losses
from meshctl.lower.ingress import (
    is_default_backend,
    routes_of,
)
from meshctl.model.objects import (
    MatchType,
    Route,
    RouteRule,
)
from meshctl.model.origin import Origin


def istio_shadowed(losses: Losses, readings: list[Reading], index: dict[int, list[Route]]) -> set[Origin]:
    """The paths Istio's ingress controller never reaches: it orders the paths of a host (from
    all its Ingresses) by written length, so a Prefix ``/p/`` (or ``/p/*``) comes before, and
    takes every request of, an exact or Prefix ``/p``, which Kubernetes precedence would pick.
    They are left out, reported, so the translation routes as Istio does."""
    by_host: dict[str, list[tuple[RouteRule, str]]] = {}
    for reading in readings:
        if reading.controller != "istio":
            continue
        for route in routes_of(index, reading.ingress):
            if not is_default_backend(route):
                by_host.setdefault(route.hosts[0] if route.hosts else "*", []).extend(
                    (rule, f"Ingress/{route.namespace}/{reading.ingress.name}") for rule in route.rules)
    out: set[Origin] = set()
    for host, rules in by_host.items():
        longest: dict[str, tuple[int, str, str]] = {}  # prefix stem -> its longest written path, and where
        for other, source in rules:
            o_written, o_prefix, o_stem = _istio_path(other)
            if o_prefix and len(o_written) > longest.get(o_stem, (-1, "", ""))[0]:
                longest[o_stem] = (len(o_written), o_written, source)
        for rule, _ in rules:
            written, _, stem = _istio_path(rule)
            covering = [longest[a] for a in _ancestors(stem) if a in longest]
            taker = max(covering, default=None, key=lambda c: c[0])
            if taker is not None and taker[0] > len(written):
                losses.dropped(rule.origin, f"Istio orders the paths of host {host} by written length: "
                               f"{taker[1]!r} of {taker[2]} comes first and takes every request of this path; "
                               "not translated, to keep that")
                out.add(rule.origin)
    return out


def _ancestors(stem: str) -> list[str]:
    """The prefix stems that cover ``stem``: ``""``, each of its leading segments, itself."""
    return ["", *(stem[:i] for i, c in enumerate(stem) if c == "/" and i > 0), stem]


def _istio_path(rule: RouteRule) -> tuple[str, bool, str]:
    """(the path as written, whether Istio reads it as a prefix, its exact path or prefix stem)."""
    match = rule.matches[0] if rule.matches else None
    if match is None or match.path is None:
        return "", True, ""
    value = match.path.value
    if match.path_type == "Prefix":
        return value, True, value.rstrip("/")
    if match.path_type == "ImplementationSpecific" and value.endswith(("/*", ".*")):
        return value, True, value[:-2]
    return value, False, value


def regex_behind_prefixes(losses: Losses, routes: list[Route]) -> None:
    """ingress-nginx tries a host's regular expression paths longest first, before a shorter ``/``;
    Istio (and Gateway API implementations that rank RegularExpression last) tries every PathPrefix
    of the host first. Report each expression a PathPrefix of its host (the default backend's
    catch-all, ``/``, a shorter stem) takes requests from."""
    stems: dict[tuple[str, str], set[str]] = {}
    for route in routes:
        if is_https_redirect(route):
            continue
        for rule in route.rules:
            for match in rule.matches or (None,):
                if match is None or not match.headers and (match.path is None or match.path.type is MatchType.PREFIX):
                    stem = "" if match is None or match.path is None else match.path.value.rstrip("/")
                    stems.setdefault((route.namespace, route.hosts[0] if route.hosts else "*"), set()).add(stem)
    for route in routes:
        for rule in route.rules:
            for match in rule.matches:
                if match.path is None or match.path.type is not MatchType.REGEX:
                    continue
                written = match.path.value.removeprefix("(?i)").removeprefix("^")
                literal = REGEX_CHARS.split(written, maxsplit=1)[0]
                hiding = sorted(s for s in stems.get((route.namespace, route.hosts[0] if route.hosts else "*"), ())
                                if literal == s or literal.startswith(s + "/"))
                if hiding:
                    losses.approximated(match.origin.at("path"), f"PathPrefix {hiding[-1] or '/'!r} of this host "
                                        "comes first in Istio (every PathPrefix is tried before a regular expression), "
                                        "so it takes the requests this path matches; ingress-nginx tried the longer "
                                        "expression first")
