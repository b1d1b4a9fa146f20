"""AuthorizationPolicy -> Envoy RBAC filters on a workload's inbound side, as Istio builds them.

Before::

    AuthorizationPolicy deny-admin.default  DENY  selector {app: reviews}
      rules: [{to: [{operation: {paths: ["/admin*"]}}]}]

After (``http_rbac_filters(build, reviews, 9080)``)::

    [{"name": "envoy.filters.http.rbac",
      "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        "rules": {"action": "DENY", "policies": {"ns[default]-policy[deny-admin]-rule[0]": {
          "permissions": [{"and_rules": {"rules": [
              {"or_rules": {"rules": [{"url_path": {"path": {"prefix": "/admin"}}}]}}]}}],
          "principals": [{"and_ids": {"ids": [{"any": true}]}}]}}}}}]

What Istio does (``pilot/pkg/security/authz/builder``, ``authz/model``, ``authz/matcher``):

* The policies of the root namespace and of the workload's namespace whose selector (or
  targetRef) picks the workload apply. One filter per action, in this order: AUDIT
  (Envoy ``LOG``), DENY, ALLOW; each only when some policy of that action applies. CUSTOM
  needs an ext_authz provider, which a static bootstrap does not have: it is a loss.
* Every rule ``i`` of a policy becomes the RBAC policy ``ns[NS]-policy[NAME]-rule[i]``;
  a policy without rules becomes rule 0 that never matches (ALLOW: allow-nothing; DENY:
  denies nothing). ``istio.io/dry-run: "true"`` policies go to ``shadow_rules`` (stat
  prefix ``istio_dry_run_allow_``/``istio_dry_run_deny_``); a filter with only dry-run
  policies enforces nothing.
* A rule is permissions (one ``and_rules`` per ``to``) and principals (one ``and_ids`` per
  ``from``); inside, a field's values are OR-ed, its ``not*`` values are a NOT of an OR,
  an empty list is ``any``; ``when`` conditions are AND-ed into every entry (destination
  ones into permissions, the others into principals).
* Values become matchers: ``x*`` prefix, ``*x`` suffix, ``*`` any non-empty value; source
  principals get ``spiffe://`` (and the mesh trust domain for ``cluster.local``);
  namespaces and service accounts are regexes on the peer certificate's URI SAN.
* On a TCP port the HTTP-only attributes (paths, methods, hosts, request principals,
  ``request.*`` conditions) cannot be checked: an ALLOW rule using one is skipped (it can
  only deny more), a DENY or AUDIT rule ignores it (it matches more). Both are reported.
* ``request.auth.*`` and request principals match the JWT payload that Envoy's
  ``jwt_authn`` filter stores in dynamic metadata; the output has no such filter
  (RequestAuthentication is not translated), so they never match: reported.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.values import RBAC_HTTP, RBAC_NETWORK, typed
from meshctl.model.objects import (
    AuthorizationPolicy,
    AuthorizationRule,
    Condition,
    Operation,
    Source,
    Workload,
)
from meshctl.model.origin import Origin
from meshctl.security.authz import DRY_RUN, policy_applies

Json = dict[str, Any]

HTTP_FILTER_NAME = "envoy.filters.http.rbac"
NETWORK_FILTER_NAME = "envoy.filters.network.rbac"
TCP_STAT_PREFIX = "tcp."
ACTIONS = ("AUDIT", "DENY", "ALLOW")  # Istio's filter order
ENVOY_ACTION = {"AUDIT": "LOG", "DENY": "DENY", "ALLOW": "ALLOW"}
SHADOW_STAT_PREFIX = {"ALLOW": "istio_dry_run_allow_", "DENY": "istio_dry_run_deny_"}
JWT_FILTER = "envoy.filters.http.jwt_authn"
JWT_PAYLOAD = "payload"
SPIFFE = "spiffe://"
DEFAULT_TRUST_DOMAIN = "cluster.local"
URI_TEMPLATE_EXTENSION = "envoy.path.match.uri_template.uri_template_matcher"
URI_TEMPLATE_CONFIG = "envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig"
_GO_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # Go strconv.ParseBool


def match_never() -> Json:
    """The RBAC policy Istio emits for a policy without rules: it matches no request."""
    return {"permissions": [{"not_rule": {"any": True}}], "principals": [{"not_id": {"any": True}}]}


# -- which policies ----------------------------------------------------------------------


def applicable_policies(build: Build, workload: Workload) -> list[AuthorizationPolicy]:
    """The AuthorizationPolicies Istio gives the workload's sidecar: the root namespace's,
    then the workload namespace's, each selecting the workload (selector or targetRef);
    within a namespace the first by name (Istio: the oldest; the inputs carry no time)."""
    root = build.mesh.mesh_config.root_namespace
    found = [p for p in build.mesh.authorization_policies if policy_applies(build.mesh, p, workload)]
    return sorted(found, key=lambda p: (p.namespace != root, p.namespace, p.name))


def is_dry_run(build: Build, policy: AuthorizationPolicy) -> bool:
    """``istio.io/dry-run`` parsed as Go's ParseBool does (Istio ignores other values)."""
    return str(policy.origin.doc.annotations.get(DRY_RUN, "")) in _TRUE


