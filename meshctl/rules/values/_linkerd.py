"""What the Linkerd value checks (MSH060-MSH067) share: references, networks, regexes.

Linkerd's policy controller compares a reference's kind and group without regard to
case and reads a missing group as the core group; ``targets`` does the same::

    targets({"group": "policy.linkerd.io", "kind": "server"}, SERVER)  -> True
    targets({"kind": "ServiceAccount"}, SERVICE_ACCOUNT)                -> True
    targets({"kind": "Server"}, SERVER)                                 -> False (core group)
    network("10.0.0.0/8")  -> IPv4Network('10.0.0.0/8')
    network("10.0.0.0/33") -> ValueError("...")

Regular expressions are checked with RE2: Linkerd's webhook compiles ServiceProfile
regexes with Go's regexp and its policy controller and proxy use Rust's regex crate,
both RE2 dialects. (MSH022's helper is not reused: its limits and messages are Istio's.)
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints

POLICY = "policy.linkerd.io"
GATEWAY = "gateway.networking.k8s.io"
CORE = "core"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
KIND = re.compile(r"[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?")


@dataclass(frozen=True, slots=True)
class GroupKind:
    group: str
    kind: str

    def __str__(self) -> str:
        return self.kind if self.group == CORE else f"{self.kind} ({self.group})"


SERVER = GroupKind(POLICY, "Server")
POLICY_HTTP_ROUTE = GroupKind(POLICY, "HTTPRoute")
GATEWAY_HTTP_ROUTE = GroupKind(GATEWAY, "HTTPRoute")
GRPC_ROUTE = GroupKind(GATEWAY, "GRPCRoute")
NAMESPACE = GroupKind(CORE, "Namespace")
SERVICE_ACCOUNT = GroupKind(CORE, "ServiceAccount")
MESH_TLS_AUTHENTICATION = GroupKind(POLICY, "MeshTLSAuthentication")
NETWORK_AUTHENTICATION = GroupKind(POLICY, "NetworkAuthentication")


def ref_group(ref: dict[str, Any]) -> str:
    """The group a reference names; a missing or empty group is the core group."""
    group = ref.get("group")
    return group if isinstance(group, str) and group else CORE


def targets(ref: dict[str, Any], target: GroupKind) -> bool:
    kind = ref.get("kind")
    return (
        isinstance(kind, str)
        and kind.lower() == target.kind.lower()
        and ref_group(ref).lower() == target.group.lower()
    )


def ref_problem(
    ref: dict[str, Any], allowed: tuple[GroupKind, ...], field: str
) -> tuple[str, str] | None:
    """Why ``ref`` names none of ``allowed``, with the field to point at ("kind" or
    "group"); None when it names one of them, or has no kind to judge."""
    kind = ref.get("kind")
    if not isinstance(kind, str) or not KIND.fullmatch(kind):
        return None  # not a kind name at all: the schema reports it
    if any(targets(ref, target) for target in allowed):
        return None
    group = ref_group(ref)
    groups = [t.group for t in allowed if t.kind.lower() == kind.lower()]
    if groups == [CORE]:
        return "group", f"{field} kind {kind} is in the core group; remove group {group!r}"
    if groups:
        wanted = " or ".join(groups)
        has = (
            f"has group {group!r}"
            if group != CORE
            else "has no group, which Linkerd reads as the core group"
        )
        return "group", f"{field} kind {kind} needs group {wanted}, but it {has}"
    named = kind if group == CORE else f"{kind} ({group})"
    return (
        "kind",
        f"{field} kind {named} is not supported here; use {listed([str(t) for t in allowed])}",
    )


def listed(names: list[str], last: str = "or") -> str:
    """``a, b or c``."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {last} {names[-1]}"


# -- networks ----------------------------------------------------------------------------
def network(text: str) -> Network:
    """An IP network as Linkerd reads a `cidr`: ``addr/prefix``, or a bare address.

    Host bits may be set (``10.0.0.1/8`` is ``10.0.0.0/8``), as in Rust's ipnet.
    Raises ValueError with the reason.
    """
    address, slash, prefix = text.partition("/")
    ip = ip_address(address)
    if not slash:
        return ipaddress.ip_network(ip)
    if not (prefix.isascii() and prefix.isdigit()):
        raise ValueError(f"prefix length {prefix!r} is not a number")
    bits = ip.max_prefixlen
    if int(prefix) > bits:
        raise ValueError(
            f"prefix length /{int(prefix)} is longer than the {bits} bits "
            f"of an IPv{ip.version} address"
        )
    return ipaddress.ip_network(f"{ip}/{int(prefix)}", strict=False)


def ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IPv4 or IPv6 address (no zone index); raises ValueError with the reason."""
    if "%" in text:
        raise ValueError(f"{text!r} has a zone index ('%'), which Linkerd does not accept")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 address") from None


# -- regular expressions -------------------------------------------------------------------
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would otherwise print every bad pattern on stderr

# RE2's name for the fragment it stopped at -> what the construct is.
_UNSUPPORTED = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?>", "an atomic group"),
)
# Escapes RE2 takes but Rust's regex crate (Linkerd's proxy) rejects.
_RUST_REJECTS = {"C": "\\C (any byte)", "Q": "\\Q...\\E quoting", "E": "\\E"}


def regex_problem(pattern: str) -> str | None:
    """Why Linkerd cannot compile ``pattern``, or None when it can."""
    try:
        re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        return _explain(exc)
    escape = _rust_rejected_escape(pattern)
    if escape:
        return (
            f"{_RUST_REJECTS[escape]} is not supported by Rust's regex crate, "
            "which Linkerd's proxy uses"
        )
    return None


def _explain(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    error = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    _, _, fragment = error.partition(": ")
    for prefix, construct in _UNSUPPORTED:
        if fragment.startswith(prefix):
            return f"{prefix} ({construct}) is not supported in RE2 syntax, which Linkerd uses"
    if error.startswith("invalid escape sequence") and fragment[1:2].isdigit():
        return f"backreference {fragment} is not supported in RE2 syntax, which Linkerd uses"
    return f"it is not valid RE2 syntax: {error}"


def _rust_rejected_escape(pattern: str) -> str | None:
    index = 0
    while index < len(pattern) - 1:
        if pattern[index] == "\\":
            following = pattern[index + 1]
            if following in _RUST_REJECTS:
                return following
            index += 2
        else:
            index += 1
    return None


def shown(text: str) -> str:
    """``text`` quoted for a message, cut to 80 characters."""
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")
