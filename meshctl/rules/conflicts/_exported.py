"""Which namespaces see an exported object, and whether two objects share a viewer.

>>> shared_viewer(viewers((".",), "shop"), viewers((), "web"))
'shop'
>>> shared_viewer(viewers(("web",), "shop"), viewers((".",), "shop")) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable

EVERYWHERE = "*"


def viewers(export_to: Iterable[str], namespace: str) -> frozenset[str]:
    """The namespaces ``export_to`` (written in ``namespace``) exports to; ``{"*"}`` is all of them.

    An empty exportTo is Istio's default ("*"); "." is the owner's namespace; "~" hides the object.
    """
    targets = tuple(export_to)
    if not targets:
        return frozenset({EVERYWHERE})
    out: set[str] = set()
    for target in targets:
        if target == EVERYWHERE:
            return frozenset({EVERYWHERE})
        if target == ".":
            out.add(namespace)
        elif target != "~":
            out.add(target)
    return frozenset(out)


def shared_viewer(a: frozenset[str], b: frozenset[str], prefer: str | None = None) -> str | None:
    """A namespace that sees both (``prefer`` when it does; "*": every namespace), or None."""
    if EVERYWHERE in a and EVERYWHERE in b:
        return prefer or EVERYWHERE
    if EVERYWHERE in a or EVERYWHERE in b:
        common = b if EVERYWHERE in a else a
    else:
        common = a & b
    if not common:
        return None
    return prefer if prefer in common else min(common)


def shown(viewer: str) -> str:
    """``"*"`` -> "every namespace"; a name -> "namespace 'x'"."""
    return "every namespace" if viewer == EVERYWHERE else f"namespace {viewer!r}"
