"""An input cannot be read safely: it is not text, or a document explodes when expanded.

## Why it matters
The file is binary, contains NUL bytes, is not valid UTF-8 (or UTF-16/32 with a
byte-order mark), or holds characters YAML forbids. Nothing in it can be applied,
and it usually means a wrong file in a manifests folder. A document whose aliases
multiply it past a million nodes (a "billion laughs" alias bomb) is refused too: the
API server rejects it, and every tool that walks it would stall.

## Example
A `.yaml` file saved as Latin-1 with an accented character in a comment.

## Fix
Re-save the file as UTF-8, or exclude it from the checked paths.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH004", "unreadable-input", Severity.ERROR, __doc__)
