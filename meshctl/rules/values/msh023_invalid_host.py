"""A host name is not in the form its field accepts.

## Why it matters
Istio's webhook rejects the resource. Hosts are DNS names whose first label alone
may be a wildcard (`*.example.com`, `*`). Beyond that each field has its own form:
a Gateway server host and a Sidecar egress host are `namespace/FQDN` (`*/`, `./`,
and for Gateways the namespace may be left out, but short names are not allowed);
a ServiceEntry host may not be `*`, and with `resolution: DNS` and no endpoints it
may not be a wildcard at all; a route destination may not be `*`; a VirtualService
bound to the mesh may not claim `*` nor list overlapping hosts; a TLS route's
`sniHosts` must fall within the VirtualService's hosts.

## Example
```yaml
kind: Sidecar
spec:
  egress:
  - hosts:
    - "istio-system"              # not namespace/host
    - "./api.*.example.com"       # wildcard not in the first label
```

## Fix
Write `istio-system/*` or `./*.example.com`; keep wildcards to the first label;
name destinations by their service host (`reviews.default.svc.cluster.local`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._hostnames import (
    fqdn_problem,
    is_dns1123_label,
    is_ip,
    matches,
    subset_of,
    wildcard_domain_problem,
)
from meshctl.rules.values._walk import items, mapping, strings

VIRTUAL_SERVICE = "networking.istio.io/VirtualService"
GATEWAY = "networking.istio.io/Gateway"
SIDECAR = "networking.istio.io/Sidecar"
DESTINATION_RULE = "networking.istio.io/DestinationRule"
SERVICE_ENTRY = "networking.istio.io/ServiceEntry"

RULE = Rule(
    "MSH023",
    "invalid-host",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({VIRTUAL_SERVICE, GATEWAY, SIDECAR, DESTINATION_RULE, SERVICE_ENTRY}),
)

DESTINATIONS = (
    "spec.http[].route[].destination.host",
    "spec.http[].mirror.host",
    "spec.http[].mirrors[].destination.host",
    "spec.tcp[].route[].destination.host",
    "spec.tls[].route[].destination.host",
)
DNS_RESOLUTIONS = ("DNS", "DNS_ROUND_ROBIN")


def namespaced_host_problem(text: str, *, gateway: bool) -> str | None:
    """Why ``text`` is not a Gateway server host or Sidecar egress host, or None.

    Both are ``namespace/host`` with namespace ``*``, ``.`` or a name (``~`` too for a
    Sidecar); a Gateway may also give the host alone. The host is ``*`` or a name with a
    dot (short names are not allowed), optionally wildcarded; a Gateway may use an IP.
    """
    namespace, slash, host = text.partition("/")
    if not slash:
        if not gateway:
            return "a Sidecar egress host must be written namespace/host (for example ./* or istio-system/*)"
        namespace, host = "", text
    elif not namespace or not host:
        return "neither the namespace nor the host of namespace/host may be empty"
    special = ("*", ".") if gateway else ("*", ".", "~")
    if slash and namespace not in special and not is_dns1123_label(namespace):
        return f"namespace {namespace!r} is not {_listed(special)} or a namespace name"
    if host != "*" and "." not in host:
        return f"host {host!r} is a short name; write the full domain name (with a dot) or '*'"
    problem = wildcard_domain_problem(host)
    if problem and not (gateway and is_ip(host)):
        return f"host {host!r} is invalid: {problem}"
    return None


def _listed(values: tuple[str, ...]) -> str:
    quoted = [repr(v) for v in values]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    kind = doc.kind_key
    if kind == VIRTUAL_SERVICE:
        yield from _virtual_service(doc)
    elif kind == GATEWAY:
        for path, host in strings(doc.data, "spec.servers[].hosts[]"):
            problem = namespaced_host_problem(host, gateway=True)
            if problem:
                yield RULE.at(doc, path, f"server host {host!r}: {problem}")
    elif kind == SIDECAR:
        for path, host in strings(doc.data, "spec.egress[].hosts[]"):
            problem = namespaced_host_problem(host, gateway=False)
            if problem:
                yield RULE.at(doc, path, f"egress host {host!r}: {problem}")
    elif kind == DESTINATION_RULE:
        for path, host in strings(doc.data, "spec.host"):
            problem = wildcard_domain_problem(host)
            if problem:
                yield RULE.at(doc, path, f"host {host!r} is not a valid service host: {problem}")
    elif kind == SERVICE_ENTRY:
        yield from _service_entry(doc)


def _virtual_service(doc: SourceDoc) -> Iterator[Finding]:
    spec = mapping(doc.data.get("spec"))
    gateways = items(spec.get("gateways"))
    bound_to_mesh = not gateways or "mesh" in gateways
    hosts = list(strings(doc.data, "spec.hosts[]"))
    all_valid = True
    for path, host in hosts:
        problem = wildcard_domain_problem(host)
        if problem and not is_ip(host):
            all_valid = False
            yield RULE.at(doc, path, f"host {host!r} is invalid: {problem}")
        elif host == "*" and bound_to_mesh:
            all_valid = False
            yield RULE.at(
                doc,
                path,
                "host '*' is not allowed in a VirtualService that applies to the mesh "
                "(no gateways, or 'mesh' among them)",
            )
    if all_valid:
        yield from _overlapping(doc, hosts)
    for pattern in DESTINATIONS:
        for path, host in strings(doc.data, pattern):
            yield from _destination(doc, path, host)
    names = [host for _, host in hosts]
    for path, sni in strings(doc.data, "spec.tls[].match[].sniHosts[]"):
        yield from _sni_host(doc, path, sni, names)


def _overlapping(doc: SourceDoc, hosts: list[tuple[FieldPath, str]]) -> Iterator[Finding]:
    for j, (path, later) in enumerate(hosts):
        for _, earlier in hosts[:j]:
            if matches(earlier, later):
                how = "repeats" if earlier == later else "overlaps"
                yield RULE.at(
                    doc, path, f"host {later!r} {how} host {earlier!r} of the same VirtualService"
                )
                break


def _destination(doc: SourceDoc, path: FieldPath, host: str) -> Iterator[Finding]:
    if host == "*":
        yield RULE.at(doc, path, "destination host '*' is not allowed; name the service host")
        return
    problem = wildcard_domain_problem(host)
    if problem:
        hint = " (an IP address is not a service host; use a ServiceEntry)" if is_ip(host) else ""
        yield RULE.at(doc, path, f"destination host {host!r} is invalid: {problem}{hint}")


def _sni_host(doc: SourceDoc, path: FieldPath, sni: str, hosts: list[str]) -> Iterator[Finding]:
    problem = wildcard_domain_problem(sni)
    if problem:
        if not is_ip(sni):
            yield RULE.at(doc, path, f"sniHosts entry {sni!r} is invalid: {problem}")
        return
    if hosts and not any(subset_of(sni, host) for host in hosts):
        yield RULE.at(
            doc,
            path,
            f"sniHosts entry {sni!r} is not within the VirtualService hosts ({', '.join(hosts)})",
        )


def _service_entry(doc: SourceDoc) -> Iterator[Finding]:
    spec = mapping(doc.data.get("spec"))
    dns_without_endpoints = spec.get("resolution") in DNS_RESOLUTIONS and not items(
        spec.get("endpoints")
    )
    for path, host in strings(doc.data, "spec.hosts[]"):
        if host == "*":
            yield RULE.at(doc, path, "a ServiceEntry host may not be '*'")
            continue
        problem = wildcard_domain_problem(host)
        if problem:
            yield RULE.at(doc, path, f"host {host!r} is invalid: {problem}")
        elif dns_without_endpoints and fqdn_problem(host):
            yield RULE.at(
                doc,
                path,
                f"host {host!r} is a wildcard, but resolution {spec.get('resolution')} "
                "without endpoints resolves the hosts themselves: list plain domain names "
                "or add endpoints",
            )
