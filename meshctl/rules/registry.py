"""Every rule meshctl has, found by importing the rule packages; codes are checked unique."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from functools import cache

from meshctl.rules.base import Rule

VALIDATE_PACKAGES = ("meshctl.rules.input", "meshctl.rules.values")
ANALYZE_PACKAGES = (
    "meshctl.rules.references",
    "meshctl.rules.conflicts",
    "meshctl.rules.routing",
    "meshctl.rules.hygiene",
    "meshctl.rules.security",
    "meshctl.rules.gateway_api",
    "meshctl.rules.linkerd",
    "meshctl.rules.ingress",
    "meshctl.rules.live",  # live-state checks: declared here, run only by `diagnose`
)
TRANSLATE_PACKAGES = ("meshctl.rules.translate",)  # raised by the emitters, no checks of their own
PACKAGES = VALIDATE_PACKAGES + ANALYZE_PACKAGES + TRANSLATE_PACKAGES


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, validate and analyze alike (imports every rule module)."""
    return _load(PACKAGES)


@cache
def validate_rules() -> tuple[Rule, ...]:
    """The rules `validate` runs: imports only the input and value-check modules."""
    return _load(VALIDATE_PACKAGES)


@cache
def analysis_rules() -> tuple[Rule, ...]:
    return tuple(r for r in _load(ANALYZE_PACKAGES) if r.analyze_fn is not None)


@cache
def _load(packages: tuple[str, ...]) -> tuple[Rule, ...]:
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for package_name in packages:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package_name}.{info.name}")
            rule = getattr(module, "RULE", None)
            if not isinstance(rule, Rule):
                raise RuntimeError(f"{module.__name__} declares no RULE")
            if rule.code in rules:
                raise RuntimeError(f"{rule.code} is declared twice ({module.__name__})")
            if rule.name in names:
                raise RuntimeError(f"rule name {rule.name} is used by {names[rule.name]} too")
            expected = f"{rule.code.lower()}_{rule.name.replace('-', '_')}"
            if info.name != expected:
                raise RuntimeError(f"{module.__name__} should be named {expected}")
            rules[rule.code] = rule
            names[rule.name] = rule.code
    return tuple(sorted(rules.values(), key=lambda r: r.code))


def by_code(code: str) -> Rule | None:
    for rule in all_rules():
        if rule.code == code.upper() or rule.name == code.lower():
            return rule
    return None


@cache
def document_checks() -> dict[str, tuple[Rule, ...]]:
    """Value checks by the ``group/Kind`` they read."""
    table: dict[str, list[Rule]] = defaultdict(list)
    for rule in validate_rules():
        if rule.check_fn is not None:
            for kind in rule.kinds:
                table[kind].append(rule)
    return {kind: tuple(rules) for kind, rules in table.items()}
