"""A Wasm plugin URL uses a scheme Istio cannot fetch from.

## Why it matters
Istio loads Wasm modules from `oci://` registries, `http://` or `https://` servers
and `file://` paths (a URL without a scheme is read as an OCI image reference).
The CRD rejects any other scheme, such as `s3://` or `docker://`, so the
extension is never installed.

## Example
```yaml
kind: WasmPlugin
spec:
  url: docker://ghcr.io/acme/auth-filter:1.2.0
```

## Fix
Use `oci://ghcr.io/acme/auth-filter:1.2.0` (or the reference without a scheme),
or serve the module over HTTPS.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import strings

WASM_PLUGIN = "extensions.istio.io/WasmPlugin"
TRAFFIC_EXTENSION = "extensions.istio.io/TrafficExtension"

RULE = Rule(
    "MSH028",
    "invalid-plugin-url",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({WASM_PLUGIN, TRAFFIC_EXTENSION}),
)

SCHEMES = ("oci", "http", "https", "file")
URL_FIELDS = {WASM_PLUGIN: "spec.url", TRAFFIC_EXTENSION: "spec.wasm.url"}
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


def url_scheme(url: str) -> str | None:
    """The scheme of ``url`` when it is written ``scheme://...``, else None."""
    scheme, separator, _ = url.partition("://")
    if separator and scheme and scheme[0].isalpha() and set(scheme) <= _SCHEME_CHARS:
        return scheme.lower()
    return None


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    pattern = URL_FIELDS.get(doc.kind_key)
    if pattern is None:
        return
    for path, url in strings(doc.data, pattern):
        scheme = url_scheme(url)
        if scheme is not None and scheme not in SCHEMES:
            yield RULE.at(
                doc,
                path,
                f"url {url!r} has scheme {scheme!r}; Wasm modules load from "
                f"{', '.join(s + '://' for s in SCHEMES)} (no scheme means oci)",
            )
