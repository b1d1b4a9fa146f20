"""Every rule meshctl has, found by importing the rule packages; codes are checked unique."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from functools import cache

from meshctl.rules.base import Rule

PACKAGES = ("meshctl.rules.input", "meshctl.rules.values")


@cache
def all_rules() -> tuple[Rule, ...]:
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for package_name in PACKAGES:
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
    for rule in all_rules():
        if rule.check_fn is not None:
            for kind in rule.kinds:
                table[kind].append(rule)
    return {kind: tuple(rules) for kind, rules in table.items()}
