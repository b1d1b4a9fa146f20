"""An HTTPRoute path match is not a clean absolute path, or not a valid RE2 regex.

## Why it matters
`Exact` and `PathPrefix` matches (PathPrefix is the default type) compare against the
normalized request path, so the API server only accepts values that normalization
cannot change: starting with `/`, without `//`, `/./`, `/../`, an encoded slash
(`%2f`), a fragment (`#`) or a trailing `/.` or `/..`, and made of URL path
characters. A `RegularExpression` value that RE2 (the regex engine of Envoy-based
implementations) cannot compile makes the route fail to program.

## Example
```yaml
matches:
- path:
    type: PathPrefix
    value: api/v1        # no leading slash
- path:
    type: RegularExpression
    value: /user/(?=[0-9]+)  # lookahead: not RE2
```

## Fix
Write the path as the client sends it after normalization (`/api/v1`); use RE2
syntax for regular expressions (no lookaround or backreferences).
"""

import re
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import entries, kinds, rules, text
from meshctl.rules.values.msh022_invalid_regex import regex_problem

RULE = Rule("MSH044", "invalid-path-match", Severity.ERROR, __doc__, kinds=kinds("HTTPRoute"))

PATH_CHARS = re.compile(r"(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+")
FORBIDDEN = ("//", "/./", "/../", "%2f", "%2F", "#")
FORBIDDEN_ENDINGS = ("/..", "/.")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for rule_path, rule in rules(doc):
        for index, match in entries(rule.get("matches")):
            path = match.get("path")
            if not isinstance(path, dict):
                continue  # absent: the default PathPrefix "/"
            value = path.get("value", "/")
            if not isinstance(value, str):
                continue
            path_type = text(path.get("type"), "PathPrefix")
            where = (*rule_path, "matches", index, "path", "value")
            if path_type in ("Exact", "PathPrefix"):
                problem = path_problem(value)
                if problem:
                    yield RULE.at(doc, where, f"{path_type} path {value!r} {problem}")
            elif path_type == "RegularExpression" and value:
                error = regex_problem(value)
                if error:
                    yield RULE.at(doc, where, f"path regex {value!r} is invalid: {error}")


def path_problem(value: str) -> str | None:
    """What is wrong with an Exact or PathPrefix path value, or None."""
    if not value.startswith("/"):
        return "must be an absolute path starting with '/'"
    for part in FORBIDDEN:
        if part in value:
            return f"must not contain {part!r}"
    for ending in FORBIDDEN_ENDINGS:
        if value.endswith(ending):
            return f"must not end with {ending!r}"
    if not PATH_CHARS.fullmatch(value):
        bad = "".join(sorted(set(PATH_CHARS.sub("", value)) - {"%"}))
        if bad:
            return f"has characters a URL path must percent-encode: {bad!r}"
        return "has a '%' that does not start a %XX escape (write '%25')"
    return None
