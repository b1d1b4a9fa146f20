"""The hostile inputs meshctl must survive, generated (nothing large is committed).

``python -m tests.hostile.inputs DIR`` writes them to DIR; the tests call ``write_all``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: after, namespace: x}\nspec: {ports: [{port: 80}]}\n"


def _alias_bomb() -> bytes:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return ("\n".join(lines) + "\n---\n" + SERVICE).encode()


def _huge_route_list() -> bytes:
    routes = "".join(f"  - match: [{{uri: {{prefix: /r{i}}}}}]\n    route: [{{destination: {{host: cart}}}}]\n" for i in range(100_000))
    return ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: big, namespace: x}\n"
            "spec:\n  hosts: [cart]\n  http:\n" + routes).encode()


def _many_subsets() -> bytes:
    subsets = "".join(f"  - name: s{i}\n    labels: {{version: v{i}}}\n" for i in range(50_000))
    return ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: big, namespace: x}\n"
            "spec:\n  host: cart\n  subsets:\n" + subsets).encode()


HOSTILE: dict[str, Callable[[], bytes]] = {
    "alias-bomb.yaml": _alias_bomb,
    "deep-nesting.yaml": lambda: ("a: " + "[" * 10_000 + "]" * 10_000 + "\n---\n" + SERVICE).encode(),
    "long-line.yaml": lambda: ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: " + "x" * 5_000_000 + "}\n").encode(),
    "huge-route-list.yaml": _huge_route_list,
    "many-subsets.yaml": _many_subsets,
    "binary.yaml": lambda: bytes(range(256)) * 64,
    "nul-bytes.yaml": lambda: b"kind: Service\x00\x00\n",
    "invalid-utf8.yaml": lambda: b"apiVersion: v1\nkind: Service\nmetadata: {name: caf\xe9}\n",
    "utf16-bom.yaml": lambda: "\ufeff".encode("utf-16-le")[:0] + b"\xff\xfe" + SERVICE.encode("utf-16-le"),
    "utf32-bom.yaml": lambda: b"\xff\xfe\x00\x00" + SERVICE.encode("utf-32-le"),
    "empty.yaml": lambda: b"",
    "comments-only.yaml": lambda: b"# nothing here\n# at all\n",
    "separators-only.yaml": lambda: b"---\n---\n...\n---\n",
    "scalar-documents.yaml": lambda: b"just a string\n---\n42\n---\n- a\n- list\n---\n" + SERVICE.encode(),
    "bad-identity.yaml": lambda: b"apiVersion: 3\nkind: [Service]\nmetadata: name\n---\nkind: Service\n---\napiVersion: v1\n",
    "wrong-types-everywhere.yaml": lambda: (b"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: [x], namespace: {}}\n"
                                            b"spec: {hosts: 3, http: {route: true}, gateways: [{}], exportTo: yes}\n"),
    "duplicate-keys.yaml": lambda: b"apiVersion: v1\nkind: Service\nkind: Pod\nmetadata: {name: a, name: b}\n",
    "yaml11-surprises.yaml": lambda: (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  on: yes\n  off: no\n"
                                      b"  time: 1:30\n  octal: 0755\n  norway: NO\n"),
    "merge-keys.yaml": lambda: (b"base: &base {app: cart}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: m\n"
                                b"  labels:\n    <<: {app: cart}\n    tier: web\nspec: {selector: {<<: {app: cart}}}\n"),
    "tabs.yaml": lambda: b"apiVersion: v1\nkind: Service\nmetadata:\n\tname: t\n---\n" + SERVICE.encode(),
    "python-tags.yaml": lambda: b"a: !!python/object/apply:os.system ['echo pwned']\n---\nb: !!python/name:os.system\n---\n" + SERVICE.encode(),
    "custom-tags.yaml": lambda: b"kind: !Ref Service\n---\n" + SERVICE.encode(),
    "ansi-escapes.yaml": lambda: (b"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n"
                                  b"  name: \"evil\\e[2J\\e]0;pwned\\a\"\n  namespace: x\nspec: {hosts: [a], rout: 1}\n"),
}


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in HOSTILE.items():
        path = directory / name
        path.write_bytes(make())
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1])):
        print(p)
