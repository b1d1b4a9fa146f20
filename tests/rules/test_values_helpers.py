"""The pure helpers behind the Istio value checks (MSH020-MSH031), and the checks'
robustness on shapes the schema rejects."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshctl.load.document import SourceDoc
from meshctl.load.reader import read_text
from meshctl.rules.registry import all_rules
from meshctl.rules.values._hostnames import (
    fqdn_problem,
    matches,
    subset_of,
    wildcard_domain_problem,
)
from meshctl.rules.values._walk import find
from meshctl.rules.values.msh021_invalid_duration import parse_go_duration
from meshctl.rules.values.msh022_invalid_regex import regex_problem
from meshctl.rules.values.msh023_invalid_host import namespaced_host_problem
from meshctl.rules.values.msh024_invalid_port import endpoint_port_name_problem, protocol_problem
from meshctl.rules.values.msh025_invalid_label_selector import (
    label_key_problem,
    label_value_problem,
)
from meshctl.rules.values.msh027_invalid_jwt_rule import jwks_uri_problem
from meshctl.rules.values.msh028_invalid_plugin_url import url_scheme
from meshctl.rules.values.msh029_invalid_workload_address import (
    ip_or_cidr_problem,
    unix_address_problem,
)
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker

CASES = Path(__file__).resolve().parent.parent / "schemas" / "cases" / "istio-values"
OUR_CODES = {f"MSH0{n}" for n in (20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31)}


# -- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("1h2m3.5s", 3723.5),
        ("300ms", 0.3),
        ("1.5us", 1.5e-6),
        ("1.5\u00b5s", 1.5e-6),  # micro sign
        ("1.5\u03bcs", 1.5e-6),  # Greek mu
        ("10ns", 1e-8),
        ("1000us", 0.001),
        ("0.999ms", 0.000999),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("0", 0.0),
        ("-2s", -2.0),
        ("+1m", 60.0),
        ("2562047h47m16.854775807s", 9223372036.854775807),  # Go's largest duration
    ],
)
def test_go_durations_parse_as_go_reads_them(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5",
        "5sec",
        "1d",
        "s",
        ".s",
        "1e3s",
        "1.5.5s",
        "1s2",
        "+",
        " 1s",
        "1 s",
        "\u00b2s",
        "2562047h47m16.854775808s",
        "9999999999h",
    ],
)
def test_go_rejects_these_durations(text: str) -> None:
    assert parse_go_duration(text) is None


def test_fractions_truncate_to_whole_nanoseconds_as_in_go() -> None:
    assert parse_go_duration("1.9999ns") == pytest.approx(1e-9)


def _findings(yaml_text: str) -> list[tuple[str, str]]:
    checker = DocumentChecker(Catalog.default())
    out = []
    for doc in read_text(yaml_text, "test.yaml").docs:
        for f in checker.check(doc).findings:
            out.append((f.code, f.location.path if f.location else ""))
    return out


VS_WITH_TIMEOUT = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: t, namespace: shop}
spec:
  hosts: [cart]
  http:
  - route:
    - destination: {host: cart}
    timeout: %s
"""


@pytest.mark.parametrize("value", ['"0"', '"-1s"', "5", '"5sec"'])
def test_a_bad_duration_syntax_is_reported_once(value: str) -> None:
    assert _findings(VS_WITH_TIMEOUT % value) == [("MSH021", "spec.http[0].timeout")]


@pytest.mark.parametrize("value,count", [("0s", 1), ("0.5ms", 1), ("1ms", 0), ("1.5s", 0)])
def test_the_minimum_is_one_millisecond(value: str, count: int) -> None:
    assert _findings(VS_WITH_TIMEOUT % value) == [("MSH021", "spec.http[0].timeout")] * count


# -- regexes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d+",
        r"^/api/v[0-9]+/.*$",
        r"(?i)abc",
        r"(?P<name>\w+)",
        r"[[:alpha:]]",
        r"\pL+",
        r"a{2,5}?",
        r"\Q*\E",
        r"(a)\10",
        "x" * 1024,
        "é" * 512,
        r"\\C",
    ],
)
def test_re2_patterns_are_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    "pattern,says",
    [
        ("(?=a)", "(?= lookahead is not supported by RE2"),
        ("(?!a)", "(?! negative lookahead"),
        ("(?<=a)b", "(?<= lookbehind"),
        ("(?<!a)b", "(?<! negative lookbehind"),
        ("(?>a)", "(?> atomic group"),
        (r"(a)\1", r"backreference \1"),
        (r"(?<n>a)\k<n>", r"\k named backreference"),
        ("(?P=n)", "(?P= named backreference"),
        ("a++", "possessive"),
        ("*", "no argument for repetition operator"),
        ("[a-", "missing ]"),
        ("a{1001}", "invalid repetition size"),
        ("", "empty regex"),
        ("x" * 1025, "1025 bytes long; Istio allows at most 1024"),
        ("é" * 513, "1026 bytes long"),
        (r"a\Cb", r"\C (any single byte)"),
        ("\ud800", "not valid UTF-8"),
    ],
)
def test_non_re2_patterns_are_explained(pattern: str, says: str) -> None:
    problem = regex_problem(pattern)
    assert problem is not None and says in problem


