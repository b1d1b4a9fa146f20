"""A regular expression is not valid RE2, the syntax Istio and Envoy use.

## Why it matters
Istio's webhook compiles every `regex` with Go's RE2 engine, and Envoy compiles it
again with RE2. RE2 has no lookahead, lookbehind, backreferences, atomic groups or
possessive quantifiers (it matches in linear time because of that), so a pattern
written for PCRE, Java or JavaScript is rejected and the VirtualService never
applies. Istio also rejects an empty regex and one longer than 1024 bytes.

## Example
```yaml
http:
- match:
  - headers:
      cookie:
        regex: "^(?=.*beta=1).*$"     # lookahead
  route:
  - destination: {host: cart, subset: v2}
```

## Fix
Rewrite the pattern without the unsupported construct (here `^.*beta=1.*$`), or
use `exact` / `prefix` when no pattern is needed.
"""

from __future__ import annotations

from collections.abc import Iterator

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import find, mapping, strings

RULE = Rule(
    "MSH022",
    "invalid-regex",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({"networking.istio.io/VirtualService"}),
)

MAX_BYTES = 1024

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

# What RE2 calls the fragment it stopped at -> what the construct is.
_UNSUPPORTED = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?>", "atomic group"),
    ("(?#", "inline comment"),
    ("\\k", "named backreference"),
    ("\\g", "backreference"),
)

# StringMatch fields of an HTTP match; the ones keyed by header or parameter name treat
# a bare "*" as "present" (Istio translates it so), so it is not checked as a pattern there.
_SINGLE_MATCHES = ("uri", "scheme", "method", "authority")
_KEYED_MATCHES = ("headers", "queryParams", "withoutHeaders")


def regex_problem(pattern: str) -> str | None:
    """Why Istio and Envoy reject ``pattern`` as a regex, or None when both accept it."""
    if not pattern:
        return "an empty regex is not allowed"
    try:
        size = len(pattern.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid UTF-8"
    if size > MAX_BYTES:
        return f"it is {size} bytes long; Istio allows at most {MAX_BYTES}"
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        return _explain(_error_text(exc))
    if _has_any_byte_escape(pattern):
        return "\\C (any single byte) is rejected by Go's regexp, which Istio's webhook uses"
    return None


def _error_text(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


def _explain(error: str) -> str:
    _, _, fragment = error.partition(": ")
    if fragment == "(?P":
        return "(?P= named backreference (or (?P> recursion) is not supported by RE2"
    for prefix, construct in _UNSUPPORTED:
        if fragment.startswith(prefix):
            return f"{prefix} {construct} is not supported by RE2"
    if error.startswith("invalid escape sequence") and fragment[1:2].isdigit():
        return f"backreference {fragment} is not supported by RE2"
    if error.startswith("bad repetition operator"):
        return f"{fragment} (a possessive or doubled quantifier) is not supported by RE2"
    return f"RE2 rejects it: {error}"


def _has_any_byte_escape(pattern: str) -> bool:
    """Whether ``pattern`` uses ``\\C``: C++ RE2 (Envoy) takes it, Go's RE2 (Istio) does not."""
    index = 0
    while index < len(pattern) - 1:
        if pattern[index] == "\\":
            following = pattern[index + 1]
            if following == "C":
                return True
            if following == "Q":
                end = pattern.find("\\E", index + 2)
                if end < 0:
                    return False
                index = end
            index += 2
        else:
            index += 1
    return False


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for route_path, route in find(doc.data, "spec.http[]"):
        for path, match in find(route, "match[]", route_path):
            for field in _SINGLE_MATCHES:
                yield from _string_match(doc, (*path, field), mapping(match).get(field))
            for field in _KEYED_MATCHES:
                for key_path, value in find(match, f"{field}{{}}", path):
                    if mapping(value).get("regex") != "*":
                        yield from _string_match(doc, key_path, value)
        for path, origin in find(route, "corsPolicy.allowOrigins[]", route_path):
            yield from _string_match(doc, path, origin)
        for path, pattern in strings(route, "rewrite.uriRegexRewrite.match", route_path):
            problem = regex_problem(pattern)
            if problem:
                yield RULE.at(
                    doc, path, f"uriRegexRewrite.match {_shown(pattern)} is invalid: {problem}"
                )


def _string_match(doc: SourceDoc, path: tuple[str | int, ...], match: object) -> Iterator[Finding]:
    pattern = mapping(match).get("regex")
    if not isinstance(pattern, str):
        return
    problem = regex_problem(pattern)
    if problem:
        yield RULE.at(doc, (*path, "regex"), f"regex {_shown(pattern)} is invalid: {problem}")


def _shown(pattern: str) -> str:
    return repr(pattern) if len(pattern) <= 80 else repr(pattern[:77] + "...")
