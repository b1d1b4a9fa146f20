"""Request matches -> Envoy ``RouteMatch`` (envoy-translation.md §1.3).

>>> from meshctl.model.objects import MatchType, StringMatch
>>> string_match(StringMatch(MatchType.REGEX, "v[12]"))
{'safe_regex': {'regex': 'v[12]'}}
"""

from __future__ import annotations

from typing import Any

from meshctl.model.objects import MatchType, RequestMatch, StringMatch

Json = dict[str, Any]
JWT_FILTER = "envoy.filters.http.jwt_authn"
JWT_CLAIM_PREFIX = "@request.auth.claims"


def string_match(match: StringMatch) -> Json:
    """An Envoy StringMatcher; Istio regexes are RE2 and must match the whole value."""
    if match.type is MatchType.EXACT:
        return {"exact": match.value}
    if match.type is MatchType.PREFIX:
        return {"prefix": match.value}
    return {"safe_regex": {"regex": match.value}}


def _present(match: StringMatch) -> bool:
    """``{}`` and Istio's ``regex: "*"`` both mean "present", not a regular expression."""
    return match.type is MatchType.PRESENT or (match.type is MatchType.REGEX and match.value == "*")


def header_matcher(name: str, match: StringMatch) -> Json:
    out: Json = {"name": name}
    if _present(match):
        out["present_match"] = True
    else:
        out["string_match"] = string_match(match)
    if match.invert:
        out["invert_match"] = True
        if not _present(match):
            out["treat_missing_header_as_empty"] = True
    return out


def _claim_matcher(name: str, match: StringMatch) -> Json:
    """``@request.auth.claims.groups`` or ``[groups][admin]`` -> a jwt_authn payload matcher."""
    rest = name[len(JWT_CLAIM_PREFIX):]
    keys = [k for k in rest.replace("][", ".").strip(".[]").split(".") if k] if rest else []
    value: Json = {"present_match": True} if _present(match) else {"string_match": string_match(match)}
    return {
        "filter": JWT_FILTER,
        "path": [{"key": "payload"}] + [{"key": k} for k in keys],
        "value": {"list_match": {"one_of": value}},
        **({"invert": True} if match.invert else {}),
    }


def route_match(match: RequestMatch | None, *, segments: bool = False) -> Json:
    """The RouteMatch of one match (None: a rule without matches, ``prefix: /``).

    ``segments``: prefixes match whole path segments, as Gateway API's PathPrefix does
    (``/api`` matches ``/api/x``, not ``/apix``); Istio VirtualService prefixes do not.
    """
    if match is None:
        return {"prefix": "/"}
    out: Json = path_specifier(match.path, segments=segments)
    out["case_sensitive"] = not (match.path is not None and match.path.ignore_case)
    user = sorted((item for item in match.headers if not item[0].startswith(JWT_CLAIM_PREFIX)), key=lambda i: i[0])
    headers = [header_matcher(n, m) for n, m in user]
    for name, value in ((":method", match.method), (":authority", match.authority), (":scheme", match.scheme)):
        if value is not None:
            headers.append(header_matcher(name, value))
    if headers:
        out["headers"] = headers
    if match.query_params:
        out["query_parameters"] = [_query_matcher(n, m) for n, m in match.query_params]
    claims = [_claim_matcher(n, m) for n, m in match.headers if n.startswith(JWT_CLAIM_PREFIX)]
    if claims:
        out["dynamic_metadata"] = claims
    return out


def path_specifier(path: StringMatch | None, *, segments: bool = False) -> Json:
    if path is None or path.type is MatchType.PRESENT:
        return {"prefix": "/"}
    if path.type is MatchType.EXACT:
        return {"path": path.value}
    if path.type is MatchType.PREFIX:
        trimmed = path.value.rstrip("/")
        if segments and trimmed:  # Envoy wants it without the trailing slash; "/" stays a prefix
            return {"path_separated_prefix": trimmed}
        return {"prefix": path.value}
    return {"safe_regex": {"regex": path.value}}


def _query_matcher(name: str, match: StringMatch) -> Json:
    if _present(match):
        return {"name": name, "present_match": True}
    return {"name": name, "string_match": string_match(match)}


def is_catch_all(envoy_match: Json) -> bool:
    """Pilot's catch-all test: path ``/`` (prefix or ``.*`` regex) and nothing else to match."""
    path_all = envoy_match.get("prefix") == "/" or envoy_match.get("safe_regex", {}).get("regex") == ".*"
    return path_all and not any(k in envoy_match for k in ("headers", "query_parameters", "dynamic_metadata"))


def operation_path(match: RequestMatch | None) -> str:
    """The path part of the route decorator: ``<prefix>*``, the exact path, the regex, or ``/*``."""
    path = match.path if match is not None else None
    if path is None or path.type is MatchType.PRESENT:
        return "/*"
    if path.type is MatchType.PREFIX:
        return f"{path.value}*"
    return path.value
