"""Generate docs/rules/ from the rules' own declarations: ``python -m meshctl.docsgen``.

One page per code plus an index. ``--check`` exits 1 when the pages on disk differ,
which is what the test suite runs so the docs cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from meshctl.rules.base import Rule
from meshctl.rules.registry import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def page(rule: Rule) -> str:
    istio = rule.istio_code or "none"
    default = "on" if rule.default_enabled else "off (enabled by an option)"
    return (
        f"# {rule.code} {rule.name}\n\n"
        f"{rule.summary}\n\n"
        f"| severity | istioctl equivalent | enabled by default |\n|---|---|---|\n"
        f"| {rule.severity.label} | {istio} | {default} |\n\n"
        f"{rule.body}\n\n"
        f"Suppress it with `--ignore {rule.code}`, `--suppress \"{rule.code}=Kind name.namespace\"`, "
        f"or the annotation `meshctl.io/ignore: \"{rule.code}\"` on the resource.\n"
    )


def index(rules: tuple[Rule, ...]) -> str:
    rows = "\n".join(
        f"| [{r.code}]({r.code}.md) | {r.name} | {r.severity.label} | {r.istio_code or ''} | {r.summary} |"
        for r in rules
    )
    return (
        "# Rule reference\n\n"
        "Generated from the rules' declarations by `python -m meshctl.docsgen`; do not edit by hand.\n"
        "`meshctl rules` prints the same list and `meshctl explain CODE` one page.\n\n"
        "| code | name | severity | istioctl | what it finds |\n|---|---|---|---|---|\n"
        f"{rows}\n"
    )


def expected() -> dict[Path, str]:
    rules = all_rules()
    pages = {DOCS / f"{r.code}.md": page(r) for r in rules}
    pages[DOCS / "README.md"] = index(rules)
    return pages


def main(argv: list[str]) -> int:
    pages = expected()
    if "--check" in argv:
        stale = [p for p, text in pages.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        extra = [p for p in DOCS.glob("*.md") if p not in pages]
        for p in stale + extra:
            print(f"{p} is out of date; run python -m meshctl.docsgen")
        return 1 if stale or extra else 0
    DOCS.mkdir(parents=True, exist_ok=True)
    for p in DOCS.glob("*.md"):
        if p not in pages:
            p.unlink()
    for p, text in pages.items():
        p.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