# -- the filters -------------------------------------------------------------------------


def http_rbac_filters(build: Build, workload: Workload, port: int) -> list[Json]:
    """``[audit?, deny?, allow?]`` ``envoy.filters.http.rbac`` filters for an HTTP port."""
    filters = []
    for action, rules, shadow in _configs(build, workload, port, tcp=False):
        config = typed(RBAC_HTTP, **_rbac_fields(action, rules, shadow))
        filters.append({"name": HTTP_FILTER_NAME, "typed_config": config})
    return filters


def network_rbac_filters(build: Build, workload: Workload, port: int) -> list[Json]:
    """``[audit?, deny?, allow?]`` ``envoy.filters.network.rbac`` filters (stat prefix ``tcp.``)."""
    filters = []
    for action, rules, shadow in _configs(build, workload, port, tcp=True):
        config = typed(RBAC_NETWORK, stat_prefix=TCP_STAT_PREFIX, **_rbac_fields(action, rules, shadow))
        filters.append({"name": NETWORK_FILTER_NAME, "typed_config": config})
    return filters


def _rbac_fields(action: str, rules: Json | None, shadow: Json | None) -> Json:
    fields: Json = {}
    if rules is not None:
        fields["rules"] = rules
    if shadow is not None:
        fields["shadow_rules"] = shadow
        if action in SHADOW_STAT_PREFIX:
            fields["shadow_rules_stat_prefix"] = SHADOW_STAT_PREFIX[action]
    return fields


def _configs(build: Build, workload: Workload, port: int, *,
             tcp: bool) -> list[tuple[str, Json | None, Json | None]]:
    """(action, enforced rules, shadow rules) for each action some policy has, in Istio's order."""
    policies = applicable_policies(build, workload)
    for policy in policies:
        if policy.action.upper() == "CUSTOM":
            provider = f" (provider {policy.provider})" if policy.provider else ""
            build.losses.dropped(policy.origin, f"CUSTOM AuthorizationPolicy {policy.name}.{policy.namespace}"
                                                f"{provider} needs an ext_authz provider, which a static "
                                                "bootstrap does not have: not emitted")
    out = []
    for action in ACTIONS:
        chosen = [p for p in policies if p.action.upper() == action]
        if not chosen:
            continue
        enforced: dict[str, Json] | None = None
        shadow: dict[str, Json] | None = None
        for policy in chosen:
            if is_dry_run(build, policy):
                shadow = {} if shadow is None else shadow
                shadow.update(policy_rules(build, policy, port, tcp=tcp))
            else:
                enforced = {} if enforced is None else enforced
                enforced.update(policy_rules(build, policy, port, tcp=tcp))
        envoy = ENVOY_ACTION[action]
        out.append((
            action,
            None if enforced is None else {"action": envoy, "policies": enforced},
            None if shadow is None else {"action": envoy, "policies": shadow},
        ))
    return out


