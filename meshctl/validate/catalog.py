"""The catalog of kinds: one entry per (group, version, kind), read from ``schemas/index.json``.

The index is generated from the ``x-meshctl`` block at the root of every schema file
(``python -m meshctl.validate.catalog --write``); a test fails when it is stale.
"""

from __future__ import annotations

import difflib
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

INDEX = "index.json"


def schema_root() -> Path:
    """``meshctl/schemas`` in an installed wheel, ``schemas/`` in a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "schemas"
    if (packaged / INDEX).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "schemas"


class KindVersion(NamedTuple):
    family: str
    group: str
    version: str
    kind: str
    schema: str  # path relative to the schema root
    deprecated: str | None  # the replacement to use, when deprecated
    channel: str | None  # "experimental" when served only by Gateway API's experimental channel


class Lookup(NamedTuple):
    """The answer for one document's apiVersion and kind."""

    entry: KindVersion | None
    problem: str | None = None  # why a document of a known group does not resolve
    known_group: bool = False


class Catalog:
    def __init__(self, root: Path, index: dict[str, Any]) -> None:
        self.root = root
        self.defs: list[str] = index["defs"]
        self._entries: dict[tuple[str, str, str], KindVersion] = {}
        self._kinds: dict[tuple[str, str], list[str]] = {}
        self._groups: dict[str, str] = {}
        for key, versions in index["kinds"].items():
            group, kind = key.split("/")
            for version, info in versions.items():
                entry = KindVersion(
                    family=info["family"],
                    group=group,
                    version=version,
                    kind=kind,
                    schema=info["schema"],
                    deprecated=info.get("deprecated"),
                    channel=info.get("channel"),
                )
                self._entries[(group, version, kind)] = entry
                self._kinds.setdefault((group, kind), []).append(version)
                self._groups[group] = info["family"]

    @classmethod
    @cache
    def default(cls) -> Catalog:
        root = schema_root()
        index = json.loads((root / INDEX).read_text(encoding="utf-8"))
        return cls(root, index)

    def families(self) -> dict[str, str]:
        return dict(self._groups)

    def entries(self) -> list[KindVersion]:
        return list(self._entries.values())

    def lookup(self, api_version: str, kind: str) -> Lookup:
        group, _, version = api_version.rpartition("/")
        entry = self._entries.get((group, version, kind))
        if entry is not None:
            return Lookup(entry, known_group=True)
        family = self._groups.get(group)
        if family is None or family == "core":
            # Kinds outside the mesh (or core kinds meshctl does not read) are skipped.
            return Lookup(None)
        versions = self._kinds.get((group, kind))
        if versions:
            served = ", ".join(sorted(versions, reverse=True))
            return Lookup(
                None,
                f"{api_version} is not a served version of {kind} (served: {served})",
                known_group=True,
            )
        kinds = sorted({k for (g, k) in self._kinds if g == group})
        close = difflib.get_close_matches(kind, kinds, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else f" (kinds: {', '.join(kinds)})"
        return Lookup(None, f"{group} has no kind {kind!r}{hint}", known_group=True)


def build_index(root: Path) -> dict[str, Any]:
    """Scan every schema file's ``x-meshctl`` block."""
    kinds: dict[str, dict[str, dict[str, Any]]] = {}
    defs: list[str] = []
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        if rel == INDEX:
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        meta = schema.get("x-meshctl")
        if meta is None:
            defs.append(rel)
            continue
        key = f"{meta['group']}/{meta['kind']}"
        for version, info in sorted(meta["versions"].items()):
            if version in kinds.get(key, {}):
                raise ValueError(f"{rel}: {key} {version} is already defined")
            entry: dict[str, Any] = {"family": meta["family"], "schema": rel}
            entry.update({k: v for k, v in info.items() if k in ("deprecated", "channel")})
            kinds.setdefault(key, {})[version] = entry
    return {"defs": defs, "kinds": dict(sorted(kinds.items()))}


def main(argv: list[str]) -> int:
    root = schema_root()
    text = json.dumps(build_index(root), indent=1, sort_keys=True) + "\n"
    if "--write" in argv:
        (root / INDEX).write_text(text, encoding="utf-8")
        return 0
    current = (root / INDEX).read_text(encoding="utf-8") if (root / INDEX).exists() else ""
    if current != text:
        print(f"{root / INDEX} is stale; run python -m meshctl.validate.catalog --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