def test_a_pathological_pattern_is_checked_without_backtracking() -> None:
    # Compiling is all RE2 does here; a backtracking engine would not even be involved.
    assert regex_problem("(a+)+$" * 100) is None


# -- hosts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "*",
        "*.example.com",
        "reviews",
        "reviews.default.svc.cluster.local",
        "*foo.example.com",
        "*-foo.example.com",
        "example.com.",
        "UPPER.example.com",
        "a" * 63 + ".com",
    ],
)
def test_wildcard_domains_istio_accepts(host: str) -> None:
    assert wildcard_domain_problem(host) is None


@pytest.mark.parametrize(
    "host,says",
    [
        ("", "empty"),
        ("api.*.example.com", "only appear in the first label"),
        ("api*.example.com", "a wildcard must be '*' or start the label"),
        ("10.0.0.1", "all digits"),
        ("under_score.example.com", "'under_score' is not a DNS label"),
        ("-lead.example.com", "'-lead' is not a DNS label"),
        ("a..b", "'' is not a DNS label"),
        ("a" * 64 + ".com", "is not a DNS label"),
        ("a." * 128, "characters long"),
    ],
)
def test_wildcard_domains_istio_rejects(host: str, says: str) -> None:
    problem = wildcard_domain_problem(host)
    assert problem is not None and says in problem


def test_fqdns_have_no_wildcard() -> None:
    assert fqdn_problem("api.example.com") is None
    assert fqdn_problem("*.example.com") == "it has a wildcard"


@pytest.mark.parametrize(
    "a,b,overlap",
    [
        ("foo.com", "foo.com", True),
        ("*.com", "foo.com", True),
        ("foo.com", "*.com", True),
        ("*", "*.com", True),
        ("*.foo.com", "*.com", True),
        ("*.foo.com", "*.bar.com", False),
        ("foo.com", "bar.com", False),
    ],
)
def test_host_overlap_follows_istio(a: str, b: str, overlap: bool) -> None:
    assert matches(a, b) is overlap
    assert matches(b, a) is overlap


@pytest.mark.parametrize(
    "host,other,inside",
    [
        ("a.example.com", "*.example.com", True),
        ("*.a.example.com", "*.example.com", True),
        ("*.example.com", "*.a.example.com", False),
        ("*.example.com", "a.example.com", False),
        ("a.example.com", "a.example.com", True),
        ("anything", "*", True),
    ],
)
def test_host_subsets(host: str, other: str, inside: bool) -> None:
    assert subset_of(host, other) is inside


@pytest.mark.parametrize(
    "host,gateway,ok",
    [
        ("*", True, True),
        ("shop/*.example.com", True, True),
        ("./api.example.com", True, True),
        ("192.0.2.1", True, True),
        ("shop", True, False),  # short name
        ("/api.example.com", True, False),
        ("~/api.example.com", True, False),
        ("~/*", False, True),
        ("./*", False, True),
        ("api.example.com", False, False),  # Sidecar: namespace required
        ("./192.0.2.1", False, False),
        ("Bad_NS/*", False, False),
    ],
)
def test_namespaced_hosts(host: str, gateway: bool, ok: bool) -> None:
    assert (namespaced_host_problem(host, gateway=gateway) is None) is ok


# -- ports, labels, URLs, addresses --------------------------------------------------------


def test_protocols_are_case_insensitive_and_known() -> None:
    assert protocol_problem("grpc-web") is None
    assert protocol_problem("HTTP2") is None
    problem = protocol_problem("HTTPX")
    assert problem is not None and "'HTTPX'" in problem and "HTTPS" in problem


def test_endpoint_port_names_are_short_dns_labels() -> None:
    assert endpoint_port_name_problem("http-web") is None
    assert endpoint_port_name_problem("a" * 62) is None
    assert endpoint_port_name_problem("a" * 63) is not None
    assert endpoint_port_name_problem("http_web") is not None