def policy_name(policy: AuthorizationPolicy, index: int) -> str:
    return f"ns[{policy.namespace}]-policy[{policy.name}]-rule[{index}]"


def policy_rules(build: Build, policy: AuthorizationPolicy, port: int, *, tcp: bool) -> dict[str, Json]:
    """The RBAC policies one AuthorizationPolicy contributes, keyed by Istio's names."""
    if not policy.rules:
        return {policy_name(policy, 0): match_never()}
    out: dict[str, Json] = {}
    for index, rule in enumerate(policy.rules):
        site = _Site(build, policy, index, port, tcp)
        generated = site.rule(rule)
        if generated is not None:
            out[policy_name(policy, index)] = generated
    return out


# -- one rule --------------------------------------------------------------------------


class _Unsupported(Exception):
    """A value Istio's generator returns an error for (HTTP-only on TCP, or malformed)."""

    def __init__(self, reason: str, *, http_only: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_only = http_only


class _SkipRule(Exception):
    """An ALLOW rule Istio leaves out because one of its values cannot be generated."""


Generator = Callable[["_Site", str, str], Json]


@dataclass(frozen=True)
class _Attr:
    """One field or condition of a rule: OR of ``values`` AND NOT (OR of ``not_values``)."""

    key: str  # Istio's attribute name, for messages
    values: tuple[str, ...]
    not_values: tuple[str, ...]
    make: Generator
    origin: Origin  # where ``values`` are written
    not_origin: Origin  # where ``not_values`` are written


@dataclass(frozen=True)
class _Site:
    """Where a rule is generated: the build (losses, trust domain), the policy, the port."""

    build: Build
    policy: AuthorizationPolicy
    index: int
    port: int
    tcp: bool

    @property
    def action(self) -> str:
        return self.policy.action.upper()

    @property
    def label(self) -> str:
        return f"{self.action} AuthorizationPolicy {self.policy.name}.{self.policy.namespace}"

    @property
    def trust_domain(self) -> str:
        return self.build.mesh.mesh_config.trust_domain

    def rule(self, rule: AuthorizationRule) -> Json | None:
        """Istio's ``Model.Generate``; None when the rule is skipped."""
        try:
            base_permission, base_principal = self._conditions(rule.conditions)
        except _SkipRule:
            return None
        froms = [_source_attrs(src) + base_principal for src in rule.sources] or [base_principal]
        tos = [_operation_attrs(op) + base_permission for op in rule.operations] or [base_permission]
        try:
            permissions = [{"and_rules": {"rules": self._and(attrs, "rules")}} for attrs in tos]
            principals = [{"and_ids": {"ids": self._and(attrs, "ids")}} for attrs in froms]
        except _SkipRule:
            return None
        return {"permissions": permissions, "principals": principals}

    def _conditions(self, conditions: Iterable[Condition]) -> tuple[list[_Attr], list[_Attr]]:
        """``when`` conditions split into permission and principal attributes (Istio's ``New``)."""
        permissions: list[_Attr] = []
        principals: list[_Attr] = []
        for cond in conditions:
            found = _condition_generator(cond.key)
            if found is None:
                self.build.losses.dropped(cond.origin.at("key"), f"unknown condition key {cond.key!r}: Istio "
                                                                  f"skips rule {self.index} of {self.label}")
                raise _SkipRule
            make, permission = found
            attr = _Attr(cond.key, cond.values, cond.not_values, make, cond.origin.at("values"),
                         cond.origin.at("notValues"))
            (permissions if permission else principals).append(attr)
        return permissions, principals

    def _and(self, attrs: list[_Attr], kind: str) -> list[Json]:
        out: list[Json] = []
        for attr in attrs:
            out += self._attr(attr, kind)
        return out or [{"any": True}]

    def _attr(self, attr: _Attr, kind: str) -> list[Json]:
        out: list[Json] = []
        either = self._or(attr, attr.values, attr.origin, kind)
        if either is not None:
            out.append(either)
        negated = self._or(attr, attr.not_values, attr.not_origin, kind)
        if negated is not None:
            out.append({"not_rule": negated} if kind == "rules" else {"not_id": negated})
        return out

    def _or(self, attr: _Attr, values: tuple[str, ...], origin: Origin, kind: str) -> Json | None:
        matchers = []
        for value in values:
            try:
                matchers.append(attr.make(self, attr.key, value))
            except _Unsupported as exc:
                self._unsupported(attr, value, origin, exc)
        if not matchers:
            return None
        if attr.key == "requestPrincipals" or attr.key.startswith("request.auth."):
            self.build.losses.approximated(origin, f"{attr.key} matches the JWT payload that a jwt_authn "
                                                   "filter stores; the output has none (RequestAuthentication "
                                                   "is not translated), so it never matches")
        return {"or_rules": {"rules": matchers}} if kind == "rules" else {"or_ids": {"ids": matchers}}

    def _unsupported(self, attr: _Attr, value: str, origin: Origin, exc: _Unsupported) -> None:
        """Istio's ``checkError``: an ALLOW rule is skipped, a DENY/AUDIT value ignored."""
        losses = self.build.losses
        rule = f"rule {self.index} of {self.label}"
        if exc.http_only:
            where = f"{attr.key} only applies to HTTP: on TCP port {self.port} Istio"
            if self.action == "ALLOW":
                losses.approximated(origin, f"{where} skips {rule} (no connection matches it)")
                raise _SkipRule
            losses.approximated(origin, f"{where} ignores it in {rule}, which then matches more")
            return
        if self.action == "ALLOW":
            losses.dropped(origin, f"{attr.key} value {value!r}: {exc.reason}; Istio skips {rule}")
            raise _SkipRule
        losses.dropped(origin, f"{attr.key} value {value!r}: {exc.reason}; Istio ignores it in {rule}")


def _source_attrs(src: Source) -> list[_Attr]:
    """The ``from.source`` fields in Istio's order (``insertFront`` reverses the calls)."""
    fields: list[tuple[str, tuple[str, ...], tuple[str, ...], Generator]] = [
        ("principals", src.principals, src.not_principals, _principal),
        ("serviceAccounts", src.service_accounts, src.not_service_accounts, _service_account),
        ("requestPrincipals", src.request_principals, src.not_request_principals, _request_principal),
        ("namespaces", src.namespaces, src.not_namespaces, _namespace),
        ("remoteIpBlocks", src.remote_ip_blocks, src.not_remote_ip_blocks, _remote_ip),
        ("ipBlocks", src.ip_blocks, src.not_ip_blocks, _direct_remote_ip),
    ]
    return [_field_attr(src.origin, name, values, nots, make) for name, values, nots, make in fields
            if values or nots]


def _operation_attrs(op: Operation) -> list[_Attr]:
    """The ``to.operation`` fields in Istio's order: hosts, methods, paths, ports."""
    fields: list[tuple[str, tuple[str, ...], tuple[str, ...], Generator]] = [
        ("hosts", op.hosts, op.not_hosts, _host),
        ("methods", op.methods, op.not_methods, _method),
        ("paths", op.paths, op.not_paths, _path),
        ("ports", op.ports, op.not_ports, _destination_port),
    ]
    return [_field_attr(op.origin, name, values, nots, make) for name, values, nots, make in fields
            if values or nots]


def _field_attr(origin: Origin, name: str, values: tuple[str, ...], nots: tuple[str, ...],
                make: Generator) -> _Attr:
    negated = "not" + name[0].upper() + name[1:]
    return _Attr(name, values, nots, make, origin.at(name), origin.at(negated))


# -- string matchers (authz/matcher) -----------------------------------------------------


def go_quote_meta(text: str) -> str:
    """Go's ``regexp.QuoteMeta``: escape ``\\.+*?()|[]{}^$`` only."""
    return _GO_META.sub(r"\\\1", text)


def regex_matcher(regex: str) -> Json:
    return {"safe_regex": {"regex": regex}}


def string_matcher(value: str, prefix: str = "") -> Json:
    """Istio's ``StringMatcherWithPrefix``: ``*`` -> ``.+``, ``*x`` suffix, ``x*`` prefix, else exact;
    with a prefix, a suffix match becomes the regex ``<prefix>.*<x>``."""
    if value == "*":
        return regex_matcher(".+")
    if value.startswith("*"):
        if not prefix:
            return {"suffix": value[1:]}
        return regex_matcher(prefix + ".*" + go_quote_meta(value[1:]))
    if value.endswith("*"):
        return {"prefix": prefix + value[:-1]}
    return {"exact": prefix + value}


def header_matcher(name: str, value: str, *, ignore_case: bool = False) -> Json:
    """Istio's ``HeaderMatcher`` (``HostMatcher`` with ``ignore_case``): ``*`` is presence."""
    if value == "*":
        return {"name": name, "present_match": True}
    if value.startswith("*"):
        match: Json = {"suffix": value[1:]}
    elif value.endswith("*"):
        match = {"prefix": value[:-1]}
    else:
        match = {"exact": value}
    if ignore_case:
        match["ignore_case"] = True
    return {"name": name, "string_match": match}


def cidr_range(value: str) -> Json:
    """Istio's ``AddrStrToCidrRange``: an address (/32 or /128) or a CIDR, host bits kept."""
    try:
        if "/" in value:
            iface = ipaddress.ip_interface(value.strip())
            return {"address_prefix": str(iface.ip), "prefix_len": iface.network.prefixlen}
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise _Unsupported("not an IP address or CIDR") from None
    return {"address_prefix": str(address), "prefix_len": address.max_prefixlen}


def _http_only(site: _Site, key: str) -> None:
    if site.tcp:
        raise _Unsupported(f"{key} only applies to HTTP", http_only=True)


# -- permission generators ---------------------------------------------------------------


def _host(site: _Site, key: str, value: str) -> Json:
    _http_only(site, key)
    return {"header": header_matcher(":authority", value, ignore_case=True)}


def _method(site: _Site, key: str, value: str) -> Json:
    _http_only(site, key)
    return {"header": header_matcher(":method", value)}


def _path(site: _Site, key: str, value: str) -> Json:
    """Paths: a ``{*}``/``{**}`` template becomes Envoy's ``uri_template`` matcher."""
    _http_only(site, key)
    if "{" in value:
        template = value.replace("{**}", "**").replace("{*}", "*")
        return {"uri_template": {"name": URI_TEMPLATE_EXTENSION,
                                 "typed_config": typed(URI_TEMPLATE_CONFIG, path_template=template)}}
    return {"url_path": {"path": string_matcher(value)}}


def _destination_port(site: _Site, key: str, value: str) -> Json:
    text = value.strip()
    if not text.isdigit() or int(text) > 65535:
        raise _Unsupported("not a port number")
    return {"destination_port": int(text)}


def _destination_ip(site: _Site, key: str, value: str) -> Json:
    return {"destination_ip": cidr_range(value)}


def _sni(site: _Site, key: str, value: str) -> Json:
    return {"requested_server_name": string_matcher(value)}


# -- principal generators ----------------------------------------------------------------


def _authenticated(match: Json) -> Json:
    return {"authenticated": {"principal_name": match}}


def with_trust_domain(principal: str, trust_domain: str) -> str:
    """Istio's trust-domain bundle: ``cluster.local/...`` names the mesh's own trust domain."""
    if principal.startswith("*") or "/" not in principal:
        return principal
    domain, rest = principal.split("/", 1)
    if domain in (DEFAULT_TRUST_DOMAIN, trust_domain):
        return f"{trust_domain}/{rest}"
    return principal


def _principal(site: _Site, key: str, value: str) -> Json:
    return _authenticated(string_matcher(with_trust_domain(value, site.trust_domain), SPIFFE))


def _namespace(site: _Site, key: str, value: str) -> Json:
    return _authenticated(regex_matcher(f".*/ns/{value.replace('*', '.*')}/.*"))


def _service_account(site: _Site, key: str, value: str) -> Json:
    """``ns/sa`` (or ``sa`` in the policy's namespace) as a regex on the URI SAN."""
    namespace, _, account = value.rpartition("/")
    namespace = namespace or site.policy.namespace
    if "*" in value or not account or "/" in namespace:
        raise _Unsupported("not a <namespace>/<service account> name")
    return _authenticated(regex_matcher(f"spiffe://.+/ns/{namespace}/(.+/|)sa/{account}(/.+)?"))


def _direct_remote_ip(site: _Site, key: str, value: str) -> Json:
    return {"direct_remote_ip": cidr_range(value)}


def _remote_ip(site: _Site, key: str, value: str) -> Json:
    return {"remote_ip": cidr_range(value)}


def _request_header(site: _Site, key: str, value: str) -> Json:
    _http_only(site, key)
    name = key[len("request.headers"):]
    if not (name.startswith("[") and name.endswith("]")) or len(name) < 3:
        raise _Unsupported("the header name must be in brackets: request.headers[name]")
    return {"header": header_matcher(name[1:-1], value)}


def jwt_metadata(path: Iterable[str], value: Json) -> Json:
    """A dynamic-metadata matcher on the payload ``jwt_authn`` stores. Envoy 1.40 deprecates
    ``Principal.metadata``; ``sourced_metadata`` (dynamic metadata by default) is the same match."""
    keys = [{"key": JWT_PAYLOAD}] + [{"key": k} for k in path]
    return {"sourced_metadata": {"metadata_matcher": {"filter": JWT_FILTER, "path": keys, "value": value}}}


def _claim_value(value: str) -> Json:
    """A claim may be a string or a list of strings: match either (Istio's extended JWT matcher)."""
    match = string_matcher(value)
    either = [{"string_match": match}, {"list_match": {"one_of": {"string_match": match}}}]
    return {"or_match": {"value_matchers": either}}


def _request_principal(site: _Site, key: str, value: str) -> Json:
    """``iss/sub`` (split at the last ``/``): the payload's ``iss`` AND ``sub``; ``*`` either
    side only asks for the claim to be present."""
    _http_only(site, key)
    if "/" in value:
        issuer, subject = value.rsplit("/", 1)
    elif value.endswith("*"):
        issuer, subject = value, "*"
    else:
        issuer, subject = "*", value
    ids = [jwt_metadata(["iss"], _string_value(issuer or "*")),
           jwt_metadata(["sub"], _string_value(subject or "*"))]
    return {"and_ids": {"ids": ids}}


def _string_value(value: str) -> Json:
    return {"present_match": True} if value == "*" else {"string_match": string_matcher(value)}


def _claim(site: _Site, key: str, value: str) -> Json:
    _http_only(site, key)
    rest = key[len("request.auth.claims"):]
    names = re.findall(r"\[([^\[\]]+)\]", rest)
    if not names or "".join(f"[{n}]" for n in names) != rest:
        raise _Unsupported("the claim must be in brackets: request.auth.claims[name]")
    return jwt_metadata(names, _claim_value(value))


def _audience(site: _Site, key: str, value: str) -> Json:
    _http_only(site, key)
    return jwt_metadata(["aud"], _claim_value(value))


def _presenter(site: _Site, key: str, value: str) -> Json:
    _http_only(site, key)
    return jwt_metadata(["azp"], _claim_value(value))


def _condition_generator(key: str) -> tuple[Generator, bool] | None:
    """The generator of a ``when`` key and whether it is a permission (else a principal)."""
    exact: dict[str, tuple[Generator, bool]] = {
        "destination.ip": (_destination_ip, True),
        "destination.port": (_destination_port, True),
        "connection.sni": (_sni, True),
        "source.ip": (_direct_remote_ip, False),
        "remote.ip": (_remote_ip, False),
        "source.namespace": (_namespace, False),
        "source.principal": (_principal, False),
        "source.serviceAccount": (_service_account, False),
        "request.auth.principal": (_request_principal, False),
        "request.auth.audiences": (_audience, False),
        "request.auth.presenter": (_presenter, False),
    }
    if key in exact:
        return exact[key]
    if key.startswith("request.headers"):
        return _request_header, False
    if key.startswith("request.auth.claims"):
        return _claim, False
    return None
