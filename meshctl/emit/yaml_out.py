"""Block-style YAML for JSON-shaped data (dicts, lists, strings, numbers, booleans, null).

PyYAML's representer is pure Python and walks every node through its resolver: for a
bootstrap of ten thousand clusters it costs more than compiling the mesh. The data the
emitters produce is plain JSON, so this writes it directly: keys in insertion order,
strings plain when YAML reads them back as the same string, JSON-quoted otherwise
(double-quoted with escapes when it holds characters YAML will not take raw).

>>> print(dump({"name": "9080", "routes": [{"match": {"prefix": "/"}, "weight": 80}], "on": True}), end="")
name: '9080'
routes:
- match:
    prefix: /
  weight: 80
'on': true
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TextIO

import yaml

# Characters a plain scalar may consist of; anything else (quotes, '#', ': ', flow
# indicators, leading indicators, spaces at the ends) is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_./(=+][A-Za-z0-9_./|~@()=+:;,\-*]*")
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_CHUNK = 8192  # lines kept before ``dump_into`` writes them out


@lru_cache(maxsize=65536)
def scalar(text: str) -> str:
    """A string as YAML: plain when it reads back as itself, quoted otherwise."""
    if _PLAIN.fullmatch(text) and not text.endswith(":") and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR:  # type: ignore[no-untyped-call]
        return text
    if "'" not in text and all(_printable(c) for c in text):
        return f"'{text}'"
    return '"' + "".join(_escaped(c) for c in text) + '"'


def _printable(char: str) -> bool:
    """YAML's printable set, less the line breaks: what may stand unescaped in a scalar."""
    code = ord(char)
    if code in (0x2028, 0x2029, 0xFEFF):  # line and paragraph separators, byte order mark
        return False
    return 0x20 <= code < 0x7F or (0xA0 <= code <= 0xD7FF) or (0xE000 <= code <= 0xFFFD) or code >= 0x10000


def _escaped(char: str) -> str:
    if char in '\\"':
        return "\\" + char
    if _printable(char):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return scalar(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)  # YAML 1.1 (PyYAML) reads 1e+16 as a string: keep a dot in it
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    raise TypeError(f"not JSON-shaped: {type(value).__name__}")


def _lines(value: Any, indent: str, out: list[str]) -> None:
    """Append the block lines of a non-empty dict or list at ``indent``."""
    if isinstance(value, dict):
        for key, item in value.items():
            _entry(f"{indent}{scalar(str(key))}:", item, indent + "  ", out)
    else:
        for item in value:
            if isinstance(item, dict) and item:
                first = True
                for key, sub in item.items():
                    head = f"{indent}- " if first else f"{indent}  "
                    _entry(f"{head}{scalar(str(key))}:", sub, indent + "    ", out)
                    first = False
            elif isinstance(item, list) and item:
                out.append(f"{indent}-")
                _lines(item, indent + "  ", out)
            else:
                out.append(f"{indent}- {_flow(item)}")
            if len(out) >= _CHUNK and isinstance(out, _Spill):
                out.spill()


def _entry(head: str, value: Any, child_indent: str, out: list[str]) -> None:
    if isinstance(value, dict) and value:
        out.append(head)
        _lines(value, child_indent, out)
    elif isinstance(value, list) and value:
        out.append(head)
        _lines(value, child_indent[:-2], out)  # list items sit at the key's indentation
    else:
        out.append(f"{head} {_flow(value)}")


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _value(value)


def dump(data: dict[str, Any]) -> str:
    if not data:
        return "{}\n"
    out: list[str] = []
    _lines(data, "", out)
    return "\n".join(out) + "\n"


class _Spill(list[str]):
    """Lines on their way to a file: written out every ``_CHUNK`` lines (checked between list
    items, so appending stays the list's own)."""

    def __init__(self, handle: TextIO) -> None:
        super().__init__()
        self.handle = handle

    def spill(self) -> None:
        if self:
            self.handle.write("\n".join(self) + "\n")
            self.clear()


def dump_into(handle: TextIO, data: dict[str, Any]) -> None:
    """``dump`` written to ``handle`` as it goes: the same text, never all of it in memory."""
    if not data:
        handle.write("{}\n")
        return
    out = _Spill(handle)
    _lines(data, "", out)
    out.spill()