@pytest.mark.parametrize(
    "key,ok",
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("a_b.c-d", True),
        ("a" * 63, True),
        ("", False),
        ("app*", False),
        ("a" * 64, False),
        ("Example.com/app", False),
        ("example.com/", False),
        ("/app", False),
        ("-app", False),
        ("a/b/c", False),
    ],
)
def test_label_keys(key: str, ok: bool) -> None:
    assert (label_key_problem(key) is None) is ok


@pytest.mark.parametrize(
    "value,ok", [("", True), ("v1.2_x", True), ("*", False), ("a b", False), ("-v", False)]
)
def test_label_values(value: str, ok: bool) -> None:
    assert (label_value_problem(value) is None) is ok


def test_wildcards_in_labels_are_named_as_such() -> None:
    assert "'*'" in (label_key_problem("app*") or "")
    assert "'*'" in (label_value_problem("v*") or "")


@pytest.mark.parametrize(
    "uri,says",
    [
        ("https://auth.example.com/jwks.json", None),
        ("HTTP://keys.internal:8080/jwks", None),
        ("auth.example.com/jwks.json", "no scheme"),
        ("ftp://auth.example.com/jwks.json", "scheme 'ftp'"),
        ("https:///jwks.json", "no host"),
        ("https://auth.example.com:https/jwks", "not a valid URL"),
    ],
)
def test_jwks_uris(uri: str, says: str | None) -> None:
    problem = jwks_uri_problem(uri)
    assert problem is None if says is None else (problem is not None and says in problem)


@pytest.mark.parametrize(
    "url,scheme",
    [
        ("oci://ghcr.io/a/b:1", "oci"),
        ("HTTPS://x/y.wasm", "https"),
        ("s3://bucket/x", "s3"),
        ("ghcr.io/a/b:1", None),
        ("localhost:5000/a/b", None),
        ("://x", None),
    ],
)
def test_plugin_url_schemes(url: str, scheme: str | None) -> None:
    assert url_scheme(url) == scheme


def test_unix_socket_addresses() -> None:
    assert unix_address_problem("unix:///var/run/a.sock") is None
    assert unix_address_problem("unix://@abstract") is None
    assert "absolute path" in (unix_address_problem("unix://var/run/a.sock") or "")
    assert "directory" in (unix_address_problem("unix:///var/run/") or "")


def test_service_entry_addresses() -> None:
    assert ip_or_cidr_problem("10.0.0.0/8") is None
    assert ip_or_cidr_problem("10.0.0.1/8") is None  # host bits set: accepted, as by Go
    assert ip_or_cidr_problem("2001:db8::/32") is None
    assert ip_or_cidr_problem("db.example.com") is not None
    assert ip_or_cidr_problem("10.0.0.0/33") is not None


# -- traversal and robustness ------------------------------------------------------------


def test_find_skips_every_shape_it_does_not_expect() -> None:
    data = {"spec": {"http": [{"match": [{"headers": {"a": 1}}, "oops"]}, None, 7]}}
    assert list(find(data, "spec.http[].match[].headers{}")) == [
        (("spec", "http", 0, "match", 0, "headers", "a"), 1)
    ]
    assert list(find({"spec": []}, "spec.http[]")) == []
    assert list(find("text", "spec")) == []


GARBAGE: tuple[Any, ...] = (
    None,
    0,
    -1,
    True,
    "x",
    "",
    [],
    {},
    [None],
    [1, "a"],
    {"": None},
    {"k": []},
)


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _nodes(value, (*path, index))


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def _case_docs() -> list[SourceDoc]:
    docs: list[SourceDoc] = []
    for path in sorted(CASES.glob("*/*.yaml")):
        docs.extend(read_text(path.read_text(encoding="utf-8"), path.name).docs)
    return docs


def test_checks_never_raise_on_shapes_the_schema_rejects() -> None:
    rules = [r for r in all_rules() if r.code in OUR_CODES and r.check_fn is not None]
    assert len(rules) == len(OUR_CODES)
    docs = _case_docs()
    assert len(docs) > 50
    runs = 0
    for doc in docs:
        applicable = [r for r in rules if doc.kind_key in r.kinds]
        for node_path in _nodes(doc.data.get("spec"), ("spec",)):
            for junk in GARBAGE:
                mutated = SourceDoc(
                    doc.file, doc.index, _replaced(doc.data, node_path, junk), doc.node
                )
                for rule in applicable:
                    assert rule.check_fn is not None
                    list(rule.check_fn(mutated))
                    runs += 1
    assert runs > 10_000
